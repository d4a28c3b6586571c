package cluster

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// The node-to-node RPC: a mux group ("rpc") on the Raft port carrying one
// JSON request and one JSON response per connection, each framed by a
// uvarint length. It is used rarely (configuration proposals to the meta
// leader, catch-up checks), so simplicity wins over speed.

const (
	rpcGroupName = "rpc"
	rpcMaxFrame  = 1 << 20
	rpcTimeout   = 5 * time.Second
)

// The RPC operations.
const (
	rpcMetaApply   = "meta_apply"   // Meta: propose to the meta group (meta leader only)
	rpcShardStatus = "shard_status" // Shard (or MetaGroup): the replica's ID and applied index
	rpcAnnounce    = "announce"     // Shard, Node, Addr: node's replica of the shard is at Addr (to its leader)
)

type rpcRequest struct {
	Op    string   `json:"op"`
	Meta  *metaCmd `json:"meta,omitempty"`
	Shard int      `json:"shard,omitempty"`
	// MetaGroup asks shard_status about the meta group's replica.
	MetaGroup bool   `json:"meta_group,omitempty"`
	Node      string `json:"node,omitempty"`
	Addr      string `json:"addr,omitempty"`
}

type rpcResponse struct {
	Err       string `json:"err,omitempty"`
	NotLeader bool   `json:"not_leader,omitempty"`
	Applied   uint64 `json:"applied,omitempty"`
	Open      bool   `json:"open,omitempty"`
	Replica   string `json:"replica,omitempty"`
}

// rpcServer answers RPCs on the node's "rpc" mux layer.
type rpcServer struct {
	layer  raft.StreamLayer
	handle func(rpcRequest) rpcResponse
	logger *slog.Logger
	wg     sync.WaitGroup
}

func (s *rpcServer) serve() {
	for {
		c, err := s.layer.Accept()
		if err != nil {
			return // the layer closed
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(c)
		}()
	}
}

func (s *rpcServer) serveConn(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * rpcTimeout))
	var req rpcRequest
	if err := readFrame(bufio.NewReader(c), &req); err != nil {
		s.logger.Debug("rpc: bad request", "remote", c.RemoteAddr(), "err", err)
		return
	}
	if err := writeFrame(c, s.handle(req)); err != nil {
		s.logger.Debug("rpc: write response", "remote", c.RemoteAddr(), "err", err)
	}
}

func (s *rpcServer) close() error {
	err := s.layer.Close()
	s.wg.Wait()
	return err
}

// call sends req to the node whose Raft port is addr (a replica address
// names the node's port: the RPC group has no replica ID).
func (s *rpcServer) call(ctx context.Context, addr string, req rpcRequest) (rpcResponse, error) {
	addr, _ = splitReplicaAddr(addr)
	deadline := time.Now().Add(rpcTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c, err := s.layer.Dial(raft.ServerAddress(addr), time.Until(deadline))
	if err != nil {
		return rpcResponse{}, fmt.Errorf("rpc %s to %s: %w", req.Op, addr, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Now()) })
	defer stop()
	_ = c.SetDeadline(deadline)
	if err := writeFrame(c, req); err != nil {
		return rpcResponse{}, fmt.Errorf("rpc %s to %s: %w", req.Op, addr, err)
	}
	var resp rpcResponse
	if err := readFrame(bufio.NewReader(c), &resp); err != nil {
		return rpcResponse{}, fmt.Errorf("rpc %s to %s: %w", req.Op, addr, err)
	}
	return resp, nil
}

func writeFrame(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	buf := binary.AppendUvarint(make([]byte, 0, len(b)+binary.MaxVarintLen64), uint64(len(b)))
	_, err = w.Write(append(buf, b...))
	return err
}

func readFrame(r *bufio.Reader, v any) error {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return fmt.Errorf("read length: %w", err)
	}
	if n > rpcMaxFrame {
		return errors.New("frame too large")
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return fmt.Errorf("read frame: %w", err)
	}
	return json.Unmarshal(b, v)
}
