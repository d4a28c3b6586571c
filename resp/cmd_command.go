package resp

import (
	"strings"
)

func (t *table) addServerCommands() {
	t.add("command|count", kindLocal, func(c *conn, _ [][]byte) { c.w.Int(int64(len(c.srv.table.list))) })
	t.add("command|info", kindLocal, commandInfo)
	t.add("command|docs", kindLocal, commandDocs)
	t.add("command|list", kindLocal, commandList)
	t.add("command|getkeys", kindLocal, commandGetKeys)
	t.add("command|help", kindLocal, commandHelp)
	t.add("info", kindLocal, cmdInfo)
	t.add("wait", kindLocal, cmdWait)
	t.addConfigCommands()
	// COMMAND alone (no subcommand) lists every command: the container's
	// lookup sends it here.
	t.byName["command"].handler = commandAll
	t.byName["command"].kind = kindLocal
}

func commandAll(c *conn, _ [][]byte) {
	list := c.srv.table.list
	c.w.Array(len(list))
	for _, cmd := range list {
		cmd.meta.writeInfo(&c.w)
	}
}

func commandInfo(c *conn, argv [][]byte) {
	if len(argv) == 2 {
		commandAll(c, argv)
		return
	}
	c.w.Array(len(argv) - 2)
	for _, name := range argv[2:] {
		cmd := c.srv.table.get(string(name))
		if cmd == nil {
			c.w.Null()
			continue
		}
		cmd.meta.writeInfo(&c.w)
	}
}

func commandDocs(c *conn, argv [][]byte) {
	var cmds []*command
	if len(argv) == 2 {
		cmds = c.srv.table.list
	} else {
		for _, name := range argv[2:] {
			if cmd := c.srv.table.get(string(name)); cmd != nil {
				cmds = append(cmds, cmd)
			}
		}
	}
	c.w.Map(len(cmds))
	for _, cmd := range cmds {
		c.w.BulkString(cmd.meta.Name)
		cmd.meta.writeDocs(&c.w)
	}
}

// commandList lists every command and subcommand name, optionally
// FILTERBY ACLCAT <category> or PATTERN <glob>.
func commandList(c *conn, argv [][]byte) {
	filter := func(*Meta) bool { return true }
	switch {
	case len(argv) == 2:
	case len(argv) == 5 && strings.EqualFold(string(argv[2]), "filterby"):
		val := string(argv[4])
		switch strings.ToLower(string(argv[3])) {
		case "aclcat":
			filter = func(m *Meta) bool {
				for _, a := range m.ACL {
					if strings.EqualFold(a, "@"+val) {
						return true
					}
				}
				return false
			}
		case "pattern":
			filter = func(m *Meta) bool { return globMatch([]byte(val), []byte(m.Name), true) }
		case "module":
			filter = func(*Meta) bool { return false }
		default:
			c.replyError(errSyntax)
			return
		}
	default:
		c.replyError(errSyntax)
		return
	}
	var names []string
	for _, cmd := range c.srv.table.list {
		if filter(cmd.meta) {
			names = append(names, cmd.meta.Name)
		}
		for _, s := range cmd.meta.Subs {
			if filter(s) {
				names = append(names, s.Name)
			}
		}
	}
	c.w.Array(len(names))
	for _, n := range names {
		c.w.BulkString(n)
	}
}

func commandGetKeys(c *conn, argv [][]byte) {
	cmd, errMsg := c.srv.table.lookup(argv[2:])
	switch {
	case cmd == nil && strings.HasPrefix(errMsg, errArityPrefix):
		c.replyError(errGetkeysArgs)
		return
	case cmd == nil:
		c.replyError(errInvalidCommand)
		return
	}
	if len(cmd.meta.KeySpecs) == 0 {
		c.replyError(errGetkeysNoKeys)
		return
	}
	pos, ok := cmd.meta.keys(argv[2:])
	if !ok {
		c.replyError(errGetkeysInvalid)
		return
	}
	if len(pos) == 0 {
		c.replyError(errGetkeysNoKeys)
		return
	}
	c.w.Array(len(pos))
	for _, p := range pos {
		c.w.Bulk(argv[2+p])
	}
}

func commandHelp(c *conn, _ [][]byte) {
	writeHelp(c, "command",
		"(no subcommand)", "    Return details about all Redis commands.",
		"COUNT", "    Return the total number of commands in this Redis server.",
		"LIST", "    Return a list of all commands in this Redis server.",
		"INFO [<command-name> ...]", "    Return details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"DOCS [<command-name> ...]", "    Return documentation details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"GETKEYS <full-command>", "    Return the keys from a full Redis command.",
	)
}
