package resp

import (
	"fmt"
	"strings"

	"github.com/streamraft/streamraft/fsm"
)

// kind says how the dispatcher runs a command.
type kind uint8

const (
	// kindLocal commands are answered by a handler in this package.
	kindLocal kind = iota
	// kindRead commands run Machine.Read through Backend.Read.
	kindRead
	// kindWrite commands are validated, then proposed with Backend.Write.
	kindWrite
)

type handler func(c *conn, argv [][]byte)

// command is one entry of the command table.
type command struct {
	meta    *Meta
	kind    kind
	handler handler // kindLocal only
	// immediate commands run at once even inside MULTI, as Redis 7.0 runs
	// MULTI, EXEC, DISCARD, WATCH, QUIT and RESET.
	immediate bool
	subs      map[string]*command // a container's subcommands
	// readGroup marks XREADGROUP: a write tried from the state before it
	// is proposed (conn.tryRead).
	readGroup bool
	// unlisted subcommands are not shown in their container's COMMAND INFO.
	unlisted bool
	// fanout runs a keyless read or write over every shard (fanout.go).
	fanout func(c *conn, argv [][]byte, nowMs int64) (fsm.Reply, error)
}

// table is the one command table: every name the server answers.
type table struct {
	byName map[string]*command
	list   []*command // top-level commands in registration order
}

// extraMeta describes commands Redis 7.0 lacks but clients send (7.2's
// CLIENT SETINFO and CLIENT NO-TOUCH), in 7.2's terms, the newer stream
// commands (8.2's XACKDEL and XDELEX, 8.6's XCFGSET) in their version's
// terms, and streamraft's XGROUP SETDLQ.
var extraMeta = map[string]*Meta{
	"xackdel": {Name: "xackdel", Arity: -6, Flags: []string{"write", "fast"},
		FirstKey: 1, LastKey: 1, Step: 1, ACL: []string{"@write", "@stream", "@fast"},
		DocSummary: "Acknowledges and deletes one or multiple messages for a stream consumer group.",
		DocSince:   "8.2.0", DocGroup: "stream", DocComplexity: "O(1) for each message ID processed.",
		KeySpecs: []keySpec{{Flags: []string{"RW", "update", "delete"}, Begin: beginSearch{Type: "index", Index: 1},
			Find: findKeys{Type: "range", LastKey: 0, KeyStep: 1, Limit: 0}}}},
	"xdelex": {Name: "xdelex", Arity: -5, Flags: []string{"write", "fast"},
		FirstKey: 1, LastKey: 1, Step: 1, ACL: []string{"@write", "@stream", "@fast"},
		DocSummary: "Returns the number of messages after removing them from a stream. The command can be used to remove entries from the stream based on the PEL or the ACKED status.",
		DocSince:   "8.2.0", DocGroup: "stream", DocComplexity: "O(1) for each single item to delete in the stream, regardless of the stream size.",
		KeySpecs: []keySpec{{Flags: []string{"RW", "delete"}, Begin: beginSearch{Type: "index", Index: 1},
			Find: findKeys{Type: "range", LastKey: 0, KeyStep: 1, Limit: 0}}}},
	// CLUSTER FORGET drains a node here (cluster.Node.Forget) instead of
	// dropping it from one node's table; its metadata is Redis 7.0's.
	"cluster|forget": {Name: "cluster|forget", Arity: 3, Flags: []string{"admin", "stale", "no_async_loading"},
		ACL: []string{"@admin", "@slow", "@dangerous"}, DocSummary: "Remove a node from the nodes table",
		DocSince: "3.0.0", DocGroup: "cluster", DocComplexity: "O(1)"},
	"xcfgset": {Name: "xcfgset", Arity: -2, Flags: []string{"write", "fast"},
		FirstKey: 1, LastKey: 1, Step: 1, ACL: []string{"@write", "@stream", "@fast"},
		DocSummary: "Sets the IDMP configuration parameters for a stream.",
		DocSince:   "8.6.0", DocGroup: "stream", DocComplexity: "O(1)",
		KeySpecs: []keySpec{{Flags: []string{"RW", "update"}, Begin: beginSearch{Type: "index", Index: 1},
			Find: findKeys{Type: "range", LastKey: 0, KeyStep: 1, Limit: 0}}}},
	// CLUSTER SHARDDIGEST shard: this node's replica of shard, as
	// [applied index, SHA-256 of its state], for comparing replicas.
	"cluster|sharddigest": {Name: "cluster|sharddigest", Arity: 3, Flags: []string{"admin", "stale", "loading"},
		ACL: []string{"@admin", "@slow"}, DocSummary: "Returns the applied index and state digest of this node's replica of a shard (streamraft extension).",
		DocSince: "streamraft", DocGroup: "cluster", DocComplexity: "O(N) where N is the size of the shard's state"},
	// XGROUP SETDLQ key group max-deliveries dead-letter-key (or a shorter
	// form that removes the policy): the dead-letter key shares the
	// stream's slot, so the stream's key routes it.
	"xgroup|setdlq": {Name: "xgroup|setdlq", Arity: -5, Flags: []string{"write"},
		FirstKey: 2, LastKey: 2, Step: 1, ACL: []string{"@write", "@stream", "@slow"},
		DocSummary: "Sets or removes the dead-letter policy of a consumer group (streamraft extension).",
		DocSince:   "streamraft", DocGroup: "stream", DocComplexity: "O(1)",
		KeySpecs: []keySpec{
			{Flags: []string{"RW", "update"}, Begin: beginSearch{Type: "index", Index: 2},
				Find: findKeys{Type: "range", LastKey: 0, KeyStep: 1, Limit: 0}},
			{Flags: []string{"RW", "insert"}, Begin: beginSearch{Type: "index", Index: 5},
				Find: findKeys{Type: "range", LastKey: 0, KeyStep: 1, Limit: 0}},
		}},
	"client|setinfo": {Name: "client|setinfo", Arity: 4, Flags: []string{"noscript", "loading", "stale"},
		ACL: []string{"@slow", "@connection"}, DocSummary: "Set client or connection specific info",
		DocSince: "7.2.0", DocGroup: "connection", DocComplexity: "O(1)"},
	"client|no-touch": {Name: "client|no-touch", Arity: 3, Flags: []string{"noscript", "loading", "stale"},
		ACL: []string{"@slow", "@connection"}, DocSummary: "Controls whether commands sent by the client will alter the LRU/LFU of the keys they access.",
		DocSince: "7.2.0", DocGroup: "connection", DocComplexity: "O(1)"},
}

