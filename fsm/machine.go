package fsm

import (
	"sync"

	"github.com/tidwall/btree"
)

// Machine is the replicated state: the keyspace of streams. Apply is called by
// the Raft adapter in log order; Read, Snapshot and the other read-side methods
// may be called concurrently from connection goroutines.
type Machine struct {
	mu   sync.RWMutex
	keys map[string]*stream
	// order holds every key sorted by (hash, key): the deterministic order of
	// KEYS and SCAN.
	order *btree.BTreeG[keyRef]
	// counter is bumped by every effective write; a stream's version is the
	// counter at its last write, and lastDelete the counter at the last key
	// deletion (the version of every missing key).
	counter    uint64
	lastDelete uint64
	x          execCtx // the current Apply's context, reused
}

// keyRef is one key in the SCAN order.
type keyRef struct {
	hash uint64
	key  string
}

func keyRefLess(a, b keyRef) bool {
	if a.hash != b.hash {
		return a.hash < b.hash
	}
	return a.key < b.key
}

func keyHash(key string) uint64 {
	h := uint64(14695981039346656037) // FNV-1a, 64 bits
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	return h
}

func newKeyOrder() *btree.BTreeG[keyRef] {
	return btree.NewBTreeGOptions(keyRefLess, btree.Options{NoLocks: true})
}

// New returns an empty machine.
func New() *Machine {
	return &Machine{keys: make(map[string]*stream), order: newKeyOrder()}
}

// execCtx is the state of one Apply call.
type execCtx struct {
	stamp     int64
	signalled []string
	seen      map[string]struct{}
}

// signal records that key's blocked readers must retry, once per Apply.
// Small sets are searched linearly; a map takes over for large ones.
func (x *execCtx) signal(key string) {
	if x == nil {
		return
	}
	if x.seen == nil {
		for _, k := range x.signalled {
			if k == key {
				return
			}
		}
		if len(x.signalled) < 16 {
			x.signalled = append(x.signalled, key)
			return
		}
		x.seen = make(map[string]struct{}, 2*len(x.signalled))
		for _, k := range x.signalled {
			x.seen[k] = struct{}{}
		}
	}
	if _, ok := x.seen[key]; ok {
		return
	}
	x.seen[key] = struct{}{}
	x.signalled = append(x.signalled, key)
}

// Apply executes one log entry and returns one reply per request, in order
// (a Multi request's reply is the EXEC array). signalled lists the keys whose
// blocked readers must re-try (an XADD to the key, a key deleted, ...), each
// once, in the order they were first signalled.
func (m *Machine) Apply(e *Entry) (replies []Reply, signalled []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.x = execCtx{stamp: e.Stamp}
	replies = make([]Reply, len(e.Reqs))
	for i := range e.Reqs {
		replies[i] = m.applyRequest(&m.x, &e.Reqs[i])
	}
	signalled = m.x.signalled
	m.x = execCtx{}
	return replies, signalled
}

func (m *Machine) applyRequest(x *execCtx, r *Request) Reply {
	if !r.Multi {
		switch len(r.Cmds) {
		case 0:
			return Err("ERR empty request")
		case 1:
			return m.exec(x, r.Cmds[0], true)
		}
	}
	for _, w := range r.Watch {
		if m.keyVersion(string(w.Key)) != w.Version {
			return NullArray()
		}
	}
	out := make([]Reply, len(r.Cmds))
	for i, argv := range r.Cmds {
		out[i] = m.exec(x, argv, true)
	}
	return Array(out...)
}

// exec runs one command; write commands only when allowWrite.
func (m *Machine) exec(x *execCtx, argv [][]byte, allowWrite bool) Reply {
	c, errReply := lookup(argv)
	if c == nil {
		return errReply
	}
	if !allowWrite && c.writes(argv) {
		return Err("ERR write command '" + c.name + "' sent to Read")
	}
	return c.run(m, x, argv)
}

// Read executes a read-only command (XRANGE, XLEN, XREAD without blocking,
// EXISTS, SCAN, ...) against the current state. nowMs is the local clock, used
// only by replies that report elapsed times.
func (m *Machine) Read(argv [][]byte, nowMs int64) Reply {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.read(argv, nowMs)
}

// read runs a read command; only those that report elapsed times get an
// execCtx (holding the reader's clock), so plain reads allocate nothing.
func (m *Machine) read(argv [][]byte, nowMs int64) Reply {
	c, errReply := lookup(argv)
	if c == nil {
		return errReply
	}
	if c.writes(argv) {
		return Err("ERR write command '" + c.name + "' sent to Read")
	}
	if c.clock {
		return c.run(m, &execCtx{stamp: nowMs}, argv)
	}
	return c.run(m, nil, argv)
}

// Validate checks what does not depend on state (arity is the caller's;
// options, numbers, ID syntax are here). It returns the error reply and false
// when argv must be refused without being proposed.
func Validate(argv [][]byte) (Reply, bool) {
	c, errReply := lookup(argv)
	if c == nil {
		return errReply, false
	}
	if c.internal {
		return errUnknown(argv), false
	}
	if c.check == nil {
		return Reply{}, true
	}
	if r := c.check(argv); r != nil {
		return *r, false
	}
	return Reply{}, true
}

// KeyVersion is a number that changes whenever key is written or deleted;
// WATCH records it and EXEC compares it (see Request.Watch).
func (m *Machine) KeyVersion(key string) uint64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.keyVersion(key)
}

func (m *Machine) keyVersion(key string) uint64 {
	if s, ok := m.keys[key]; ok {
		return s.version
	}
	return m.lastDelete
}

// touch records a write to s.
func (m *Machine) touch(s *stream) {
	m.counter++
	s.version = m.counter
}

// create adds an empty stream at key.
func (m *Machine) create(key string) *stream {
	s := newStream()
	m.keys[key] = s
	m.order.Set(keyRef{keyHash(key), key})
	return s
}

// remove deletes key; it reports whether the key existed.
func (m *Machine) remove(key string) bool {
	if _, ok := m.keys[key]; !ok {
		return false
	}
	delete(m.keys, key)
	m.order.Delete(keyRef{keyHash(key), key})
	m.counter++
	m.lastDelete = m.counter
	return true
}
