package resp

import (
	"strconv"

	"github.com/tidwall/redcon"

	"github.com/streamraft/streamraft/fsm"
)

// Writer appends RESP replies to a byte buffer in the connection's protocol
// version. A connection keeps one Writer and reuses its buffer, so replies
// do not allocate in the steady state.
type Writer struct {
	Buf   []byte
	Proto int // 2 or 3
}

// Reply appends r.
func (w *Writer) Reply(r fsm.Reply) { w.Buf = AppendReply(w.Buf, r, w.Proto) }

// Simple appends a simple string; CR and LF become spaces, as in Redis.
func (w *Writer) Simple(s string) { w.Buf = appendLine(w.Buf, '+', s) }

// Error appends an error; msg carries its code ("ERR ...").
func (w *Writer) Error(msg string) { w.Buf = appendLine(w.Buf, '-', msg) }

// Int appends an integer.
func (w *Writer) Int(n int64) { w.Buf = redcon.AppendInt(w.Buf, n) }

// Bulk appends a bulk string.
func (w *Writer) Bulk(b []byte) { w.Buf = redcon.AppendBulk(w.Buf, b) }

// BulkString appends a bulk string.
func (w *Writer) BulkString(s string) { w.Buf = redcon.AppendBulkString(w.Buf, s) }

// Null appends the null bulk string ($-1, or _ in RESP3).
func (w *Writer) Null() { w.Buf = appendNull(w.Buf, fsm.KindNull, w.Proto) }

// NullArray appends the null array (*-1, or _ in RESP3).
func (w *Writer) NullArray() { w.Buf = appendNull(w.Buf, fsm.KindNullArray, w.Proto) }

// Array appends an array header of n elements.
func (w *Writer) Array(n int) { w.Buf = redcon.AppendArray(w.Buf, n) }

// Map appends a map header of n pairs (a flat array of 2n in RESP2).
func (w *Writer) Map(n int) {
	if w.Proto == 3 {
		w.Buf = appendHeader(w.Buf, '%', n)
		return
	}
	w.Buf = redcon.AppendArray(w.Buf, 2*n)
}

// Set appends a set header (an array in RESP2).
func (w *Writer) Set(n int) {
	if w.Proto == 3 {
		w.Buf = appendHeader(w.Buf, '~', n)
		return
	}
	w.Buf = redcon.AppendArray(w.Buf, n)
}

// Verbatim appends a verbatim "txt" string in RESP3, a bulk string in RESP2.
func (w *Writer) Verbatim(s string) {
	if w.Proto != 3 {
		w.BulkString(s)
		return
	}
	w.Buf = appendHeader(w.Buf, '=', len(s)+4)
	w.Buf = append(w.Buf, "txt:"...)
	w.Buf = append(w.Buf, s...)
	w.Buf = append(w.Buf, '\r', '\n')
}

// AppendReply appends the RESP rendering of r for protocol version proto
// (2 or 3) to dst.
func AppendReply(dst []byte, r fsm.Reply, proto int) []byte {
	switch r.Kind {
	case fsm.KindSimple:
		return appendLine(dst, '+', r.Str)
	case fsm.KindError:
		return appendLine(dst, '-', r.Str)
	case fsm.KindInt:
		return redcon.AppendInt(dst, r.Int)
	case fsm.KindBulk:
		return redcon.AppendBulk(dst, r.Bulk)
	case fsm.KindNull, fsm.KindNullArray:
		return appendNull(dst, r.Kind, proto)
	case fsm.KindArray:
		dst = redcon.AppendArray(dst, len(r.Elems))
	case fsm.KindMap:
		if proto == 3 {
			dst = appendHeader(dst, '%', len(r.Elems)/2)
		} else {
			dst = redcon.AppendArray(dst, len(r.Elems))
		}
	case fsm.KindPairs:
		if proto == 3 {
			dst = appendHeader(dst, '%', len(r.Elems)/2)
			break
		}
		dst = redcon.AppendArray(dst, len(r.Elems)/2)
		for i := 0; i+1 < len(r.Elems); i += 2 {
			dst = redcon.AppendArray(dst, 2)
			dst = AppendReply(dst, r.Elems[i], proto)
			dst = AppendReply(dst, r.Elems[i+1], proto)
		}
		return dst
	default:
		return appendLine(dst, '-', errUnknownKind+strconv.Itoa(int(r.Kind)))
	}
	for _, e := range r.Elems {
		dst = AppendReply(dst, e, proto)
	}
	return dst
}

func appendNull(dst []byte, k fsm.Kind, proto int) []byte {
	switch {
	case proto == 3:
		return append(dst, '_', '\r', '\n')
	case k == fsm.KindNullArray:
		return append(dst, "*-1\r\n"...)
	}
	return append(dst, "$-1\r\n"...)
}

func appendHeader(dst []byte, c byte, n int) []byte {
	dst = append(dst, c)
	dst = strconv.AppendInt(dst, int64(n), 10)
	return append(dst, '\r', '\n')
}

// appendLine appends a simple string or error line; like Redis it turns CR
// and LF into spaces so that the reply stays one line.
func appendLine(dst []byte, c byte, s string) []byte {
	dst = append(dst, c)
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b == '\r' || b == '\n' {
			b = ' '
		}
		dst = append(dst, b)
	}
	return append(dst, '\r', '\n')
}
