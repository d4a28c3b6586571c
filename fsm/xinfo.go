package fsm

var xinfoSubs = []subcommand{{"consumers", 4}, {"groups", 3}, {"stream", -3}, {"help", 2}}

var xinfoHelp = []string{
	"XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"CONSUMERS <key> <groupname>",
	"    Show consumers of <groupname>.",
	"GROUPS <key>",
	"    Show the stream consumer groups.",
	"STREAM <key> [FULL [COUNT <count>]",
	"    Show information about the stream.",
	"HELP",
	"    Prints this help.",
}

func checkXInfo(argv [][]byte) *Reply {
	_, r := checkSubcommand(argv, "xinfo", xinfoSubs)
	return r
}

// xinfo: XINFO CONSUMERS key group | GROUPS key | STREAM key [FULL [COUNT
// n]] | HELP. Elapsed times are x.stamp (the reader's clock) minus the
// stored times.
func (m *Machine) xinfo(x *execCtx, argv [][]byte) Reply {
	sub, r := checkSubcommand(argv, "xinfo", xinfoSubs)
	if r != nil {
		return *r
	}
	if sub == "help" {
		return helpReply(xinfoHelp)
	}
	s := m.keys[string(argv[2])]
	if s == nil {
		return Err(errNoSuchKey)
	}
	switch sub {
	case "consumers":
		g := s.group(argv[3])
		if g == nil {
			return errNoGroupName(argv[3], argv[2])
		}
		return consumersInfo(g, x.stamp)
	case "groups":
		out := []Reply{}
		if s.groups != nil {
			s.groups.Scan(func(g *group) bool {
				kv := []Reply{BulkString("name"), BulkString(g.name),
					BulkString("consumers"), Int(int64(g.consumers.Len())),
					BulkString("pending"), Int(int64(g.pel.Len())),
					BulkString("last-delivered-id"), Bulk(g.lastID.AppendText(nil)),
					BulkString("entries-read"), g.entriesReadReply(),
					BulkString("lag"), s.lagReply(g)}
				out = append(out, Map(append(kv, g.dlqInfo()...)...))
				return true
			})
		}
		return Array(out...)
	}
	return streamInfo(s, argv)
}

// consumersInfo is XINFO CONSUMERS with 7.2's fields: name, pending, idle
// (since the last attempt), inactive (since the last success, -1 never).
func consumersInfo(g *group, now int64) Reply {
	out := []Reply{}
	g.consumers.Scan(func(c consumer) bool {
		inactive := int64(-1)
		if c.active != -1 {
			inactive = now - c.active
		}
		out = append(out, Map(BulkString("name"), BulkString(c.name),
			BulkString("pending"), Int(int64(c.pending)),
			BulkString("idle"), Int(max(now-c.seen, 0)),
			BulkString("inactive"), Int(inactive)))
		return true
	})
	return Array(out...)
}

// streamInfo is XINFO STREAM key [FULL [COUNT n]].
func streamInfo(s *stream, argv [][]byte) Reply {
	opts := argv[3:]
	full := len(opts) > 0
	count := int64(10)
	if full {
		if (len(opts) != 1 && len(opts) != 3) || !eqFold(opts[0], "full") ||
			(len(opts) == 3 && !eqFold(opts[1], "count")) {
			return errSubSyntax(argv)
		}
		if len(opts) == 3 {
			v, e := parseInt(opts[2])
			if e != nil {
				return *e
			}
			if v < 0 {
				v = 10
			}
			count = v
		}
	}
	kv := []Reply{
		BulkString("length"), Int(int64(s.length)),
		BulkString("radix-tree-keys"), Int(int64(s.blocks.Len())),
		BulkString("radix-tree-nodes"), Int(int64(s.raxNodes())),
		BulkString("last-generated-id"), Bulk(s.lastID.AppendText(nil)),
		BulkString("max-deleted-entry-id"), Bulk(s.maxDeleted.AppendText(nil)),
		BulkString("entries-added"), Int(int64(s.entriesAdded)),
		BulkString("recorded-first-entry-id"), Bulk(s.firstID.AppendText(nil)),
	}
	// Redis 8.6's idempotent-production fields.
	d, ms, pids, iids, added, dups := s.idmp.info()
	kv = append(kv, BulkString("idmp-duration"), Int(d), BulkString("idmp-maxsize"), Int(ms),
		BulkString("pids-tracked"), Int(pids), BulkString("iids-tracked"), Int(iids),
		BulkString("iids-added"), Int(added), BulkString("iids-duplicates"), Int(dups))
	if !full {
		first, last := Null(), Null()
		if r := s.rangeReply(minID, maxID, 1, false); len(r.Elems) == 1 {
			first = r.Elems[0]
		}
		if r := s.rangeReply(minID, maxID, 1, true); len(r.Elems) == 1 {
			last = r.Elems[0]
		}
		kv = append(kv, BulkString("groups"), Int(int64(s.groupCount())),
			BulkString("first-entry"), first, BulkString("last-entry"), last)
		return Map(kv...)
	}
	groups := []Reply{}
	if s.groups != nil {
		s.groups.Scan(func(g *group) bool { groups = append(groups, s.groupFull(g, count)); return true })
	}
	kv = append(kv, BulkString("entries"), s.rangeReply(minID, maxID, count, false),
		BulkString("groups"), Array(groups...))
	return Map(kv...)
}

