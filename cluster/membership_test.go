package cluster

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// gossipTimeout bounds how long gossip takes to spread a join or a leave
// between three loopback nodes (well under a second in practice).
const gossipTimeout = 10 * time.Second

// eventLog records a membership's events.
type eventLog struct {
	mu  sync.Mutex
	evs []MemberEvent
}

func (l *eventLog) add(e MemberEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evs = append(l.evs, e)
}

func (l *eventLog) has(kind MemberEventKind, id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.ContainsFunc(l.evs, func(e MemberEvent) bool { return e.Kind == kind && e.Member.ID == id })
}

// startTestMembership starts node id on a free loopback gossip port with
// made-up advertised addresses derived from its ID.
func startTestMembership(t *testing.T, id string, log *eventLog) *Membership {
	t.Helper()
	cfg := MembershipConfig{
		NodeID: id, BindAddr: "127.0.0.1:0",
		RESPAddr: id + ".resp:6379", RaftAddr: id + ".raft:7379", HTTPAddr: id + ".http:8379",
	}
	if log != nil {
		cfg.OnEvent = log.add
	}
	m, err := StartMembership(context.Background(), cfg, testLogger())
	if err != nil {
		t.Fatalf("StartMembership(%s): %v", id, err)
	}
	t.Cleanup(func() {
		if err := m.Shutdown(); err != nil {
			t.Errorf("Shutdown(%s): %v", id, err)
		}
	})
	return m
}

// memberIDs is the IDs of ms, in order.
func memberIDs(ms []Member) []string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

// waitMembers polls m until its member IDs are want.
func waitMembers(t *testing.T, m *Membership, want []string) []Member {
	t.Helper()
	deadline := time.Now().Add(gossipTimeout)
	for {
		got := m.Members()
		if slices.Equal(memberIDs(got), want) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s sees members %v; want %v", m.LocalID(), memberIDs(got), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestMembershipJoinAndLeave(t *testing.T) {
	var seedLog eventLog
	seed := startTestMembership(t, "n1", &seedLog)
	n2 := startTestMembership(t, "n2", nil)
	n3 := startTestMembership(t, "n3", nil)
	_, seedPort, _ := net.SplitHostPort(seed.GossipAddr())

	ctx, cancel := context.WithTimeout(context.Background(), gossipTimeout)
	defer cancel()
	if err := n2.Join(ctx, []string{seed.GossipAddr()}); err != nil {
		t.Fatalf("n2 Join: %v", err)
	}
	// As in a StatefulSet: the list holds n3's own address and a DNS name.
	if err := n3.Join(ctx, []string{n3.GossipAddr(), "localhost:" + seedPort}); err != nil {
		t.Fatalf("n3 Join: %v", err)
	}

	all := []string{"n1", "n2", "n3"}
	for _, m := range []*Membership{seed, n2, n3} {
		got := waitMembers(t, m, all)
		for _, mem := range got {
			want := Member{ID: mem.ID, GossipAddr: mem.GossipAddr, RESPAddr: mem.ID + ".resp:6379",
				RaftAddr: mem.ID + ".raft:7379", HTTPAddr: mem.ID + ".http:8379", Alive: true, State: "alive"}
			if mem != want {
				t.Errorf("%s sees %+v; want %+v", m.LocalID(), mem, want)
			}
			if !strings.HasPrefix(mem.GossipAddr, "127.0.0.1:") {
				t.Errorf("%s sees %s at %q; want 127.0.0.1:port", m.LocalID(), mem.ID, mem.GossipAddr)
			}
		}
	}

	if err := n2.Leave(gossipTimeout); err != nil {
		t.Fatalf("n2 Leave: %v", err)
	}
	if err := n2.Shutdown(); err != nil {
		t.Fatalf("n2 Shutdown: %v", err)
	}
	for _, m := range []*Membership{seed, n3} {
		waitMembers(t, m, []string{"n1", "n3"})
	}

	deadline := time.Now().Add(gossipTimeout)
	for _, ev := range []struct {
		kind MemberEventKind
		id   string
	}{{MemberJoined, "n1"}, {MemberJoined, "n2"}, {MemberJoined, "n3"}, {MemberLeft, "n2"}} {
		for !seedLog.has(ev.kind, ev.id) {
			if time.Now().After(deadline) {
				t.Fatalf("seed got no %s event for %s; want one", ev.kind, ev.id)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func TestMembershipJoinRetriesUntilContextEnds(t *testing.T) {
	m := startTestMembership(t, "lonely", nil)
	tests := []struct {
		name  string
		seeds func() []string
	}{
		{"unresolvable name", func() []string { return []string{"no-such-host.invalid:7946"} }},
		{"only itself", func() []string { return []string{m.GossipAddr()} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := m.Join(ctx, tt.seeds())
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Join = %v; want an error wrapping %v", err, context.DeadlineExceeded)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.seeds()[0]) || strings.Contains(msg, "after 1 attempts") {
				t.Errorf("Join error %q; want the seed named and more than one attempt", msg)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Join returned after %v; want soon after the context ended", d)
			}
		})
	}
	if got := memberIDs(m.Members()); !slices.Equal(got, []string{"lonely"}) {
		t.Errorf("members %v; want [lonely]", got)
	}
}

func TestStartMembershipErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name string
		cfg  MembershipConfig
		want string
	}{
		{"no ID", MembershipConfig{BindAddr: "127.0.0.1:0"}, "empty node ID"},
		{"bad bind", MembershipConfig{NodeID: "n", BindAddr: "127.0.0.1"}, "want host:port"},
		{"busy port", MembershipConfig{NodeID: "n", BindAddr: busy.Addr().String()}, "start gossip"},
		{"huge meta", MembershipConfig{NodeID: "n", BindAddr: "127.0.0.1:0", RESPAddr: strings.Repeat("a", 600)}, "metadata is"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := StartMembership(context.Background(), tt.cfg, testLogger())
			if err == nil {
				_ = m.Shutdown()
				t.Fatalf("StartMembership succeeded; want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("StartMembership error %q; want it to contain %q", err, tt.want)
			}
		})
	}
}
