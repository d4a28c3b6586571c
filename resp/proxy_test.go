package resp

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/streamraft/streamraft/fsm"
)

// startUpstreamRedis runs a throw-away redis-server in t.TempDir on a free
// loopback port and returns its address. Without redis-server the test is
// skipped, unless $CI is set: CI must run these tests.
func startUpstreamRedis(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-server not on PATH and CI=%s: the proxy tests must run in CI", os.Getenv("CI"))
		}
		t.Skip("redis-server not on PATH")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen for a free port: %v", err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	args = append([]string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir()}, args...)
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := "127.0.0.1:" + port
	pollFor(t, "redis-server at "+addr, func() bool {
		nc, err := net.Dial("tcp", addr)
		if err == nil {
			nc.Close()
		}
		return err == nil
	})
	return addr
}

// movedBackend is a testBackend whose keyed calls answer *MovedError naming
// target while moved is set, as a node answers for a shard another node
// leads; keyless calls (fan-outs) are served here.
type movedBackend struct {
	*testBackend
	target atomic.Value // string: the leader's address
	moved  atomic.Bool
	calls  atomic.Int64 // keyed calls answered MOVED
}

func (b *movedBackend) movedErr(key []byte) error {
	if key == nil || !b.moved.Load() {
		return nil
	}
	b.calls.Add(1)
	return &MovedError{Slot: fsm.KeySlot(key), Addr: b.target.Load().(string)}
}

func (b *movedBackend) Write(ctx context.Context, key []byte, req fsm.Request) (fsm.Reply, error) {
	if err := b.movedErr(key); err != nil {
		return fsm.Reply{}, err
	}
	return b.testBackend.Write(ctx, key, req)
}

func (b *movedBackend) Submit(ctx context.Context, key []byte, req fsm.Request) func() (fsm.Reply, error) {
	r, err := b.Write(ctx, key, req)
	return func() (fsm.Reply, error) { return r, err }
}

func (b *movedBackend) Read(ctx context.Context, key []byte, fn func(m *fsm.Machine) fsm.Reply) (fsm.Reply, error) {
	if err := b.movedErr(key); err != nil {
		return fsm.Reply{}, err
	}
	return b.testBackend.Read(ctx, key, fn)
}

func (b *movedBackend) ReadLocal(ctx context.Context, key []byte, fn func(m *fsm.Machine) fsm.Reply) (fsm.Reply, error) {
	if err := b.movedErr(key); err != nil {
		return fsm.Reply{}, err
	}
	return b.testBackend.ReadLocal(ctx, key, fn)
}

// proxyNode is a Server whose Backend sends every key to target.
type proxyNode struct {
	*Server
	b    *movedBackend
	addr string
	stop func() // Shutdown, once; also run by t.Cleanup
}

// startProxyNode starts a node answering MOVED to target ("" for itself).
func startProxyNode(t *testing.T, cfg Config, target string) *proxyNode {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := ln.Addr().String()
	if target == "" {
		target = addr
	}
	b := &movedBackend{testBackend: newTestBackend(1)}
	b.target.Store(target)
	b.moved.Store(true)
	srv := NewServer(cfg, b, slog.New(slog.DiscardHandler))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	var once sync.Once
	n := &proxyNode{Server: srv, b: b, addr: addr}
	n.stop = func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			if err := <-done; !errors.Is(err, ErrServerClosed) {
				t.Errorf("Serve returned %v; want ErrServerClosed", err)
			}
		})
	}
	t.Cleanup(n.stop)
	return n
}

// infoField returns one field of redis-server's INFO, e.g. blocked_clients.
func infoField(t *testing.T, c *rawClient, field string) string {
	t.Helper()
	info := c.do("INFO", "clients")
	_, rest, ok := strings.Cut(info, "\r\n"+field+":")
	if !ok {
		t.Fatalf("INFO clients has no %s: %q", field, info)
	}
	v, _, _ := strings.Cut(rest, "\r\n")
	return v
}

// proxyConns counts redis-server's clients named by the proxy.
func proxyConns(t *testing.T, c *rawClient) int {
	t.Helper()
	return strings.Count(c.do("CLIENT", "LIST"), " name="+proxyClientName+" ")
}

