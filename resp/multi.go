package resp

import (
	"bytes"

	"github.com/streamraft/streamraft/fsm"
)

// multiState is an open MULTI: the queued commands and whether a queueing
// error doomed the transaction.
type multiState struct {
	queue []queued
	dirty bool
}

// queued is one command waiting for EXEC. invalid holds the error fsm.Validate
// gave it: like Redis (which queues it and answers the error inside EXEC's
// array), it is answered in place at EXEC and never proposed.
type queued struct {
	cmd     *command
	argv    [][]byte
	invalid *fsm.Reply
}

// watchedKey is a WATCHed key with the version it had when watched.
type watchedKey struct {
	key     []byte
	version uint64
}

func (t *table) addTransactionCommands() {
	t.add("multi", kindLocal, cmdMulti).immediate = true
	t.add("exec", kindLocal, cmdExec).immediate = true
	t.add("discard", kindLocal, cmdDiscard).immediate = true
	t.add("watch", kindLocal, cmdWatch).immediate = true
	t.add("unwatch", kindLocal, cmdUnwatch)
}

func (c *conn) setInMulti(n int) {
	c.mu.Lock()
	c.inMulti = n
	c.mu.Unlock()
}

func (c *conn) queue(cmd *command, argv [][]byte) {
	q := queued{cmd: cmd, argv: argv}
	if cmd.kind != kindLocal {
		if r, ok := fsm.Validate(argv); !ok {
			q.invalid = &r
		}
	}
	c.multi.queue = append(c.multi.queue, q)
	c.setInMulti(len(c.multi.queue))
	c.w.Simple("QUEUED")
}

func cmdMulti(c *conn, _ [][]byte) {
	if c.multi != nil {
		c.replyError(errMultiNested)
		return
	}
	c.multi = &multiState{}
	c.setInMulti(0)
	c.w.Simple("OK")
}

func cmdDiscard(c *conn, _ [][]byte) {
	if c.multi == nil {
		c.replyError(errDiscardNoMulti)
		return
	}
	c.multi, c.watched = nil, nil
	c.setInMulti(-1)
	c.w.Simple("OK")
}

func cmdUnwatch(c *conn, _ [][]byte) {
	c.watched = nil
	c.w.Simple("OK")
}

// cmdWatch records each key's version through a read of the key's shard.
func cmdWatch(c *conn, argv [][]byte) {
	if c.multi != nil {
		c.replyError(errWatchInMulti)
		return
	}
	for _, key := range argv[1:] {
		if c.isWatched(key) {
			continue
		}
		k := string(key)
		r, err := c.srv.backend.Read(c.ctx, key, func(m *fsm.Machine) fsm.Reply {
			return fsm.Int(int64(m.KeyVersion(k)))
		})
		if err != nil {
			c.result(r, err)
			return
		}
		c.watched = append(c.watched, watchedKey{key: key, version: uint64(r.Int)})
	}
	c.w.Simple("OK")
}

func (c *conn) isWatched(key []byte) bool {
	for _, w := range c.watched {
		if bytes.Equal(w.key, key) {
			return true
		}
	}
	return false
}

// cmdExec proposes the whole transaction as one Request (reads included,
// so it is one log entry applied atomically), then writes EXEC's array:
// the Backend's replies, with local commands run and validation errors
// answered at their positions.
func cmdExec(c *conn, _ [][]byte) {
	m := c.multi
	if m == nil {
		c.replyError(errExecNoMulti)
		return
	}
	watched := c.watched
	c.multi, c.watched = nil, nil
	c.setInMulti(-1)
	if m.dirty {
		c.replyError(errExecAbort)
		return
	}
	if c.transactionCrossSlot(m.queue, watched) {
		c.replyError(errCrossSlot) // as Redis Cluster: no EXECABORT, discarded
		return
	}
	req := fsm.Request{Multi: true}
	var key []byte
	for _, q := range m.queue {
		if q.cmd.kind == kindLocal || q.invalid != nil {
			continue
		}
		req.Cmds = append(req.Cmds, q.argv)
		if key == nil {
			key = q.cmd.routeKey(q.argv)
		}
	}
	for _, w := range watched {
		req.Watch = append(req.Watch, fsm.Watched{Key: w.key, Version: w.version})
		if key == nil {
			key = w.key
		}
	}
	var replies []fsm.Reply
	if len(req.Cmds) > 0 || len(req.Watch) > 0 {
		r, err := c.srv.backend.Write(c.ctx, key, req)
		if err != nil || r.Kind != fsm.KindArray {
			c.execResult(m.queue, len(watched) > 0, r, err) // a null array (a WATCHed key changed) or an error
			return
		}
		replies = r.Elems
	}
	c.w.Array(len(m.queue))
	j := 0
	for _, q := range m.queue {
		switch {
		case q.invalid != nil:
			c.w.Reply(*q.invalid)
		case q.cmd.kind == kindLocal:
			q.cmd.handler(c, q.argv)
		case j < len(replies):
			c.w.Reply(replies[j])
			j++
		default:
			c.replyError(errExecReplyMissing)
		}
	}
}