// newTable builds the command table. Registering a name twice, or a name
// without Redis metadata, panics: both are programming errors.
func newTable() *table {
	t := &table{byName: map[string]*command{}}
	t.addStreamCommands()
	t.addKeyspaceCommands()
	t.addConnectionCommands()
	t.addServerCommands()
	t.addTransactionCommands()
	t.addClusterCommands()
	t.finish()
	return t
}

func (t *table) addStreamCommands() {
	for _, n := range []string{"xadd", "xdel", "xtrim", "xsetid", "xack", "xclaim", "xautoclaim",
		"xgroup|create", "xgroup|setid", "xgroup|destroy", "xgroup|createconsumer", "xgroup|delconsumer",
		"xcfgset", "xackdel", "xdelex"} {
		t.add(n, kindWrite, nil)
	}
	t.add("xreadgroup", kindWrite, nil).readGroup = true
	// streamraft's extension stays out of COMMAND INFO XGROUP, which is
	// byte-identical to Redis's; COMMAND INFO XGROUP|SETDLQ describes it.
	t.add("xgroup|setdlq", kindWrite, nil).unlisted = true
	for _, n := range []string{"xrange", "xrevrange", "xlen", "xread", "xpending",
		"xinfo|stream", "xinfo|groups", "xinfo|consumers", "xinfo|help", "xgroup|help"} {
		t.add(n, kindRead, nil)
	}
}

func (t *table) addKeyspaceCommands() {
	for _, n := range []string{"del", "unlink"} {
		t.add(n, kindWrite, nil)
	}
	for _, n := range []string{"flushall", "flushdb"} {
		t.add(n, kindWrite, nil).fanout = fanoutFlush
	}
	for _, n := range []string{"exists", "type"} {
		t.add(n, kindRead, nil)
	}
	t.add("keys", kindRead, nil).fanout = fanoutKeys
	t.add("dbsize", kindRead, nil).fanout = fanoutDBSize
	t.add("scan", kindRead, nil).fanout = fanoutScan
}

