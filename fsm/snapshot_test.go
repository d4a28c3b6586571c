package fsm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
)

// buildState fills m with streams of several blocks, deletions, trims, an
// emptied stream and an XSETID.
func buildState(m *Machine, r *rand.Rand) {
	for k := 0; k < 20; k++ {
		key := fmt.Sprintf("stream:%d", k)
		n := 1 + r.IntN(700)
		for i := 0; i < n; i++ {
			fields := "f1 v1 f2 v2"
			if r.IntN(9) == 0 {
				fields = fmt.Sprintf("other %d", i)
			}
			do(m, int64(1000+i/7), args(fmt.Sprintf("XADD %s * %s", key, fields)))
		}
		for i := 0; i < n/5; i++ {
			do(m, 0, args(fmt.Sprintf("XDEL %s %d-%d", key, 1000+r.IntN(n/7+1), r.IntN(7))))
		}
		if k%4 == 0 {
			do(m, 0, args(fmt.Sprintf("XTRIM %s MAXLEN ~ %d", key, n/2)))
		}
	}
	buildGroups(m)
	do(m, 0, args("XADD empty 5-5 f v"))
	do(m, 0, args("XDEL empty 5-5"))
	do(m, 0, args("XSETID stream:1 99999-0 ENTRIESADDED 5000 MAXDELETEDID 1001-1"))
	do(m, 0, args("DEL stream:2"))
}

// buildGroups adds consumer groups to every third stream: deliveries to
// several consumers, acknowledgements, claims, a NOACK read, an idle
// consumer, deleted pending entries and a destroyed group.
func buildGroups(m *Machine) {
	for k := 0; k < 20; k += 3 {
		key := fmt.Sprintf("stream:%d", k)
		for i, c := range []string{
			"XGROUP CREATE %s g1 0", "XGROUP CREATE %s g0 $", "XGROUP CREATE %s zz 1010 ENTRIESREAD 3",
			"XREADGROUP GROUP g1 alice COUNT 20 STREAMS %s >", "XREADGROUP GROUP g1 bob COUNT 7 STREAMS %s >",
			"XREADGROUP GROUP g1 carol COUNT 5 NOACK STREAMS %s >", "XGROUP CREATECONSUMER %s g1 idle",
			"XACK %s g1 1000-1 1000-2 1001-0", "XCLAIM %s g1 bob 0 1000-3 1000-4 RETRYCOUNT 4",
			"XREADGROUP GROUP zz dave STREAMS %s >", "XDEL %s 1000-5 1002-0", "XGROUP CREATE %s gone 0",
			"XREADGROUP GROUP gone x COUNT 2 STREAMS %s >", "XGROUP DESTROY %s gone",
		} {
			do(m, int64(2000+i), args(fmt.Sprintf(c, key)))
		}
	}
}

// battery runs reads that together cover the observable state.
func battery(m *Machine) []Reply {
	var out []Reply
	keys := m.Read(args("KEYS *"), 0)
	out = append(out, keys, m.Read(args("DBSIZE"), 0), m.Read(args("SCAN 0 COUNT 5"), 0))
	for _, k := range keys.Elems {
		key := string(k.Bulk)
		for _, c := range []string{"XLEN %s", "XRANGE %s - +", "XREVRANGE %s + - COUNT 7",
			"XREAD COUNT 3 STREAMS %s 1050", "XRANGE %s 1010 (1020-3", "XREAD STREAMS %s +"} {
			out = append(out, m.Read(args(fmt.Sprintf(c, key)), 0))
		}
		out = append(out, m.Read(args("XINFO STREAM "+key+" FULL COUNT 0"), 3000), m.Read(args("XINFO GROUPS "+key), 0))
		for _, g := range []string{"g0", "g1", "zz"} {
			for _, c := range []string{"XPENDING %s %s", "XPENDING %s %s - + 100", "XINFO CONSUMERS %s %s",
				"XPENDING %s %s - + 100 bob"} {
				out = append(out, m.Read(args(fmt.Sprintf(c, key, g)), 3000))
			}
		}
		out = append(out, Int(int64(m.KeyVersion(key))))
	}
	out = append(out, Int(int64(m.KeyVersion("never-existed"))))
	return out
}

