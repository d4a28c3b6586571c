// Package api is streamraft's HTTP side: liveness and readiness probes and a
// JSON status page. Prometheus metrics and admin actions come later.
package api

import (
	"encoding/json"
	"log/slog"
	"net/http"

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

// NewServer returns the HTTP handler:
//
//	GET /healthz  200 "ok" while the process serves
//	GET /readyz   200 "ready" when the node can serve commands, else 503
//	GET /status   JSON: node ID, leadership, applied index, last snapshot
func NewServer(node Node, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	s := &server{node: node, logger: logger}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /status", s.status)
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
	if !s.node.Ready() {
		writeText(w, http.StatusServiceUnavailable, "not ready\n")
		return
	}
	writeText(w, http.StatusOK, "ready\n")
}

func (s *server) status(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s.node.Status()); err != nil {
		s.logger.Debug("write /status", "err", err)
	}
}

func writeText(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}
