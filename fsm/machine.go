package fsm

import (
	"io"
	"sync"
)

// Machine is the replicated state: the keyspace of streams. Apply is called by
// the Raft adapter in log order; Read, Snapshot and the other read-side methods
// may be called concurrently from connection goroutines.
type Machine struct {
	mu sync.RWMutex
}

// New returns an empty machine.
func New() *Machine { return &Machine{} }

// Apply executes one log entry and returns one reply per request, in order
// (a Multi request's reply is the EXEC array). signalled lists the keys whose
// blocked readers must re-try (an XADD to the key, a key deleted, ...), each
// once, in the order they were first signalled.
func (m *Machine) Apply(e *Entry) (replies []Reply, signalled []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	replies = make([]Reply, len(e.Reqs))
	for i := range replies {
		replies[i] = Err("ERR not implemented")
	}
	return replies, nil
}

// Read executes a read-only command (XRANGE, XLEN, XREAD without blocking,
// EXISTS, SCAN, ...) against the current state. nowMs is the local clock, used
// only by replies that report elapsed times.
func (m *Machine) Read(argv [][]byte, nowMs int64) Reply {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return Err("ERR not implemented")
}

// Validate checks what does not depend on state (arity is the caller's;
// options, numbers, ID syntax are here). It returns the error reply and false
// when argv must be refused without being proposed.
func Validate(argv [][]byte) (Reply, bool) { return Reply{}, true }

// Blocking reports whether argv (a validated XREAD or XREADGROUP) asked to
// block: the timeout in milliseconds (0 means forever) and the keys whose
// signal wakes it.
func Blocking(argv [][]byte) (timeoutMs int64, keys []string, ok bool) {
	return 0, nil, false
}

// PrepareBlock returns argv with every `$` ID replaced by the stream's current
// last ID (0-0 for a missing key), so that re-running it after a wake-up
// returns the entries added since the client blocked.
func (m *Machine) PrepareBlock(argv [][]byte) [][]byte { return argv }

// Snapshot is a frozen point-in-time view of a Machine.
type Snapshot struct{}

// Snapshot captures the current state cheaply; writing it out happens later,
// while Apply goes on.
func (m *Machine) Snapshot() *Snapshot { return &Snapshot{} }

// WriteTo streams the snapshot.
func (s *Snapshot) WriteTo(w io.Writer) (int64, error) { return 0, nil }

// Restore replaces the machine's state with a snapshot written by WriteTo.
func (m *Machine) Restore(r io.Reader) error { return nil }

// KeyVersion is a number that changes whenever key is written or deleted;
// WATCH records it and EXEC compares it (see Request.Watch).
func (m *Machine) KeyVersion(key string) uint64 { return 0 }