// proxyScript covers the stream commands' replies of every shape, state
// errors included; explicit IDs make each reply deterministic.
var proxyScript = [][]string{
	{"XADD", "s", "1-1", "f", "v"},
	{"XADD", "s", "1-1", "f", "v"},
	{"XADD", "s", "2-1", "a", "1", "b", "2"},
	{"XRANGE", "s", "-", "+"},
	{"XREVRANGE", "s", "+", "-", "COUNT", "1"},
	{"XLEN", "s"},
	{"XGROUP", "CREATE", "s", "g", "0"},
	{"XGROUP", "CREATE", "s", "g", "0"},
	{"XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">"},
	{"XPENDING", "s", "g"},
	{"XREAD", "STREAMS", "s", "1-1"},
	{"XREAD", "BLOCK", "10", "STREAMS", "s", "$"},
	{"XINFO", "STREAM", "s"},
	{"XINFO", "GROUPS", "s"},
	{"TYPE", "s"},
	{"EXISTS", "s"},
	{"XGROUP", "CREATE", "nokey", "g", "0"},
	{"XREADGROUP", "GROUP", "nogroup", "c", "STREAMS", "s", ">"},
	{"XDEL", "s", "1-1"},
	{"XTRIM", "s", "MAXLEN", "0"},
	{"DEL", "s"},
	{"XLEN", "s"},
}

// runScript runs proxyScript on c (after HELLO 3 for RESP3) from an empty
// redis-server and returns the replies.
func runScript(t *testing.T, c, redisConn *rawClient, proto int) []string {
	t.Helper()
	if got := redisConn.do("FLUSHALL"); got != "+OK\r\n" {
		t.Fatalf("FLUSHALL = %q", got)
	}
	if proto == 3 {
		if got := c.do("HELLO", "3"); !strings.HasPrefix(got, "%7\r\n") {
			t.Fatalf("HELLO 3 = %q; want a map", got)
		}
	}
	var out []string
	for _, argv := range proxyScript {
		out = append(out, c.do(argv...))
	}
	return out
}

// TestProxyRelaysRedisReplies: through a proxying node, every reply is
// byte for byte the reply redis-server gives the same client directly, in
// RESP2 and RESP3, error replies included.
func TestProxyRelaysRedisReplies(t *testing.T) {
	needStreams(t)
	upstream := startUpstreamRedis(t)
	node := startProxyNode(t, Config{Proxy: true}, upstream)
	admin := dial(t, upstream)
	for _, proto := range []int{2, 3} {
		t.Run("RESP"+strconv.Itoa(proto), func(t *testing.T) {
			want := runScript(t, dial(t, upstream), admin, proto)
			before := node.stats.proxied.Load()
			got := runScript(t, dial(t, node.addr), admin, proto)
			for i, argv := range proxyScript {
				if got[i] != want[i] {
					t.Errorf("%q via proxy = %q; want %q", argv, got[i], want[i])
				}
			}
			if n := node.stats.proxied.Load() - before; n != int64(len(proxyScript)) {
				t.Errorf("proxied commands = %d; want %d", n, len(proxyScript))
			}
		})
	}
	if got := proxyConns(t, admin); got != 2 {
		t.Errorf("redis-server has %d proxy connections; want 2 (one pooled per protocol)", got)
	}
	if got := node.proxy.idleCount(proxyKey{addr: upstream, proto: 3}); got != 1 {
		t.Errorf("idle RESP3 connections = %d; want 1", got)
	}
}

func TestProxyOffAnswersMoved(t *testing.T) {
	node := startProxyNode(t, Config{}, "10.0.0.9:7000")
	c := dial(t, node.addr)
	want := "-MOVED " + strconv.Itoa(fsm.KeySlot([]byte("s"))) + " 10.0.0.9:7000\r\n"
	if got := c.do("XLEN", "s"); got != want {
		t.Errorf("XLEN s without Proxy = %q; want %q", got, want)
	}
}

// TestProxyGoRedis: go-redis, in both protocols, drives streams through a
// proxying node, including an XREADGROUP BLOCK woken by an XADD sent to
// redis-server directly, and a transaction.
func TestProxyGoRedis(t *testing.T) {
	needStreams(t)
	upstream := startUpstreamRedis(t)
	node := startProxyNode(t, Config{Proxy: true}, upstream)
	admin := dial(t, upstream)
	direct := redis.NewClient(&redis.Options{Addr: upstream})
	defer direct.Close()
	for _, proto := range []int{2, 3} {
		t.Run("RESP"+strconv.Itoa(proto), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			admin.do("FLUSHALL")
			rdb := redis.NewClient(&redis.Options{Addr: node.addr, Protocol: proto})
			defer rdb.Close()
			if id, err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: "s", ID: "1-1", Values: []string{"f", "v"}}).Result(); err != nil || id != "1-1" {
				t.Fatalf("XADD = %q, %v; want 1-1", id, err)
			}
			_, err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: "s", ID: "1-1", Values: []string{"f", "v"}}).Result()
			if err == nil || !strings.HasPrefix(err.Error(), "ERR The ID specified in XADD is equal or smaller") {
				t.Errorf("XADD of an old ID: %v; want redis-server's ERR", err)
			}
			msgs, err := rdb.XRange(ctx, "s", "-", "+").Result()
			if err != nil || len(msgs) != 1 || msgs[0].ID != "1-1" || msgs[0].Values["f"] != "v" {
				t.Fatalf("XRANGE = %+v, %v; want 1-1 f=v", msgs, err)
			}
			if err := rdb.XGroupCreate(ctx, "s", "g", "$").Err(); err != nil {
				t.Fatalf("XGROUP CREATE: %v", err)
			}
			got := make(chan []redis.XStream, 1)
			go func() {
				res, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "c", Streams: []string{"s", ">"}, Block: 0}).Result()
				if err != nil {
					t.Errorf("XREADGROUP BLOCK 0: %v", err)
				}
				got <- res
			}()
			pollFor(t, "the proxied XREADGROUP to block in redis-server", func() bool { return infoField(t, admin, "blocked_clients") == "1" })
			if err := direct.XAdd(ctx, &redis.XAddArgs{Stream: "s", ID: "2-1", Values: []string{"k", "w"}}).Err(); err != nil {
				t.Fatalf("direct XADD: %v", err)
			}
			if res := <-got; len(res) != 1 || len(res[0].Messages) != 1 || res[0].Messages[0].ID != "2-1" || res[0].Messages[0].Values["k"] != "w" {
				t.Errorf("woken XREADGROUP = %+v; want s: 2-1 k=w", res)
			}
			var xlen *redis.IntCmd
			_, err = rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.XAdd(ctx, &redis.XAddArgs{Stream: "s", ID: "3-1", Values: []string{"t", "x"}})
				xlen = p.XLen(ctx, "s")
				return nil
			})
			if err != nil || xlen.Val() != 3 {
				t.Errorf("MULTI XADD XLEN EXEC: XLEN %d, %v; want 3", xlen.Val(), err)
			}
			if n, err := direct.XLen(ctx, "s").Result(); err != nil || n != 3 {
				t.Errorf("XLEN in redis-server = %d, %v; want 3", n, err)
			}
		})
	}
}

