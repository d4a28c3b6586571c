package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/streamraft/streamraft/cluster"
)

// fixedNode is a Node whose answers the test sets.
type fixedNode struct {
	ready bool
	st    cluster.NodeStatus
}

func (n fixedNode) Ready() bool                { return n.ready }
func (n fixedNode) Status() cluster.NodeStatus { return n.st }

var _ Node = (*cluster.Node)(nil)

func TestEndpoints(t *testing.T) {
	st := cluster.NodeStatus{NodeID: "n1", Leader: true, Ready: true,
		Shards: []cluster.ShardStatus{{ID: "0", AppliedIndex: 42, LastSnapshotIndex: 40, SlotHi: 8191, Ready: true},
			{ID: "1", State: "Candidate", SlotLo: 8192, SlotHi: 16383}}}
	tests := []struct {
		name     string
		ready    bool
		method   string
		path     string
		wantCode int
		wantBody string
	}{
		{"healthz", false, "GET", "/healthz", 200, "ok\n"},
		{"ready", true, "GET", "/readyz", 200, "ready\n"},
		{"not ready", false, "GET", "/readyz", 503, "not ready\nshard 1 (slots 8192-16383): Candidate, not ready\n"},
		{"status", true, "GET", "/status", 200, `"applied_index": 42`},
		{"pprof index", true, "GET", "/debug/pprof/", 200, "goroutine"},
		{"post refused", true, "POST", "/healthz", 405, ""},
		{"unknown path", true, "GET", "/nope", 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := NewServer(fixedNode{ready: tc.ready, st: st}, nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			body, _ := io.ReadAll(rec.Body)
			if rec.Code != tc.wantCode {
				t.Errorf("%s %s = %d; want %d", tc.method, tc.path, rec.Code, tc.wantCode)
			}
			if !strings.Contains(string(body), tc.wantBody) {
				t.Errorf("%s %s body = %q; want it to contain %q", tc.method, tc.path, body, tc.wantBody)
			}
		})
	}
}

func TestStatusJSON(t *testing.T) {
	want := cluster.NodeStatus{NodeID: "n1", Leader: true, Ready: true,
		Shards: []cluster.ShardStatus{{ID: "0", State: "Leader", AppliedIndex: 7, LastSnapshotIndex: 5, LastSnapshotTerm: 2}}}
	h := NewServer(fixedNode{ready: true, st: want}, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/status", nil))
	var got cluster.NodeStatus
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("decode /status %q: %v", rec.Body.String(), err)
	}
	if got.NodeID != want.NodeID || !reflect.DeepEqual(got.Shards, want.Shards) {
		t.Errorf("/status = %+v; want %+v", got, want)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q; want application/json", ct)
	}
}

// memberNode is a fixedNode that also lists members.
type memberNode struct {
	fixedNode
	members []cluster.Member
}

func (n memberNode) Members() []cluster.Member { return n.members }

func TestStatusMembers(t *testing.T) {
	st := cluster.NodeStatus{NodeID: "n1", Leader: true, Ready: true}
	two := []cluster.Member{
		{ID: "n1", GossipAddr: "10.0.0.1:7946", RESPAddr: "10.0.0.1:6379", RaftAddr: "10.0.0.1:7379", HTTPAddr: "10.0.0.1:8379", Alive: true, State: "alive"},
		{ID: "n2", GossipAddr: "10.0.0.2:7946", State: "suspect"},
	}
	tests := []struct {
		name string
		node Node
		want []cluster.Member
	}{
		{"no membership interface", fixedNode{ready: true, st: st}, nil},
		{"membership not running", memberNode{fixedNode{ready: true, st: st}, nil}, nil},
		{"two members", memberNode{fixedNode{ready: true, st: st}, two}, two},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			NewServer(tc.node, nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/status", nil))
			var got struct {
				NodeID  string            `json:"node_id"`
				Members *[]cluster.Member `json:"members"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("decode /status %q: %v", rec.Body.String(), err)
			}
			if got.NodeID != "n1" {
				t.Errorf("node_id = %q; want n1", got.NodeID)
			}
			switch {
			case tc.want == nil && got.Members != nil:
				t.Errorf("members = %+v; want the field absent", *got.Members)
			case tc.want != nil && (got.Members == nil || !slices.Equal(*got.Members, tc.want)):
				t.Errorf("members = %+v; want %+v", got.Members, tc.want)
			}
		})
	}
}

// forgetNode is a fixedNode that drains: "n2" drains, "last" cannot be
// drained, anything else is unknown.
type forgetNode struct {
	fixedNode
	asked *[]string
}

func (n forgetNode) Forget(_ context.Context, id string) error {
	*n.asked = append(*n.asked, id)
	switch id {
	case "n2":
		return nil
	case "last":
		return errors.New("cluster: cannot drain last: it is the last node holding replicas")
	}
	return fmt.Errorf("%w: %s", cluster.ErrUnknownNode, id)
}

func TestForget(t *testing.T) {
	var asked []string
	node := forgetNode{fixedNode{ready: true}, &asked}
	for _, tc := range []struct {
		node     Node
		method   string
		id       string
		wantCode int
		wantBody string
	}{
		{node, http.MethodPost, "n2", http.StatusAccepted, "draining n2\n"},
		{node, http.MethodPost, "last", http.StatusConflict, "cannot drain last"},
		{node, http.MethodPost, "nope", http.StatusNotFound, "unknown node"},
		{node, http.MethodGet, "n2", http.StatusMethodNotAllowed, ""},
		{fixedNode{}, http.MethodPost, "n2", http.StatusNotImplemented, "cannot drain"},
	} {
		rec := httptest.NewRecorder()
		NewServer(tc.node, nil).ServeHTTP(rec, httptest.NewRequest(tc.method, "/nodes/"+tc.id+"/forget", nil))
		if rec.Code != tc.wantCode || !strings.Contains(rec.Body.String(), tc.wantBody) {
			t.Errorf("%s /nodes/%s/forget = %d %q; want %d containing %q", tc.method, tc.id, rec.Code, rec.Body.String(), tc.wantCode, tc.wantBody)
		}
	}
	if !slices.Equal(asked, []string{"n2", "last", "nope"}) {
		t.Errorf("Forget called with %v", asked)
	}
}
