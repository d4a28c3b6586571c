package fsm

import (
	"math"
	"strconv"
)

// ID is a stream entry ID, ordered by (Ms, Seq).
type ID struct {
	Ms, Seq uint64
}

var (
	minID = ID{}
	maxID = ID{Ms: math.MaxUint64, Seq: math.MaxUint64}
)

// Less reports whether a sorts before b.
func (a ID) Less(b ID) bool {
	return a.Ms < b.Ms || (a.Ms == b.Ms && a.Seq < b.Seq)
}

// Compare returns -1, 0 or 1.
func (a ID) Compare(b ID) int {
	switch {
	case a.Less(b):
		return -1
	case b.Less(a):
		return 1
	}
	return 0
}

// IsZero reports whether a is 0-0.
func (a ID) IsZero() bool { return a.Ms == 0 && a.Seq == 0 }

// incr returns the next ID; ok is false at the maximum ID.
func (a ID) incr() (ID, bool) {
	switch {
	case a.Seq < math.MaxUint64:
		return ID{a.Ms, a.Seq + 1}, true
	case a.Ms < math.MaxUint64:
		return ID{a.Ms + 1, 0}, true
	}
	return a, false
}

// decr returns the previous ID; ok is false at 0-0.
func (a ID) decr() (ID, bool) {
	switch {
	case a.Seq > 0:
		return ID{a.Ms, a.Seq - 1}, true
	case a.Ms > 0:
		return ID{a.Ms - 1, math.MaxUint64}, true
	}
	return a, false
}

// AppendText appends "ms-seq".
func (a ID) AppendText(dst []byte) []byte {
	dst = strconv.AppendUint(dst, a.Ms, 10)
	dst = append(dst, '-')
	return strconv.AppendUint(dst, a.Seq, 10)
}

// String returns "ms-seq".
func (a ID) String() string { return string(a.AppendText(make([]byte, 0, 41))) }

// parseIDOpts says how parseID treats the special forms.
type parseIDOpts struct {
	missingSeq uint64 // seq used for a bare "ms"
	strict     bool   // refuse "-" and "+"
	autoSeq    bool   // accept "ms-*" (XADD)
}

// parseID parses a stream ID as Redis's streamGenericParseIDOrReply does,
// including its C-string behaviour (a NUL byte ends the text). seqGiven is
// false only for the "ms-*" form.
func parseID(b []byte, o parseIDOpts) (id ID, seqGiven bool, ok bool) {
	if len(b) > 127 {
		return ID{}, false, false
	}
	b = cstr(b)
	if len(b) == 1 && (b[0] == '-' || b[0] == '+') {
		if o.strict {
			return ID{}, false, false
		}
		if b[0] == '-' {
			return minID, true, true
		}
		return maxID, true, true
	}
	msPart, seqPart, hasDot := cut(b, '-')
	ms, ok := parseULL(msPart)
	if !ok {
		return ID{}, false, false
	}
	if !hasDot {
		return ID{ms, o.missingSeq}, true, true
	}
	if o.autoSeq && len(seqPart) == 1 && seqPart[0] == '*' {
		return ID{ms, 0}, false, true
	}
	seq, ok := parseULL(seqPart)
	if !ok {
		return ID{}, false, false
	}
	return ID{ms, seq}, true, true
}

// parseStrictID parses an ID where "-" and "+" are refused and a bare "ms"
// means ms-0.
func parseStrictID(b []byte) (ID, bool) {
	id, _, ok := parseID(b, parseIDOpts{strict: true})
	return id, ok
}

func cut(b []byte, sep byte) (before, after []byte, found bool) {
	for i, c := range b {
		if c == sep {
			return b[:i], b[i+1:], true
		}
	}
	return b, nil, false
}

// cstr truncates b at its first NUL byte, as C string functions see it.
func cstr(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

// parseInterval parses a range's bounds as XRANGE and XPENDING take them:
// "-", "+", incomplete IDs (an end "ms" means ms-max) and "(" exclusive
// bounds, with Redis's errors in Redis's order.
func parseInterval(startArg, endArg []byte) (start, end ID, r *Reply) {
	fail := func(msg string) (ID, ID, *Reply) { e := Err(msg); return ID{}, ID{}, &e }
	start, ex, ok := parseIntervalID(startArg, 0)
	if !ok {
		return fail(errInvalidID)
	}
	if ex {
		if start, ok = start.incr(); !ok {
			return fail(errInvalidStart)
		}
	}
	end, ex, ok = parseIntervalID(endArg, maxID.Seq)
	if !ok {
		return fail(errInvalidID)
	}
	if ex {
		if end, ok = end.decr(); !ok {
			return fail(errInvalidEnd)
		}
	}
	return start, end, nil
}
