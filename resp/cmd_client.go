package resp

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

func (t *table) addClientCommands() {
	t.add("client|id", kindLocal, func(c *conn, _ [][]byte) { c.w.Int(c.id) })
	t.add("client|setname", kindLocal, clientSetName)
	t.add("client|getname", kindLocal, clientGetName)
	t.add("client|setinfo", kindLocal, clientSetInfo)
	t.add("client|info", kindLocal, func(c *conn, _ [][]byte) { c.w.Verbatim(c.infoLine()) })
	t.add("client|list", kindLocal, clientList)
	t.add("client|kill", kindLocal, clientKill)
	t.add("client|no-evict", kindLocal, clientOnOff)
	t.add("client|no-touch", kindLocal, clientOnOff)
	t.add("client|help", kindLocal, clientHelp)
}

func clientSetName(c *conn, argv [][]byte) {
	if !validClientName(argv[2]) {
		c.replyError(errClientName)
		return
	}
	c.mu.Lock()
	c.name = string(argv[2])
	c.mu.Unlock()
	c.w.Simple("OK")
}

func clientGetName(c *conn, _ [][]byte) {
	c.mu.Lock()
	name := c.name
	c.mu.Unlock()
	if name == "" {
		c.w.Null()
		return
	}
	c.w.BulkString(name)
}

// clientSetInfo is Redis 7.2's CLIENT SETINFO LIB-NAME|LIB-VER value.
func clientSetInfo(c *conn, argv [][]byte) {
	attr := strings.ToLower(string(argv[2]))
	if attr != "lib-name" && attr != "lib-ver" {
		c.replyError(errUnrecognizedOption(argv[2]))
		return
	}
	if !validClientName(argv[3]) {
		c.replyError(errClientAttr(attr))
		return
	}
	c.mu.Lock()
	if attr == "lib-name" {
		c.libName = string(argv[3])
	} else {
		c.libVer = string(argv[3])
	}
	c.mu.Unlock()
	c.w.Simple("OK")
}

func clientOnOff(c *conn, argv [][]byte) {
	switch strings.ToLower(string(argv[2])) {
	case "on", "off":
		c.w.Simple("OK")
	default:
		c.replyError(errSyntax)
	}
}

// infoLine is the connection's CLIENT LIST / CLIENT INFO line, in Redis's
// field order; fields that describe Redis internals streamraft does not
// have (fd, buffers) are reported as Redis reports an idle client.
func (c *conn) infoLine() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	flags := "N"
	switch {
	case c.blocked:
		flags = "b"
	case c.inMulti >= 0:
		flags = "x"
	}
	return fmt.Sprintf("id=%d addr=%s laddr=%s fd=-1 name=%s age=%d idle=%d flags=%s db=0 sub=0 psub=0 ssub=0 "+
		"multi=%d qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r "+
		"cmd=%s user=default redir=-1 resp=%d lib-name=%s lib-ver=%s\n",
		c.id, c.nc.RemoteAddr(), c.nc.LocalAddr(), c.name, int(now.Sub(c.created).Seconds()),
		int(now.Sub(c.lastCmd).Seconds()), flags, c.inMulti, c.cmdName, c.proto, c.libName, c.libVer)
}

func clientList(c *conn, argv [][]byte) {
	var ids map[int64]bool
	typeOK := true
	for j := 2; j < len(argv); j++ {
		switch opt := strings.ToUpper(string(argv[j])); {
		case opt == "TYPE" && j+1 < len(argv):
			j++
			switch strings.ToLower(string(argv[j])) {
			case "normal":
			case "master", "replica", "slave", "pubsub":
				typeOK = false
			default:
				c.replyError(errClientType(argv[j]))
				return
			}
		case opt == "ID" && j+1 < len(argv):
			ids = map[int64]bool{}
			for j++; j < len(argv); j++ {
				id, ok := parseInt(argv[j])
				if !ok || id <= 0 {
					c.replyError(errClientID)
					return
				}
				ids[id] = true
			}
		default:
			c.replyError(errSyntax)
			return
		}
	}
	var b strings.Builder
	if typeOK {
		for _, o := range c.srv.clients() {
			if ids == nil || ids[o.id] {
				b.WriteString(o.infoLine())
			}
		}
	}
	c.w.Verbatim(b.String())
}

