// Package api is streamraft's HTTP side: liveness and readiness probes, a
// JSON status page, the drain action and Go's profiler. Prometheus metrics
// come later.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strings"

	"github.com/streamraft/streamraft/cluster"
)

// Node is what the HTTP side needs from the cluster; *cluster.Node has it.
type Node interface {
	// Ready reports whether every shard has a leader here that applied its
	// log, so the node can serve commands.
	Ready() bool
	// Status describes the node and its shards.
	Status() cluster.NodeStatus
}

// MemberLister is implemented by a Node that also runs membership
// (discovery); /status then lists the members. Members returns nil when
// membership does not run.
type MemberLister interface {
	Members() []cluster.Member
}

// Forgetter is implemented by a Node that can drain a node out of the
// cluster (*cluster.Node): POST /nodes/{id}/forget.
type Forgetter interface {
	Forget(ctx context.Context, id string) error
}

// statusDoc is /status's JSON: the node's status and, when membership
// runs, the members it sees.
type statusDoc struct {
	cluster.NodeStatus
	Members []cluster.Member `json:"members,omitempty"`
}

// NewServer returns the HTTP handler:
//
//	GET /healthz  200 "ok" while the process serves
//	GET /readyz   200 "ready" when every shard can serve commands, else 503
//	              "not ready" and one line per shard that cannot
//	GET /status   JSON: node ID, and per shard its slots, leadership,
//	              applied index, last snapshot; "members" (ID, addresses,
//	              liveness) when the node is a MemberLister running
//	              membership
//	POST /nodes/{id}/forget  drain node id out of the cluster (as CLUSTER
//	              FORGET): 202 "draining", 404 for an unknown node, 409
//	              when it cannot be drained
//	GET /debug/pprof/...  Go's profiler (CPU, heap, goroutines, trace), for
//	              measuring where time goes under load
func NewServer(node Node, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	s := &server{node: node, logger: logger}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /status", s.status)
	mux.HandleFunc("POST /nodes/{id}/forget", s.forget)
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}

type server struct {
	node   Node
	logger *slog.Logger
}

func (s *server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "ok\n")
}

func (s *server) readyz(w http.ResponseWriter, _ *http.Request) {
	if s.node.Ready() {
		writeText(w, http.StatusOK, "ready\n")
		return
	}
	var b strings.Builder
	b.WriteString("not ready\n")
	for _, sh := range s.node.Status().Shards {
		if !sh.Ready {
			fmt.Fprintf(&b, "shard %s (slots %d-%d): %s, not ready\n", sh.ID, sh.SlotLo, sh.SlotHi, sh.State)
		}
	}
	writeText(w, http.StatusServiceUnavailable, b.String())
}

func (s *server) status(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	doc := statusDoc{NodeStatus: s.node.Status()}
	if ml, ok := s.node.(MemberLister); ok {
		doc.Members = ml.Members()
	}
	if err := enc.Encode(doc); err != nil {
		s.logger.Debug("write /status", "err", err)
	}
}

func (s *server) forget(w http.ResponseWriter, r *http.Request) {
	f, ok := s.node.(Forgetter)
	if !ok {
		writeText(w, http.StatusNotImplemented, "this node cannot drain nodes\n")
		return
	}
	id := r.PathValue("id")
	switch err := f.Forget(r.Context(), id); {
	case err == nil:
		s.logger.Info("drain requested over HTTP", "node", id)
		writeText(w, http.StatusAccepted, "draining "+id+"\n")
	case errors.Is(err, cluster.ErrUnknownNode):
		writeText(w, http.StatusNotFound, err.Error()+"\n")
	default:
		writeText(w, http.StatusConflict, err.Error()+"\n")
	}
}

func writeText(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}
