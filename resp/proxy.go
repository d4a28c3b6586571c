package resp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tidwall/redcon"

	"github.com/streamraft/streamraft/fsm"
)

// Proxying (Config.Proxy) serves clients that do not follow MOVED: a plain
// redis-cli, or a Kubernetes Service in front of the pods. A command whose
// Backend call answers *MovedError is sent to the leader the error names,
// over a pooled connection that speaks the client's protocol version, and
// the leader's reply is relayed byte for byte. A leader that answers MOVED
// itself is followed up to maxProxyHops times; an unreachable one makes the
// client retry (TRYAGAIN).
//
// Pooled connections are named proxyClientName, and a node never forwards
// what arrives on a connection with that name: so a request crosses at
// most maxProxyHops+1 nodes however the nodes' views of the leaders
// disagree, instead of bouncing between two proxies for ever.
//
// Limits: a blocked XREAD/XREADGROUP is forwarded only when its first
// attempt is refused (leadership moving while it waits answers MOVED, as
// without the proxy); a transaction that WATCHes keys is not forwarded
// (the versions were read here; WATCH needs a direct connection to the
// leader); keyless commands that fan out over the shards are not
// forwarded (another node's answer would not be this node's).
const (
	// proxyClientName names the proxy's connections to other nodes.
	proxyClientName = "streamraft-proxy"
	// maxProxyHops is how many MOVED answers from upstream are followed.
	maxProxyHops = 3
	// proxyMaxIdle bounds the idle connections kept per (address,
	// protocol): enough for the commands in flight at once from a busy
	// node's clients, few enough not to pin file descriptors.
	proxyMaxIdle = 16
	// proxyDialTimeout bounds connecting to a leader (and its HELLO): a
	// peer on the same network answers in milliseconds, and a client
	// waits this long before it is told TRYAGAIN.
	proxyDialTimeout = 2 * time.Second
	// proxyIOTimeout bounds a forwarded command that does not block: as
	// long as the server gives a client to take its replies (conn.flush).
	proxyIOTimeout = 30 * time.Second
	// proxyBlockMargin is added to a forwarded BLOCK timeout: the leader
	// answers at the timeout, plus its timer resolution and the network.
	proxyBlockMargin = 5 * time.Second
)

// errProxyInterrupted: the client went away, or the server began shutting
// down during a blocking call, while a forwarded command was in flight.
var errProxyInterrupted = errors.New("proxy: call interrupted")

// proxyError is a leader the proxy could not reach or talk to. It is
// ErrTryAgain to backendError: the client should retry, by which time the
// views of the leadership have settled. But a write whose bytes had
// started on their way when the connection failed may have been applied:
// that one is ErrUncertain, which clients do not retry by themselves.
type proxyError struct {
	addr      string
	err       error
	uncertain bool
}

func (e *proxyError) Error() string { return fmt.Sprintf("proxy to %s: %v", e.addr, e.err) }

func (e *proxyError) Unwrap() error { return e.err }

func (e *proxyError) Is(target error) bool {
	if e.uncertain {
		return target == ErrUncertain
	}
	return target == ErrTryAgain
}

// proxyTarget returns the leader to forward to when a command's Backend
// call failed with err, or nil when the error is to be answered as it is.
// cmd is nil for EXEC.
func (c *conn) proxyTarget(cmd *command, err error) *MovedError {
	var moved *MovedError
	if err == nil || !errors.As(err, &moved) || (cmd != nil && cmd.fanout != nil) {
		return nil
	}
	if !c.srv.config().Proxy || c.isProxyClient() {
		return nil
	}
	return moved
}

func (c *conn) isProxyClient() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.name == proxyClientName
}

// runResult writes a command's Backend answer; on a proxying node a MOVED
// is replaced by the leader's own answer to argv.
func (c *conn) runResult(cmd *command, argv [][]byte, r fsm.Reply, err error) {
	if moved := c.proxyTarget(cmd, err); moved != nil {
		c.forward(moved, argv, proxyCall{write: cmd.kind == kindWrite})
		return
	}
	c.result(r, err)
}

// blockResult is runResult for the first attempt of a blocking command:
// the original argv is forwarded and the upstream connection held until
// the leader answers (BLOCK 0: however long that takes).
func (c *conn) blockResult(cmd *command, argv [][]byte, timeoutMs int64, r fsm.Reply, err error) {
	moved := c.proxyTarget(cmd, err)
	if moved == nil {
		c.result(r, err)
		return
	}
	c.setBlocked(true)
	defer c.setBlocked(false)
	c.flush() // replies to commands before this one are not held back
	c.forward(moved, argv, proxyCall{blocking: true, timeoutMs: timeoutMs, write: cmd.kind == kindWrite})
}