// TestProxyBlockingRaw: a proxied XREADGROUP BLOCK 0 is answered, when an
// XADD reaches redis-server directly, with the bytes redis-server gives a
// second group reading the same entry directly.
func TestProxyBlockingRaw(t *testing.T) {
	needStreams(t)
	upstream := startUpstreamRedis(t)
	node := startProxyNode(t, Config{Proxy: true}, upstream)
	admin := dial(t, upstream)
	for _, proto := range []int{2, 3} {
		t.Run("RESP"+strconv.Itoa(proto), func(t *testing.T) {
			admin.do("FLUSHALL")
			direct, via := dial(t, upstream), dial(t, node.addr)
			if proto == 3 {
				direct.do("HELLO", "3")
				via.do("HELLO", "3")
			}
			for _, g := range []string{"g", "g2"} {
				if got := admin.do("XGROUP", "CREATE", "s", g, "$", "MKSTREAM"); got != "+OK\r\n" {
					t.Fatalf("XGROUP CREATE %s = %q", g, got)
				}
			}
			// One write: the executor finds both queued, so only the
			// blocking path's own flush sends PING's reply.
			via.send(encode("PING") + encode("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"))
			if got := via.reply(); got != "+PONG\r\n" {
				t.Fatalf("PING before the blocked command = %q; want +PONG (not held back)", got)
			}
			pollFor(t, "the proxied XREADGROUP to block", func() bool { return infoField(t, admin, "blocked_clients") == "1" })
			if got := node.blockedClients(); got != 1 {
				t.Errorf("blocked clients on the node = %d; want 1", got)
			}
			admin.do("XADD", "s", "5-1", "f", "v")
			got := via.reply()
			if want := direct.do("XREADGROUP", "GROUP", "g2", "c", "STREAMS", "s", ">"); got != want {
				t.Errorf("woken proxied XREADGROUP = %q; want %q", got, want)
			}
			if got := via.do("XREAD", "BLOCK", "20", "STREAMS", "s", "$"); got != direct.do("XREAD", "BLOCK", "20", "STREAMS", "s", "$") {
				t.Errorf("timed-out proxied XREAD = %q; want redis-server's", got)
			}
		})
	}
}

