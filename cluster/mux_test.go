package cluster

import (
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// muxIOTimeout bounds each network step in the mux tests (loopback: a few
// ms normally; wide for a loaded 2-core machine).
const muxIOTimeout = 5 * time.Second

// newTestMux is a mux on a free loopback port, closed when the test ends.
func newTestMux(t *testing.T) *Mux {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	m := NewMux(ln, nil, testLogger())
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func layer(t *testing.T, m *Mux, group string) raft.StreamLayer {
	t.Helper()
	l, err := m.Layer(group, "")
	if err != nil {
		t.Fatalf("Layer(%q): %v", group, err)
	}
	return l
}

// acceptOne accepts one connection on l within muxIOTimeout.
func acceptOne(t *testing.T, l raft.StreamLayer) net.Conn {
	t.Helper()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := l.Accept()
		ch <- res{c, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("Accept: %v", r.err)
		}
		t.Cleanup(func() { _ = r.c.Close() })
		return r.c
	case <-time.After(muxIOTimeout):
		_ = l.Close() // ends the Accept goroutine
		t.Fatalf("Accept: nothing after %v", muxIOTimeout)
		return nil
	}
}

func readN(t *testing.T, c net.Conn, n int) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(muxIOTimeout))
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	return string(b)
}

// TestMuxTwoGroupsTwoNodes: node A's groups dial node B's one port; each
// connection reaches the same group on B, and bytes flow both ways.
func TestMuxTwoGroupsTwoNodes(t *testing.T) {
	a, b := newTestMux(t), newTestMux(t)
	groups := []string{"shard-0", "shard-1"}
	aLayers := map[string]raft.StreamLayer{}
	for _, g := range groups {
		aLayers[g] = layer(t, a, g)
	}
	bLayers := map[string]raft.StreamLayer{}
	for _, g := range groups {
		bLayers[g] = layer(t, b, g)
	}
	// Dial in reverse order so a mix-up of groups would show.
	for i := len(groups) - 1; i >= 0; i-- {
		g := groups[i]
		c, err := aLayers[g].Dial(raft.ServerAddress(b.Addr().String()), muxIOTimeout)
		if err != nil {
			t.Fatalf("Dial %s from A: %v", g, err)
		}
		defer c.Close()
		if _, err := c.Write([]byte("to " + g)); err != nil {
			t.Fatalf("write: %v", err)
		}
		got := acceptOne(t, bLayers[g])
		if s := readN(t, got, len("to "+g)); s != "to "+g {
			t.Errorf("B's %s read %q; want %q", g, s, "to "+g)
		}
		if _, err := got.Write([]byte("ack " + g)); err != nil {
			t.Fatalf("write back: %v", err)
		}
		if s := readN(t, c, len("ack "+g)); s != "ack "+g {
			t.Errorf("A's %s read %q; want %q", g, s, "ack "+g)
		}
	}
	if a.Addr().String() == b.Addr().String() {
		t.Errorf("two muxes share the address %s", a.Addr())
	}
}

// TestMuxRaftTransports runs a raft.NetworkTransport per group over the
// muxes: an AppendEntries RPC from A's group reaches B's same group.
func TestMuxRaftTransports(t *testing.T) {
	a, b := newTestMux(t), newTestMux(t)
	trans := func(m *Mux, g string) *raft.NetworkTransport {
		tr := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
			Stream: layer(t, m, g), MaxPool: 2, Timeout: muxIOTimeout, Logger: newHclog(testLogger(), ""),
		})
		t.Cleanup(func() { _ = tr.Close() })
		return tr
	}
	for i, g := range []string{"shard-0", "shard-1", "meta"} {
		from, to := trans(a, g), trans(b, g)
		term := uint64(10 + i)
		go func() {
			select {
			case rpc := <-to.Consumer():
				rpc.Respond(&raft.AppendEntriesResponse{Term: term, Success: true}, nil)
			case <-time.After(muxIOTimeout):
			}
		}()
		var res raft.AppendEntriesResponse
		err := from.AppendEntries("b", raft.ServerAddress(b.Addr().String()), &raft.AppendEntriesRequest{Term: term}, &res)
		if err != nil || res.Term != term || !res.Success {
			t.Errorf("group %s: AppendEntries = %+v, %v; want term %d, success", g, res, err, term)
		}
	}
}

// TestMuxRejectsBadHeaders: a connection with a bad header, or for a group
// nobody registered, is closed; the mux keeps serving good ones.
func TestMuxRejectsBadHeaders(t *testing.T) {
	m := newTestMux(t)
	m.SetClusterID("c1")
	good := layer(t, m, "shard-0")
	tests := []struct {
		name   string
		header []byte
	}{
		{"wrong magic", append([]byte{'*'}, appendMuxHeader(nil, "", "shard-0", "")[1:]...)},
		{"unknown group", appendMuxHeader(nil, "", "shard-9", "")},
		{"another cluster", appendMuxHeader(nil, "c2", "shard-0", "")},
		{"another replica", appendMuxHeader(nil, "c1", "shard-0", "beef")},
		{"v1 header, unknown group", []byte{muxMagicV1, 7, 's', 'h', 'a', 'r', 'd', '-', '9'}},
		{"cluster ID too long", appendMuxHeader(nil, string(make([]byte, maxHeaderField+1)), "shard-0", "")},
		{"empty name", []byte{muxMagic, 0, 0}},
		{"name too long", appendMuxHeader(nil, "", string(make([]byte, maxGroupName+1)), "")},
		{"huge uvarint", []byte{muxMagic, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"cut short then EOF", []byte{muxMagic, 0, 7, 's'}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.DialTimeout("tcp", m.Addr().String(), muxIOTimeout)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.Close()
			if _, err := c.Write(tc.header); err != nil {
				t.Fatalf("write header: %v", err)
			}
			if tc.name == "cut short then EOF" {
				_ = c.(*net.TCPConn).CloseWrite()
			}
			_ = c.SetReadDeadline(time.Now().Add(muxIOTimeout))
			n, err := c.Read(make([]byte, 1))
			if n != 0 || (err != io.EOF && !errors.Is(err, net.ErrClosed) && !isReset(err)) {
				t.Errorf("read after header %x = %d, %v; want the mux to close the connection (EOF)", tc.header, n, err)
			}
		})
	}
	if got := m.Refused(); got != (RefusedCounts{OtherCluster: 1, StaleReplica: 1}) {
		t.Errorf("Refused() = %+v; want one of each", got)
	}
	// A good connection still gets through, and so does one with an
	// earlier header (no cluster ID, no replica ID).
	c, err := good.Dial(raft.ServerAddress(m.Addr().String()), muxIOTimeout)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.Close()
	acceptOne(t, good)
	old, err := net.DialTimeout("tcp", m.Addr().String(), muxIOTimeout)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer old.Close()
	if _, err := old.Write([]byte{muxMagicV1, 7, 's', 'h', 'a', 'r', 'd', '-', '0'}); err != nil {
		t.Fatalf("write v1 header: %v", err)
	}
	acceptOne(t, good)
}

