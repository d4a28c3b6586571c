package resp

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

// pollFor retries cond until it holds or the deadline passes.
func pollFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	// pollDeadline: generous for a loaded 2-core machine.
	const pollDeadline = 10 * time.Second
	deadline := time.Now().Add(pollDeadline)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLocalCommands(t *testing.T) {
	ts := startServer(t, Config{Port: 6379, RunID: "run1", NodeID: "node1"})
	c := dial(t, ts.addr)
	id := c.do("CLIENT", "ID")
	tests := []struct {
		argv []string
		want string // exact reply, or "~substr" for a substring
	}{
		{[]string{"SELECT", "1"}, "-ERR SELECT is not allowed in cluster mode\r\n"},
		{[]string{"READONLY"}, "+OK\r\n"},
		{[]string{"READWRITE"}, "+OK\r\n"},
		{[]string{"ASKING"}, "+OK\r\n"},
		{[]string{"CLIENT", "SETINFO", "LIB-NAME", "go-redis(x)"}, "+OK\r\n"},
		{[]string{"CLIENT", "SETINFO", "lib-ver", "9.0.0"}, "+OK\r\n"},
		{[]string{"CLIENT", "SETINFO", "FOO", "x"}, "-ERR Unrecognized option 'FOO'\r\n"},
		{[]string{"CLIENT", "NO-TOUCH", "on"}, "+OK\r\n"},
		{[]string{"CLIENT", "INFO"}, "~lib-name=go-redis(x) lib-ver=9.0.0\n"},
		{[]string{"CLIENT", "INFO"}, "~id=" + strings.TrimSuffix(id[1:], "\r\n") + " addr="},
		{[]string{"CLIENT", "LIST", "ID", strings.TrimSuffix(id[1:], "\r\n")}, "~cmd=client|list "},
		{[]string{"CLIENT", "HELP"}, "~+NO-EVICT (ON|OFF)\r\n"},
		{[]string{"CONFIG", "HELP"}, "~+RESETSTAT\r\n"},
		{[]string{"COMMAND", "HELP"}, "~+GETKEYS <full-command>\r\n"},
		{[]string{"CONFIG", "SET", "maxclients", "5", "stream-node-max-bytes", "8kb"}, "+OK\r\n"},
		{[]string{"CONFIG", "GET", "maxclients"}, "*2\r\n$10\r\nmaxclients\r\n$1\r\n5\r\n"},
		{[]string{"CONFIG", "GET", "stream-node-max-bytes"}, "*2\r\n$21\r\nstream-node-max-bytes\r\n$4\r\n8192\r\n"},
		{[]string{"CONFIG", "GET", "appendfsync", "save"}, "*4\r\n$4\r\nsave\r\n$0\r\n\r\n$11\r\nappendfsync\r\n$6\r\nalways\r\n"},
		{[]string{"CONFIG", "RESETSTAT"}, "+OK\r\n"},
		{[]string{"COMMAND", "COUNT"}, ":" + itoa(int64(len(ts.table.list))) + "\r\n"},
		{[]string{"COMMAND", "DOCS", "xlen"}, "*2\r\n$4\r\nxlen\r\n*8\r\n$7\r\nsummary\r\n$40\r\nReturn the number of entries in a stream\r\n$5\r\nsince\r\n$5\r\n5.0.0\r\n$5\r\ngroup\r\n$6\r\nstream\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n"},
		{[]string{"COMMAND", "GETKEYS", "ping", "x"}, "-ERR The command has no key arguments\r\n"},
		{[]string{"INFO", "server"}, "~run_id:run1\r\nnode_id:node1\r\ntcp_port:6379\r\n"},
		{[]string{"INFO", "replication"}, "~role:master\r\n"},
		{[]string{"INFO", "cluster"}, "$30\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n"},
		{[]string{"INFO", "keyspace"}, "$12\r\n# Keyspace\r\n\r\n"},
	}
	for _, tt := range tests {
		got := c.do(tt.argv...)
		if sub, ok := strings.CutPrefix(tt.want, "~"); ok {
			if !strings.Contains(got, sub) {
				t.Errorf("%q = %q; want it to contain %q", tt.argv, got, sub)
			}
		} else if got != tt.want {
			t.Errorf("%q = %q; want %q", tt.argv, got, tt.want)
		}
	}
	all := c.do("INFO")
	for _, sec := range []string{"Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Cluster", "Keyspace"} {
		if !strings.Contains(strings.ToLower(all), "# "+strings.ToLower(sec)+"\r\n") {
			t.Errorf("INFO lacks section %s: %q", sec, all)
		}
	}
	if !strings.Contains(all, "used_memory:") || !strings.Contains(all, "connected_clients:1\r\n") {
		t.Errorf("INFO lacks used_memory or connected_clients:1: %q", all)
	}
	if got := c.do("COMMAND"); !strings.HasPrefix(got, "*"+itoa(int64(len(ts.table.list)))+"\r\n*10\r\n") {
		t.Errorf("COMMAND = %.60q...; want an array of %d infos", got, len(ts.table.list))
	}
	if got := c.do("HELLO", "3", "SETNAME", "me"); !strings.Contains(got, "$2\r\nid\r\n"+id) || !strings.HasPrefix(got, "%7\r\n") {
		t.Errorf("HELLO 3 = %q; want a map with id %q", got, id)
	}
	if got := c.do("INFO", "cluster"); got != "=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n" {
		t.Errorf("RESP3 INFO cluster = %q; want a verbatim string", got)
	}
	if got := c.do("CLIENT", "GETNAME"); got != "$2\r\nme\r\n" {
		t.Errorf("CLIENT GETNAME = %q; want me", got)
	}
	if got := c.do("QUIT"); got != "+OK\r\n" {
		t.Errorf("QUIT = %q; want +OK", got)
	}
	c.expectClosed()
}

