package resp

import (
	"testing"

	"github.com/streamraft/streamraft/fsm"
)

func TestAppendReply(t *testing.T) {
	entry := fsm.Array(fsm.BulkString("1-1"), fsm.Array(fsm.BulkString("a"), fsm.BulkString("b")))
	tests := []struct {
		name  string
		r     fsm.Reply
		resp2 string
		resp3 string
	}{
		{"simple", fsm.OK(), "+OK\r\n", "+OK\r\n"},
		{"simple newline", fsm.Simple("a\r\nb"), "+a  b\r\n", "+a  b\r\n"},
		{"error", fsm.Err("ERR syntax error"), "-ERR syntax error\r\n", "-ERR syntax error\r\n"},
		{"int", fsm.Int(-42), ":-42\r\n", ":-42\r\n"},
		{"bulk", fsm.BulkString("abc"), "$3\r\nabc\r\n", "$3\r\nabc\r\n"},
		{"empty bulk", fsm.BulkString(""), "$0\r\n\r\n", "$0\r\n\r\n"},
		{"null", fsm.Null(), "$-1\r\n", "_\r\n"},
		{"null array", fsm.NullArray(), "*-1\r\n", "_\r\n"},
		{"empty array", fsm.Array(), "*0\r\n", "*0\r\n"},
		{"nested array", entry, "*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n", "*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{"map", fsm.Map(fsm.BulkString("k"), fsm.Int(1)), "*2\r\n$1\r\nk\r\n:1\r\n", "%1\r\n$1\r\nk\r\n:1\r\n"},
		{"pairs", fsm.Pairs(fsm.BulkString("s"), fsm.Array(entry)),
			"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n",
			"%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{"map in array", fsm.Array(fsm.Map(fsm.BulkString("k"), fsm.Null())), "*1\r\n*2\r\n$1\r\nk\r\n$-1\r\n", "*1\r\n%1\r\n$1\r\nk\r\n_\r\n"},
	}
	for _, tt := range tests {
		if got := string(AppendReply(nil, tt.r, 2)); got != tt.resp2 {
			t.Errorf("%s RESP2: got %q; want %q", tt.name, got, tt.resp2)
		}
		if got := string(AppendReply(nil, tt.r, 3)); got != tt.resp3 {
			t.Errorf("%s RESP3: got %q; want %q", tt.name, got, tt.resp3)
		}
	}
}

func TestWriterHelpers(t *testing.T) {
	tests := []struct {
		name         string
		write        func(w *Writer)
		resp2, resp3 string
	}{
		{"set", func(w *Writer) { w.Set(2) }, "*2\r\n", "~2\r\n"},
		{"map", func(w *Writer) { w.Map(2) }, "*4\r\n", "%2\r\n"},
		{"verbatim", func(w *Writer) { w.Verbatim("a\r\n") }, "$3\r\na\r\n\r\n", "=7\r\ntxt:a\r\n\r\n"},
		{"null", func(w *Writer) { w.Null() }, "$-1\r\n", "_\r\n"},
		{"error", func(w *Writer) { w.Error("ERR x\ny") }, "-ERR x y\r\n", "-ERR x y\r\n"},
	}
	for _, tt := range tests {
		for _, p := range []struct {
			proto int
			want  string
		}{{2, tt.resp2}, {3, tt.resp3}} {
			w := Writer{Proto: p.proto}
			tt.write(&w)
			if string(w.Buf) != p.want {
				t.Errorf("%s RESP%d: got %q; want %q", tt.name, p.proto, w.Buf, p.want)
			}
		}
	}
}

func TestWriteReplyDoesNotAllocate(t *testing.T) {
	r := xreadReply()
	w := Writer{Proto: 3}
	allocs := testing.AllocsPerRun(100, func() {
		w.Buf = w.Buf[:0]
		w.Reply(r)
	})
	if allocs != 0 {
		t.Errorf("Writer.Reply allocated %v times per reply; want 0", allocs)
	}
}

func xreadReply() fsm.Reply {
	var entries []fsm.Reply
	for i := 0; i < 10; i++ {
		entries = append(entries, fsm.Array(fsm.BulkString("1700000000000-0"),
			fsm.Array(fsm.BulkString("sensor"), fsm.BulkString("1234"), fsm.BulkString("temperature"), fsm.BulkString("19.8"))))
	}
	return fsm.Pairs(fsm.BulkString("mystream"), fsm.Array(entries...))
}

func BenchmarkWriteReply(b *testing.B) {
	for _, proto := range []int{2, 3} {
		b.Run("resp"+itoa(int64(proto)), func(b *testing.B) {
			r := xreadReply()
			w := Writer{Proto: proto}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				w.Buf = w.Buf[:0]
				w.Reply(r)
			}
			b.SetBytes(int64(len(w.Buf)))
		})
	}
}
