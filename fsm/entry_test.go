package fsm

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// entryV1 is `XLEN s` stamped 1, as a version-1 binary wrote it: version,
// op, zig-zag stamp, one request (no flags), one command of two arguments.
var entryV1 = []byte{1, 1, 2, 1, 0, 1, 2, 4, 'X', 'L', 'E', 'N', 1, 's'}

func TestEntryVersions(t *testing.T) {
	want := &Entry{Stamp: 1, Reqs: []Request{{Cmds: cmds("XLEN s")}}}
	got, err := DecodeEntry(entryV1)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeEntry(version 1) = %+v, %v; want %+v", got, err, want)
	}
	v2 := want.AppendEncode(nil)
	if v2[0] != FormatVersion || FormatVersion != 2 {
		t.Fatalf("AppendEncode wrote version %d; want 2", v2[0])
	}
	// Version 2 is the version-1 body and a CRC-32C of all before it.
	if body := v2[1 : len(v2)-crcLen]; !bytes.Equal(body, entryV1[1:]) {
		t.Errorf("version-2 body %x; want the version-1 body %x", body, entryV1[1:])
	}
	if !bytes.Equal(v2, asV2(entryV1)) {
		t.Errorf("AppendEncode = %x; want %x", v2, asV2(entryV1))
	}
	got, err = DecodeEntry(v2)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeEntry(version 2) = %+v, %v; want %+v", got, err, want)
	}
	// AppendEncode appends: a prefix in dst is not part of the checksum.
	if withPrefix := want.AppendEncode([]byte("prefix")); !bytes.Equal(withPrefix[6:], v2) {
		t.Errorf("AppendEncode after a prefix = %x; want %x", withPrefix[6:], v2)
	}
}

// TestEntryChecksum flips every bit of a version-2 entry: each flip must be
// refused, and every flip past the version byte as a checksum mismatch.
func TestEntryChecksum(t *testing.T) {
	e := &Entry{Stamp: 1_700_000_000_000, Reqs: []Request{
		{Cmds: cmds("XADD s * f v")},
		{Multi: true, Cmds: cmds("XADD s * f v", "XLEN s"), Watch: []Watched{{Key: []byte("s"), Version: 7}}},
	}}
	enc := e.AppendEncode(nil)
	for i := range enc {
		for bit := range 8 {
			b := bytes.Clone(enc)
			b[i] ^= 1 << bit
			_, err := DecodeEntry(b)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("byte %d bit %d flipped: DecodeEntry = %v; want ErrCorrupt", i, bit, err)
			}
			want := "checksum mismatch"
			if i == 0 {
				want = "format version"
			}
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("byte %d bit %d flipped: %v; want %q", i, bit, err, want)
			}
		}
	}
}

func TestEntryRefused(t *testing.T) {
	good := (&Entry{Stamp: 1, Reqs: []Request{{Cmds: cmds("XLEN s")}}}).AppendEncode(nil)
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "short entry"},
		{"version only", []byte{FormatVersion}, "short entry"},
		{"no checksum", good[:len(good)-crcLen], "checksum mismatch"},
		{"cut short", good[:len(good)-1], "checksum mismatch"},
		{"unknown version", append([]byte{3}, good[1:]...), "format version 3"},
		{"version 0", append([]byte{0}, good[1:]...), "format version 0"},
		// A body a version-1 binary could never have written, checksummed.
		{"bad body", asV2([]byte{1, 9}), "op 9"},
		{"v1 trailing bytes", append(bytes.Clone(entryV1), 0), "trailing bytes"},
	}
	for _, tc := range tests {
		if _, err := DecodeEntry(tc.b); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: DecodeEntry(%x) = %v; want ErrCorrupt with %q", tc.name, tc.b, err, tc.want)
		}
	}
}
