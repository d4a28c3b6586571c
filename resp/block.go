package resp

import (
	"strings"
	"time"

	"github.com/streamraft/streamraft/fsm"
)

// block runs a command that asked to block (XREAD/XREADGROUP BLOCK) as
// Redis 7's "reprocessing" model does: register interest in its keys
// first (so no signal between the read and the wait is lost), run it; if
// it answers a null array, wait and re-run it after each signal until it
// answers something else, its deadline passes (null array), the client
// goes away or the server shuts down (the connection is closed). A read's
// `$` IDs are pinned by ReadOrPrepare against the state of the first read.
//
// XREADGROUP (a write) is tried from the state first (see tryRead) and
// proposed only when it would deliver something. After a wake-up it is
// re-run as fsm.BlockedRetry(argv), so a key deleted or a group destroyed
// while the client waited answers Redis 7.0's -UNBLOCKED / -NOGROUP errors;
// a retry that finds the entries taken by another consumer of the group
// answers a null array and the client goes on waiting until its deadline.
// Clients woken together retry in the order they blocked (groupOrder).
func (c *conn) block(cmd *command, argv [][]byte, timeoutMs int64, keys []string) {
	ch, cancel := c.srv.backend.Watch(cmd.routeKey(argv), keys)
	defer cancel()
	var prepared [][]byte
	r, err := c.once(cmd, argv, &prepared)
	if err != nil || r.Kind != fsm.KindNullArray {
		c.blockResult(cmd, argv, timeoutMs, r, err)
		return
	}
	if prepared != nil {
		argv = prepared
	}
	var gw *groupWaiter // XREADGROUP: retries in blocking order
	if cmd.readGroup {
		argv = fsm.BlockedRetry(argv)
		gw = c.srv.groups.add(keys)
		defer c.srv.groups.remove(gw)
	}
	var recheck <-chan time.Time // CLAIM: pending entries turn idle with time
	if cmd.readGroup && readsClaim(argv) {
		t := time.NewTicker(claimRecheck)
		defer t.Stop()
		recheck = t.C
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
		case <-gw.pokes():
		case <-recheck:
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
		if r, err = c.retry(cmd, argv, gw); err != nil || r.Kind != fsm.KindNullArray {
			c.result(r, err)
			return
		}
	}
}

// claimRecheck is how often a blocked XREADGROUP ... CLAIM re-checks for
// pending entries that became idle long enough (no write signals that):
// about Redis's 100 ms timer resolution for blocked clients. A check that
// finds nothing is a read (tryRead), never a log entry.
const claimRecheck = 100 * time.Millisecond

// readsClaim reports whether a validated XREADGROUP has the CLAIM option
// (Redis 8.4), skipping the values of the options before STREAMS.
func readsClaim(argv [][]byte) bool {
	for i := 1; i < len(argv); i++ {
		switch o := strings.ToLower(string(argv[i])); o {
		case "claim":
			return true
		case "streams":
			return false
		case "group":
			i += 2
		case "count", "block":
			i++
		}
	}
	return false
}

// retry re-runs a blocked command after a wake-up; an XREADGROUP waits for
// its turn (groupOrder) first.
func (c *conn) retry(cmd *command, argv [][]byte, gw *groupWaiter) (fsm.Reply, error) {
	if gw != nil {
		c.srv.groups.turn(gw)
		defer c.srv.groups.done(gw)
	}
	return c.once(cmd, argv, nil)
}

func (c *conn) setBlocked(b bool) {
	c.mu.Lock()
	c.blocked = b
	c.mu.Unlock()
}
