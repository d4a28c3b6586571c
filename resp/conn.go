package resp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/streamraft/streamraft/fsm"
)

// queueLen is how many parsed commands may wait for the executor: enough
// for the reader to keep going while a command runs, small enough that a
// client cannot queue much memory behind a blocked command.
const queueLen = 64

// maxKeptReplyBuf is the largest reply buffer a connection keeps between
// flushes.
const maxKeptReplyBuf = 1 << 20

// request is what the reader hands the executor: a command it owns, or the
// protocol error that ends the connection.
type request struct {
	argv [][]byte
	err  *ProtocolError
}

// conn is one client connection. Fields under "executor" are touched only
// by the executing goroutine; the rest, shown by CLIENT LIST to other
// connections, are guarded by mu.
type conn struct {
	srv    *Server
	nc     net.Conn
	id     int64
	ctx    context.Context // canceled when the client goes away
	cancel context.CancelFunc
	reqs   chan request
	done   chan struct{} // closed when the executor ends

	// executor
	w       Writer
	closing bool // QUIT, protocol error, or a broken connection
	multi   *multiState
	watched []watchedKey
	// readonly: the client sent READONLY; see readsLocal.
	readonly bool
	// pending: pipelined writes proposed and not yet answered (pipeline.go).
	pending []pendingWrite

	mu      sync.Mutex
	name    string
	libName string
	libVer  string
	proto   int
	created time.Time
	lastCmd time.Time
	cmdName string
	blocked bool
	inMulti int // -1 outside MULTI, else queued commands
}

func newConn(s *Server, nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(s.base)
	now := time.Now()
	c := &conn{
		srv: s, nc: nc, id: s.nextID.Add(1), ctx: ctx, cancel: cancel,
		reqs: make(chan request, queueLen), done: make(chan struct{}),
		w:     Writer{Proto: 2, Buf: make([]byte, 0, 16*1024)},
		proto: 2, created: now, lastCmd: now, cmdName: "NULL", inMulti: -1,
	}
	return c
}

func sortConns(cs []*conn) {
	slices.SortFunc(cs, func(a, b *conn) int { return int(a.id - b.id) })
}

// readLoop parses commands and hands owned copies to the executor. It ends
// on a read error (the client went away: ctx is canceled so a blocked
// command notices) or a protocol error (handed over to be answered).
func (c *conn) readLoop() {
	defer c.srv.wg.Done()
	defer close(c.reqs)
	rd := NewReader(countingReader{c.nc, &c.srv.stats.netIn}, c.srv.config().MaxBulkBytes, c.srv.config().MaxQueryBytes)
	for {
		argv, err := rd.ReadCommand()
		if err != nil {
			var pe *ProtocolError
			if errors.As(err, &pe) {
				select {
				case c.reqs <- request{err: pe}:
				case <-c.done:
				}
				return
			}
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				c.srv.log.Debug("client read failed", "id", c.id, "err", err)
			}
			c.cancel()
			return
		}
		req := request{argv: ownedCommand(argv)}
		select {
		case c.reqs <- req: // the usual case, without a two-way select
			continue
		default:
		}
		select {
		case c.reqs <- req:
		case <-c.done:
			return
		}
	}
}

// ownedCommand copies argv (which aliases the reader's buffer) into one
// allocation the command owns for as long as it needs: queued in MULTI,
// proposed to Raft, blocked.
func ownedCommand(argv [][]byte) [][]byte {
	n := 0
	for _, a := range argv {
		n += len(a)
	}
	data := make([]byte, 0, n)
	out := make([][]byte, len(argv))
	for i, a := range argv {
		data = append(data, a...)
		out[i] = data[len(data)-len(a) : len(data) : len(data)]
	}
	return out
}

type countingReader struct {
	r io.Reader
	n interface{ Add(int64) int64 }
}

func (cr countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	cr.n.Add(int64(n))
	return n, err
}

// execLoop runs commands in order and writes their replies, flushing when
// no further command is waiting, so that a pipeline gets one write.
func (c *conn) execLoop() {
	defer c.srv.wg.Done()
	defer c.finish()
	for !c.closing {
		req, ok := c.next()
		if !ok {
			return
		}
		switch {
		case req.err != nil:
			c.drainPending()
			c.replyError(errProtocol(req.err))
			c.closing = true
		case !c.submitPipelined(req.argv):
			c.drainPending()
			c.execute(req.argv)
		}
		if len(c.reqs) == 0 || c.closing || len(c.w.Buf) > 64*1024 {
			c.drainPending()
			c.flush()
		}
		select {
		case <-c.srv.quit:
			c.closing = true
		default:
		}
	}
}

// next waits for the reader's next request; ok is false once the reader
// ended or the server is shutting down. A queued request is taken without
// the two-way select, which costs several times more.
func (c *conn) next() (req request, ok bool) {
	select {
	case req, ok = <-c.reqs:
		return req, ok
	default:
	}
	select {
	case req, ok = <-c.reqs:
		return req, ok
	case <-c.srv.quit:
		return request{}, false
	}
}

func (c *conn) flush() {
	if len(c.w.Buf) == 0 {
		return
	}
	c.srv.stats.netOut.Add(int64(len(c.w.Buf)))
	_ = c.nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
	_, err := c.nc.Write(c.w.Buf)
	if cap(c.w.Buf) > maxKeptReplyBuf {
		c.w.Buf = nil // do not pin the memory of one huge reply
	} else {
		c.w.Buf = c.w.Buf[:0]
	}
	if err != nil {
		c.closing = true
		c.cancel()
	}
}

