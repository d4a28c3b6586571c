package resp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// Limits of the reply reader, which reads a peer's replies for the proxy.
const (
	// maxReplyLine bounds a reply's type line (a simple string, an error,
	// a number, a length): Redis's PROTO_INLINE_MAX_SIZE, which also
	// bounds the request lines the server reads.
	maxReplyLine = maxInlineSize
	// maxReplyDepth bounds how deeply aggregates nest. XINFO STREAM FULL,
	// the deepest reply a stream command gives, nests 7 aggregates (a
	// consumer's pending entry); the bound keeps a broken peer from
	// growing the stack without end.
	maxReplyDepth = 64
	// replyChunk is how much of a blob is read (and allocated) at a time,
	// so that a length header alone never allocates the whole length.
	replyChunk = 64 * 1024
)

// errBadReply is a reply that is not well-formed RESP2 or RESP3.
var errBadReply = errors.New("malformed reply")

// replyReader reads whole RESP2/RESP3 replies from a peer, raw: every type
// (+ - : $ * _ , # ! = ( % ~ > |, nested), an attribute ('|') being part
// of the reply it precedes. The proxy relays the bytes as they came, so
// nothing is decoded beyond what framing needs. It is not safe for
// concurrent use.
type replyReader struct {
	br      *bufio.Reader
	maxBulk int64 // longest blob accepted (the server's MaxBulkBytes)
}

func newReplyReader(rd io.Reader, maxBulk int64) *replyReader {
	return &replyReader{br: bufio.NewReaderSize(rd, readChunk), maxBulk: maxBulk}
}

// readReply appends the next whole reply to dst. On error the bytes read
// so far are appended too; the error is io.EOF only when the stream ended
// before the reply's first byte, io.ErrUnexpectedEOF when it ended inside
// it, errBadReply (wrapped) when the bytes are not RESP, or the read error.
func (r *replyReader) readReply(dst []byte) ([]byte, error) {
	return r.value(dst, 0)
}

// value reads one reply, its attributes first.
func (r *replyReader) value(dst []byte, depth int) ([]byte, error) {
	if depth > maxReplyDepth {
		return dst, fmt.Errorf("%w: nested deeper than %d", errBadReply, maxReplyDepth)
	}
	first := depth == 0 // an end of stream here is a clean io.EOF
	for {
		start := len(dst)
		var err error
		if dst, err = r.line(dst, first); err != nil {
			return dst, err
		}
		typ, text := dst[start], dst[start+1:len(dst)-2]
		switch typ {
		case '+', '-', ',', '(':
			return dst, nil
		case ':':
			return dst, checkReply(isInt(text), typ, text)
		case '#':
			return dst, checkReply(len(text) == 1 && (text[0] == 't' || text[0] == 'f'), typ, text)
		case '_':
			return dst, checkReply(len(text) == 0, typ, text)
		case '$', '!', '=':
			return r.blob(dst, typ, text)
		case '*', '~', '>', '%':
			return r.aggregate(dst, typ, text, depth)
		case '|':
			// An attribute: its map, then the reply it describes.
			if dst, err = r.aggregate(dst, typ, text, depth); err != nil {
				return dst, err
			}
			first = false
		default:
			return dst, fmt.Errorf("%w: unknown type byte %q", errBadReply, typ)
		}
	}
}

func checkReply(ok bool, typ byte, text []byte) error {
	if ok {
		return nil
	}
	return fmt.Errorf("%w: bad %q line %q", errBadReply, typ, trunc(text, 32))
}

func isInt(b []byte) bool {
	_, ok := parseInt(b)
	return ok
}

