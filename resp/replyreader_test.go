package resp

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/streamraft/streamraft/fsm"
)

// readAll reads every reply in data, whole and then one byte per Read,
// and fails the test unless both ways give the same replies.
func readRepliesBothWays(t *testing.T, data string, maxBulk int64) (replies []string, err error) {
	t.Helper()
	whole, errWhole := readReplies(bytes.NewReader([]byte(data)), maxBulk)
	bytewise, errBytes := readReplies(iotest.OneByteReader(bytes.NewReader([]byte(data))), maxBulk)
	if strings.Join(whole, "|") != strings.Join(bytewise, "|") || !sameError(errWhole, errBytes) {
		t.Fatalf("%q: read whole %q, %v; one byte at a time %q, %v", data, whole, errWhole, bytewise, errBytes)
	}
	return whole, errWhole
}

// readReplies reads replies until an error; io.EOF is the clean end.
func readReplies(rd io.Reader, maxBulk int64) ([]string, error) {
	r := newReplyReader(rd, maxBulk)
	var out []string
	for {
		b, err := r.readReply(nil)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		out = append(out, string(b))
	}
}

func sameError(a, b error) bool {
	return (a == nil) == (b == nil) && errors.Is(a, errBadReply) == errors.Is(b, errBadReply) &&
		errors.Is(a, io.ErrUnexpectedEOF) == errors.Is(b, io.ErrUnexpectedEOF)
}

func TestReplyReaderFraming(t *testing.T) {
	tests := [][]string{ // each row: replies written back to back
		{"+OK\r\n", "-ERR x y\r\n", ":-12\r\n", ":0\r\n"},
		{"$3\r\nabc\r\n", "$0\r\n\r\n", "$-1\r\n", "$4\r\na\r\nb\r\n"},
		{"*-1\r\n", "*0\r\n", "*2\r\n$1\r\na\r\n*1\r\n:1\r\n"},
		{"_\r\n", ",3.14\r\n", ",-inf\r\n", "#t\r\n", "#f\r\n", "(12345678901234567890\r\n"},
		{"!5\r\nERR x\r\n", "=8\r\ntxt:ab\nc\r\n", "~2\r\n+a\r\n+b\r\n"},
		{"%2\r\n+a\r\n:1\r\n+b\r\n*1\r\n_\r\n", "%0\r\n"},
		{">2\r\n+message\r\n+x\r\n", "|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n"},
		{"|1\r\n+a\r\n:1\r\n|1\r\n+b\r\n:2\r\n*1\r\n|1\r\n+c\r\n:3\r\n#t\r\n"},
	}
	for _, row := range tests {
		got, err := readRepliesBothWays(t, strings.Join(row, ""), 1<<20)
		if err != nil || strings.Join(got, "|") != strings.Join(row, "|") {
			t.Errorf("read %q = %q, %v; want %q", strings.Join(row, ""), got, err, row)
		}
	}
}