// groupFull is one group of XINFO STREAM FULL; count limits each PEL
// listing (0: all).
func (s *stream) groupFull(g *group, count int64) Reply {
	pel := []Reply{}
	g.pel.Scan(func(n nack) bool {
		if count > 0 && int64(len(pel)) >= count {
			return false
		}
		pel = append(pel, Array(Bulk(n.id.AppendText(nil)), BulkString(n.owner), Int(n.time), Int(int64(n.count))))
		return true
	})
	consumers := []Reply{}
	g.consumers.Scan(func(c consumer) bool {
		cp := []Reply{}
		g.cpel.Ascend(cref{owner: c.name}, func(r cref) bool {
			if r.owner != c.name || (count > 0 && int64(len(cp)) >= count) {
				return false
			}
			n, _ := g.pel.Get(nack{id: r.id})
			cp = append(cp, Array(Bulk(r.id.AppendText(nil)), Int(n.time), Int(int64(n.count))))
			return true
		})
		consumers = append(consumers, Map(BulkString("name"), BulkString(c.name),
			BulkString("seen-time"), Int(c.seen), BulkString("active-time"), Int(c.active),
			BulkString("pel-count"), Int(int64(c.pending)), BulkString("pending"), Array(cp...)))
		return true
	})
	return Map(BulkString("name"), BulkString(g.name),
		BulkString("last-delivered-id"), Bulk(g.lastID.AppendText(nil)),
		BulkString("entries-read"), g.entriesReadReply(),
		BulkString("lag"), s.lagReply(g),
		BulkString("pel-count"), Int(int64(g.pel.Len())),
		BulkString("pending"), Array(pel...),
		BulkString("consumers"), Array(consumers...))
}

// raxNodes is the number of nodes Redis's radix tree would have with one
// key per block (the 128-bit big-endian first ID): what XINFO STREAM
// reports as radix-tree-nodes. Redis's rax is a canonical compressed trie,
// so the count follows from the keys alone.
func (s *stream) raxNodes() int {
	keys := make([][16]byte, 0, s.blocks.Len())
	s.blocks.Scan(func(b block) bool {
		var k [16]byte
		putBE64(k[:8], b.first.Ms)
		putBE64(k[8:], b.first.Seq)
		keys = append(keys, k)
		return true
	})
	if len(keys) == 0 {
		return 1
	}
	return raxCount(keys, 0)
}

// raxCount counts the nodes under the position depth of sorted keys that
// share their first depth bytes: a compressed node for a longer common
// prefix, a branch node where they differ, a leaf where a key ends.
func raxCount(keys [][16]byte, depth int) int {
	if len(keys) == 1 {
		if depth == 16 {
			return 1
		}
		return 2
	}
	first, last := keys[0], keys[len(keys)-1]
	common := 0
	for depth+common < 16 && first[depth+common] == last[depth+common] {
		common++
	}
	nodes := 0
	if common > 0 {
		nodes++ // the compressed node
		depth += common
	}
	nodes++ // the branch node
	for i := 0; i < len(keys); {
		j := i + 1
		for j < len(keys) && keys[j][depth] == keys[i][depth] {
			j++
		}
		nodes += raxCount(keys[i:j], depth+1)
		i = j
	}
	return nodes
}

func putBE64(b []byte, v uint64) {
	for i := 7; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
}
