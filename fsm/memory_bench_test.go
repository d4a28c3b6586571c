package fsm

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkRedisUsedMemoryPerEntry loads the data of BenchmarkHeapPerEntry
// (1,000,000 entries, f1 <8 bytes> f2 <8 bytes>, ten IDs per millisecond)
// into a private redis-server and reports how much its INFO used_memory
// grew per entry, so the two figures come from one run:
//
//	go test -run '^$' -bench 'HeapPerEntry|RedisUsedMemory' -benchtime 1x ./fsm
func BenchmarkRedisUsedMemoryPerEntry(b *testing.B) {
	const n, batch = 1_000_000, 1000
	for b.Loop() {
		rc := startRedis(b)
		before := usedMemory(b, rc)
		var req strings.Builder
		for i := 0; i < n; i += batch {
			req.Reset()
			for j := i; j < i+batch; j++ {
				id := fmt.Sprintf("%d-%d", 1_700_000_000_000+j/10, j%10)
				fmt.Fprintf(&req, "*7\r\n$4\r\nXADD\r\n$1\r\ns\r\n$%d\r\n%s\r\n", len(id), id)
				for _, f := range benchFields {
					fmt.Fprintf(&req, "$%d\r\n%s\r\n", len(f), f)
				}
			}
			if _, err := rc.c.Write([]byte(req.String())); err != nil {
				b.Fatal(err)
			}
			for j := 0; j < batch; j++ {
				var out strings.Builder
				if err := rc.readReply(&out); err != nil {
					b.Fatal(err)
				}
				if out.String()[0] != '$' {
					b.Fatalf("XADD = %q; want an ID", out.String())
				}
			}
		}
		after := usedMemory(b, rc)
		b.ReportMetric(float64(after-before)/n, "used-memory-bytes/entry")
	}
}

// usedMemory reads used_memory from INFO memory.
func usedMemory(b *testing.B, rc *redisConn) int64 {
	raw := rc.do(b, args("INFO memory"))
	for _, line := range strings.Split(raw, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatalf("no used_memory in %q", raw)
	return 0
}
