package fsm

// Special XREAD IDs.
const (
	readAfter  = iota // entries after id
	readDollar        // "$": after the stream's last ID
	readPlus          // "+": the last entry
)

// readOpts are the options XREAD and XREADGROUP share. One loop parses
// both, as Redis's xreadCommand does, so their errors come in the same order.
type readOpts struct {
	count     int64 // 0: no limit
	limits    readLimits
	block     bool
	timeoutMs int64
	noack     bool   // XREADGROUP only
	claim     bool   // XREADGROUP CLAIM given (8.4)
	minIdle   int64  // CLAIM's min-idle-time
	group     []byte // XREADGROUP only
	consumer  []byte
	keys      [][]byte
	idArgs    int // index of the first ID in argv
}

// parseReadOpts parses [COUNT n] [MAXCOUNT n] [MAXSIZE bytes] [BLOCK ms]
// and, for XREADGROUP, GROUP g c, NOACK and CLAIM, up to STREAMS key...
// id...; the IDs are left to the caller.
func parseReadOpts(argv [][]byte, xreadgroup bool) (readOpts, *Reply) {
	var a readOpts
	fail := func(msg string) (readOpts, *Reply) { r := Err(msg); return a, &r }
	streamsArg := 0
	for i := 1; i < len(argv) && streamsArg == 0; i++ {
		more := len(argv) - i - 1
		o := argv[i]
		switch {
		case eqFold(o, "block") && more > 0:
			i++
			v, ok := parseLL(argv[i])
			if !ok {
				return fail(errTimeoutNotInt)
			}
			if v < 0 {
				return fail(errTimeoutNeg)
			}
			a.block, a.timeoutMs = true, v
		case eqFold(o, "count") && more > 0:
			i++
			v, e := parseInt(argv[i])
			if e != nil {
				return a, e
			}
			a.count = max(v, 0)
		case eqFold(o, "streams") && more > 0:
			streamsArg = i + 1
			if (len(argv)-streamsArg)%2 != 0 {
				return fail(errUnbalanced)
			}
		case eqFold(o, "group") && more >= 2:
			if !xreadgroup {
				return fail(errGroupInXRead)
			}
			a.group, a.consumer = argv[i+1], argv[i+2]
			i += 2
		case eqFold(o, "noack"):
			if !xreadgroup {
				return fail(errNoAckInXRead)
			}
			a.noack = true
		case xreadgroup && eqFold(o, "claim") && more > 0:
			i++
			v, ok := parseLL(argv[i])
			if !ok || v < 0 {
				return fail(errReadClaimIdle)
			}
			a.claim, a.minIdle = true, v
		default:
			handled, e := a.limits.parseOption(argv, i)
			if e != nil {
				return a, e
			}
			if !handled {
				return fail(errSyntax)
			}
			i++
		}
	}
	if streamsArg == 0 {
		return fail(errSyntax)
	}
	if xreadgroup && a.group == nil {
		return fail(errMissingGroup)
	}
	if e := a.limits.check(a.count); e != nil {
		return a, e
	}
	n := (len(argv) - streamsArg) / 2
	a.keys = argv[streamsArg : streamsArg+n]
	a.idArgs = streamsArg + n
	return a, nil
}

// xreadArgs are XREAD's parsed arguments.
type xreadArgs struct {
	readOpts
	ids   []ID
	kinds []int
}

func checkXRead(argv [][]byte) *Reply {
	_, r := parseXRead(argv)
	return r
}

// parseXRead parses XREAD [COUNT n] [MAXCOUNT n] [MAXSIZE bytes] [BLOCK ms]
// STREAMS key... id... as Redis 7.0 does, plus 7.4's "+" ID and 8.10's
// MAXCOUNT and MAXSIZE (see xreadlimit.go).
func parseXRead(argv [][]byte) (xreadArgs, *Reply) {
	var a xreadArgs
	var r *Reply
	if a.readOpts, r = parseReadOpts(argv, false); r != nil {
		return a, r
	}
	fail := func(msg string) (xreadArgs, *Reply) { r := Err(msg); return a, &r }
	n := len(a.keys)
	a.ids = make([]ID, n)
	a.kinds = make([]int, n)
	for i, arg := range argv[a.idArgs:] {
		switch string(arg) {
		case "$":
			a.kinds[i] = readDollar
		case "+":
			a.kinds[i] = readPlus
		case ">":
			return fail(errGtInXRead)
		default:
			id, ok := parseStrictID(arg)
			if !ok {
				return fail(errInvalidID)
			}
			a.ids[i] = id
		}
	}
	return a, nil
}

