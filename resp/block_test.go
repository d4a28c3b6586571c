package resp

import (
	"strings"
	"testing"
	"time"
)

// TestBlockedClientsWokenByOneXADD: 500 clients blocked on one stream all
// get the entry one XADD adds, and no watcher is left behind.
func TestBlockedClientsWokenByOneXADD(t *testing.T) {
	needStreams(t)
	ts := startServer(t, Config{})
	const n = 500
	clients := make([]*rawClient, n)
	for i := range clients {
		clients[i] = dial(t, ts.addr)
		clients[i].cmd("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
	}
	pollFor(t, "500 blocked clients", func() bool { return ts.b.watcherCount() == n })
	if got := dial(t, ts.addr).do("XADD", "s", "5-1", "f", "v"); got != "$3\r\n5-1\r\n" {
		t.Fatalf("XADD = %q", got)
	}
	want := "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n5-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
	for i, c := range clients {
		if got := c.reply(); got != want {
			t.Fatalf("client %d got %q; want %q", i, got, want)
		}
	}
	pollFor(t, "watchers to be released", func() bool { return ts.b.watcherCount() == 0 })
}

// TestBlockingTimeout: the timeout answers a null array, in RESP2 and RESP3.
func TestBlockingTimeout(t *testing.T) {
	needStreams(t)
	ts := startServer(t, Config{})
	for _, tt := range []struct {
		proto, want string
	}{{"2", "*-1\r\n"}, {"3", "_\r\n"}} {
		c := dial(t, ts.addr)
		c.do("HELLO", tt.proto)
		start := time.Now()
		if got := c.do("XREAD", "BLOCK", "100", "STREAMS", "nokey", "$"); got != tt.want {
			t.Errorf("RESP%s timed-out XREAD = %q; want %q", tt.proto, got, tt.want)
		}
		if el := time.Since(start); el < 100*time.Millisecond {
			t.Errorf("RESP%s XREAD BLOCK 100 returned after %v; want at least 100ms", tt.proto, el)
		}
	}
}

// TestBlockingServesDataAtOnce: with data XREAD BLOCK answers at once;
// blocked on `$`, it gets exactly the entry added while it waited.
func TestBlockingServesDataAtOnce(t *testing.T) {
	needStreams(t)
	ts := startServer(t, Config{})
	c := dial(t, ts.addr)
	c.do("XADD", "s", "1-1", "a", "b")
	if got := c.do("XREAD", "BLOCK", "0", "STREAMS", "s", "0"); !strings.Contains(got, "1-1") {
		t.Errorf("XREAD BLOCK with data = %q; want the entry at once", got)
	}
	c.cmd("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
	pollFor(t, "the blocked client", func() bool { return ts.b.watcherCount() == 1 })
	w := dial(t, ts.addr)
	w.do("XADD", "s", "2-1", "c", "d")
	if got := c.reply(); !strings.Contains(got, "2-1") || strings.Contains(got, "1-1") {
		t.Errorf("woken XREAD = %q; want exactly entry 2-1", got)
	}
	if got := c.do("CLIENT", "INFO"); !strings.Contains(got, "flags=N ") {
		t.Errorf("CLIENT INFO after wake-up = %q; want flags=N", got)
	}
}

func TestBlockedClientDisconnectReleasesWatch(t *testing.T) {
	needStreams(t)
	ts := startServer(t, Config{})
	c := dial(t, ts.addr)
	c.cmd("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
	pollFor(t, "the blocked client", func() bool { return ts.b.watcherCount() == 1 })
	other := dial(t, ts.addr)
	if got := other.do("CLIENT", "LIST"); !strings.Contains(got, "flags=b ") {
		t.Errorf("CLIENT LIST = %q; want a client with flags=b", got)
	}
	c.nc.Close()
	pollFor(t, "the watch to be canceled", func() bool { return ts.b.watcherCount() == 0 })
	pollFor(t, "the connection to be gone", func() bool { return len(ts.clients()) == 1 })
}

// TestWatchAcrossClients: a WATCHed key written by another client makes
// EXEC answer a null array; an untouched one lets it run.
func TestWatchAcrossClients(t *testing.T) {
	needStreams(t)
	ts := startServer(t, Config{})
	a, b := dial(t, ts.addr), dial(t, ts.addr)
	a.do("XADD", "s", "1-1", "f", "v")
	a.do("WATCH", "s", "t")
	b.do("XADD", "s", "2-1", "f", "v")
	a.do("MULTI")
	a.do("XLEN", "s")
	if got := a.do("EXEC"); got != "*-1\r\n" {
		t.Errorf("EXEC after a watched key changed = %q; want *-1", got)
	}
	a.do("WATCH", "s")
	a.do("MULTI")
	a.do("XADD", "s", "3-1", "f", "v")
	a.do("CLIENT", "SETNAME", "x")
	a.do("XLEN", "s")
	if got := a.do("EXEC"); got != "*3\r\n$3\r\n3-1\r\n+OK\r\n:3\r\n" {
		t.Errorf("EXEC = %q; want [3-1, OK, 3]", got)
	}
	if got := a.do("CLIENT", "GETNAME"); got != "$1\r\nx\r\n" {
		t.Errorf("CLIENT GETNAME after EXEC = %q; want x", got)
	}
	writes := ts.b.writes.Load()
	a.do("MULTI")
	a.do("XADD", "s", "4-1", "f", "v")
	a.do("XADD", "s", "5-1", "f", "v")
	a.do("EXEC")
	if got := ts.b.writes.Load() - writes; got != 1 {
		t.Errorf("a MULTI of two XADDs made %d backend writes; want 1", got)
	}
}