func (c *conn) finish() {
	c.drainPending()
	c.flush()
	c.cancel()
	close(c.done)
	c.nc.Close()
	c.srv.removeConn(c)
}

// execute runs one command as Redis's processCommand does: lookup and arity
// first, then queueing inside MULTI, then by kind.
func (c *conn) execute(argv [][]byte) {
	c.srv.stats.commands.Add(1)
	cmd, errMsg := c.srv.table.lookup(argv)
	c.touch(cmd)
	if errMsg != "" {
		if bytes.EqualFold(argv[0], []byte("exec")) {
			// Redis's execCommandAbort: a rejected EXEC discards the
			// transaction (even when there is none) and says why.
			c.multi, c.watched = nil, nil
			c.setInMulti(-1)
			c.replyError(errExecAbortBecause + strings.TrimPrefix(errMsg, "ERR "))
			return
		}
		if c.multi != nil {
			c.multi.dirty = true
		}
		c.replyError(errMsg)
		return
	}
	if c.crossSlot(cmd, argv) {
		if c.multi != nil {
			c.multi.dirty = true
		}
		c.replyError(errCrossSlot)
		return
	}
	if c.multi != nil && !cmd.immediate {
		c.queue(cmd, argv)
		return
	}
	c.run(cmd, argv)
}

func (c *conn) touch(cmd *command) {
	c.mu.Lock()
	c.lastCmd = time.Now()
	if cmd != nil {
		c.cmdName = cmd.meta.Name
	}
	c.mu.Unlock()
}

func (c *conn) replyError(msg string) {
	c.srv.stats.errors.Add(1)
	c.w.Error(msg)
}

// run executes a command outside MULTI.
func (c *conn) run(cmd *command, argv [][]byte) {
	if cmd.kind == kindLocal {
		cmd.handler(c, argv)
		return
	}
	if r, ok := fsm.Validate(argv); !ok {
		c.w.Reply(r)
		return
	}
	if timeoutMs, keys, ok := fsm.Blocking(argv); ok {
		c.block(cmd, argv, timeoutMs, keys)
		return
	}
	r, err := c.once(cmd, argv, nil)
	c.runResult(cmd, argv, r, err)
}

// once runs a validated read or write command once. When prepared is not
// nil and a read answers a null array, *prepared receives argv rewritten by
// ReadOrPrepare against the same state.
func (c *conn) once(cmd *command, argv [][]byte, prepared *[][]byte) (fsm.Reply, error) {
	key := cmd.routeKey(argv)
	now := time.Now().UnixMilli()
	if cmd.fanout != nil {
		return cmd.fanout(c, argv, now)
	}
	if cmd.kind == kindWrite {
		if cmd.readGroup {
			if r, ok, err := c.tryRead(key, argv, now); err != nil || ok {
				return r, err
			}
		}
		return c.srv.backend.Write(c.ctx, key, fsm.Request{Cmds: [][][]byte{argv}})
	}
	if c.readsLocal(cmd, key, argv) {
		return c.srv.backend.ReadLocal(c.ctx, key, func(m *fsm.Machine) fsm.Reply { return m.Read(argv, now) })
	}
	return c.srv.backend.Read(c.ctx, key, func(m *fsm.Machine) fsm.Reply {
		if prepared == nil {
			return m.Read(argv, now)
		}
		// One lock for both, so no XADD lands between the read and the
		// pinning of `$` (that entry would be missed).
		r, p := m.ReadOrPrepare(argv, now)
		*prepared = p
		return r
	})
}

// readsLocal reports whether a read runs on this node's own replica
// (Backend.ReadLocal): the client sent READONLY and the command is a keyed,
// non-blocking read. A blocking read keeps the leader's path, whose Watch
// signals it waits on. Transactions never come here (EXEC proposes them
// whole), so MULTI keeps the normal path.
func (c *conn) readsLocal(cmd *command, key []byte, argv [][]byte) bool {
	if !c.readonly || cmd.kind != kindRead || key == nil {
		return false
	}
	_, _, blocking := fsm.Blocking(argv)
	return !blocking
}

// tryRead answers an XREADGROUP (or its BlockedRetry form) from the state
// when running it would change nothing (fsm's TryRead: `>` with nothing
// new, or an error the state gives), so such a read, and every wake-up of a
// blocked one that finds nothing, stays out of the Raft log. ok is false
// when the command must be proposed.
func (c *conn) tryRead(key []byte, argv [][]byte, now int64) (r fsm.Reply, ok bool, err error) {
	r, err = c.srv.backend.Read(c.ctx, key, func(m *fsm.Machine) fsm.Reply {
		var rr fsm.Reply
		rr, ok = m.TryRead(argv, now)
		return rr
	})
	return r, ok, err
}

// result writes a Backend answer: the reply, or the error's Redis form.
func (c *conn) result(r fsm.Reply, err error) {
	if err != nil {
		msg, closeConn := backendError(err)
		if closeConn {
			c.closing = true
			return
		}
		c.replyError(msg)
		return
	}
	if r.IsError() {
		c.srv.stats.errors.Add(1)
	}
	c.w.Reply(r)
}
