package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxScanCalls bounds a SCAN loop, so a server whose cursor never returns
// to 0 fails instead of hanging.
const maxScanCalls = 10000

// scan runs a full SCAN with the step's arguments on both servers and
// compares the sets of keys. If the first call answers an error, the error
// replies are compared instead.
func (r *diffRunner) scan(st scriptStep) {
	cp := r.conn(st.line)
	var got [2][]byte
	for i, c := range cp.c {
		keys, errRaw, err := scanAll(c, st.cmd)
		if err != nil {
			r.t.Fatalf("%s:%d: SCAN on %s: %v", r.script, st.line, r.servers[i].name, err)
		}
		if errRaw != nil {
			got[i] = errRaw
			continue
		}
		got[i] = []byte("keys: " + strings.Join(keys, " "))
	}
	st.cmd = append([]string{"SCAN", "*"}, st.cmd...)
	r.compare(st, got[0], got[1], "full scan")
}

// scanAll loops SCAN until the cursor is 0 and returns the sorted keys, or
// the raw error reply of the first call.
func scanAll(c *rawConn, args []string) (keys []string, errRaw []byte, err error) {
	cursor := "0"
	for calls := 0; ; calls++ {
		if calls == maxScanCalls {
			return nil, nil, fmt.Errorf("cursor not back to 0 after %d calls", calls)
		}
		raw, err := c.do(append([]string{"SCAN", cursor}, args...), replyTimeout)
		if err != nil {
			return nil, nil, err
		}
		if raw[0] == '-' && calls == 0 {
			return nil, raw, nil
		}
		v, err := parseValue(raw)
		if err != nil {
			return nil, nil, err
		}
		if v.typ != '*' || len(v.elems) != 2 || v.elems[0].typ != '$' || v.elems[1].typ != '*' {
			return nil, nil, fmt.Errorf("SCAN reply %q: want [cursor, [keys]]", raw)
		}
		for _, k := range v.elems[1].elems {
			keys = append(keys, k.str)
		}
		cursor = v.elems[0].str
		if cursor == "0" {
			return sortedUnique(keys), nil, nil
		}
	}
}

// waitBlocked waits until each server reports N blocked clients in INFO
// clients. A server whose INFO has no blocked_clients line gets a fixed
// settle delay instead (logged), since nothing better can be observed.
func (r *diffRunner) waitBlocked(st scriptStep) {
	want, err := strconv.Atoi(st.arg)
	if err != nil {
		r.t.Fatalf("%s:%d: @blocked %q: %v", r.script, st.line, st.arg, err)
	}
	for _, p := range r.servers {
		if err := waitBlockedClients(p.addr, want); err != nil {
			if err == errNoBlockedInfo {
				r.t.Logf("%s:%d: %s reports no blocked_clients; waiting %v", r.script, st.line, p.name, settleDelay)
				time.Sleep(settleDelay)
				continue
			}
			r.t.Fatalf("%s:%d: @blocked %d on %s: %v", r.script, st.line, want, p.name, err)
		}
	}
}

// errNoBlockedInfo says INFO clients has no blocked_clients field.
var errNoBlockedInfo = fmt.Errorf("no blocked_clients in INFO clients")

// waitBlockedClients polls INFO clients until blocked_clients == want.
func waitBlockedClients(addr string, want int) error {
	c, err := dialRaw(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	deadline := time.Now().Add(blockedTimeout)
	last := -1
	for time.Now().Before(deadline) {
		raw, err := c.do([]string{"INFO", "clients"}, replyTimeout)
		if err != nil {
			return err
		}
		n, ok := infoField(raw, "blocked_clients")
		if !ok {
			return errNoBlockedInfo
		}
		last = n
		if n == want {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("blocked_clients = %d after %v; want %d", last, blockedTimeout, want)
}

// infoField finds "name:<int>" in an INFO reply.
func infoField(raw []byte, name string) (int, bool) {
	for _, line := range strings.Split(string(raw), "\r\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			n, err := strconv.Atoi(v)
			return n, err == nil
		}
	}
	return 0, false
}