// add registers name ("cmd" or "container|sub").
func (t *table) add(name string, k kind, h handler) *command {
	if (k == kindLocal) != (h != nil) {
		panic(fmt.Sprintf("resp: command %q: a handler is required exactly for local commands", name))
	}
	meta := findMeta(name)
	if meta == nil {
		panic(fmt.Sprintf("resp: command %q has no metadata", name))
	}
	c := &command{meta: meta, kind: k, handler: h}
	container, sub, isSub := strings.Cut(name, "|")
	if !isSub {
		if _, dup := t.byName[name]; dup {
			panic(fmt.Sprintf("resp: command %q registered twice", name))
		}
		t.byName[name] = c
		t.list = append(t.list, c)
		return c
	}
	parent := t.byName[container]
	if parent == nil {
		pm := *findMeta(container)
		pm.Subs = nil
		parent = &command{meta: &pm, subs: map[string]*command{}}
		t.byName[container] = parent
		t.list = append(t.list, parent)
	}
	if _, dup := parent.subs[sub]; dup {
		panic(fmt.Sprintf("resp: command %q registered twice", name))
	}
	parent.subs[sub] = c
	return c
}

// finish lists each container's subcommands in Redis's order (what COMMAND
// INFO shows), then the extra ones.
func (t *table) finish() {
	for _, c := range t.list {
		if c.subs == nil {
			continue
		}
		seen := map[string]bool{}
		if rm := redisMetaNamed(c.meta.Name); rm != nil {
			for _, s := range rm.Subs {
				if sc := c.subs[strings.TrimPrefix(s.Name, c.meta.Name+"|")]; sc != nil {
					c.meta.Subs = append(c.meta.Subs, sc.meta)
					seen[s.Name] = true
				}
			}
		}
		for _, sc := range c.subs {
			if !seen[sc.meta.Name] && !sc.unlisted {
				c.meta.Subs = append(c.meta.Subs, sc.meta)
			}
		}
	}
}

func redisMetaNamed(name string) *Meta {
	for _, m := range redisMeta {
		if m.Name == name {
			return m
		}
	}
	return nil
}

func findMeta(name string) *Meta {
	if m := extraMeta[name]; m != nil {
		return m
	}
	container, _, isSub := strings.Cut(name, "|")
	m := redisMetaNamed(container)
	if m == nil || !isSub {
		return m
	}
	for _, s := range m.Subs {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// lookup finds argv's command and checks its arity. errMsg is the error
// reply for an unknown command or subcommand or a wrong argument count.
func (t *table) lookup(argv [][]byte) (cmd *command, errMsg string) {
	cmd = lookupLower(t.byName, argv[0])
	if cmd == nil {
		return nil, errUnknownCommand(argv)
	}
	if cmd.subs != nil && (len(argv) >= 2 || cmd.handler == nil) {
		if len(argv) < 2 {
			return nil, errArity(cmd.meta.Name)
		}
		sub := lookupLower(cmd.subs, argv[1])
		if sub == nil {
			return nil, errUnknownSubcommand(argv[1], cmd.meta.Name)
		}
		cmd = sub
	}
	if a := cmd.meta.Arity; (a > 0 && len(argv) != a) || len(argv) < -a {
		return nil, errArity(cmd.meta.Name)
	}
	return cmd, ""
}

// get finds a top-level command or "container|sub" by name, for COMMAND.
func (t *table) get(name string) *command {
	name = strings.ToLower(name)
	container, sub, isSub := strings.Cut(name, "|")
	c := t.byName[container]
	if c == nil || !isSub {
		return c
	}
	return c.subs[sub]
}

// routeKey is the key that chooses the shard: argv's first key, or nil.
func (c *command) routeKey(argv [][]byte) []byte {
	pos, ok := c.meta.keys(argv)
	if !ok || len(pos) == 0 {
		return nil
	}
	return argv[pos[0]]
}

// lookupLower finds a command name case-insensitively; names up to 32 bytes
// are lower-cased on the stack, so the lookup does not allocate.
func lookupLower(m map[string]*command, b []byte) *command {
	var buf [32]byte
	if len(b) > len(buf) {
		return m[strings.ToLower(string(b))]
	}
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return m[string(buf[:len(b)])]
}
