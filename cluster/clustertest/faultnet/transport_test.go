package faultnet

import (
	"bytes"
	"errors"
	"log"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// syncBuffer collects the log lines of memberlist's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testLogger returns a logger whose lines the test prints if it fails.
func testLogger(t *testing.T, name string) *log.Logger {
	t.Helper()
	buf := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s log:\n%s", name, buf.String())
		}
	})
	return log.New(buf, name+" ", log.Lmicroseconds)
}

// newNetTransport opens memberlist's own transport on a loopback port. The
// caller shuts it down (directly, or through its wrapper).
func newNetTransport(t *testing.T, name string) (*memberlist.NetTransport, string) {
	t.Helper()
	nt, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{
		BindAddrs: []string{"127.0.0.1"},
		Logger:    testLogger(t, name),
	})
	if err != nil {
		t.Fatalf("NewNetTransport: %v", err)
	}
	return nt, net.JoinHostPort("127.0.0.1", strconv.Itoa(nt.GetAutoBindPort()))
}

// nextPacket returns the next packet t receives.
func nextPacket(t *testing.T, tr memberlist.Transport) string {
	t.Helper()
	select {
	case p := <-tr.PacketCh():
		return string(p.Buf)
	case <-time.After(ioTimeout):
		t.Fatalf("no packet after %v", ioTimeout)
		return ""
	}
}

func TestPackets(t *testing.T) {
	tests := []struct {
		name     string
		rules    func(n *Net)
		sender   string // a: wrapped; x: registered, not wrapped; u: unregistered
		wantLost bool
	}{
		{"no rule", func(*Net) {}, "a", false},
		{"cut at the sender", func(n *Net) { n.Cut("a", "b") }, "a", true},
		{"cut the other way", func(n *Net) { n.Cut("b", "a") }, "a", false},
		{"drop at the sender", func(n *Net) { n.Drop("a", "b", 1) }, "a", true},
		{"cut at the receiver: the sender is not wrapped", func(n *Net) { n.Cut("x", "b") }, "x", true},
		{"isolate the receiver", func(n *Net) { n.Isolate("b") }, "x", true},
		{"an unregistered sender is never faulted", func(n *Net) { n.Isolate("b") }, "u", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := New(1)
			ntB, addrB := newNetTransport(t, "b")
			b := n.WrapTransport("b", ntB)
			t.Cleanup(func() { _ = b.Shutdown() })
			n.Register("b", addrB)
			senders := map[string]memberlist.Transport{}
			for _, name := range []string{"a", "x", "u"} {
				nt, addr := newNetTransport(t, name)
				var tr memberlist.Transport = nt
				switch name {
				case "a":
					tr = n.WrapTransport(name, nt)
					n.Register(name, addr)
				case "x":
					n.Register(name, addr)
				}
				t.Cleanup(func() { _ = tr.Shutdown() })
				senders[name] = tr
			}
			send := func(msg string) {
				if _, err := senders[tt.sender].WriteTo([]byte(msg), addrB); err != nil {
					t.Fatalf("WriteTo(%q) error: %v", msg, err)
				}
			}

			tt.rules(n)
			send("first")
			want := "first"
			if tt.wantLost {
				// A receiver drops the packet when it reads it: wait for
				// that before healing.
				waitFor(t, ioTimeout, "the packet to be lost", func() bool { return n.Stats().Total.PacketsLost == 1 })
				want = "marker"
			}
			n.Heal()
			send("marker") // UDP on loopback keeps order: it comes after "first", if "first" came
			if got := nextPacket(t, b); got != want {
				t.Errorf("first packet received = %q; want %q", got, want)
			}
			if got := n.Stats().Total.PacketsLost; !tt.wantLost && got != 0 {
				t.Errorf("Stats PacketsLost = %d; want 0", got)
			}
		})
	}
}