// xread: XREAD [COUNT n] [MAXCOUNT n] [MAXSIZE bytes] [BLOCK ms] STREAMS
// key... id...; BLOCK is parsed and ignored here (the caller blocks, see
// Blocking and ReadOrPrepare).
func (m *Machine) xread(_ *execCtx, argv [][]byte) Reply {
	a, r := parseXRead(argv)
	if r != nil {
		return *r
	}
	var kv []Reply
	b := newBudget(a.limits)
	for i, key := range a.keys {
		if !b.room() {
			break
		}
		s, ok := m.keys[string(key)]
		if !ok || s.length == 0 {
			continue
		}
		var entries Reply
		switch a.kinds[i] {
		case readDollar:
			continue // nothing is newer than the last ID right now
		case readPlus:
			// Redis 7.4 reads one entry after last_id-1: the top entry if it
			// is still there, nothing when it was deleted.
			if s.lastID.IsZero() {
				continue
			}
			entries = s.rangeReply(s.lastID, maxID, 1, false)
		default:
			start, ok := a.ids[i].incr()
			if !ok {
				continue
			}
			entries = s.rangeReply(start, maxID, b.streamCount(a.count), false)
		}
		if b.limited() && len(entries.Elems) > 0 {
			b.open(key)
			entries.Elems = entries.Elems[:b.admit(entries.Elems)]
			if len(entries.Elems) == 0 {
				b.drop()
			}
		}
		if len(entries.Elems) == 0 {
			continue
		}
		kv = append(kv, Bulk(key), entries)
	}
	if len(kv) == 0 {
		return NullArray()
	}
	return Pairs(kv...)
}

// Blocking reports whether argv (a validated XREAD or XREADGROUP) asked to
// block: the timeout in milliseconds (0 means forever) and the keys whose
// signal wakes it. An XREADGROUP blocks only when every ID is ">" (an
// explicit ID reads the consumer's history and always answers); run it
// first with TryRead, re-run it with BlockedRetry after a wake-up.
func Blocking(argv [][]byte) (timeoutMs int64, keys []string, ok bool) {
	if len(argv) > 0 && eqFold(argv[0], "xreadgroup") {
		return blockingReadGroup(argv)
	}
	if len(argv) == 0 || !eqFold(argv[0], "xread") {
		return 0, nil, false
	}
	a, r := parseXRead(argv)
	if r != nil || !a.block {
		return 0, nil, false
	}
	keys = make([]string, len(a.keys))
	for i, k := range a.keys {
		keys[i] = string(k)
	}
	return a.timeoutMs, keys, true
}

// ReadOrPrepare runs Read and, when the reply is a null array (nothing to
// serve: the caller will block), also returns argv with every `$` ID
// replaced by the stream's current last ID (0-0 for a missing key; a `+` on
// an empty stream likewise), so that re-running it after a wake-up returns
// the entries added since the client blocked. Both happen under one lock: an
// XADD between them would be neither in the reply nor after the pinned ID.
func (m *Machine) ReadOrPrepare(argv [][]byte, nowMs int64) (r Reply, prepared [][]byte) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r = m.read(argv, nowMs)
	if r.Kind == KindNullArray {
		prepared = m.prepareBlock(argv)
	}
	return r, prepared
}

// prepareBlock pins XREAD's `$` (and an empty stream's `+`) IDs; the
// caller holds the lock.
func (m *Machine) prepareBlock(argv [][]byte) [][]byte {
	a, r := parseXRead(argv)
	if r != nil {
		return argv
	}
	out := append([][]byte(nil), argv...)
	for i, key := range a.keys {
		kind := a.kinds[i]
		if kind == readAfter {
			continue
		}
		s, ok := m.keys[string(key)]
		if kind == readPlus && ok && s.length > 0 {
			continue
		}
		var last ID
		if ok {
			last = s.lastID
		}
		out[a.idArgs+i] = last.AppendText(nil)
	}
	return out
}