// TestMuxReplicaAddress: a layer advertises its replica's address, and a
// dial to that address reaches it; a dial naming another replica of the
// same group is refused.
func TestMuxReplicaAddress(t *testing.T) {
	a, b := newTestMux(t), newTestMux(t)
	la, err := a.Layer("shard-1", "aaaa")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = la.Close() })
	lb, err := b.Layer("shard-1", "bbbb")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lb.Close() })
	if got, want := lb.Addr().String(), b.Addr().String()+"/bbbb"; got != want {
		t.Fatalf("Addr() = %q; want %q", got, want)
	}
	c, err := la.Dial(raft.ServerAddress(lb.Addr().String()), muxIOTimeout)
	if err != nil {
		t.Fatalf("Dial(%s): %v", lb.Addr(), err)
	}
	defer c.Close()
	acceptOne(t, lb)
	stale, err := la.Dial(raft.ServerAddress(b.Addr().String()+"/cccc"), muxIOTimeout)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer stale.Close()
	_ = stale.SetReadDeadline(time.Now().Add(muxIOTimeout))
	if n, err := stale.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Errorf("read on a connection to a replica b does not hold = %d, %v; want it closed", n, err)
	}
	if got := b.Refused().StaleReplica; got != 1 {
		t.Errorf("b refused %d stale-replica connections; want 1", got)
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// TestMuxCloseUnblocksAccept: Close ends every Accept, closes connections
// still sending their header, refuses new layers, and leaves no goroutine.
func TestMuxCloseUnblocksAccept(t *testing.T) {
	before := runtime.NumGoroutine()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	m := NewMux(ln, nil, testLogger())
	l1, l2 := layer(t, m, "shard-0"), layer(t, m, "shard-1")
	errs := make(chan error, 2)
	for _, l := range []raft.StreamLayer{l1, l2} {
		go func() {
			_, err := l.Accept()
			errs <- err
		}()
	}
	// A peer that connects and never sends its header.
	silent, err := net.Dial("tcp", m.Addr().String())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer silent.Close()
	waitFor(t, muxIOTimeout, "the silent connection to be pending", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return len(m.pending) == 1
	})
	start := time.Now()
	if err := m.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if d := time.Since(start); d > muxHeaderTimeout/2 {
		t.Errorf("Close took %v; want it not to wait for the header timeout (%v)", d, muxHeaderTimeout)
	}
	for range 2 {
		select {
		case err := <-errs:
			if !errors.Is(err, ErrMuxClosed) {
				t.Errorf("Accept after Close = %v; want ErrMuxClosed", err)
			}
		case <-time.After(muxIOTimeout):
			t.Fatalf("Accept still blocked %v after Close", muxIOTimeout)
		}
	}
	if _, err := m.Layer("shard-2", ""); !errors.Is(err, ErrMuxClosed) {
		t.Errorf("Layer after Close = %v; want ErrMuxClosed", err)
	}
	_ = silent.SetReadDeadline(time.Now().Add(muxIOTimeout))
	if n, err := silent.Read(make([]byte, 1)); n != 0 || err == nil || isTimeout(err) {
		t.Errorf("read on a pending connection after Close = %d, %v; want it closed", n, err)
	}
	waitFor(t, muxIOTimeout, "goroutines to return to the count before the mux", func() bool {
		return runtime.NumGoroutine() <= before
	})
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestMuxLayerCloseFreesGroup: closing one layer ends its Accept and frees
// the name for a new layer; a duplicate name is refused.
func TestMuxLayerCloseFreesGroup(t *testing.T) {
	m := newTestMux(t)
	l := layer(t, m, "shard-0")
	if _, err := m.Layer("shard-0", ""); err == nil {
		t.Errorf("second Layer(shard-0) = nil error; want a duplicate error")
	}
	done := make(chan error, 1)
	go func() {
		_, err := l.Accept()
		done <- err
	}()
	if err := l.Close(); err != nil {
		t.Fatalf("layer Close: %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrMuxClosed) {
			t.Errorf("Accept after layer Close = %v; want ErrMuxClosed", err)
		}
	case <-time.After(muxIOTimeout):
		t.Fatalf("Accept still blocked after layer Close")
	}
	l2 := layer(t, m, "shard-0")
	c, err := l2.Dial(raft.ServerAddress(m.Addr().String()), muxIOTimeout)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.Close()
	acceptOne(t, l2)
}