func TestPacketDelay(t *testing.T) {
	const delay = 100 * time.Millisecond
	n := New(1)
	nodes := map[string]memberlist.NodeAwareTransport{}
	addrs := map[string]string{}
	for _, name := range []string{"a", "b"} {
		nt, addr := newNetTransport(t, name)
		nodes[name] = n.WrapTransport(name, nt)
		addrs[name] = addr
		n.Register(name, addr)
		t.Cleanup(func() { _ = nodes[name].Shutdown() })
	}
	n.Delay("a", "b", delay)
	start := time.Now()
	if _, err := nodes["a"].WriteToAddress([]byte("late"), memberlist.Address{Addr: addrs["b"], Name: "b"}); err != nil {
		t.Fatalf("WriteToAddress error: %v", err)
	}
	if elapsed := time.Since(start); elapsed >= delay {
		t.Errorf("WriteToAddress took %v; want it to return at once and send later", elapsed)
	}
	if got := nextPacket(t, nodes["b"]); got != "late" {
		t.Errorf("packet = %q; want late", got)
	}
	if elapsed := time.Since(start); elapsed < delay {
		t.Errorf("packet arrived after %v; want at least %v", elapsed, delay)
	}
	if got := n.Stats().Links[Link{"a", "b"}].PacketsDelayed; got != 1 {
		t.Errorf("Stats PacketsDelayed = %d; want 1", got)
	}
}

func TestStreams(t *testing.T) {
	const blockedFor = 100 * time.Millisecond
	n := New(1)
	ntA, addrA := newNetTransport(t, "a")
	ntB, addrB := newNetTransport(t, "b")
	a, b := n.WrapTransport("a", ntA), n.WrapTransport("b", ntB)
	n.Register("a", addrA)
	n.Register("b", addrB)

	// b's listener hands every inbound stream over (and cannot shut down
	// while one waits): echo them back until b has shut down.
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	t.Cleanup(func() { _ = a.Shutdown(); _ = b.Shutdown() })
	go func() {
		for {
			var c net.Conn
			select {
			case c = <-b.StreamCh():
			case <-done:
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 64)
				for {
					k, err := c.Read(buf)
					if err != nil {
						return
					}
					if _, err := c.Write(buf[:k]); err != nil {
						return
					}
				}
			}()
		}
	}()

	c, err := a.DialAddressTimeout(memberlist.Address{Addr: addrB, Name: "b"}, ioTimeout)
	if err != nil {
		t.Fatalf("DialAddressTimeout error: %v", err)
	}
	defer c.Close()
	roundTrip(t, c, "hello")

	n.Cut("a", "b")
	start := time.Now()
	if c2, err := a.DialTimeout(addrB, blockedFor); err == nil {
		c2.Close()
		t.Fatalf("DialTimeout across a cut connected; want it blocked until the timeout")
	} else if !errors.Is(err, ErrCut) || !isTimeout(err) {
		t.Errorf("DialTimeout error = %v; want a timeout wrapping ErrCut", err)
	}
	if elapsed := time.Since(start); elapsed < blockedFor {
		t.Errorf("DialTimeout failed after %v; want it blocked for %v", elapsed, blockedFor)
	}
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatalf("Write across the cut error: %v; want it blackholed", err)
	}
	if got, err := readFor(c, 4, quiet); got != "" || !isTimeout(err) {
		t.Errorf("read on a stream cut under it = %q, %v; want nothing, a timeout", got, err)
	}
	n.Heal()
	if got, err := readFor(c, 1, ioTimeout); err == nil || isTimeout(err) {
		t.Errorf("read on a tainted stream after Heal = %q, %v; want a closed-connection error", got, err)
	}
}

