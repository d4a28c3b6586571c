package fsm

// command is one entry of the fsm's command table.
type command struct {
	name  string // lower case
	arity int    // Redis arity: n exact, -n at least n
	write bool
	// clock: Read passes the reader's clock in execCtx.stamp (elapsed times).
	clock bool
	// internal: never accepted from a client (Validate refuses it).
	internal bool
	// readForm reports the argv of a write command that only reads (XGROUP
	// HELP): such argv may go through Read and IsWrite is false for it.
	readForm func(argv [][]byte) bool
	// check returns the stateless error of argv, if any (nil: valid).
	check func(argv [][]byte) *Reply
	run   func(m *Machine, x *execCtx, argv [][]byte) Reply
}

// commandTable is built once and never modified.
var commandTable = buildTable()

func buildTable() map[string]*command {
	cmds := []*command{
		{name: "xadd", arity: -5, write: true, check: checkXAdd, run: (*Machine).xadd},
		{name: "xtrim", arity: -4, write: true, check: checkXTrim, run: (*Machine).xtrim},
		{name: "xdel", arity: -3, write: true, run: (*Machine).xdel},
		{name: "xdelex", arity: -5, write: true, check: checkXDelEx, run: (*Machine).xdelex},
		{name: "xackdel", arity: -6, write: true, check: checkXAckDel, run: (*Machine).xackdel},
		{name: "xsetid", arity: -3, write: true, check: checkXSetID, run: (*Machine).xsetid},
		{name: "xgroup", arity: -2, write: true, readForm: isHelp, check: checkXGroup, run: (*Machine).xgroup},
		{name: "xreadgroup", arity: -7, write: true, check: checkXReadGroup, run: (*Machine).xreadgroup},
		{name: retryName, arity: -7, write: true, internal: true, check: checkXReadGroup, run: (*Machine).xreadgroup},
		{name: "xack", arity: -4, write: true, run: (*Machine).xack},
		{name: "xclaim", arity: -6, write: true, run: (*Machine).xclaim},
		{name: "xautoclaim", arity: -6, write: true, check: checkXAutoClaim, run: (*Machine).xautoclaim},
		xcfgsetCommand,
		{name: "del", arity: -2, write: true, run: (*Machine).del},
		{name: "unlink", arity: -2, write: true, run: (*Machine).del},
		{name: "flushall", arity: -1, write: true, check: checkFlush, run: (*Machine).flush},
		{name: "flushdb", arity: -1, write: true, check: checkFlush, run: (*Machine).flush},
		{name: "xlen", arity: 2, run: (*Machine).xlen},
		{name: "xrange", arity: -4, check: checkXRange, run: (*Machine).xrange},
		{name: "xrevrange", arity: -4, check: checkXRange, run: (*Machine).xrange},
		{name: "xread", arity: -4, check: checkXRead, run: (*Machine).xread},
		{name: "xpending", arity: -3, clock: true, check: checkXPending, run: (*Machine).xpending},
		{name: "xinfo", arity: -2, clock: true, check: checkXInfo, run: (*Machine).xinfo},
		{name: "exists", arity: -2, run: (*Machine).exists},
		{name: "type", arity: 2, run: (*Machine).typeCmd},
		{name: "keys", arity: 2, run: (*Machine).keysCmd},
		{name: "scan", arity: -2, check: checkScan, run: (*Machine).scan},
		{name: "dbsize", arity: 1, run: (*Machine).dbsize},
	}
	t := make(map[string]*command, len(cmds))
	for _, c := range cmds {
		if _, dup := t[c.name]; dup {
			panic("fsm: duplicate command " + c.name)
		}
		t[c.name] = c
	}
	return t
}

// IsWrite reports whether argv names a command that must go through Apply.
func IsWrite(argv [][]byte) bool {
	c, _ := lookup(argv)
	return c != nil && c.writes(argv)
}

// writes reports whether argv, a command of c, changes state.
func (c *command) writes(argv [][]byte) bool {
	return c.write && (c.readForm == nil || !c.readForm(argv))
}

// isHelp reports a "CMD HELP" argv.
func isHelp(argv [][]byte) bool { return len(argv) == 2 && eqFold(argv[1], "help") }

// lookup finds argv's command and checks its arity; on failure it returns
// nil and the error reply.
func lookup(argv [][]byte) (*command, Reply) {
	if len(argv) == 0 {
		return nil, Err("ERR empty command")
	}
	var buf [16]byte
	name := argv[0]
	if len(name) > len(buf) {
		return nil, errUnknown(argv)
	}
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	c, ok := commandTable[string(buf[:len(name)])]
	if !ok {
		return nil, errUnknown(argv)
	}
	if (c.arity > 0 && len(argv) != c.arity) || (c.arity < 0 && len(argv) < -c.arity) {
		return nil, errArity(c.name)
	}
	return c, Reply{}
}
