package resp

import "github.com/streamraft/streamraft/fsm"

// Pipelined writes. A connection executes its commands one at a time, so a
// pipeline of N writes used to cost N Raft round trips. When more commands
// are already queued behind a plain write, the write is submitted without
// waiting for its reply (Backend.Submit); the following plain writes join
// it, so the shard's proposer puts them in one log entry. Their replies are
// written, in order, before any other command runs and before the reply
// buffer is flushed, so the client sees exactly what sequential execution
// would answer: writes of one connection are applied in submission order,
// and nothing else of that connection runs in between.

// maxPending bounds the writes one connection has in flight at once.
const maxPending = 1024

// pendingWrite is a submitted write waiting for its reply.
type pendingWrite struct {
	cmd  *command
	argv [][]byte
	wait func() (fsm.Reply, error)
}

// submitPipelined submits argv without waiting when it is a plain write
// (no MULTI, no blocking, no read-first XREADGROUP, no fan-out, valid) and
// the client has pipelined: more commands are queued, or writes are
// already pending. It reports whether it did; if not, the caller runs the
// command the usual way.
func (c *conn) submitPipelined(argv [][]byte) bool {
	if c.multi != nil || len(c.pending) >= maxPending || (len(c.reqs) == 0 && len(c.pending) == 0) {
		return false
	}
	cmd, errMsg := c.srv.table.lookup(argv)
	if errMsg != "" || cmd.kind != kindWrite || cmd.readGroup || cmd.fanout != nil || cmd.immediate {
		return false
	}
	if _, ok := fsm.Validate(argv); !ok || c.crossSlot(cmd, argv) {
		return false
	}
	if _, _, blocking := fsm.Blocking(argv); blocking {
		return false
	}
	c.srv.stats.commands.Add(1)
	c.touch(cmd)
	wait := c.srv.backend.Submit(c.ctx, cmd.routeKey(argv), fsm.Request{Cmds: [][][]byte{argv}})
	c.pending = append(c.pending, pendingWrite{cmd: cmd, argv: argv, wait: wait})
	return true
}

// drainPending writes the replies of the pending writes, in order.
func (c *conn) drainPending() {
	for i, p := range c.pending {
		r, err := p.wait()
		c.runResult(p.cmd, p.argv, r, err)
		c.pending[i] = pendingWrite{}
	}
	c.pending = c.pending[:0]
}
