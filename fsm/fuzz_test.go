package fsm

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"reflect"
	"strings"
	"testing"
)

func FuzzDecodeEntry(f *testing.F) {
	seeds := []*Entry{
		{Stamp: 1, Reqs: []Request{{Cmds: cmds("XADD s * f v")}}},
		{Stamp: -5, Reqs: []Request{{Multi: true, Cmds: cmds("XADD s * f v", "XLEN s"),
			Watch: []Watched{{Key: []byte("s"), Version: 7}}}}},
		{},
	}
	for _, e := range seeds {
		v2 := e.AppendEncode(nil)
		f.Add(v2)
		f.Add(asV1(v2))
	}
	f.Add([]byte{1, 1, 0, 1, 3, 1, 1, 1})
	f.Add([]byte{1, 1, 0, 1, flagWatch, 0, 0}) // an empty watch list
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeEntry(b)
		if err != nil {
			return
		}
		again := e.AppendEncode(nil)
		switch b[0] {
		case FormatVersion: // one encoding per entry
			if !bytes.Equal(again, b) {
				t.Fatalf("re-encoded %x; want %x", again, b)
			}
		case formatV1: // the same body, now with a checksum
			if want := asV2(b); !bytes.Equal(again, want) {
				t.Fatalf("version-1 entry %x re-encoded as %x; want %x", b, again, want)
			}
		default:
			t.Fatalf("decoded format version %d", b[0])
		}
	})
}

// asV1 turns a version-2 entry into the version-1 entry an older binary
// wrote: the same body, no checksum.
func asV1(v2 []byte) []byte {
	return append([]byte{formatV1}, v2[1:len(v2)-crcLen]...)
}

