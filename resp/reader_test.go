package resp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll parses every command in input and returns them rendered as
// "a|b|c" strings, and the error that ended parsing (io.EOF at the end).
func readAll(input string, oneByte bool) ([]string, error) {
	var rd io.Reader = strings.NewReader(input)
	if oneByte {
		rd = iotest.OneByteReader(rd)
	}
	r := NewReader(rd, 512<<20, 0)
	var got []string
	for {
		argv, err := r.ReadCommand()
		if err != nil {
			return got, err
		}
		got = append(got, string(bytes.Join(argv, []byte("|"))))
	}
}

func TestReaderCommands(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"multibulk", "*2\r\n$4\r\nPING\r\n$2\r\nhi\r\n", []string{"PING|hi"}},
		{"pipeline", "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n", []string{"PING", "PING"}},
		{"empty bulk", "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", []string{"ECHO|"}},
		{"binary", "*1\r\n$4\r\na\r\nb\r\n", []string{"a\r\nb"}},
		{"star zero skipped", "*0\r\n*-1\r\n*1\r\n$1\r\nx\r\n", []string{"x"}},
		{"trailing bytes unchecked", "*1\r\n$4\r\nPINGXY*1\r\n$1\r\nx\r\n", []string{"PING", "x"}},
		{"inline", "PING\r\n", []string{"PING"}},
		{"inline lf", "PING a  b\n", []string{"PING|a|b"}},
		{"blank lines skipped", "\r\n\n   \r\nPING\r\n", []string{"PING"}},
		{"inline quotes", `SET "a b" 'c d' "\x41\n" 'it\'s'` + "\r\n", []string{"SET|a b|c d|A\n|it's"}},
		{"inline empty quoted", "\"\"\r\n", []string{""}},
		{"inline then multibulk", "PING\r\n*1\r\n$1\r\nx\r\n", []string{"PING", "x"}},
	}
	for _, tt := range tests {
		for _, oneByte := range []bool{false, true} {
			got, err := readAll(tt.in, oneByte)
			if !errors.Is(err, io.EOF) {
				t.Errorf("%s (oneByte %v): error %v; want io.EOF", tt.name, oneByte, err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("%s (oneByte %v): got %q; want %q", tt.name, oneByte, got, tt.want)
			}
		}
	}
}

// TestReaderProtocolErrors: each input's error text was checked against
// redis-server 7.0.15.
func TestReaderProtocolErrors(t *testing.T) {
	long := strings.Repeat("1", maxInlineSize+1)
	tests := []struct {
		name, in, want string
	}{
		{"bad count", "*abc\r\n", "invalid multibulk length"},
		{"count plus", "*+1\r\n", "invalid multibulk length"},
		{"count leading zero", "*01\r\n", "invalid multibulk length"},
		{"count space", "*1 \r\n", "invalid multibulk length"},
		{"count empty", "*\r\n", "invalid multibulk length"},
		{"count over int max", "*2147483648\r\n", "invalid multibulk length"},
		{"bad bulk", "*2\r\n$x\r\n", "invalid bulk length"},
		{"negative bulk", "*1\r\n$-1\r\n", "invalid bulk length"},
		{"bulk plus", "*1\r\n$+4\r\nPING\r\n", "invalid bulk length"},
		{"bulk empty", "*1\r\n$\r\n", "invalid bulk length"},
		{"bulk over limit", "*1\r\n$536870913\r\n", "invalid bulk length"},
		{"not dollar", "*1\r\nx\r\n", "expected '$', got 'x'"},
		{"unbalanced", "PING \"abc\r\n", "unbalanced quotes in request"},
		{"quote then char", "ECHO \"a\"b\r\n", "unbalanced quotes in request"},
		{"single unbalanced", "ECHO 'a\r\n", "unbalanced quotes in request"},
		{"inline too big", strings.Repeat("A", maxInlineSize+1), "too big inline request"},
		{"mbulk count too big", "*" + long, "too big mbulk count string"},
		{"bulk count too big", "*1\r\n$" + long, "too big bulk count string"},
	}
	for _, tt := range tests {
		_, err := readAll(tt.in, false)
		var pe *ProtocolError
		if !errors.As(err, &pe) || pe.Msg != tt.want {
			t.Errorf("%s: error %v; want protocol error %q", tt.name, err, tt.want)
		}
	}
}