func TestSnapshotRoundTrip(t *testing.T) {
	m := New()
	buildState(m, rand.New(rand.NewPCG(7, 7)))
	want := battery(m)
	snap := m.Snapshot()

	// Writes after Snapshot() must not show in it.
	for i := 0; i < 300; i++ {
		do(m, 5000, args(fmt.Sprintf("XADD stream:%d * late %d", i%25, i)))
		do(m, 0, args(fmt.Sprintf("XDEL stream:%d 1000-%d", i%20, i%7)))
	}
	do(m, 0, args("DEL stream:3"))
	do(m, 0, args("XTRIM stream:4 MAXLEN 0"))
	for _, c := range []string{"XREADGROUP GROUP g1 eve STREAMS stream:6 >", "XACK stream:9 g1 1000-0 1000-3",
		"XCLAIM stream:12 g1 eve 0 1000-3 1000-6", "XGROUP DESTROY stream:15 g0", "XGROUP DELCONSUMER stream:0 g1 alice",
		"XAUTOCLAIM stream:18 g1 eve 0 0 COUNT 3", "XGROUP SETID stream:6 zz 0", "XGROUP CREATECONSUMER stream:9 g1 new"} {
		do(m, 5000, args(c))
	}

	var buf bytes.Buffer
	n, err := snap.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo = %d, %v; want %d, nil", n, err, buf.Len())
	}
	restored := New()
	do(restored, 1, args("XADD junk 1-1 f v")) // replaced by Restore
	if err := restored.Restore(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	got := battery(restored)
	if len(got) != len(want) {
		t.Fatalf("battery length %d; want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("battery reply %d = %.200s; want %.200s", i, compact(got[i]), compact(want[i]))
		}
	}

	// The restored machine behaves like the original did at the snapshot:
	// same IDs generated, same errors, same versions after writes.
	fresh := New()
	buildState(fresh, rand.New(rand.NewPCG(7, 7)))
	for _, c := range []string{"XADD stream:1 * a b", "XADD stream:5 * a b", "XADD empty * a b",
		"XSETID stream:6 1-1", "XADD stream:2 * a b", "XTRIM stream:7 MAXLEN ~ 10",
		"XREADGROUP GROUP g1 bob STREAMS stream:6 0", "XREADGROUP GROUP g1 eve COUNT 3 STREAMS stream:9 >",
		"XAUTOCLAIM stream:12 g1 eve 0 0 COUNT 5", "XCLAIM stream:0 g1 eve 0 1000-3 FORCE", "XACK stream:3 g1 1000-3",
		"XGROUP DELCONSUMER stream:15 g1 bob", "XGROUP CREATE stream:18 g1 0"} {
		a, b := do(fresh, 1100, args(c)), do(restored, 1100, args(c))
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%s after restore = %s; want %s", c, compact(b), compact(a))
		}
	}
	if !reflect.DeepEqual(battery(fresh), battery(restored)) {
		t.Fatal("states diverge after the same writes")
	}
}

// TestSnapshotConcurrentWrites writes a snapshot while Apply goes on (run
// with -race to check that no block bytes are shared mutably).
func TestSnapshotConcurrentWrites(t *testing.T) {
	m := New()
	buildState(m, rand.New(rand.NewPCG(3, 4)))
	want := battery(m)
	snap := m.Snapshot()
	var wg sync.WaitGroup
	var buf bytes.Buffer
	var werr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, werr = snap.WriteTo(&buf)
	}()
	for i := 0; i < 2000; i++ {
		key := fmt.Sprintf("stream:%d", i%20)
		do(m, 9000, args("XADD "+key+" * f v"))
		do(m, 0, args(fmt.Sprintf("XDEL %s 1000-%d", key, i%7)))
		do(m, 9000, args("XREADGROUP GROUP g1 w COUNT 2 STREAMS stream:0 >"))
		do(m, 9000, args(fmt.Sprintf("XACK stream:0 g1 1000-%d 1001-%d", i%7, i%7)))
		if i%100 == 0 {
			do(m, 9000, args("XCLAIM stream:3 g1 w 0 1000-3 1000-4 1001-1"))
			do(m, 9000, args("XGROUP DELCONSUMER stream:6 g1 bob"))
		}
		if i%300 == 0 {
			do(m, 0, args("XTRIM "+key+" MAXLEN 50"))
		}
	}
	wg.Wait()
	if werr != nil {
		t.Fatalf("WriteTo: %v", werr)
	}
	restored := New()
	if err := restored.Restore(&buf); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if got := battery(restored); !reflect.DeepEqual(got, want) {
		t.Fatal("restored state differs from the state at Snapshot()")
	}
}