// asV2 is the version-2 form of a version-1 entry.
func asV2(v1 []byte) []byte {
	b := append([]byte{FormatVersion}, v1[1:]...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// fuzzArgv splits fuzz text into commands (lines) and arguments (spaces);
// "\x00" stays a byte, so IDs and numbers get odd inputs too.
func fuzzArgv(s string) [][][]byte {
	var out [][][]byte
	for _, line := range strings.Split(s, "\n") {
		var argv [][]byte
		for _, a := range strings.Split(line, " ") {
			argv = append(argv, []byte(a))
		}
		out = append(out, argv)
	}
	return out
}

func FuzzApply(f *testing.F) {
	for _, s := range []string{
		"XADD s * f v\nXRANGE s - +",
		"XADD s MAXLEN ~ 1 LIMIT 5 1-* a b\nXADD s 2-1 a b\nXTRIM s MINID 2",
		"XADD s 1-1 a b\nXDEL s 1-1 1-2\nXREAD COUNT 1 STREAMS s 0\nXSETID s 5",
		"XREVRANGE s (5 - COUNT 2\nSCAN 0 MATCH [a-z]* COUNT 3 TYPE stream\nKEYS *\\x",
		"XREAD BLOCK 10 STREAMS s t $ +\nDEL s\nFLUSHALL ASYNC\nEXISTS s s",
		"xadd s 18446744073709551615-* a b\nxadd s * a b\ntype s\ndbsize\nunlink s",
		"XADD s 1-1 a b\nXGROUP CREATE s g 0\nXREADGROUP GROUP g c COUNT 1 STREAMS s >\nXPENDING s g - + 10 c\nXACK s g 1-1",
		"XGROUP CREATE s g $ MKSTREAM ENTRIESREAD 5\nXADD s 1-1 a b\nXREADGROUP GROUP g c NOACK STREAMS s >\nXINFO GROUPS s\nXINFO STREAM s FULL COUNT 1",
		"XADD s 1-1 a b\nXADD s 1-2 a b\nXGROUP CREATE s g 0\nXREADGROUP GROUP g a STREAMS s >\nXDEL s 1-1\nXCLAIM s g b 0 1-1 1-2 FORCE JUSTID LASTID 5\nXAUTOCLAIM s g c 0 - COUNT 1",
		"XADD s 1-1 a b\nXGROUP CREATE s g 0\nXREADGROUP GROUP g a BLOCK 0 STREAMS s >\nXGROUP SETID s g -\nXREADGROUP GROUP g b STREAMS s >\nXGROUP DELCONSUMER s g b\nXINFO CONSUMERS s g\nXGROUP DESTROY s g",
		"XADD s 1-1 a b\nXADD s 1-2 a b\nXGROUP CREATE s g 0\nXREADGROUP GROUP g c COUNT 1 STREAMS s >\nXTRIM s MAXLEN 0 ACKED\nXADD s DELREF MINID = 1-2 * a b\nXDELEX s ACKED IDS 2 1-1 1-2\nXACKDEL s g DELREF IDS 1 1-1\nXDELEX s IDS 3 1-1",
		"XADD {t}s 1-1 a b\nXGROUP CREATE {t}s g 0\nXGROUP SETDLQ {t}s g 1 {t}d\nXREADGROUP GROUP g c STREAMS {t}s >\nXREADGROUP GROUP g c CLAIM 0 COUNT 2 STREAMS {t}s >\nXCLAIM {t}s g c 0 1-1\nXAUTOCLAIM {t}s g c 0 0\nXREADGROUP GROUP g c STREAMS {t}s 0\nXGROUP SETDLQ {t}s g NONE\nXINFO GROUPS {t}s",
		"XGROUP CREATE s g 0 MKSTREAM\nxreadgroup.retry GROUP g c STREAMS s >\nXPENDING s g IDLE 5 (0 + 3\nXGROUP HELP\nXINFO HELP\nDEL s\nXREADGROUP GROUP g c STREAMS s 0",
		"XADD s 1-1 a b\nXADD t 1-1 c d\nXREAD COUNT 1 MAXCOUNT 2 MAXSIZE 40 STREAMS s t 0 0\nXREAD MAXCOUNT 0 STREAMS s 0\nXREAD COUNT 3 MAXCOUNT 2 STREAMS s +",
		"XADD s 1-1 a b\nXADD s 1-2 a b\nXGROUP CREATE s g 0\nXREADGROUP GROUP g c MAXSIZE 1 STREAMS s >\nXREADGROUP GROUP g c MAXCOUNT 1 CLAIM 0 STREAMS s >\nXREADGROUP GROUP g c MAXSIZE 9 MAXCOUNT 3 STREAMS s 0\nXREADGROUP GROUP g c MAXSIZE x STREAMS s >",
	} {
		f.Add(s, int64(1000))
	}
	f.Fuzz(func(t *testing.T, s string, stamp int64) {
		m := New()
		for _, argv := range fuzzArgv(s) {
			_, valid := Validate(argv)
			r := do(m, stamp, argv)
			if c, _ := lookup(argv); !valid && !r.IsError() && (c == nil || !c.internal) {
				t.Fatalf("Validate refused %q but it ran: %s", argv, compact(r))
			}
			if valid {
				Blocking(argv)
				pinBlock(m, argv)
				m.TryRead(argv, stamp)
				m.TryRead(BlockedRetry(argv), stamp)
			}
		}
		checkInvariants(t, m)
		checkGroupInvariants(t, m)
		// The state must survive a snapshot round trip.
		var buf bytes.Buffer
		if _, err := m.Snapshot().WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		r := New()
		if err := r.Restore(&buf); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(battery(m), battery(r)) {
			t.Fatal("restored state differs")
		}
	})
}

func FuzzSnapshotRoundTrip(f *testing.F) {
	m := New()
	do(m, 5, args("XADD s 1-1 f v"))
	do(m, 5, args("XADD s 1-2 g w"))
	do(m, 5, args("XDEL s 1-1"))
	var buf bytes.Buffer
	if _, err := m.Snapshot().WriteTo(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	for _, c := range []string{"XGROUP CREATE s g 0", "XGROUP CREATE s a $ ENTRIESREAD 2",
		"XREADGROUP GROUP g c STREAMS s >", "XGROUP CREATECONSUMER s g d", "XCLAIM s g d 0 1-2"} {
		do(m, 7, args(c))
	}
	buf.Reset()
	if _, err := m.Snapshot().WriteTo(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("SRFS\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := New()
		if err := r.Restore(bytes.NewReader(b)); err != nil {
			return
		}
		var out bytes.Buffer
		if _, err := r.Snapshot().WriteTo(&out); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), b) {
			t.Fatalf("snapshot rewritten as %x; want %x", out.Bytes(), b)
		}
	})
}
