package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
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
	if got.NodeID != want.NodeID || len(got.Shards) != 1 || got.Shards[0] != want.Shards[0] {
		t.Errorf("/status = %+v; want %+v", got, want)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q; want application/json", ct)
	}
}
