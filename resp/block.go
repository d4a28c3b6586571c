package resp

import (
	"time"

	"github.com/streamraft/streamraft/fsm"
)

// block runs a command that asked to block (XREAD/XREADGROUP BLOCK) as
// Redis 7's "reprocessing" model does: register interest in its keys
// first (so no signal between the read and the wait is lost), run it; if
// it answers a null array, wait and re-run it after each signal until it
// answers something else, its deadline passes (null array), the client
// goes away or the server shuts down (the connection is closed). A read's
// `$` IDs are pinned by PrepareBlock against the state of the first read.
func (c *conn) block(cmd *command, argv [][]byte, timeoutMs int64, keys []string) {
	ch, cancel := c.srv.backend.Watch(cmd.routeKey(argv), keys)
	defer cancel()
	var prepared [][]byte
	r, err := c.once(cmd, argv, &prepared)
	if err != nil || r.Kind != fsm.KindNullArray {
		c.result(r, err)
		return
	}
	if prepared != nil {
		argv = prepared
	}
	var deadline <-chan time.Time
	if timeoutMs > 0 {
		t := time.NewTimer(time.Duration(timeoutMs) * time.Millisecond)
		defer t.Stop()
		deadline = t.C
	}
	c.setBlocked(true)
	defer c.setBlocked(false)
	c.flush() // replies to commands before this one are not held back
	for {
		select {
		case <-ch:
			r, err = c.once(cmd, argv, nil)
			if err != nil || r.Kind != fsm.KindNullArray {
				c.result(r, err)
				return
			}
		case <-deadline:
			c.w.NullArray()
			return
		case <-c.ctx.Done():
			c.closing = true
			return
		case <-c.srv.quit:
			c.closing = true
			return
		}
	}
}

func (c *conn) setBlocked(b bool) {
	c.mu.Lock()
	c.blocked = b
	c.mu.Unlock()
}
