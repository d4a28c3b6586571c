package resp

import "bytes"

// Meta is what COMMAND INFO reports for one command or subcommand, in the
// shape of Redis 7.0's 10-element reply.
type Meta struct {
	Name     string // lower case; subcommands are "container|sub"
	Arity    int    // Redis's: negative means at least -Arity
	Flags    []string
	FirstKey int
	LastKey  int
	Step     int
	ACL      []string
	Tips     []string
	KeySpecs []keySpec
	Subs     []*Meta

	DocSummary    string
	DocSince      string
	DocGroup      string
	DocComplexity string
}

type keySpec struct {
	Notes string
	Flags []string
	Begin beginSearch
	Find  findKeys
}

type beginSearch struct {
	Type      string // "index", "keyword" or "unknown"
	Index     int
	Keyword   string
	StartFrom int
}

type findKeys struct {
	Type      string // "range", "keynum" or "unknown"
	LastKey   int
	KeyStep   int
	Limit     int
	KeyNumIdx int
	FirstKey  int
}

// keys returns the positions of argv's keys, found with the key specs as
// Redis's getKeysUsingKeySpecs does; ok is false when argv is too short for
// what the specs describe.
func (m *Meta) keys(argv [][]byte) (pos []int, ok bool) {
	for _, ks := range m.KeySpecs {
		first, good := ks.Begin.start(argv)
		if !good {
			continue
		}
		p, good := ks.Find.positions(argv, first)
		if !good {
			return nil, false
		}
		pos = append(pos, p...)
	}
	return pos, true
}

func (b beginSearch) start(argv [][]byte) (int, bool) {
	switch b.Type {
	case "index":
		return b.Index, b.Index < len(argv)
	case "keyword":
		if b.StartFrom >= 0 {
			for i := b.StartFrom; i < len(argv); i++ {
				if bytes.EqualFold(argv[i], []byte(b.Keyword)) {
					return i + 1, true
				}
			}
			return 0, false
		}
		for i := len(argv) + b.StartFrom; i > 0; i-- {
			if bytes.EqualFold(argv[i], []byte(b.Keyword)) {
				return i + 1, true
			}
		}
	}
	return 0, false
}

func (f findKeys) positions(argv [][]byte, first int) ([]int, bool) {
	argc := len(argv)
	var last, step int
	switch f.Type {
	case "range":
		step = f.KeyStep
		switch {
		case f.LastKey >= 0:
			last = first + f.LastKey
		case f.Limit == 0:
			last = argc + f.LastKey
		default:
			last = first + (argc-first)/f.Limit + f.LastKey
		}
	case "keynum":
		idx := first + f.KeyNumIdx
		if idx >= argc {
			return nil, false
		}
		n, ok := parseInt(argv[idx])
		if !ok || n < 0 {
			return nil, false
		}
		first, step = first+f.FirstKey, f.KeyStep
		last = first + int(n-1)*step
		if n == 0 {
			return nil, true
		}
	default:
		return nil, true
	}
	if first >= argc || last >= argc || last < first || step <= 0 {
		return nil, false
	}
	var pos []int
	for i := first; i <= last; i += step {
		pos = append(pos, i)
	}
	return pos, true
}

// writeInfo appends m's COMMAND INFO entry.
func (m *Meta) writeInfo(w *Writer) {
	w.Array(10)
	w.BulkString(m.Name)
	w.Int(int64(m.Arity))
	w.Set(len(m.Flags))
	for _, f := range m.Flags {
		w.Simple(f)
	}
	w.Int(int64(m.FirstKey))
	w.Int(int64(m.LastKey))
	w.Int(int64(m.Step))
	w.Set(len(m.ACL))
	for _, a := range m.ACL {
		w.Simple(a)
	}
	w.Set(len(m.Tips))
	for _, t := range m.Tips {
		w.BulkString(t)
	}
	w.Set(len(m.KeySpecs))
	for _, ks := range m.KeySpecs {
		ks.write(w)
	}
	if len(m.Subs) == 0 {
		w.Set(0)
		return
	}
	w.Array(len(m.Subs))
	for _, s := range m.Subs {
		s.writeInfo(w)
	}
}

func (ks keySpec) write(w *Writer) {
	n := 3
	if ks.Notes != "" {
		n = 4
		w.Map(n)
		w.BulkString("notes")
		w.BulkString(ks.Notes)
	} else {
		w.Map(n)
	}
	w.BulkString("flags")
	w.Set(len(ks.Flags))
	for _, f := range ks.Flags {
		w.Simple(f)
	}
	w.BulkString("begin_search")
	w.Map(2)
	w.BulkString("type")
	w.BulkString(ks.Begin.Type)
	w.BulkString("spec")
	switch ks.Begin.Type {
	case "index":
		w.Map(1)
		w.BulkString("index")
		w.Int(int64(ks.Begin.Index))
	case "keyword":
		w.Map(2)
		w.BulkString("keyword")
		w.BulkString(ks.Begin.Keyword)
		w.BulkString("startfrom")
		w.Int(int64(ks.Begin.StartFrom))
	default:
		w.Map(0)
	}
	w.BulkString("find_keys")
	w.Map(2)
	w.BulkString("type")
	w.BulkString(ks.Find.Type)
	w.BulkString("spec")
	switch ks.Find.Type {
	case "range":
		writeIntMap(w, "lastkey", ks.Find.LastKey, "keystep", ks.Find.KeyStep, "limit", ks.Find.Limit)
	case "keynum":
		writeIntMap(w, "keynumidx", ks.Find.KeyNumIdx, "firstkey", ks.Find.FirstKey, "keystep", ks.Find.KeyStep)
	default:
		w.Map(0)
	}
}

func writeIntMap(w *Writer, k1 string, v1 int, k2 string, v2 int, k3 string, v3 int) {
	w.Map(3)
	w.BulkString(k1)
	w.Int(int64(v1))
	w.BulkString(k2)
	w.Int(int64(v2))
	w.BulkString(k3)
	w.Int(int64(v3))
}

// writeDocs appends m's COMMAND DOCS value: a map of the documented fields
// (summary, since, group, complexity, subcommands).
func (m *Meta) writeDocs(w *Writer) {
	type field struct{ k, v string }
	var fs []field
	for _, f := range []field{{"summary", m.DocSummary}, {"since", m.DocSince},
		{"group", m.DocGroup}, {"complexity", m.DocComplexity}} {
		if f.v != "" {
			fs = append(fs, f)
		}
	}
	n := len(fs)
	if len(m.Subs) > 0 {
		n++
	}
	w.Map(n)
	for _, f := range fs {
		w.BulkString(f.k)
		w.BulkString(f.v)
	}
	if len(m.Subs) > 0 {
		w.BulkString("subcommands")
		w.Map(len(m.Subs))
		for _, s := range m.Subs {
			w.BulkString(s.Name)
			s.writeDocs(w)
		}
	}
}