func TestPipeline(t *testing.T) {
	ts := startServer(t, Config{})
	c := dial(t, ts.addr)
	var in, want strings.Builder
	for i := 0; i < 200; i++ {
		msg := "m" + itoa(int64(i))
		in.WriteString(encode("ECHO", msg))
		want.WriteString("$" + itoa(int64(len(msg))) + "\r\n" + msg + "\r\n")
		in.WriteString("PING\r\n")
		want.WriteString("+PONG\r\n")
	}
	c.send(in.String())
	var got strings.Builder
	for i := 0; i < 400; i++ {
		got.WriteString(c.reply())
	}
	if got.String() != want.String() {
		t.Errorf("pipeline replies differ:\n got %.200q\nwant %.200q", got.String(), want.String())
	}
}

func TestMaxClients(t *testing.T) {
	ts := startServer(t, Config{MaxClients: 2})
	a, b := dial(t, ts.addr), dial(t, ts.addr)
	a.do("PING")
	b.do("PING")
	c := dial(t, ts.addr)
	if got := c.reply(); got != "-ERR max number of clients reached\r\n" {
		t.Errorf("third client got %q; want max clients error", got)
	}
	c.expectClosed()
}

// TestHugeBulkRefused: a bulk header just under the limit allocates
// nothing by itself; one over the limit is refused and the connection
// closed, without the heap growing.
func TestHugeBulkRefused(t *testing.T) {
	ts := startServer(t, Config{})
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	waiting := dial(t, ts.addr)
	waiting.send("*2\r\n$4\r\nECHO\r\n$536870912\r\nabc")
	c := dial(t, ts.addr)
	c.send("*2\r\n$4\r\nECHO\r\n$536870913\r\n")
	if got := c.reply(); got != "-ERR Protocol error: invalid bulk length\r\n" {
		t.Errorf("oversized bulk got %q; want invalid bulk length", got)
	}
	c.expectClosed()
	if got := dial(t, ts.addr).do("PING"); got != "+PONG\r\n" {
		t.Errorf("PING = %q", got)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 16<<20 {
		t.Errorf("heap grew by %d bytes after huge bulk headers; want < 16 MiB", grew)
	}
}

func TestBackendErrorsReachClient(t *testing.T) {
	ts := startServer(t, Config{})
	c := dial(t, ts.addr)
	tests := []struct {
		err  error
		want string
	}{
		{&MovedError{Slot: 15495, Addr: "10.0.0.2:6379"}, "-MOVED 15495 10.0.0.2:6379\r\n"},
		{ErrTryAgain, "-TRYAGAIN shard has no leader\r\n"},
		{ErrClusterDown, "-CLUSTERDOWN The cluster is down\r\n"},
	}
	for _, tt := range tests {
		ts.b.mu.Lock()
		ts.b.writeErr = tt.err
		ts.b.mu.Unlock()
		if got := c.do("XADD", "a", "*", "f", "v"); got != tt.want {
			t.Errorf("XADD with backend error %v = %q; want %q", tt.err, got, tt.want)
		}
		c.do("MULTI")
		c.do("XADD", "a", "*", "f", "v")
		if got := c.do("EXEC"); got != tt.want {
			t.Errorf("EXEC with backend error %v = %q; want %q", tt.err, got, tt.want)
		}
	}
}

// TestShutdownFinishesInFlight: a command running when Shutdown starts is
// answered, then the connection is closed; idle and blocked clients are
// closed; Serve returns ErrServerClosed.
func TestShutdownFinishesInFlight(t *testing.T) {
	needStreams(t)
	ts := startServer(t, Config{})
	gate := make(chan struct{})
	blocked := dial(t, ts.addr)
	blocked.cmd("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
	pollFor(t, "the blocked client's watch", func() bool { return ts.b.watcherCount() == 1 })
	ts.b.mu.Lock()
	ts.b.gate = gate
	ts.b.mu.Unlock()
	busy, idle := dial(t, ts.addr), dial(t, ts.addr)
	idle.do("PING")
	busy.cmd("XADD", "s", "1-1", "f", "v")
	busy.cmd("PING") // queued behind the in-flight XADD: dropped at shutdown
	pollFor(t, "the XADD to reach the backend", func() bool {
		for _, c := range ts.clients() {
			c.mu.Lock()
			name := c.cmdName
			c.mu.Unlock()
			if name == "xadd" {
				return true
			}
		}
		return false
	})
	shut := make(chan error, 1)
	go func() { shut <- ts.Shutdown(context.Background()) }()
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v before the in-flight command finished", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(gate)
	if got := busy.reply(); got != "$3\r\n1-1\r\n" {
		t.Errorf("in-flight XADD got %q; want its ID", got)
	}
	busy.expectClosed()
	idle.expectClosed()
	blocked.expectClosed()
	if err := <-shut; err != nil {
		t.Errorf("Shutdown = %v; want nil", err)
	}
	if n := ts.b.watcherCount(); n != 0 {
		t.Errorf("%d watchers left after shutdown; want 0", n)
	}
}

func TestClientKill(t *testing.T) {
	ts := startServer(t, Config{})
	a, b := dial(t, ts.addr), dial(t, ts.addr)
	bid := strings.TrimSuffix(b.do("CLIENT", "ID")[1:], "\r\n")
	if got := a.do("CLIENT", "KILL", "ID", bid); got != ":1\r\n" {
		t.Errorf("CLIENT KILL ID %s = %q; want :1", bid, got)
	}
	b.expectClosed()
	if got := a.do("CLIENT", "KILL", "ID", bid); got != ":0\r\n" {
		t.Errorf("second CLIENT KILL ID %s = %q; want :0", bid, got)
	}
	c := dial(t, ts.addr)
	c.do("PING")
	if got := a.do("CLIENT", "KILL", "ADDR", c.nc.LocalAddr().String(), "SKIPME", "yes"); got != ":1\r\n" {
		t.Errorf("CLIENT KILL ADDR = %q; want :1", got)
	}
	c.expectClosed()
	// The killed connections leave the client list once their executors end.
	pollFor(t, "only the killer left", func() bool { return len(ts.clients()) == 1 })
	if got := a.do("CLIENT", "KILL", "SKIPME", "no"); got != ":1\r\n" {
		t.Errorf("CLIENT KILL SKIPME no = %q; want :1", got)
	}
	a.expectClosed()
}

// TestShutdownDeadline: when ctx ends before a stuck Backend call returns,
// Shutdown cancels it, closes the connections and reports ctx's error.
func TestShutdownDeadline(t *testing.T) {
	ts := startServer(t, Config{})
	ts.b.mu.Lock()
	ts.b.gate = make(chan struct{}) // never opened
	ts.b.mu.Unlock()
	c := dial(t, ts.addr)
	c.cmd("DEL", "k")
	pollFor(t, "DEL to reach the backend", func() bool {
		cs := ts.clients()
		if len(cs) != 1 {
			return false
		}
		cs[0].mu.Lock()
		defer cs[0].mu.Unlock()
		return cs[0].cmdName == "del"
	})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := ts.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v; want context.DeadlineExceeded", err)
	}
	c.expectClosed()
}

// BenchmarkServerPipeline: pipelined XLEN reads through the whole server
// (reader, dispatcher, Backend.Read, writer), 100 commands per write.
func BenchmarkServerPipeline(b *testing.B) {
	ts := startServer(b, Config{})
	c := dial(b, ts.addr)
	batch := strings.Repeat(encode("XLEN", "s"), 100)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += 100 {
		c.send(batch)
		for j := 0; j < 100; j++ {
			c.reply()
		}
	}
}