// execResult writes EXEC's answer when its Backend call failed or gave no
// array. On a proxying node a transaction whose shard is led elsewhere
// runs there (forwardExec), unless it WATCHes keys: their versions were
// read here, the leader could not check them, and the client gets MOVED.
func (c *conn) execResult(queue []queued, watching bool, r fsm.Reply, err error) {
	if moved := c.proxyTarget(nil, err); moved != nil && !watching {
		c.forwardExec(moved, queue)
		return
	}
	c.result(r, err)
}

// forward relays the leader's reply to argv straight into the client's
// reply buffer.
func (c *conn) forward(moved *MovedError, argv [][]byte, call proxyCall) {
	c.srv.stats.proxied.Add(1)
	start := len(c.w.Buf)
	buf, err := c.relay(c.w.Buf, moved.Addr, call, func(u *upstream, dst []byte) ([]byte, error) {
		if err := u.send(argv); err != nil {
			return dst, err
		}
		return u.read(dst)
	})
	c.w.Buf = buf
	if err != nil {
		c.proxyFailed(err)
		return
	}
	c.countRelayedError(buf[start:])
}

// forwardExec runs a transaction on the leader: MULTI, the queued commands
// EXEC would have proposed, EXEC. Commands answered here without the
// Backend (local ones, those fsm.Validate refused) are answered here
// still, and spliced into the leader's EXEC array at their places, as
// cmdExec does; any other answer (EXECABORT, an error) is relayed as is.
func (c *conn) forwardExec(moved *MovedError, queue []queued) {
	c.srv.stats.proxied.Add(1)
	var cmds [][][]byte
	for _, q := range queue {
		if q.cmd.kind != kindLocal && q.invalid == nil {
			cmds = append(cmds, q.argv)
		}
	}
	raw, err := c.relay(nil, moved.Addr, proxyCall{write: true}, execExchange(cmds))
	if err != nil {
		c.proxyFailed(err)
		return
	}
	elems, ok := splitArray(raw, len(cmds))
	if !ok {
		c.countRelayedError(raw)
		c.w.Buf = append(c.w.Buf, raw...)
		return
	}
	c.w.Array(len(queue))
	for _, q := range queue {
		switch {
		case q.invalid != nil:
			c.w.Reply(*q.invalid)
		case q.cmd.kind == kindLocal:
			q.cmd.handler(c, q.argv)
		default:
			c.w.Buf = append(c.w.Buf, elems[0]...)
			elems = elems[1:]
		}
	}
}

// execExchange sends a transaction: MULTI first, alone, so that commands
// never run outside one if MULTI is refused (its error is relayed); then
// the commands and EXEC in one write. The reply is EXEC's, except that a
// MOVED answered at queueing time (as Redis Cluster answers it; EXEC then
// says EXECABORT) is returned instead, for relay to follow.
func execExchange(cmds [][][]byte) exchange {
	return func(u *upstream, dst []byte) ([]byte, error) {
		start := len(dst)
		if err := u.send([][]byte{[]byte("MULTI")}); err != nil {
			return dst, err
		}
		out, err := u.read(dst)
		if err != nil || string(out[start:]) != "+OK\r\n" {
			u.discard = true // its state is unknown
			return out, err
		}
		if err := u.send(append(cmds[:len(cmds):len(cmds)], [][]byte{[]byte("EXEC")})...); err != nil {
			return out[:start], err
		}
		var queuedMoved []byte
		for range cmds {
			if out, err = u.read(out[:start]); err != nil {
				return out[:start], err
			}
			rep := out[start:]
			if _, ok := movedAddr(rep); ok && queuedMoved == nil {
				queuedMoved = bytes.Clone(rep)
			} else if string(rep) != "+QUEUED\r\n" && !isErrorReply(rep) {
				u.discard = true // not in MULTI after all: EXEC's error says so
			}
		}
		if out, err = u.read(out[:start]); err != nil {
			return out[:start], err
		}
		if queuedMoved != nil && bytes.HasPrefix(out[start:], []byte("-EXECABORT")) {
			return append(out[:start], queuedMoved...), nil
		}
		return out, nil
	}
}

// proxyFailed answers a forwarding error: an interrupted call closes the
// connection (as conn.result does for a canceled Backend call), an
// upstream failure answers TRYAGAIN.
func (c *conn) proxyFailed(err error) {
	if errors.Is(err, errProxyInterrupted) {
		c.closing = true
		return
	}
	c.result(fsm.Reply{}, err)
}

func (c *conn) countRelayedError(reply []byte) {
	if isErrorReply(reply) {
		c.srv.stats.errors.Add(1)
	}
}