// TestReaderLimitsNotReachedYet: Redis waits for more bytes at exactly the
// limits, so must the reader.
func TestReaderLimitsNotReachedYet(t *testing.T) {
	for _, in := range []string{
		strings.Repeat("A", maxInlineSize),
		"*1\r\n$536870912\r\n",
		"*2000000\r\n",
		"ECHO a\x00b\r\n",  // Redis's strchr stops at the NUL: no line yet
		"*1\x00\r\n$4\r\n", // likewise for a count line
	} {
		if _, err := readAll(in, false); !errors.Is(err, io.EOF) {
			t.Errorf("readAll(%.20q...) error %v; want io.EOF", in, err)
		}
	}
}

// TestReaderHugeBulkHeaderDoesNotAllocate: a header announcing a bulk just
// under the limit grows nothing until its bytes arrive.
func TestReaderHugeBulkHeaderDoesNotAllocate(t *testing.T) {
	r := NewReader(strings.NewReader("*1\r\n$536870912\r\nabc"), 512<<20, 0)
	if _, err := r.ReadCommand(); !errors.Is(err, io.EOF) {
		t.Fatalf("ReadCommand error %v; want io.EOF", err)
	}
	if got := cap(r.buf); got > 4*readChunk {
		t.Errorf("buffer grew to %d bytes; want at most %d", got, 4*readChunk)
	}
}

func TestReaderQueryLimit(t *testing.T) {
	in := "*3\r\n$1\r\na\r\n$100000\r\n" + strings.Repeat("x", 100000) + "\r\n"
	r := NewReader(strings.NewReader(in), 512<<20, 50000)
	if _, err := r.ReadCommand(); !errors.Is(err, ErrQueryTooBig) {
		t.Errorf("ReadCommand error %v; want ErrQueryTooBig", err)
	}
}

func TestReaderLargeArgument(t *testing.T) {
	big := strings.Repeat("z", 3*readChunk+7)
	got, err := readAll(encode("SET", big)+encode("PING"), true)
	if !errors.Is(err, io.EOF) || len(got) != 2 || got[0] != "SET|"+big || got[1] != "PING" {
		t.Errorf("large argument: got %d commands, error %v; want SET <big>, PING", len(got), err)
	}
}

func TestParseInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"12", 12, true}, {"-5", -5, true},
		{"9223372036854775807", math.MaxInt64, true}, {"-9223372036854775808", math.MinInt64, true},
		{"9223372036854775808", 0, false}, {"-0", 0, false}, {"01", 0, false}, {"+1", 0, false},
		{"", 0, false}, {"-", 0, false}, {"1a", 0, false}, {" 1", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseInt([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseInt(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzReader: the reader never panics, never holds a buffer larger than the
// input needs, and round-trips the multibulk encoding of what it parsed.
func FuzzReader(f *testing.F) {
	for _, s := range []string{"*2\r\n$4\r\nPING\r\n$2\r\nhi\r\n", "PING \"a\\x41\" 'b'\r\n", "*1\r\n$-1\r\n",
		"*0\r\n\r\n", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", "\"unbalanced\r\n", "*1\r\n$9999999\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		const maxBulk = 1 << 20
		r := NewReader(bytes.NewReader(in), maxBulk, 0)
		var out []byte
		var cmds [][][]byte
		for {
			argv, err := r.ReadCommand()
			if cap(r.buf) > 2*len(in)+4*readChunk {
				t.Fatalf("buffer %d bytes for %d bytes of input", cap(r.buf), len(in))
			}
			if err != nil {
				break
			}
			enc := make([]string, len(argv))
			for i, a := range argv {
				enc[i] = string(a)
			}
			out = append(out, encode(enc...)...)
			cmds = append(cmds, ownedCommand(argv))
		}
		r2 := NewReader(bytes.NewReader(out), maxBulk, 0)
		for i, want := range cmds {
			argv, err := r2.ReadCommand()
			if err != nil {
				t.Fatalf("re-reading command %d: %v", i, err)
			}
			if fmt.Sprintf("%q", argv) != fmt.Sprintf("%q", want) {
				t.Fatalf("round trip %d: got %q; want %q", i, argv, want)
			}
		}
		if _, err := r2.ReadCommand(); !errors.Is(err, io.EOF) {
			t.Fatalf("round trip: trailing error %v; want io.EOF", err)
		}
	})
}

func BenchmarkReader(b *testing.B) {
	one := encode("XADD", "mystream", "*", "sensor", "1234", "temperature", "19.8")
	const batch = 100
	in := []byte(strings.Repeat(one, batch))
	src := bytes.NewReader(in)
	r := NewReader(src, 512<<20, 0)
	b.SetBytes(int64(len(one)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%batch == 0 {
			src.Reset(in)
		}
		if _, err := r.ReadCommand(); err != nil {
			b.Fatal(err)
		}
	}
}
