package resp

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/streamraft/streamraft/fsm"
)

// testBackend is real fsm.Machines without Raft, one per shard, keys
// routed by fsm.KeySlot as cluster.Layout splits the slots: Write applies
// each Request at once with a stamp from a test clock and signals watchers
// from Apply's signalled keys, as the cluster's shard does.
type testBackend struct {
	ms    []*fsm.Machine // one per shard
	clock atomic.Int64

	mu        sync.Mutex // serializes Apply, guards watchers
	watchers  map[string]map[*testWatcher]struct{}
	writeErr  error    // returned by Write when set
	forgotten []string // Forget's calls
	writes    atomic.Int64
	submits   atomic.Int64  // Submit calls (pipelined writes)
	gate      chan struct{} // when set, Write waits for it
	// wall makes each stamp at least the wall clock, for tests of idle
	// times (the fsm's clock is the stamp; TryRead's is the wall clock).
	wall atomic.Bool
	// topo, when set (under mu), is what Topology returns.
	topo *Topology
	// readLocals counts ReadLocal calls; readLocalErr (under mu), when
	// set, is what ReadLocal returns.
	readLocals   atomic.Int64
	readLocalErr error
}

type testWatcher struct{ ch chan struct{} }

func newTestBackend(shards int) *testBackend {
	b := &testBackend{watchers: map[string]map[*testWatcher]struct{}{}}
	for range max(shards, 1) {
		b.ms = append(b.ms, fsm.New())
	}
	b.clock.Store(1_700_000_000_000)
	return b
}

// shardOf is the shard of key (shard 0 for nil), as cluster.Node routes.
func (b *testBackend) shardOf(key []byte) int {
	if key == nil {
		return 0
	}
	return b.ShardOfSlot(fsm.KeySlot(key))
}

func (b *testBackend) Shards() int { return len(b.ms) }

func (b *testBackend) ShardOfSlot(slot int) int {
	return ((slot+1)*len(b.ms) - 1) / fsm.SlotCount
}

func (b *testBackend) Write(ctx context.Context, key []byte, req fsm.Request) (fsm.Reply, error) {
	return b.WriteShard(ctx, b.shardOf(key), req)
}

// Submit applies req at once (in order, like the cluster's proposer) and
// hands its answer to wait; submits counts the calls.
func (b *testBackend) Submit(ctx context.Context, key []byte, req fsm.Request) func() (fsm.Reply, error) {
	b.submits.Add(1)
	r, err := b.Write(ctx, key, req)
	return func() (fsm.Reply, error) { return r, err }
}

func (b *testBackend) WriteShard(ctx context.Context, shard int, req fsm.Request) (fsm.Reply, error) {
	b.mu.Lock()
	gate, werr := b.gate, b.writeErr
	b.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return fsm.Reply{}, ctx.Err()
		}
	}
	if werr != nil {
		return fsm.Reply{}, werr
	}
	b.writes.Add(1)
	b.mu.Lock()
	defer b.mu.Unlock()
	stamp := b.clock.Add(1)
	if now := time.Now().UnixMilli(); b.wall.Load() && now > stamp {
		b.clock.Store(now)
		stamp = now
	}
	replies, signalled := b.ms[shard].Apply(&fsm.Entry{Stamp: stamp, Reqs: []fsm.Request{req}})
	for _, k := range signalled {
		for w := range b.watchers[k] {
			select {
			case w.ch <- struct{}{}:
			default:
			}
		}
	}
	return replies[0], nil
}

func (b *testBackend) Read(ctx context.Context, key []byte, fn func(m *fsm.Machine) fsm.Reply) (fsm.Reply, error) {
	return b.ReadShard(ctx, b.shardOf(key), fn)
}

func (b *testBackend) ReadShard(ctx context.Context, shard int, fn func(m *fsm.Machine) fsm.Reply) (fsm.Reply, error) {
	if err := ctx.Err(); err != nil {
		return fsm.Reply{}, err
	}
	return fn(b.ms[shard]), nil
}

func (b *testBackend) Watch(key []byte, keys []string) (<-chan struct{}, func()) {
	w := &testWatcher{ch: make(chan struct{}, 1)}
	b.mu.Lock()
	for _, k := range keys {
		if b.watchers[k] == nil {
			b.watchers[k] = map[*testWatcher]struct{}{}
		}
		b.watchers[k][w] = struct{}{}
	}
	b.mu.Unlock()
	var once sync.Once
	return w.ch, func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			for _, k := range keys {
				delete(b.watchers[k], w)
				if len(b.watchers[k]) == 0 {
					delete(b.watchers, k)
				}
			}
		})
	}
}

func (b *testBackend) watcherCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, ws := range b.watchers {
		n += len(ws)
	}
	return n
}

// testServer is a Server on a loopback port with a testBackend.
type testServer struct {
	*Server
	b    *testBackend
	addr string
	done chan error
}

func startServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	return startShardedServer(t, cfg, 1)
}

// startShardedServer is startServer with a backend of shards shards.
func startShardedServer(t testing.TB, cfg Config, shards int) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	b := newTestBackend(shards)
	log := slog.New(slog.DiscardHandler)
	ts := &testServer{Server: NewServer(cfg, b, log), b: b, addr: ln.Addr().String(), done: make(chan error, 1)}
	go func() { ts.done <- ts.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := ts.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-ts.done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v; want ErrServerClosed", err)
		}
	})
	return ts
}

// streamsReady reports whether the fsm answers stream commands yet (until
// the fsm lands XADD, it answers "ERR not implemented").
func streamsReady() bool {
	m := fsm.New()
	r, _ := m.Apply(&fsm.Entry{Stamp: 1, Reqs: []fsm.Request{{Cmds: [][][]byte{{[]byte("XADD"), []byte("s"), []byte("1-1"), []byte("a"), []byte("b")}}}}})
	return r[0].Kind == fsm.KindBulk
}

func needStreams(t *testing.T) {
	t.Helper()
	if !streamsReady() {
		t.Skip("fsm does not implement stream commands yet")
	}
}

func (b *testBackend) ReadLocal(ctx context.Context, key []byte, fn func(m *fsm.Machine) fsm.Reply) (fsm.Reply, error) {
	b.readLocals.Add(1)
	b.mu.Lock()
	err := b.readLocalErr
	b.mu.Unlock()
	if err != nil {
		return fsm.Reply{}, err
	}
	return b.Read(ctx, key, fn)
}

// Topology is b.topo when set, else one node "test-node" leading every
// shard.
func (b *testBackend) Topology() Topology {
	b.mu.Lock()
	topo := b.topo
	b.mu.Unlock()
	if topo != nil {
		return *topo
	}
	t := Topology{MyID: "test-node", Nodes: []TopologyNode{{ID: "test-node", Up: true}}}
	for i := range b.ms {
		lo, hi := i*fsm.SlotCount/len(b.ms), (i+1)*fsm.SlotCount/len(b.ms)-1
		t.Shards = append(t.Shards, TopologyShard{Lo: lo, Hi: hi, Leader: "test-node"})
	}
	return t
}

// Forget records the node asked to be drained.
func (b *testBackend) Forget(_ context.Context, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.forgotten = append(b.forgotten, id)
	return nil
}