// line appends one CRLF-terminated line of at most maxReplyLine bytes.
// first says whether an end of stream before any byte is a clean io.EOF.
func (r *replyReader) line(dst []byte, first bool) ([]byte, error) {
	start := len(dst)
	for {
		chunk, err := r.br.ReadSlice('\n')
		dst = append(dst, chunk...)
		if len(dst)-start > maxReplyLine {
			return dst, fmt.Errorf("%w: line longer than %d bytes", errBadReply, maxReplyLine)
		}
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return dst, eofInside(err, first && len(dst) == start)
		}
	}
	n := len(dst) - start
	if n < 3 || dst[len(dst)-2] != '\r' {
		return dst, fmt.Errorf("%w: line not ended by CRLF", errBadReply)
	}
	if slices.Contains(dst[start:len(dst)-2], '\r') {
		return dst, fmt.Errorf("%w: CR inside a line", errBadReply)
	}
	return dst, nil
}

// eofInside turns an end of stream inside a reply into io.ErrUnexpectedEOF.
func eofInside(err error, atStart bool) error {
	if errors.Is(err, io.EOF) && !atStart {
		return io.ErrUnexpectedEOF
	}
	return err
}

// blob appends the body of a bulk string ($), blob error (!) or verbatim
// string (=) whose header line has been read.
func (r *replyReader) blob(dst []byte, typ byte, text []byte) ([]byte, error) {
	n, ok := parseInt(text)
	switch {
	case !ok:
		return dst, fmt.Errorf("%w: bad %q length %q", errBadReply, typ, trunc(text, 32))
	case n == -1 && typ == '$':
		return dst, nil // RESP2's null bulk string
	case n < 0 || n > r.maxBulk:
		return dst, fmt.Errorf("%w: %q length %d out of range [0, %d]", errBadReply, typ, n, r.maxBulk)
	}
	body := len(dst)
	for left := n + 2; left > 0; {
		k := int(min(left, replyChunk))
		dst = slices.Grow(dst, k)
		got, err := io.ReadFull(r.br, dst[len(dst):len(dst)+k])
		dst = dst[:len(dst)+got]
		if err != nil {
			return dst, eofInside(err, false)
		}
		left -= int64(k)
	}
	if dst[len(dst)-2] != '\r' || dst[len(dst)-1] != '\n' {
		return dst, fmt.Errorf("%w: %q body not ended by CRLF", errBadReply, typ)
	}
	if typ == '=' && (n < 4 || dst[body+3] != ':') {
		return dst, fmt.Errorf("%w: verbatim string without a format", errBadReply)
	}
	return dst, nil
}

// aggregate appends the elements of an array (*), set (~), push (>), map
// (%) or attribute (|) whose header line has been read.
func (r *replyReader) aggregate(dst []byte, typ byte, text []byte, depth int) ([]byte, error) {
	n, ok := parseInt(text)
	switch {
	case !ok:
		return dst, fmt.Errorf("%w: bad %q count %q", errBadReply, typ, trunc(text, 32))
	case n == -1 && typ == '*':
		return dst, nil // RESP2's null array
	case n < 0 || n > maxMultibulkLen:
		return dst, fmt.Errorf("%w: %q count %d out of range", errBadReply, typ, n)
	}
	if typ == '%' || typ == '|' {
		n *= 2
	}
	var err error
	for range n {
		if dst, err = r.value(dst, depth+1); err != nil {
			return dst, eofInside(err, false)
		}
	}
	return dst, nil
}

// splitArray splits raw, one whole reply as readReply returns it, into its
// elements when it is an array of exactly n; ok is false otherwise (an
// error, a null, another type or length).
func splitArray(raw []byte, n int) (elems [][]byte, ok bool) {
	rd := newReplyReader(bytes.NewReader(raw), math.MaxInt64)
	hdr, err := rd.line(nil, true)
	if err != nil || hdr[0] != '*' {
		return nil, false
	}
	if cnt, valid := parseInt(hdr[1 : len(hdr)-2]); !valid || cnt != int64(n) {
		return nil, false
	}
	elems = make([][]byte, n)
	for i := range elems {
		if elems[i], err = rd.value(nil, 1); err != nil {
			return nil, false
		}
	}
	return elems, true
}