const (
	// joinTimeout bounds three loopback nodes learning of each other: a
	// join is one TCP push/pull, then gossip every 100 ms.
	joinTimeout = 5 * time.Second
	// failDetectTimeout bounds how long n1 and n2 take to declare an
	// isolated n3 dead under DefaultLocalConfig (memberlist's Members
	// lists a suspect node as alive, so death is what a caller sees).
	// Each probes one peer per ProbeInterval (1 s), round robin over two
	// peers, so n3's turn comes within 2 s and the failed probe makes it
	// suspect within 3 s; the suspicion, confirmed by the other's, expires
	// after SuspicionMult × ProbeInterval = 3 s. About 6 s at worst (4-5 s
	// seen); the rest is room for -race on a loaded 2-core machine.
	failDetectTimeout = 10 * time.Second
	// pushPullInterval replaces DefaultLocalConfig's 15 s. n3 comes back
	// only by refuting its death, so it must hear of it: the death is
	// gossiped once, within 100 ms, and is lost if Heal comes later; then
	// n3 hears it at a push/pull (TCP), which must come within the test's
	// budget.
	pushPullInterval = time.Second
	// recoverTimeout bounds how long n1 and n2 take to see n3 alive after
	// Heal. If the death gossip reaches n3, about 100 ms. If it was spent
	// before Heal, n3 must first see n1 or n2 alive again (they refute its
	// suspicion of them as its probes resume, a probe round or two) before
	// it push/pulls with one (pushPullInterval) and refutes its death: 2 to
	// 3.5 s seen under -race. The rest is room for a loaded machine.
	recoverTimeout = 10 * time.Second
)

// listed reports whether m lists name among its members (alive or
// suspect; not dead or left).
func listed(m *memberlist.Memberlist, name string) bool {
	for _, node := range m.Members() {
		if node.Name == name {
			return true
		}
	}
	return false
}

func TestGossipIsolateAndHeal(t *testing.T) {
	n := New(1)
	names := []string{"n1", "n2", "n3"}
	lists := make(map[string]*memberlist.Memberlist)
	for _, name := range names {
		nt, addr := newNetTransport(t, name)
		n.Register(name, addr)
		cfg := memberlist.DefaultLocalConfig()
		cfg.Name = name
		cfg.PushPullInterval = pushPullInterval
		cfg.BindAddr, cfg.BindPort = "127.0.0.1", 0
		cfg.AdvertiseAddr, cfg.AdvertisePort = "127.0.0.1", nt.GetAutoBindPort()
		cfg.Transport = n.WrapTransport(name, nt)
		cfg.Logger = testLogger(t, name)
		m, err := memberlist.Create(cfg)
		if err != nil {
			_ = cfg.Transport.Shutdown()
			t.Fatalf("memberlist.Create(%s): %v", name, err)
		}
		t.Cleanup(func() { _ = m.Shutdown() })
		lists[name] = m
	}
	seed := lists["n1"].LocalNode().Address()
	for _, name := range names[1:] {
		if _, err := lists[name].Join([]string{seed}); err != nil {
			t.Fatalf("%s Join(%s): %v", name, seed, err)
		}
	}
	waitFor(t, joinTimeout, "every node to list the three", func() bool {
		for _, m := range lists {
			if m.NumMembers() != len(names) {
				return false
			}
		}
		return true
	})

	start := time.Now()
	n.Isolate("n3")
	waitFor(t, failDetectTimeout, "n1 and n2 to declare n3 dead", func() bool {
		return !listed(lists["n1"], "n3") && !listed(lists["n2"], "n3")
	})
	t.Logf("n3 dead at n1 and n2 %v after Isolate", time.Since(start))

	start = time.Now()
	n.Heal()
	waitFor(t, recoverTimeout, "n1 and n2 to see n3 alive again", func() bool {
		return listed(lists["n1"], "n3") && listed(lists["n2"], "n3")
	})
	t.Logf("n3 alive at n1 and n2 %v after Heal", time.Since(start))
	if s := n.Stats().Links; s[Link{"n1", "n3"}].PacketsLost == 0 || s[Link{"n3", "n1"}].PacketsLost == 0 {
		t.Errorf("packets lost n1->n3 %d, n3->n1 %d; want some each way while isolated",
			s[Link{"n1", "n3"}].PacketsLost, s[Link{"n3", "n1"}].PacketsLost)
	}
}
