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

// testBackend is a real fsm.Machine without Raft: Write applies each
// Request at once with a stamp from a test clock and signals watchers from
// Apply's signalled keys, as the cluster's shard does.
type testBackend struct {
	m     *fsm.Machine
	clock atomic.Int64

	mu       sync.Mutex // serializes Apply, guards watchers
	watchers map[string]map[*testWatcher]struct{}
	writeErr error // returned by Write when set
	writes   atomic.Int64
	gate     chan struct{} // when set, Write waits for it
	// wall makes each stamp at least the wall clock, for tests of idle
	// times (the fsm's clock is the stamp; TryRead's is the wall clock).
	wall atomic.Bool
}

type testWatcher struct{ ch chan struct{} }

func newTestBackend() *testBackend {
	b := &testBackend{m: fsm.New(), watchers: map[string]map[*testWatcher]struct{}{}}
	b.clock.Store(1_700_000_000_000)
	return b
}

func (b *testBackend) Write(ctx context.Context, key []byte, req fsm.Request) (fsm.Reply, error) {
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
	replies, signalled := b.m.Apply(&fsm.Entry{Stamp: stamp, Reqs: []fsm.Request{req}})
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
	if err := ctx.Err(); err != nil {
		return fsm.Reply{}, err
	}
	return fn(b.m), nil
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	b := newTestBackend()
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
