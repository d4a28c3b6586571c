package resp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
)

// Limits Redis 7.0 applies to the request protocol (networking.c).
const (
	// maxInlineSize bounds an inline command line and the text of a
	// multibulk or bulk count line (PROTO_INLINE_MAX_SIZE).
	maxInlineSize = 64 * 1024
	// maxMultibulkLen is the largest argument count Redis 7.0 accepts.
	maxMultibulkLen = math.MaxInt32
	// readChunk is the reader's initial buffer and smallest read
	// (PROTO_IOBUF_LEN).
	readChunk = 16 * 1024
	// maxPrealloc caps the argument slots allocated from a count header
	// alone: more are added only as their bytes arrive.
	maxPrealloc = 1024
)

// ProtocolError is a malformed request. Redis answers "-ERR Protocol error:
// <Msg>" and closes the connection; so does the server.
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string { return "Protocol error: " + e.Msg }

// ErrQueryTooBig is returned when one command's bytes exceed the reader's
// query limit (Redis's client-query-buffer-limit): the connection is closed
// without a reply, as Redis does.
var ErrQueryTooBig = errors.New("resp: query buffer limit reached")

// Reader parses commands (multibulk and inline) from a client stream with
// Redis's limits. It is not safe for concurrent use.
//
// Aliasing: the arguments ReadCommand returns point into the reader's buffer
// (or its inline scratch buffer) and are valid only until the next call to
// ReadCommand. The server copies each command into memory of its own
// (ownedCommand) before handing it to the executing goroutine, so nothing
// that outlives a read — a queued MULTI command, a Raft proposal — ever
// aliases the read buffer.
type Reader struct {
	rd       io.Reader
	buf      []byte
	r, w     int   // unread data is buf[r:w]
	maxBulk  int64 // largest bulk string accepted
	maxQuery int   // largest single command, in buffered bytes
	err      error // sticky read error

	// State of the multibulk command being parsed, so that a command that
	// arrives in many reads is not re-parsed from its start each time.
	pos     int   // parse position, relative to r
	nargs   int   // arguments announced by the header; -1 before it
	bulkLen int64 // length of the bulk being read; -1 before its header
	offs    []int // start,end of each argument parsed, relative to r

	args    [][]byte
	scratch []byte // unescaped inline arguments
}

// NewReader returns a reader that refuses bulk strings longer than maxBulk
// bytes and commands larger than maxQuery bytes (0 means no limit beyond
// what maxBulk and the count limit imply).
func NewReader(rd io.Reader, maxBulk int64, maxQuery int) *Reader {
	if maxQuery <= 0 {
		maxQuery = math.MaxInt
	}
	return &Reader{rd: rd, buf: make([]byte, readChunk), maxBulk: maxBulk,
		maxQuery: maxQuery, nargs: -1, bulkLen: -1}
}

// Buffered reports whether unparsed bytes remain after the last command.
func (r *Reader) Buffered() int { return r.w - r.r }

// ReadCommand returns the next non-empty command. Errors are a
// *ProtocolError, ErrQueryTooBig or the underlying read error (io.EOF).
func (r *Reader) ReadCommand() ([][]byte, error) {
	for {
		args, done, err := r.parse()
		if err != nil {
			return nil, err
		}
		if done {
			if len(args) == 0 {
				continue // "*0", "*-1" and blank lines are skipped
			}
			return args, nil
		}
		if err := r.fill(); err != nil {
			return nil, err
		}
	}
}

// parse tries to take one command from buf[r:w]. done is false when more
// bytes are needed.
func (r *Reader) parse() (args [][]byte, done bool, err error) {
	if r.w == r.r {
		return nil, false, nil
	}
	if r.nargs < 0 && r.pos == 0 && r.buf[r.r] != '*' {
		return r.parseInline()
	}
	return r.parseMultibulk()
}

func (r *Reader) parseInline() ([][]byte, bool, error) {
	data := r.buf[r.r:r.w]
	nl := cIndexByte(data, '\n')
	if nl < 0 {
		if len(data) > maxInlineSize {
			return nil, false, &ProtocolError{"too big inline request"}
		}
		return nil, false, nil
	}
	line := data[:nl]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	args, ok := r.splitArgs(line)
	if !ok {
		return nil, false, &ProtocolError{"unbalanced quotes in request"}
	}
	r.r += nl + 1
	return args, true, nil
}

