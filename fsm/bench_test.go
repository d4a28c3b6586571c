package fsm

import (
	"fmt"
	"runtime"
	"testing"
)

var benchFields = [][]byte{[]byte("f1"), []byte("12345678"), []byte("f2"), []byte("abcdefgh")}

// xaddEntry is a log entry holding one `XADD s * f1 v1 f2 v2`.
func xaddEntry(stamp int64) *Entry {
	argv := append([][]byte{[]byte("XADD"), []byte("s"), []byte("*")}, benchFields...)
	return &Entry{Stamp: stamp, Reqs: []Request{{Cmds: [][][]byte{argv}}}}
}

func BenchmarkXADD(b *testing.B) {
	m := New()
	e := xaddEntry(0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		e.Stamp = int64(1 + i/10)
		m.Apply(e)
	}
}

func BenchmarkXRANGE(b *testing.B) {
	m := New()
	e := xaddEntry(0)
	const n = 100_000
	for i := 0; i < n; i++ {
		e.Stamp = int64(1 + i/10)
		m.Apply(e)
	}
	for _, count := range []int{10, 100} {
		b.Run(fmt.Sprintf("COUNT_%d", count), func(b *testing.B) {
			cmds := make([][][]byte, 1024)
			for i := range cmds {
				start := fmt.Appendf(nil, "%d", 1+(i*7919)%(n/10-count))
				cmds[i] = [][]byte{[]byte("XRANGE"), []byte("s"), start, []byte("+"), []byte("COUNT"), []byte(fmt.Sprint(count))}
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				r := m.Read(cmds[i%len(cmds)], 0)
				if len(r.Elems) != count {
					b.Fatalf("XRANGE returned %d entries; want %d", len(r.Elems), count)
				}
			}
		})
	}
}

// BenchmarkHeapPerEntry reports the heap bytes one stream entry costs: a
// million `XADD s * f1 <8 bytes> f2 <8 bytes>`, the clock advancing 1 ms
// every 10 entries. Run with -benchtime=1x.
func BenchmarkHeapPerEntry(b *testing.B) {
	const n = 1_000_000
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m := New()
		e := xaddEntry(0)
		for i := 0; i < n; i++ {
			e.Stamp = int64(1_700_000_000_000 + i/10)
			m.Apply(e)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-bytes/entry")
		if got := m.Read(args("XLEN s"), 0).Int; got != n {
			b.Fatalf("XLEN = %d; want %d", got, n)
		}
		runtime.KeepAlive(m)
	}
}

// BenchmarkXADDMaxLen is a capped stream: `XADD s MAXLEN 1000 * ...` (exact)
// and `MAXLEN ~ 1000`.
func BenchmarkXADDMaxLen(b *testing.B) {
	for _, op := range []string{"=", "~"} {
		b.Run(op, func(b *testing.B) {
			m := New()
			argv := append([][]byte{[]byte("XADD"), []byte("s"), []byte("MAXLEN"), []byte(op), []byte("1000"), []byte("*")}, benchFields...)
			e := &Entry{Reqs: []Request{{Cmds: [][][]byte{argv}}}}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				e.Stamp = int64(1 + i/10)
				m.Apply(e)
			}
		})
	}
}

// BenchmarkXREADGROUPXACK is one consumer working through a stream: per op,
// XREADGROUP COUNT 1 delivers one entry (a PEL insert) and XACK acknowledges
// it, each its own Apply.
func BenchmarkXREADGROUPXACK(b *testing.B) {
	m := New()
	e := xaddEntry(0)
	const n = 200_000
	for i := 0; i < n; i++ {
		e.Stamp = int64(1 + i/10)
		m.Apply(e)
	}
	m.Apply(&Entry{Reqs: []Request{{Cmds: [][][]byte{args("XGROUP CREATE s g 0")}}}})
	read := &Entry{Stamp: 1, Reqs: []Request{{Cmds: [][][]byte{args("XREADGROUP GROUP g c COUNT 1 STREAMS s >")}}}}
	ack := &Entry{Stamp: 1, Reqs: []Request{{Cmds: [][][]byte{{[]byte("XACK"), []byte("s"), []byte("g"), nil}}}}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i == n {
			b.StopTimer()
			m.Apply(&Entry{Reqs: []Request{{Cmds: [][][]byte{args("XGROUP SETID s g 0")}}}})
			i = 0
			b.StartTimer()
		}
		rs, _ := m.Apply(read)
		id := rs[0].Elems[1].Elems[0].Elems[0].Bulk
		ack.Reqs[0].Cmds[0][3] = id
		if rs, _ = m.Apply(ack); rs[0].Int != 1 {
			b.Fatalf("XACK %s = %s; want 1", id, compact(rs[0]))
		}
	}
}

// BenchmarkEntryCodec encodes and decodes log entries: one XADD, and a
// group-commit batch of 26 (the average measured on one voter under 50
// writers, cluster/DESIGN.md) with 100-byte values. The proposer encodes
// each entry once, every replica decodes it once.
func BenchmarkEntryCodec(b *testing.B) {
	value := make([]byte, 100)
	for i := range value {
		value[i] = byte('a' + i%26)
	}
	batch := &Entry{Stamp: 1_700_000_000_000}
	for i := range 26 {
		argv := [][]byte{[]byte("XADD"), fmt.Appendf(nil, "stream-%d", i%4), []byte("*"), []byte("payload"), value}
		batch.Reqs = append(batch.Reqs, Request{Cmds: [][][]byte{argv}})
	}
	for _, tc := range []struct {
		name string
		e    *Entry
	}{{"XADD", xaddEntry(1_700_000_000_000)}, {"batch26", batch}} {
		enc := tc.e.AppendEncode(nil)
		b.Run("encode/"+tc.name, func(b *testing.B) {
			buf := make([]byte, 0, len(enc))
			b.SetBytes(int64(len(enc)))
			b.ReportAllocs()
			for b.Loop() {
				buf = tc.e.AppendEncode(buf[:0])
			}
		})
		b.Run("decode/"+tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(enc)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeEntry(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