func TestReplyReaderRejects(t *testing.T) {
	deep := strings.Repeat("*1\r\n", maxReplyDepth+1) + ":1\r\n"
	tests := []struct {
		in   string
		want error
	}{
		{"x\r\n", errBadReply},
		{"+OK\n", errBadReply},
		{"\r\n", errBadReply},
		{"+O\rK\r\n", errBadReply},
		{":abc\r\n", errBadReply},
		{":\r\n", errBadReply},
		{"#x\r\n", errBadReply},
		{"_x\r\n", errBadReply},
		{"$-2\r\n", errBadReply},
		{"$01\r\na\r\n", errBadReply},
		{"$?\r\n", errBadReply},
		{"$3\r\nabcd\r\n", errBadReply},
		{"!-1\r\n", errBadReply},
		{"=3\r\nabc\r\n", errBadReply},
		{"=5\r\ntxt-a\r\n", errBadReply},
		{"*-2\r\n", errBadReply},
		{"~-1\r\n", errBadReply},
		{"%-1\r\n", errBadReply},
		{"*2147483648\r\n", errBadReply},
		{"$65\r\n" + strings.Repeat("a", 65) + "\r\n", errBadReply}, // over maxBulk
		{"+" + strings.Repeat("a", maxReplyLine) + "\r\n", errBadReply},
		{deep, errBadReply},
		{"+OK", io.ErrUnexpectedEOF},
		{"$5\r\nab\r\n", io.ErrUnexpectedEOF},
		{"*2\r\n:1\r\n", io.ErrUnexpectedEOF},
		{"|1\r\n+a\r\n:1\r\n", io.ErrUnexpectedEOF},
		{"%1\r\n+a\r\n", io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		got, err := readRepliesBothWays(t, tt.in, 64)
		if !errors.Is(err, tt.want) {
			t.Errorf("read %.40q = %q, %v; want error %v", tt.in, got, err, tt.want)
		}
	}
	if _, err := newReplyReader(bytes.NewReader(nil), 64).readReply(nil); err != io.EOF {
		t.Errorf("read of an empty stream: %v; want io.EOF", err)
	}
}

// TestReplyReaderReadsWriter: every reply the server's own Writer renders,
// in either protocol, reads back whole.
func TestReplyReaderReadsWriter(t *testing.T) {
	replies := []fsm.Reply{
		fsm.Int(-5), fsm.BulkString("x\r\ny"), fsm.Array(), fsm.Map(fsm.BulkString("k"), fsm.Array(fsm.Int(1), fsm.BulkString(""))),
		{Kind: fsm.KindNull}, {Kind: fsm.KindNullArray}, {Kind: fsm.KindSimple, Str: "OK"}, {Kind: fsm.KindError, Str: "ERR no"},
		{Kind: fsm.KindPairs, Elems: []fsm.Reply{fsm.BulkString("a"), fsm.Int(1), fsm.BulkString("b"), fsm.Array(fsm.Int(2))}},
	}
	for _, proto := range []int{2, 3} {
		for _, r := range replies {
			enc := string(AppendReply(nil, r, proto))
			got, err := readRepliesBothWays(t, enc+"+NEXT\r\n", 1<<20)
			if err != nil || len(got) != 2 || got[0] != enc {
				t.Errorf("RESP%d: read %q = %q, %v; want %q then +NEXT", proto, enc, got, err, enc)
			}
		}
	}
}

// TestReplyReaderRedisTypes reads every RESP3 type as redis-server itself
// writes it (DEBUG PROTOCOL), each followed by PING's reply: the reader
// must take exactly the reply, attribute included, off the wire. DEBUG
// PROTOCOL push sends a push message and then the reply: upstream.read
// skips the push.
func TestReplyReaderRedisTypes(t *testing.T) {
	addr := startUpstreamRedis(t, "--enable-debug-command", "yes")
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial redis: %v", err)
	}
	defer nc.Close()
	var wire bytes.Buffer
	u := &upstream{nc: nc, rd: newReplyReader(io.TeeReader(nc, &wire), 1<<20)}
	_ = nc.SetDeadline(time.Now().Add(ioTimeout))
	if err := u.send([][]byte{[]byte("HELLO"), []byte("3")}); err != nil {
		t.Fatalf("send: %v", err)
	}
	if hello, err := u.read(nil); err != nil || hello[0] != '%' {
		t.Fatalf("HELLO 3 = %q, %v; want a map", hello, err)
	}
	tests := []struct {
		typ       string
		first     byte
		skipFirst string // what the wire carries before the reply
	}{
		{"string", '$', ""}, {"integer", ':', ""}, {"double", ',', ""}, {"bignum", '(', ""}, {"null", '_', ""},
		{"array", '*', ""}, {"set", '~', ""}, {"map", '%', ""}, {"attrib", '|', ""}, {"verbatim", '=', ""},
		{"true", '#', ""}, {"false", '#', ""},
		{"push", '$', ">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n"},
	}
	for _, tt := range tests {
		wire.Reset()
		if err := u.send([][]byte{[]byte("DEBUG"), []byte("PROTOCOL"), []byte(tt.typ)}, [][]byte{[]byte("PING")}); err != nil {
			t.Fatalf("send: %v", err)
		}
		got, err := u.read(nil)
		if err != nil || got[0] != tt.first {
			t.Fatalf("DEBUG PROTOCOL %s = %q, %v; want a reply starting %q", tt.typ, got, err, tt.first)
		}
		pong, err := u.read(nil)
		if err != nil || string(pong) != "+PONG\r\n" {
			t.Fatalf("after DEBUG PROTOCOL %s (%q): %q, %v; want +PONG", tt.typ, got, pong, err)
		}
		if want := tt.skipFirst + string(got) + string(pong); wire.String() != want {
			t.Errorf("DEBUG PROTOCOL %s: read %q then %q; the wire carried %q", tt.typ, got, pong, wire.String())
		}
	}
}