func (r *Reader) parseMultibulk() ([][]byte, bool, error) {
	if r.nargs < 0 {
		n, ok, err := r.countLine('*', "too big mbulk count string")
		if err != nil || !ok {
			return nil, false, err
		}
		if n > maxMultibulkLen {
			return nil, false, &ProtocolError{"invalid multibulk length"}
		}
		if n <= 0 {
			r.consume()
			return nil, true, nil
		}
		r.nargs = int(n)
		r.offs = r.offs[:0]
		if cap(r.offs) < 2*min(r.nargs, maxPrealloc) {
			r.offs = make([]int, 0, 2*min(r.nargs, maxPrealloc))
		}
	}
	for len(r.offs) < 2*r.nargs {
		if r.bulkLen < 0 {
			n, ok, err := r.countLine('$', "too big bulk count string")
			if err != nil || !ok {
				return nil, false, err
			}
			if n < 0 || n > r.maxBulk {
				return nil, false, &ProtocolError{"invalid bulk length"}
			}
			r.bulkLen = n
		}
		if int64(r.w-r.r-r.pos) < r.bulkLen+2 {
			if int64(r.pos)+r.bulkLen+2 > int64(r.maxQuery) {
				return nil, false, ErrQueryTooBig
			}
			return nil, false, nil
		}
		r.offs = append(r.offs, r.pos, r.pos+int(r.bulkLen))
		r.pos += int(r.bulkLen) + 2 // the two bytes after the data are not checked, as in Redis
		r.bulkLen = -1
	}
	base := r.buf[r.r:]
	r.args = r.args[:0]
	for i := 0; i < len(r.offs); i += 2 {
		r.args = append(r.args, base[r.offs[i]:r.offs[i+1]:r.offs[i+1]])
	}
	r.consume()
	return r.args, true, nil
}

// consume ends the current command: its bytes are released.
func (r *Reader) consume() {
	r.r += r.pos
	r.pos, r.nargs, r.bulkLen = 0, -1, -1
	if r.r == r.w {
		r.r, r.w = 0, 0
	}
}

// countLine parses "<prefix><integer>\r\n" at pos. ok is false when the line
// is not complete yet.
func (r *Reader) countLine(prefix byte, tooBig string) (n int64, ok bool, err error) {
	data := r.buf[r.r+r.pos : r.w]
	cr := cIndexByte(data, '\r')
	if cr < 0 {
		if len(data) > maxInlineSize {
			return 0, false, &ProtocolError{tooBig}
		}
		return 0, false, nil
	}
	if cr+1 >= len(data) { // the byte after '\r' has not arrived
		return 0, false, nil
	}
	if data[0] != prefix {
		return 0, false, &ProtocolError{fmt.Sprintf("expected '%c', got '%c'", prefix, data[0])}
	}
	n, valid := parseInt(data[1:cr])
	if !valid {
		if prefix == '*' {
			return 0, false, &ProtocolError{"invalid multibulk length"}
		}
		return 0, false, &ProtocolError{"invalid bulk length"}
	}
	r.pos += cr + 2
	return n, true, nil
}

// fill reads more bytes, compacting or growing the buffer as needed. The
// buffer grows only when the pending command fills it, at most doubling,
// and never past what the pending bulk still needs: a "$536870912" header
// alone allocates nothing.
func (r *Reader) fill() error {
	if r.err != nil {
		return r.err
	}
	if r.w == len(r.buf) {
		if r.r > 0 {
			copy(r.buf, r.buf[r.r:r.w])
			r.w -= r.r
			r.r = 0
		} else {
			if r.w >= r.maxQuery {
				return ErrQueryTooBig
			}
			size := 2 * len(r.buf)
			if r.bulkLen >= 0 {
				need := int64(r.pos) + r.bulkLen + 2
				size = int(max(min(int64(size), need), int64(len(r.buf)+readChunk)))
			}
			nb := make([]byte, size)
			copy(nb, r.buf[:r.w])
			r.buf = nb
		}
	}
	n, err := r.rd.Read(r.buf[r.w:])
	r.w += n
	if err != nil && n == 0 {
		r.err = err
		return err
	}
	return nil
}

// parseInt parses a decimal integer strictly as Redis's string2ll: optional
// '-', no '+', no leading zeros, no spaces, within int64.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (math.MaxUint64-9)/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// cIndexByte finds c as Redis's strchr does on its query buffer: a NUL
// before c hides it, and the client waits for more (until a limit is hit).
func cIndexByte(b []byte, c byte) int {
	i := bytes.IndexByte(b, c)
	if i < 0 || bytes.IndexByte(b[:i], 0) >= 0 {
		return -1
	}
	return i
}
