package fsm

import (
	"slices"
	"strings"
)

// subcommand is one subcommand of XGROUP or XINFO: its Redis arity.
type subcommand struct {
	name  string // lower case
	arity int
}

var xgroupSubs = []subcommand{
	{"create", -5}, {"setid", -5}, {"destroy", 4}, {"createconsumer", 5},
	{"delconsumer", 5}, {"help", 2}, {"setdlq", -5},
}

var xgroupHelp = []string{
	"XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"CREATE <key> <groupname> <id|$> [option]",
	"    Create a new consumer group. Options are:",
	"    * MKSTREAM",
	"      Create the empty stream if it does not exist.",
	"    * ENTRIESREAD entries_read",
	"      Set the group's entries_read counter (internal use).",
	"CREATECONSUMER <key> <groupname> <consumer>",
	"    Create a new consumer in the specified group.",
	"DELCONSUMER <key> <groupname> <consumer>",
	"    Remove the specified consumer.",
	"DESTROY <key> <groupname>",
	"    Remove the specified group.",
	"SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
	"    Set the current group ID and entries_read counter.",
	"HELP",
	"    Prints this help.",
}

// checkSubcommand finds argv[1] among subs and checks its arity, with
// Redis's container-command errors.
func checkSubcommand(argv [][]byte, container string, subs []subcommand) (string, *Reply) {
	for _, sc := range subs {
		if !eqFold(argv[1], sc.name) {
			continue
		}
		if (sc.arity > 0 && len(argv) != sc.arity) || (sc.arity < 0 && len(argv) < -sc.arity) {
			r := errArity(container + "|" + sc.name)
			return "", &r
		}
		return sc.name, nil
	}
	r := Err("ERR unknown subcommand '" + sanitize(clip(cstr(argv[1]), 128)) + "'. Try " +
		strings.ToUpper(container) + " HELP.")
	return "", &r
}

// errSubSyntax is Redis's addReplySubcommandSyntaxError.
func errSubSyntax(argv [][]byte) Reply {
	return Err("ERR unknown subcommand or wrong number of arguments for '" +
		sanitize(clip(cstr(argv[1]), 128)) + "'. Try " + strings.ToUpper(string(argv[0])) + " HELP.")
}

// sanitize turns newlines into spaces, as Redis does in error replies.
func sanitize(b []byte) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, string(b))
}

func helpReply(lines []string) Reply {
	out := make([]Reply, len(lines))
	for i, l := range lines {
		out[i] = Simple(l)
	}
	return Array(out...)
}

// xgroupArgs are XGROUP's parsed options.
type xgroupArgs struct {
	sub         string
	mkstream    bool
	entriesRead int64
	dlqMax      uint64 // SETDLQ; 0 for NONE
	dlqKey      string
}

func checkXGroup(argv [][]byte) *Reply {
	_, r := parseXGroup(argv)
	return r
}

// parseXGroup makes XGROUP's stateless checks, in Redis's order.
func parseXGroup(argv [][]byte) (xgroupArgs, *Reply) {
	a := xgroupArgs{entriesRead: invalidEntriesRead}
	sub, r := checkSubcommand(argv, "xgroup", xgroupSubs)
	if r != nil {
		return a, r
	}
	a.sub = sub
	if sub == "setdlq" {
		return a, parseSetDLQ(argv, &a)
	}
	if len(argv) < 4 {
		return a, nil
	}
	create, setid := sub == "create", sub == "setid"
	for i := 5; i < len(argv); {
		switch {
		case create && eqFold(argv[i], "mkstream"):
			a.mkstream = true
			i++
		case (create || setid) && eqFold(argv[i], "entriesread") && i+1 < len(argv):
			v, e := parseInt(argv[i+1])
			if e != nil {
				return a, e
			}
			if v < 0 && v != invalidEntriesRead {
				r := Err(errEntriesReadNeg)
				return a, &r
			}
			a.entriesRead = v
			i += 2
		default:
			r := errSubSyntax(argv)
			return a, &r
		}
	}
	return a, nil
}

// xgroup: XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER|HELP.
func (m *Machine) xgroup(x *execCtx, argv [][]byte) Reply {
	a, r := parseXGroup(argv)
	if r != nil {
		return *r
	}
	if a.sub == "help" {
		return helpReply(slices.Concat(xgroupHelp, dlqHelp))
	}
	key := string(argv[2])
	s := m.keys[key]
	var g *group
	if s != nil {
		g = s.group(argv[3])
	}
	if !a.mkstream {
		if s == nil {
			return Err(errXGroupNoKey)
		}
		if g == nil && (a.sub == "setid" || a.sub == "createconsumer" || a.sub == "delconsumer" || a.sub == "setdlq") {
			return errNoGroupName(argv[3], argv[2])
		}
	}
	n := len(argv)
	switch {
	case a.sub == "create" && n <= 8:
		return m.xgroupCreate(argv, s, a)
	case a.sub == "setid" && (n == 5 || n == 7):
		id := s.lastID
		if string(argv[4]) != "$" {
			var ok bool
			if id, _, ok = parseID(argv[4], parseIDOpts{}); !ok {
				return Err(errInvalidID)
			}
		}
		g.lastID, g.entriesRead = id, a.entriesRead
		return OK()
	case a.sub == "destroy":
		if g == nil {
			return Int(0)
		}
		s.groups.Delete(g)
		x.signal(key)
		return Int(1)
	case a.sub == "createconsumer":
		_, created := g.touchConsumerIfNew(string(argv[4]), x.stamp)
		return boolInt(created)
	case a.sub == "setdlq":
		g.dlqMax, g.dlqKey = a.dlqMax, a.dlqKey
		return OK()
	case a.sub == "delconsumer":
		pending, _ := g.deleteConsumer(string(argv[4]))
		return Int(int64(pending))
	}
	return errSubSyntax(argv)
}

// xgroupCreate: XGROUP CREATE key group <id|$> [MKSTREAM] [ENTRIESREAD n].
func (m *Machine) xgroupCreate(argv [][]byte, s *stream, a xgroupArgs) Reply {
	var id ID
	if string(argv[4]) == "$" {
		if s != nil {
			id = s.lastID
		}
	} else {
		var ok bool
		if id, ok = parseStrictID(argv[4]); !ok {
			return Err(errInvalidID)
		}
	}
	if s == nil {
		s = m.create(string(argv[2]))
		m.touch(s)
	}
	if s.group(argv[3]) != nil {
		return Err(errBusyGroup)
	}
	if s.groups == nil {
		s.groups = newGroupTree()
	}
	s.groups.Set(newGroup(string(argv[3]), id, a.entriesRead))
	return OK()
}

// touchConsumerIfNew creates the named consumer if it does not exist.
func (g *group) touchConsumerIfNew(name string, now int64) (consumer, bool) {
	if c, ok := g.consumer(name); ok {
		return c, false
	}
	return g.touchConsumer(name, now)
}

func boolInt(b bool) Reply {
	if b {
		return Int(1)
	}
	return Int(0)
}