// blockedClients counts the node's clients shown as blocked.
func (n *proxyNode) blockedClients() int {
	count := 0
	for _, c := range n.clients() {
		c.mu.Lock()
		if c.blocked {
			count++
		}
		c.mu.Unlock()
	}
	return count
}

// TestProxyBlockClientGone: a client that disconnects while its proxied
// XREAD BLOCK 0 waits releases the upstream connection: redis-server sees
// it close, and it is not pooled.
func TestProxyBlockClientGone(t *testing.T) {
	upstream := startUpstreamRedis(t)
	node := startProxyNode(t, Config{Proxy: true}, upstream)
	admin := dial(t, upstream)
	c := dial(t, node.addr)
	c.cmd("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
	pollFor(t, "the proxied XREAD to block", func() bool { return infoField(t, admin, "blocked_clients") == "1" })
	if got := proxyConns(t, admin); got != 1 {
		t.Fatalf("proxy connections before the disconnect = %d; want 1", got)
	}
	c.nc.Close()
	pollFor(t, "redis-server to see the upstream connection close", func() bool {
		return infoField(t, admin, "blocked_clients") == "0" && proxyConns(t, admin) == 0
	})
	if got := node.proxy.idleCount(proxyKey{addr: upstream, proto: 2}); got != 0 {
		t.Errorf("idle connections after the disconnect = %d; want 0", got)
	}
}

// TestProxyShutdown: Shutdown ends a proxied blocked call and closes the
// pooled connections.
func TestProxyShutdown(t *testing.T) {
	upstream := startUpstreamRedis(t)
	node := startProxyNode(t, Config{Proxy: true}, upstream)
	admin := dial(t, upstream)
	c := dial(t, node.addr)
	c.cmd("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
	pollFor(t, "the proxied XREAD to block", func() bool { return infoField(t, admin, "blocked_clients") == "1" })
	if got := dial(t, node.addr).do("XLEN", "s"); got != ":0\r\n" {
		t.Fatalf("XLEN s = %q; want :0", got)
	}
	if got := proxyConns(t, admin); got != 2 {
		t.Fatalf("proxy connections = %d; want 2 (one idle, one blocked)", got)
	}
	start := time.Now()
	node.stop()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Shutdown took %v with a proxied blocked client", d)
	}
	c.expectClosed()
	pollFor(t, "the proxy's connections to close", func() bool { return proxyConns(t, admin) == 0 })
}

// TestProxyTransaction: MULTI/EXEC through the proxy gives redis-server's
// own EXEC reply, local and invalid commands answered in place.
func TestProxyTransaction(t *testing.T) {
	needStreams(t)
	upstream := startUpstreamRedis(t)
	node := startProxyNode(t, Config{Proxy: true}, upstream)
	admin := dial(t, upstream)
	script := [][]string{
		{"MULTI"}, {"XADD", "s", "1-1", "a", "b"}, {"PING"}, {"XLEN", "s"}, {"XADD", "s", "1-1", "a", "b"},
		{"XADD", "s", "bad-id", "a", "b"}, {"ECHO", "e"}, {"XRANGE", "s", "-", "+"}, {"EXEC"},
		{"MULTI"}, {"XGROUP", "CREATE", "s", "g", "0"}, {"XGROUP", "CREATE", "s", "g", "0"}, {"EXEC"},
	}
	run := func(c *rawClient) []string {
		admin.do("FLUSHALL")
		var out []string
		for _, argv := range script {
			out = append(out, c.do(argv...))
		}
		return out
	}
	for _, proto := range []int{2, 3} {
		direct, via := dial(t, upstream), dial(t, node.addr)
		if proto == 3 {
			direct.do("HELLO", "3")
			via.do("HELLO", "3")
		}
		want, got := run(direct), run(via)
		for i := range script {
			if got[i] != want[i] {
				t.Errorf("RESP%d %q via proxy = %q; want %q", proto, script[i], got[i], want[i])
			}
		}
	}
}

// TestProxyWatchLimit: WATCH is not forwarded: a WATCH on a remote key
// answers MOVED, and so does an EXEC whose WATCHed shard moved away; the
// transaction does not run.
func TestProxyWatchLimit(t *testing.T) {
	needStreams(t)
	upstream := startUpstreamRedis(t)
	node := startProxyNode(t, Config{Proxy: true}, upstream)
	admin := dial(t, upstream)
	c := dial(t, node.addr)
	moved := "-MOVED " + strconv.Itoa(fsm.KeySlot([]byte("s"))) + " " + upstream + "\r\n"
	if got := c.do("WATCH", "s"); got != moved {
		t.Errorf("WATCH of a remote key = %q; want %q", got, moved)
	}
	node.b.moved.Store(false)
	for _, argv := range [][]string{{"WATCH", "s"}, {"MULTI"}, {"XADD", "s", "1-1", "a", "b"}} {
		c.do(argv...)
	}
	node.b.moved.Store(true)
	if got := c.do("EXEC"); got != moved {
		t.Errorf("EXEC with a WATCHed key led elsewhere = %q; want %q", got, moved)
	}
	if got := admin.do("EXISTS", "s"); got != ":0\r\n" {
		t.Errorf("EXISTS s in redis-server = %q; want :0 (not forwarded)", got)
	}
}

// TestProxyUpstreamDown: an unreachable leader answers TRYAGAIN, for a
// command and a blocking one, and the connection goes on; a leader that
// dies during a proxied call does too, and its connection is not pooled.
func TestProxyUpstreamDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	node := startProxyNode(t, Config{Proxy: true}, dead)
	c := dial(t, node.addr)
	for _, argv := range [][]string{{"XADD", "s", "*", "a", "b"}, {"XREAD", "BLOCK", "0", "STREAMS", "s", "$"}} {
		if got := c.do(argv...); !strings.HasPrefix(got, "-TRYAGAIN proxy to "+dead+": ") {
			t.Errorf("%q with the leader down = %q; want -TRYAGAIN proxy to %s: ...", argv, got, dead)
		}
	}
	if got := c.do("PING"); got != "+PONG\r\n" {
		t.Errorf("PING after TRYAGAIN = %q", got)
	}

	upstream := startUpstreamRedis(t)
	node.b.target.Store(upstream)
	admin := dial(t, upstream)
	c.cmd("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
	pollFor(t, "the proxied XREAD to block", func() bool { return infoField(t, admin, "blocked_clients") == "1" })
	admin.do("CLIENT", "KILL", "TYPE", "normal") // every client but admin
	if got := c.reply(); !strings.HasPrefix(got, "-TRYAGAIN proxy to "+upstream+": ") {
		t.Errorf("proxied XREAD whose leader connection died = %q; want -TRYAGAIN", got)
	}
	if got := node.proxy.idleCount(proxyKey{addr: upstream, proto: 2}); got != 0 {
		t.Errorf("idle connections after the failure = %d; want 0", got)
	}
}

// TestProxyFollowsMoved: a leader that answers MOVED itself is followed;
// after maxProxyHops the client gets the last MOVED. The node answering
// MOVED runs with Proxy too, but does not forward what a proxy sends it
// (else the two would bounce the command for ever).
func TestProxyFollowsMoved(t *testing.T) {
	needStreams(t)
	upstream := startUpstreamRedis(t)
	stale := startProxyNode(t, Config{}, upstream)
	node := startProxyNode(t, Config{Proxy: true}, stale.addr)
	c := dial(t, node.addr)
	if got := c.do("XADD", "s", "1-1", "a", "b"); got != "$3\r\n1-1\r\n" {
		t.Errorf("XADD via a stale hop = %q; want $3 1-1", got)
	}
	if got := dial(t, upstream).do("XLEN", "s"); got != ":1\r\n" {
		t.Errorf("XLEN s in redis-server = %q; want :1", got)
	}

	loop := startProxyNode(t, Config{Proxy: true}, "") // MOVED to itself
	node.b.target.Store(loop.addr)
	want := "-MOVED " + strconv.Itoa(fsm.KeySlot([]byte("s"))) + " " + loop.addr + "\r\n"
	if got := c.do("XLEN", "s"); got != want {
		t.Errorf("XLEN s through a MOVED loop = %q; want %q", got, want)
	}
	if got := loop.b.calls.Load(); got != 1+maxProxyHops {
		t.Errorf("the looping node was asked %d times; want %d", got, 1+maxProxyHops)
	}
	if got := loop.stats.proxied.Load(); got != 0 {
		t.Errorf("the looping node forwarded %d commands; want 0", got)
	}
}

// TestProxyPool: the pool keeps at most proxyMaxIdle idle connections per
// key, reuses them, and drops those the peer closed.
func TestProxyPool(t *testing.T) {
	redisAddr := startUpstreamRedis(t)
	admin := dial(t, redisAddr)
	p := newProxyPool()
	defer p.close()
	ctx := context.Background()
	key := proxyKey{addr: redisAddr, proto: 3}
	var conns []*upstream
	for range proxyMaxIdle + 4 {
		u, err := p.get(ctx, key, 1<<20)
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		conns = append(conns, u)
	}
	for _, u := range conns {
		p.put(u)
	}
	if got := p.idleCount(key); got != proxyMaxIdle {
		t.Errorf("idle = %d; want %d", got, proxyMaxIdle)
	}
	pollFor(t, "the surplus connections to close", func() bool { return proxyConns(t, admin) == proxyMaxIdle })
	u, err := p.get(ctx, key, 1<<20)
	if err != nil || p.idleCount(key) != proxyMaxIdle-1 {
		t.Fatalf("get of an idle connection: %v, idle %d; want %d", err, p.idleCount(key), proxyMaxIdle-1)
	}
	p.put(u)
	admin.do("CLIENT", "KILL", "TYPE", "normal")
	pollFor(t, "redis-server to close the pooled connections", func() bool { return proxyConns(t, admin) == 0 })
	u, err = p.get(ctx, key, 1<<20)
	if err != nil {
		t.Fatalf("get after the peer closed the idle ones: %v", err)
	}
	defer u.nc.Close()
	if p.idleCount(key) != 0 {
		t.Errorf("idle after get = %d; want 0 (all closed by the peer)", p.idleCount(key))
	}
	_ = u.nc.SetDeadline(time.Now().Add(ioTimeout))
	if err := u.send([][]byte{[]byte("PING")}); err != nil {
		t.Fatalf("send: %v", err)
	}
	if r, err := u.read(nil); err != nil || string(r) != "+PONG\r\n" {
		t.Errorf("PING on a fresh connection = %q, %v", r, err)
	}
}

// TestProxyUpstreamDiesAfterWrite: a leader whose connection dies after a
// forwarded write reached it may have applied the write, so the client is
// told UNCERTAIN, which clients do not retry by themselves; a read that
// meets the same failure is retried safely, so it answers TRYAGAIN.
func TestProxyUpstreamDiesAfterWrite(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got := make(chan string, 8)
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				rd := bufio.NewReader(nc)
				if _, err := readCommand(rd); err != nil { // HELLO
					return
				}
				if _, err := nc.Write([]byte("+OK\r\n")); err != nil {
					return
				}
				argv, err := readCommand(rd)
				if err == nil {
					got <- argv[0] // received, then the leader "dies"
				}
			}()
		}
	}()
	node := startProxyNode(t, Config{Proxy: true}, ln.Addr().String())
	c := dial(t, node.addr)
	if reply := c.do("XADD", "s", "*", "a", "b"); !strings.HasPrefix(reply, "-UNCERTAIN ") {
		t.Errorf("XADD whose leader died after receiving it = %q; want -UNCERTAIN", reply)
	}
	if reply := c.do("XRANGE", "s", "-", "+"); !strings.HasPrefix(reply, "-TRYAGAIN proxy to ") {
		t.Errorf("XRANGE whose leader died after receiving it = %q; want -TRYAGAIN", reply)
	}
	for _, want := range []string{"XADD", "XRANGE"} {
		if name := <-got; !strings.EqualFold(name, want) {
			t.Errorf("the leader received %q; want %q", name, want)
		}
	}
}

// readCommand reads one RESP array of bulk strings.
func readCommand(rd *bufio.Reader) ([]string, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(line[1:]))
	if err != nil {
		return nil, err
	}
	argv := make([]string, n)
	for i := range argv {
		if _, err := rd.ReadString('\n'); err != nil { // $len
			return nil, err
		}
		s, err := rd.ReadString('\n')
		if err != nil {
			return nil, err
		}
		argv[i] = strings.TrimSuffix(s, "\r\n")
	}
	return argv, nil
}