func TestRestoreRejectsCorruption(t *testing.T) {
	m := New()
	buildState(m, rand.New(rand.NewPCG(1, 1)))
	var buf bytes.Buffer
	if _, err := m.Snapshot().WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	cases := map[string][]byte{
		"empty":     nil,
		"magic":     append([]byte("XXXX"), good[4:]...),
		"truncated": good[:len(good)/2],
		"flipped":   flip(good, len(good)/3),
		"crc":       flip(good, len(good)-1),
	}
	for name, b := range cases {
		r := New()
		do(r, 1, args("XADD keep 1-1 f v"))
		err := r.Restore(bytes.NewReader(b))
		if !errors.Is(err, ErrBadSnapshot) {
			t.Errorf("%s: Restore = %v; want ErrBadSnapshot", name, err)
		}
		if got := compact(r.Read(args("DBSIZE"), 0)); got != ":1" {
			t.Errorf("%s: a failed Restore changed the state: DBSIZE = %s", name, got)
		}
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x40
	return c
}

// TestRestoreCorruptBlocks corrupts every byte of a small snapshot, fixes
// the checksum, and restores: Restore must refuse it or yield a state that
// every read can walk without panicking.
func TestRestoreCorruptBlocks(t *testing.T) {
	m := New()
	for _, c := range []string{"XADD s 1-1 a 1 b 2", "XADD s 1-2 a 3 b 4", "XADD s 5-0 c 5",
		"XADD s 5-9 a 1 b 2", "XDEL s 1-2", "XADD t 3-3 x y"} {
		do(m, 0, args(c))
	}
	var buf bytes.Buffer
	if _, err := m.Snapshot().WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	accepted := 0
	for i := 5; i < len(good)-4; i++ {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			b := append([]byte(nil), good...)
			b[i] ^= mask
			body := b[:len(b)-4]
			binary.BigEndian.PutUint32(b[len(b)-4:], crc32.ChecksumIEEE(body))
			r := New()
			if err := r.Restore(bytes.NewReader(b)); err != nil {
				continue
			}
			accepted++
			battery(r)
			do(r, 9, args("XADD s * z z"))
			do(r, 9, args("XTRIM s MAXLEN 1"))
			do(r, 9, args("XDEL t 3-3"))
		}
	}
	t.Logf("%d corrupted snapshots were accepted (and read safely)", accepted)
}

// TestSnapshotBytesImmutable checks the copy-on-write rule directly: after
// Snapshot(), no write may change a byte the snapshot can see.
func TestSnapshotBytesImmutable(t *testing.T) {
	m := New()
	for i := 0; i < 250; i++ {
		do(m, 0, args(fmt.Sprintf("XADD s %d-0 f %d", i+1, i)))
	}
	snap := m.Snapshot()
	var saved [][]byte
	snap.streams[0].meta.blocks.Scan(func(b block) bool {
		saved = append(saved, append([]byte(nil), b.data...))
		return true
	})
	for _, c := range []string{"XADD s 300-0 f x", "XDEL s 1-0 120-0 250-0", "XTRIM s MINID 50",
		"XADD s 301-0 g y", "XTRIM s MAXLEN 10", "XDEL s 245-0 246-0 247-0 248-0 249-0", "DEL s"} {
		do(m, 0, args(c))
	}
	i := 0
	snap.streams[0].meta.blocks.Scan(func(b block) bool {
		if !bytes.Equal(b.data, saved[i]) {
			t.Errorf("block %d of the snapshot changed after writes", i)
		}
		i++
		return true
	})
	if i != len(saved) || i != 3 {
		t.Fatalf("snapshot has %d blocks; want %d (3)", i, len(saved))
	}
}