// clientKill supports the old form (CLIENT KILL addr) and the filters ID,
// ADDR, LADDR and SKIPME.
func clientKill(c *conn, argv [][]byte) {
	if len(argv) == 3 {
		for _, o := range c.srv.clients() {
			if o.nc.RemoteAddr().String() == string(argv[2]) {
				c.w.Simple("OK")
				c.kill(o)
				return
			}
		}
		c.replyError(errNoSuchClient)
		return
	}
	if len(argv)%2 != 0 {
		c.replyError(errSyntax)
		return
	}
	match, skipMe, msg := killFilter(argv[2:])
	if msg != "" {
		c.replyError(msg)
		return
	}
	n := 0
	var victims []*conn
	for _, o := range c.srv.clients() {
		if (o == c && skipMe) || !match(o) {
			continue
		}
		victims = append(victims, o)
		n++
	}
	c.w.Int(int64(n))
	for _, o := range victims {
		c.kill(o)
	}
}

func killFilter(opts [][]byte) (match func(*conn) bool, skipMe bool, msg string) {
	var preds []func(*conn) bool
	skipMe = true
	for i := 0; i+1 < len(opts); i += 2 {
		val := opts[i+1]
		switch strings.ToUpper(string(opts[i])) {
		case "ID":
			id, ok := parseInt(val)
			if !ok || id <= 0 {
				return nil, false, errClientIDPositive
			}
			preds = append(preds, func(o *conn) bool { return o.id == id })
		case "ADDR":
			preds = append(preds, func(o *conn) bool { return o.nc.RemoteAddr().String() == string(val) })
		case "LADDR":
			preds = append(preds, func(o *conn) bool { return o.nc.LocalAddr().String() == string(val) })
		case "SKIPME":
			switch {
			case bytes.EqualFold(val, []byte("yes")):
				skipMe = true
			case bytes.EqualFold(val, []byte("no")):
				skipMe = false
			default:
				return nil, false, errSyntax
			}
		default:
			return nil, false, errSyntax
		}
	}
	return func(o *conn) bool {
		for _, p := range preds {
			if !p(o) {
				return false
			}
		}
		return true
	}, skipMe, ""
}

// kill closes o; the calling connection itself closes after its reply.
func (c *conn) kill(o *conn) {
	if o == c {
		c.closing = true
		return
	}
	o.cancel()
	o.nc.Close()
}

func clientHelp(c *conn, _ [][]byte) {
	writeHelp(c, "client",
		"GETNAME", "    Return the name of the current connection.",
		"ID", "    Return the ID of the current connection.",
		"INFO", "    Return information about the current client connection.",
		"KILL <ip:port>", "    Kill connection made from <ip:port>.",
		"KILL <option> <value> [<option> <value> [...]]", "    Kill connections. Options are:",
		"    * ADDR <ip:port>", "      Kill connections made from the specified address",
		"    * LADDR <ip:port>", "      Kill connections made to specified local address",
		"    * ID <client-id>", "      Kill connections by client id.",
		"    * SKIPME (YES|NO)", "      Skip killing current connection (default: yes).",
		"LIST [options ...]", "    Return information about client connections. Options:",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)", "      Return clients of specified type.",
		"    * ID <client-id> [<client-id> ...]", "      Return clients with the given ids.",
		"SETNAME <name>", "    Assign the name <name> to the current connection.",
		"SETINFO <option> <value>", "    Set client meta attr. Options are:",
		"    * LIB-NAME: the client lib name.", "    * LIB-VER: the client lib version.",
		"NO-EVICT (ON|OFF)", "    Protect current client connection from eviction.",
		"NO-TOUCH (ON|OFF)", "    Will not touch LRU/LFU stats when this mode is on.",
	)
}
