package fsm

import (
	"bytes"
	"testing"
)

// idmpSeeds are command scripts (one command a line) that exercise IDMP.
var idmpSeeds = []string{
	"XADD s IDMP p a * f v\nXADD s IDMP p a * f w\nXADD s IDMPAUTO q * f v\nXADD s IDMPAUTO q * f v",
	"XADD s IDMP p a * f v\nXCFGSET s IDMP-DURATION 1 IDMP-MAXSIZE 2\nXADD s IDMP p a * f v\nXADD s IDMP p b * f v\nXADD s IDMP p c * f v\nXADD s IDMP p a * f v",
	"XADD s IDMP p1 iid1 1-1 f v\nXADD s IDMP p1 iid1 IDMP p2 iid2 * f v\nXADD s IDMPAUTO p1 1-1 f v\nXADD s IDMP p * f",
	"XADD s MAXLEN x IDMP p i IDMP p i * f v\nXADD s LIMIT 5 IDMP p i 1-1 f v\nXADD s IDMP p i MAXLEN 1 LIMIT 1 * f v",
	"XADD s NOMKSTREAM IDMP p i * f v\nXADD s IDMPAUTO p * a 1 a 1\nXCFGSET s\nXCFGSET s IDMP-DURATION 0\nXCFGSET t IDMP-MAXSIZE 5",
	"XADD s IDMP p i MAXLEN = 1 * f v\nXADD s IDMP p j MAXLEN = 1 * f v\nXADD s IDMP p i * f v\nXDEL s 1000-0\nDEL s\nXADD s IDMP p i * f v",
	"XADD s 18446744073709551615-18446744073709551615 f v\nXADD s IDMP p i * f v\nXADD s IDMPAUTO p * f v",
	"XADD s IDMP p i * f v\nXSETID s 99999999\nXADD s IDMP p j * f v\nXCFGSET s IDMP-MAXSIZE 1\nXADD s IDMP p i * f v\nXADD s IDMP p j * f v",
}

// FuzzIDMP runs command scripts with a stamp that grows by step per command
// and checks the IDMP state's bookkeeping, its snapshot round trip, and that
// Validate and Apply agree.
func FuzzIDMP(f *testing.F) {
	for _, s := range idmpSeeds {
		f.Add(s, int64(1000), int64(400))
	}
	f.Fuzz(func(t *testing.T, s string, stamp, step int64) {
		a, b := New(), New()
		for i, argv := range fuzzArgv(s) {
			now := stamp + int64(i)*(step%100000)
			ra, rb := do(a, now, argv), do(b, now, argv)
			if compact(ra) != compact(rb) {
				t.Fatalf("%q: %s on one machine, %s on the other", argv, compact(ra), compact(rb))
			}
			if v, ok := Validate(argv); !ok && (!ra.IsError() || v.Str != ra.Str) {
				t.Fatalf("Validate(%q) = %s; Apply gave %s", argv, v.Str, compact(ra))
			}
		}
		for key, st := range a.keys {
			checkIDMP(t, st.idmp)
			enc := st.idmp.appendSnapshot(nil)
			if other := b.keys[key].idmp.appendSnapshot(nil); !bytes.Equal(enc, other) {
				t.Fatalf("%q: the same history encoded differently", key)
			}
			dec, err := decodeIDMP(enc)
			if err != nil {
				t.Fatalf("%q: %v", key, err)
			}
			checkIDMP(t, dec)
			if again := dec.appendSnapshot(nil); !bytes.Equal(again, enc) {
				t.Fatalf("%q: re-encoded %x; want %x", key, again, enc)
			}
		}
	})
}

// FuzzDecodeIDMP feeds arbitrary bytes to the decoder: it must refuse them
// or build a state that passes checkIDMP and encodes stably.
func FuzzDecodeIDMP(f *testing.F) {
	m := New()
	buildIDMP(m)
	f.Add(m.keys["s"].idmp.appendSnapshot(nil))
	f.Add(newIDMPState().appendSnapshot(nil))
	f.Add([]byte{idmpSnapVersion, 1, 1, 0, 0, 1, 1, 'p', 1, 0, 1, 'i', 5, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeIDMP(b)
		if err != nil || s == nil {
			return
		}
		checkIDMP(t, s)
		enc := s.appendSnapshot(nil)
		s2, err := decodeIDMP(enc)
		if err != nil {
			t.Fatalf("re-decoding %x: %v", enc, err)
		}
		if again := s2.appendSnapshot(nil); !bytes.Equal(again, enc) {
			t.Fatalf("encoding not stable: %x then %x", enc, again)
		}
	})
}
