package fsm

// XCFGSET error texts, byte-identical to Redis 8.6's xcfgsetCommand.
const (
	errCfgDurationTwice = "ERR IDMP-DURATION specified multiple times"
	errCfgMaxSizeTwice  = "ERR IDMP-MAXSIZE specified multiple times"
	errCfgNoParam       = "ERR At least one parameter must be specified"
	errCfgDuration      = "ERR IDMP-DURATION must be between 1 and 86400 seconds"
	errCfgMaxSize       = "ERR IDMP-MAXSIZE must be between 1 and 10000 entries"
)

// xcfgsetCommand is XCFGSET's command-table entry. It has no stateless
// check: Redis looks the key up before it parses, so a missing key answers
// "no such key" whatever the options, and only Apply can know.
var xcfgsetCommand = &command{name: "xcfgset", arity: -2, write: true, run: (*Machine).xcfgset}

// cfgArgs are XCFGSET's options; 0 means not given.
type cfgArgs struct {
	duration int64
	maxSize  int64
}

// parseXCfgSet parses XCFGSET's options in Redis's order of checks.
func parseXCfgSet(argv [][]byte) (cfgArgs, *Reply) {
	var c cfgArgs
	fail := func(msg string) (cfgArgs, *Reply) { r := Err(msg); return c, &r }
	for i := 2; i < len(argv); i++ {
		more := len(argv) - 1 - i
		var dst *int64
		var twice, bad string
		var lo, hi int64
		switch {
		case more >= 1 && eqFold(argv[i], "idmp-duration"):
			dst, twice, bad, lo, hi = &c.duration, errCfgDurationTwice, errCfgDuration, idmpMinDuration, idmpMaxDuration
		case more >= 1 && eqFold(argv[i], "idmp-maxsize"):
			dst, twice, bad, lo, hi = &c.maxSize, errCfgMaxSizeTwice, errCfgMaxSize, idmpMinMaxSize, idmpMaxMaxSize
		default:
			return fail(errSyntax)
		}
		if *dst != 0 {
			return fail(twice)
		}
		i++
		v, r := parseInt(argv[i])
		if r != nil {
			return c, r
		}
		if v < lo || v > hi {
			return fail(bad)
		}
		*dst = v
	}
	if c.duration == 0 && c.maxSize == 0 {
		return fail(errCfgNoParam)
	}
	return c, nil
}

// xcfgset: XCFGSET key [IDMP-DURATION seconds] [IDMP-MAXSIZE n]. Changing a
// value clears every producer's iids (the lifetime counters stay); setting
// the current value changes nothing, so producers may all call it at start.
func (m *Machine) xcfgset(_ *execCtx, argv [][]byte) Reply {
	s, ok := m.keys[string(argv[1])]
	if !ok {
		return Err(errNoSuchKey)
	}
	c, r := parseXCfgSet(argv)
	if r != nil {
		return *r
	}
	st := s.idmp
	if st == nil {
		st = newIDMPState()
	}
	changed := false
	if c.duration != 0 && c.duration != st.duration {
		st.duration = c.duration
		changed = true
	}
	if c.maxSize != 0 && c.maxSize != st.maxSize {
		st.maxSize = c.maxSize
		changed = true
	}
	if changed {
		st.clear()
		s.idmp = st
		m.touch(s)
	}
	return OK()
}
