package resp

import (
	"bytes"
	"strings"

	"github.com/streamraft/streamraft/fsm"
)

func (t *table) addConnectionCommands() {
	t.add("ping", kindLocal, cmdPing)
	t.add("echo", kindLocal, cmdEcho)
	t.add("hello", kindLocal, cmdHello)
	t.add("auth", kindLocal, cmdAuth)
	t.add("select", kindLocal, cmdSelect)
	t.add("quit", kindLocal, cmdQuit).immediate = true
	t.add("reset", kindLocal, cmdReset).immediate = true
	t.add("readonly", kindLocal, cmdReadOnly)
	t.add("readwrite", kindLocal, cmdReadWrite)
	t.add("asking", kindLocal, cmdOK)
	t.addClientCommands()
}

func cmdOK(c *conn, _ [][]byte) { c.w.Simple("OK") }

// cmdReadOnly: READONLY. Until READWRITE or RESET, the connection's
// non-blocking keyed reads are served from this node's own replica of the
// shard (Backend.ReadLocal), possibly stale, as a Redis replica serves
// reads of its master's slots to a client that sent READONLY.
func cmdReadOnly(c *conn, _ [][]byte) {
	c.readonly = true
	c.w.Simple("OK")
}

// cmdReadWrite: READWRITE, back to reads through the shard's leader.
func cmdReadWrite(c *conn, _ [][]byte) {
	c.readonly = false
	c.w.Simple("OK")
}

func cmdPing(c *conn, argv [][]byte) {
	switch len(argv) {
	case 1:
		c.w.Simple("PONG")
	case 2:
		c.w.Bulk(argv[1])
	default:
		c.replyError(errArity("ping"))
	}
}

func cmdEcho(c *conn, argv [][]byte) { c.w.Bulk(argv[1]) }

func cmdQuit(c *conn, _ [][]byte) {
	c.w.Simple("OK")
	c.closing = true
}

// cmdReset leaves MULTI, unwatches, clears the name and goes back to RESP2.
func cmdReset(c *conn, _ [][]byte) {
	c.multi = nil
	c.watched = nil
	c.readonly = false
	c.w.Proto = 2
	c.mu.Lock()
	c.name, c.proto, c.inMulti = "", 2, -1
	c.mu.Unlock()
	c.w.Simple("RESET")
}

func cmdSelect(c *conn, argv [][]byte) {
	n, ok := parseInt(argv[1])
	switch {
	case !ok || n != int64(int32(n)):
		c.replyError(errNotInteger)
	case n != 0:
		// One database; and the server is cluster-shaped (DESIGN.md: a lone
		// streamraft is a one-node cluster), so answer as Redis Cluster.
		c.replyError(errSelectCluster)
	default:
		c.w.Simple("OK")
	}
}

// checkAuth answers what Redis says for a default user without a password:
// the default user authenticates with anything, other users do not exist.
func checkAuth(user []byte) string {
	if user != nil && !bytes.Equal(user, []byte("default")) {
		return errWrongPass
	}
	return ""
}

func cmdAuth(c *conn, argv [][]byte) {
	switch len(argv) {
	case 2:
		c.replyError(errAuthNoPassword)
	case 3:
		if msg := checkAuth(argv[1]); msg != "" {
			c.replyError(msg)
			return
		}
		c.w.Simple("OK")
	default:
		c.replyError(errSyntax)
	}
}

func cmdHello(c *conn, argv [][]byte) {
	proto := c.w.Proto
	if len(argv) >= 2 {
		v, ok := parseInt(argv[1])
		if !ok {
			c.replyError(errProtoNotInt)
			return
		}
		if v < 2 || v > 3 {
			c.replyError(errNoProto)
			return
		}
		proto = int(v)
	}
	var user, name []byte
	for j := 2; j < len(argv); j++ {
		more := len(argv) - j - 1
		switch opt := strings.ToUpper(string(argv[j])); {
		case opt == "AUTH" && more >= 2:
			user = argv[j+1]
			j += 2
		case opt == "SETNAME" && more >= 1:
			if !validClientName(argv[j+1]) {
				c.replyError(errClientName)
				return
			}
			name = argv[j+1]
			j++
		default:
			c.replyError(errHelloOption(argv[j]))
			return
		}
	}
	if user != nil {
		if msg := checkAuth(user); msg != "" {
			c.replyError(msg)
			return
		}
	}
	c.w.Proto = proto
	c.mu.Lock()
	if name != nil {
		c.name = string(name)
	}
	c.proto = proto
	c.mu.Unlock()
	cfg := c.srv.config()
	mode := "standalone"
	if cfg.ClusterEnabled {
		mode = "cluster"
	}
	c.w.Reply(fsm.Map(
		fsm.BulkString("server"), fsm.BulkString("redis"),
		fsm.BulkString("version"), fsm.BulkString(cfg.Version),
		fsm.BulkString("proto"), fsm.Int(int64(proto)),
		fsm.BulkString("id"), fsm.Int(c.id),
		fsm.BulkString("mode"), fsm.BulkString(mode),
		fsm.BulkString("role"), fsm.BulkString("master"),
		fsm.BulkString("modules"), fsm.Array(),
	))
}

// validClientName: Redis allows only '!' to '~' in client names.
func validClientName(b []byte) bool {
	for _, ch := range b {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

// writeHelp writes a HELP reply as Redis's addReplyHelp: a title line,
// the given lines, and the HELP entry, as simple strings.
func writeHelp(c *conn, name string, lines ...string) {
	c.w.Array(len(lines) + 3)
	c.w.Simple(strings.ToUpper(name) + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		c.w.Simple(l)
	}
	c.w.Simple("HELP")
	c.w.Simple("    Prints this help.")
}
