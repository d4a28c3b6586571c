package fsm

import "strconv"

// del: DEL key [key ...] and UNLINK (the same here): the number removed.
func (m *Machine) del(x *execCtx, argv [][]byte) Reply {
	n := int64(0)
	for _, k := range argv[1:] {
		if m.remove(string(k)) {
			x.signal(string(k))
			n++
		}
	}
	return Int(n)
}

func checkFlush(argv [][]byte) *Reply {
	if len(argv) > 2 || (len(argv) == 2 && !eqFold(argv[1], "sync") && !eqFold(argv[1], "async")) {
		r := Err(errSyntax)
		return &r
	}
	return nil
}

// flush: FLUSHALL/FLUSHDB [ASYNC|SYNC]. Every key is signalled, in SCAN order.
func (m *Machine) flush(x *execCtx, argv [][]byte) Reply {
	if r := checkFlush(argv); r != nil {
		return *r
	}
	m.order.Scan(func(k keyRef) bool { x.signal(k.key); return true })
	m.keys = make(map[string]*stream)
	m.order = newKeyOrder()
	m.counter++
	m.lastDelete = m.counter
	return OK()
}

// exists: EXISTS key [key ...], counting repeated keys each time.
func (m *Machine) exists(_ *execCtx, argv [][]byte) Reply {
	n := int64(0)
	for _, k := range argv[1:] {
		if _, ok := m.keys[string(k)]; ok {
			n++
		}
	}
	return Int(n)
}

// typeCmd: TYPE key.
func (m *Machine) typeCmd(_ *execCtx, argv [][]byte) Reply {
	if _, ok := m.keys[string(argv[1])]; ok {
		return Simple("stream")
	}
	return Simple("none")
}

// dbsize: DBSIZE.
func (m *Machine) dbsize(_ *execCtx, _ [][]byte) Reply {
	return Int(int64(len(m.keys)))
}

// keysCmd: KEYS pattern, in the deterministic (hash, key) order.
func (m *Machine) keysCmd(_ *execCtx, argv [][]byte) Reply {
	pat := argv[1]
	all := len(pat) == 1 && pat[0] == '*'
	out := []Reply{}
	m.order.Scan(func(k keyRef) bool {
		if all || globMatch(pat, []byte(k.key)) {
			out = append(out, BulkString(k.key))
		}
		return true
	})
	return Array(out...)
}

// scanArgs are SCAN's parsed arguments.
type scanArgs struct {
	cursor  uint64
	count   int64
	pattern []byte // nil: every key
	typ     []byte // nil: every type
}

func checkScan(argv [][]byte) *Reply {
	_, r := parseScan(argv)
	return r
}

// parseScan parses SCAN cursor [MATCH pattern] [COUNT n] [TYPE type].
func parseScan(argv [][]byte) (scanArgs, *Reply) {
	a := scanArgs{count: 10}
	fail := func(msg string) (scanArgs, *Reply) { r := Err(msg); return a, &r }
	c := cstr(argv[1])
	if len(c) == 0 || isSpace(c[0]) {
		return fail(errInvalidCursor)
	}
	cur, ok := strtoull(c, false)
	if !ok {
		return fail(errInvalidCursor)
	}
	a.cursor = cur
	for i := 2; i < len(argv); i += 2 {
		more := len(argv) - i
		switch {
		case eqFold(argv[i], "count") && more >= 2:
			v, e := parseInt(argv[i+1])
			if e != nil {
				return a, e
			}
			if v < 1 {
				return fail(errSyntax)
			}
			a.count = v
		case eqFold(argv[i], "match") && more >= 2:
			p := argv[i+1]
			if len(p) == 1 && p[0] == '*' {
				p = nil
			}
			a.pattern = p
		case eqFold(argv[i], "type") && more >= 2:
			a.typ = argv[i+1]
		default:
			return fail(errSyntax)
		}
	}
	return a, nil
}

// scan: SCAN. Keys are visited in (hash, key) order; the cursor is the hash
// of the next key to visit, and "0" ends the scan. A batch always ends on a
// hash boundary, so a key present for the whole scan is returned at least
// once whatever is added or removed meanwhile.
func (m *Machine) scan(_ *execCtx, argv [][]byte) Reply {
	a, r := parseScan(argv)
	if r != nil {
		return *r
	}
	var picked []string
	next := uint64(0)
	var lastHash uint64
	m.order.Ascend(keyRef{hash: a.cursor}, func(k keyRef) bool {
		if int64(len(picked)) >= a.count && k.hash != lastHash {
			next = k.hash
			return false
		}
		picked = append(picked, k.key)
		lastHash = k.hash
		return true
	})
	out := []Reply{}
	for _, k := range picked {
		if a.pattern != nil && !globMatch(a.pattern, []byte(k)) {
			continue
		}
		if a.typ != nil && !eqFold(a.typ, "stream") {
			continue
		}
		out = append(out, BulkString(k))
	}
	return Array(BulkString(strconv.FormatUint(next, 10)), Array(out...))
}

// KeysInSlot returns up to count of the keys in hash slot (KeySlot), in
// SCAN order, and how many keys the slot holds in all: CLUSTER
// GETKEYSINSLOT and COUNTKEYSINSLOT. It walks every key (O(N)): the
// machine keeps no per-slot index.
func (m *Machine) KeysInSlot(slot, count int) (keys []string, total int) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	keys = []string{}
	m.order.Scan(func(k keyRef) bool {
		if KeySlot([]byte(k.key)) == slot {
			if len(keys) < count {
				keys = append(keys, k.key)
			}
			total++
		}
		return true
	})
	return keys, total
}