func isErrorReply(reply []byte) bool {
	return len(reply) > 0 && (reply[0] == '-' || reply[0] == '!')
}

// movedAddr returns the address of a "-MOVED <slot> <host:port>" reply.
func movedAddr(reply []byte) (string, bool) {
	rest, ok := bytes.CutPrefix(reply, []byte("-MOVED "))
	if !ok {
		return "", false
	}
	f := strings.Fields(string(rest))
	if len(f) != 2 || !isInt([]byte(f[0])) {
		return "", false
	}
	return f[1], true
}

// proxyCall says how long a forwarded call may take to answer, and
// whether it changes state (then a failure once it was sent leaves its
// outcome unknown).
type proxyCall struct {
	blocking  bool
	timeoutMs int64 // the command's BLOCK timeout; 0 waits for ever
	write     bool
}

// readDeadline is when the upstream's answer is overdue; zero for none.
func (p proxyCall) readDeadline(now time.Time) time.Time {
	switch {
	case !p.blocking:
		return now.Add(proxyIOTimeout)
	case p.timeoutMs <= 0 || p.timeoutMs > int64((math.MaxInt64-proxyBlockMargin)/time.Millisecond):
		return time.Time{}
	}
	return now.Add(time.Duration(p.timeoutMs)*time.Millisecond + proxyBlockMargin)
}

// exchange runs one request on an upstream connection and appends the
// reply to relay to dst. Any error discards the connection.
type exchange func(u *upstream, dst []byte) ([]byte, error)

// relay runs ex against the leader at addr and appends its reply to dst,
// following MOVED answers up to maxProxyHops times; after the last hop the
// MOVED itself is the reply. On error dst is returned unchanged in length.
func (c *conn) relay(dst []byte, addr string, call proxyCall, ex exchange) ([]byte, error) {
	start := len(dst)
	for hop := 0; ; hop++ {
		out, err := c.roundTrip(dst[:start], addr, call, ex)
		if err != nil {
			return out[:start], err
		}
		next, moved := movedAddr(out[start:])
		if !moved || hop == maxProxyHops {
			return out, nil
		}
		dst, addr = out, next
	}
}

// roundTrip runs ex on a pooled connection to addr in the client's
// protocol version, and pools the connection again if all went well.
func (c *conn) roundTrip(dst []byte, addr string, call proxyCall, ex exchange) ([]byte, error) {
	key := proxyKey{addr: addr, proto: c.w.Proto}
	u, err := c.srv.proxy.get(c.ctx, key, c.srv.config().MaxBulkBytes)
	if err != nil {
		if c.ctx.Err() != nil {
			return dst, errProxyInterrupted
		}
		return dst, &proxyError{addr: addr, err: err}
	}
	u.sent = false // the HELLO, or an earlier exchange, does not count
	now := time.Now()
	_ = u.nc.SetWriteDeadline(now.Add(proxyIOTimeout))
	_ = u.nc.SetReadDeadline(call.readDeadline(now))
	stop := c.interruptOn(u.nc, call.blocking)
	out, err := ex(u, dst)
	interrupted := stop()
	switch {
	case interrupted:
		u.nc.Close()
		return out, errProxyInterrupted
	case err != nil:
		u.nc.Close()
		return out, &proxyError{addr: addr, err: err, uncertain: call.write && u.sent}
	case u.discard:
		u.nc.Close()
	default:
		c.srv.proxy.put(u)
	}
	return out, nil
}

// interruptOn closes nc when the client goes away (or, for a blocking
// call, the server begins shutting down) before stop is called; stop
// reports whether it did. The goroutine ends by the time stop returns.
func (c *conn) interruptOn(nc net.Conn, blocking bool) (stop func() bool) {
	var quit <-chan struct{}
	if blocking {
		quit = c.srv.quit
	}
	done, closed := make(chan struct{}), make(chan bool, 1)
	go func() {
		select {
		case <-c.ctx.Done():
		case <-quit:
		case <-done:
			closed <- false
			return
		}
		nc.Close()
		closed <- true
	}()
	return func() bool {
		close(done)
		return <-closed
	}
}

// proxyKey identifies a pool: the leader's address and the protocol
// version (2 or 3) its connections were switched to.
type proxyKey struct {
	addr  string
	proto int
}

// proxyPool keeps idle connections to other nodes, at most proxyMaxIdle
// per key. Its zero value is not usable: see newProxyPool.
type proxyPool struct {
	mu     sync.Mutex
	idle   map[proxyKey][]*upstream
	closed bool
}

func newProxyPool() *proxyPool {
	return &proxyPool{idle: map[proxyKey][]*upstream{}}
}