func TestSplitArray(t *testing.T) {
	tests := []struct {
		raw  string
		n    int
		want []string // nil: not an array of n
	}{
		{"*2\r\n:1\r\n*1\r\n$1\r\na\r\n", 2, []string{":1\r\n", "*1\r\n$1\r\na\r\n"}},
		{"*2\r\n:1\r\n:2\r\n", 3, nil},
		{"*-1\r\n", 0, nil},
		{"_\r\n", 0, nil},
		{"-EXECABORT x\r\n", 1, nil},
		{"*0\r\n", 0, []string{}},
	}
	for _, tt := range tests {
		got, ok := splitArray([]byte(tt.raw), tt.n)
		if ok != (tt.want != nil) || len(got) != len(tt.want) {
			t.Errorf("splitArray(%q, %d) = %q, %v; want %q", tt.raw, tt.n, got, ok, tt.want)
			continue
		}
		for i := range got {
			if string(got[i]) != tt.want[i] {
				t.Errorf("splitArray(%q, %d)[%d] = %q; want %q", tt.raw, tt.n, i, got[i], tt.want[i])
			}
		}
	}
}

// FuzzReplyReader: the reader never panics and stays within its bounds;
// a reply it accepts is a prefix of the input, reads back alone as itself
// (with nothing after it), and no shorter prefix of it is a whole reply.
func FuzzReplyReader(f *testing.F) {
	for _, s := range []string{
		"+OK\r\n", "-ERR x\r\n", ":1\r\n", "$3\r\nabc\r\n", "$-1\r\n", "*-1\r\n", "*2\r\n:1\r\n$1\r\na\r\n",
		"_\r\n", ",1.5\r\n", "#t\r\n", "!3\r\nERR\r\n", "=7\r\ntxt:abc\r\n", "(123\r\n", "%1\r\n+a\r\n~1\r\n:1\r\n",
		">2\r\n+a\r\n+b\r\n", "|1\r\n+a\r\n:1\r\n+b\r\n", "*1\r\n*1\r\n*1\r\n|0\r\n_\r\n", "$100000\r\n",
	} {
		f.Add([]byte(s))
	}
	const maxBulk = 1 << 10
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := newReplyReader(bytes.NewReader(data), maxBulk).readReply(nil)
		if len(got) > len(data) || !bytes.Equal(got, data[:len(got)]) {
			t.Fatalf("read %q from %q: not a prefix of the input", got, data)
		}
		if err != nil {
			return
		}
		again := newReplyReader(bytes.NewReader(got), maxBulk)
		if back, err := again.readReply(nil); err != nil || !bytes.Equal(back, got) {
			t.Fatalf("re-read of %q = %q, %v", got, back, err)
		}
		if rest, err := again.readReply(nil); err != io.EOF {
			t.Fatalf("after %q: %q, %v; want io.EOF", got, rest, err)
		}
		step := max(1, len(got)/32) // at most ~32 prefixes per input
		for n := 1; n < len(got); n += step {
			if p, err := newReplyReader(bytes.NewReader(got[:n]), maxBulk).readReply(nil); !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("prefix %q of reply %q = %q, %v; want io.ErrUnexpectedEOF", got[:n], got, p, err)
			}
		}
	})
}