// get returns an idle connection for key that is still open, or dials one.
// maxBulk bounds the bulk strings its replies may carry.
func (p *proxyPool) get(ctx context.Context, key proxyKey, maxBulk int64) (*upstream, error) {
	for {
		u := p.pop(key)
		if u == nil {
			return dialUpstream(ctx, key, maxBulk)
		}
		if u.alive() {
			u.rd.maxBulk = maxBulk
			return u, nil
		}
		u.nc.Close() // the peer closed it (restart, idle timeout)
	}
}

func (p *proxyPool) pop(key proxyKey) *upstream {
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.idle[key]
	if len(list) == 0 {
		return nil
	}
	u := list[len(list)-1]
	if len(list) == 1 {
		delete(p.idle, key)
	} else {
		list[len(list)-1] = nil
		p.idle[key] = list[:len(list)-1]
	}
	return u
}

// put keeps u for reuse, or closes it when the pool is full or closed.
func (p *proxyPool) put(u *upstream) {
	p.mu.Lock()
	keep := !p.closed && len(p.idle[u.key]) < proxyMaxIdle
	if keep {
		p.idle[u.key] = append(p.idle[u.key], u)
	}
	p.mu.Unlock()
	if !keep {
		u.nc.Close()
	}
}

// idleCount is how many connections for key are idle in the pool.
func (p *proxyPool) idleCount(key proxyKey) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle[key])
}

// close closes every idle connection; connections in use are closed when
// they come back.
func (p *proxyPool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = map[proxyKey][]*upstream{}, true
	p.mu.Unlock()
	for _, list := range idle {
		for _, u := range list {
			u.nc.Close()
		}
	}
}

// upstream is one connection to another node.
type upstream struct {
	key     proxyKey
	nc      net.Conn
	rd      *replyReader
	out     []byte // request buffer, reused
	discard bool   // its state is unknown: close it instead of pooling it
	sent    bool   // a write on this connection may have reached the peer
}

// dialUpstream connects to key.addr and sends HELLO in key's protocol
// version with the proxy's client name.
func dialUpstream(ctx context.Context, key proxyKey, maxBulk int64) (*upstream, error) {
	d := net.Dialer{Timeout: proxyDialTimeout}
	nc, err := d.DialContext(ctx, "tcp", key.addr)
	if err != nil {
		return nil, err
	}
	u := &upstream{key: key, nc: nc, rd: newReplyReader(nc, maxBulk)}
	if err := u.hello(); err != nil {
		nc.Close()
		return nil, err
	}
	return u, nil
}

func (u *upstream) hello() error {
	_ = u.nc.SetDeadline(time.Now().Add(proxyDialTimeout))
	hello := [][]byte{[]byte("HELLO"), []byte(strconv.Itoa(u.key.proto)), []byte("SETNAME"), []byte(proxyClientName)}
	if err := u.send(hello); err != nil {
		return fmt.Errorf("send HELLO: %w", err)
	}
	r, err := u.read(nil)
	if err != nil {
		return fmt.Errorf("read HELLO reply: %w", err)
	}
	if isErrorReply(r) {
		return fmt.Errorf("HELLO refused: %q", trunc(r, 128))
	}
	return nil
}

// send writes the commands in one write.
func (u *upstream) send(cmds ...[][]byte) error {
	u.out = u.out[:0]
	for _, argv := range cmds {
		u.out = redcon.AppendArray(u.out, len(argv))
		for _, a := range argv {
			u.out = redcon.AppendBulk(u.out, a)
		}
	}
	n, err := u.nc.Write(u.out)
	u.sent = u.sent || n > 0 || err != nil // a failed write may have sent bytes
	if cap(u.out) > maxKeptReplyBuf {
		u.out = nil // do not pin the memory of one huge command
	}
	return err
}

// read appends the next reply to dst. RESP3 push messages are skipped:
// out of band, and none is expected (nothing subscribes on these
// connections). On error dst is returned unchanged in length.
func (u *upstream) read(dst []byte) ([]byte, error) {
	start := len(dst)
	for {
		out, err := u.rd.readReply(dst[:start])
		if err != nil {
			return out[:start], err
		}
		if out[start] != '>' {
			return out, nil
		}
		dst = out
	}
}

// alive reports whether an idle connection is still open and has nothing
// unread: a read on the socket itself, which must find no data (the peer
// sends nothing unasked) and no end of stream.
func (u *upstream) alive() bool {
	if u.rd.br.Buffered() > 0 {
		return false
	}
	sc, ok := u.nc.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	alive := false
	err = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		_, rerr := syscall.Read(int(fd), b[:])
		alive = errors.Is(rerr, syscall.EAGAIN) // no data, not closed
		return true
	})
	return err == nil && alive
}
