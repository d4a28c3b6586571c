package fsm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// FormatVersion is the first byte of every log entry this binary writes. A
// newer binary must keep decoding every older version:
//
//	1: the body (op, stamp, requests), no checksum
//	2: the version-1 body followed by a big-endian CRC-32C (Castagnoli) of
//	   every byte before it, version byte included
//
// raft-boltdb stores log values without a checksum, so version 2 lets a
// replica tell a damaged entry from a bug before applying it.
const FormatVersion byte = 2

// formatV1 is the version without a checksum, still read from older logs.
const formatV1 byte = 1

// crcLen is the size of version 2's trailing checksum.
const crcLen = 4

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Op is the second byte of a log entry. Op codes are only ever added at the
// end of this list: a replica replays logs written by older binaries.
type Op byte

const (
	// OpBatch carries a leader timestamp and a batch of client requests.
	OpBatch Op = 1
)

// Request is what one client asked for: a single command, or a MULTI/EXEC
// transaction (Multi set) whose commands are applied back to back.
type Request struct {
	Multi bool
	Cmds  [][][]byte // each command is its argv, name first
	// Watch holds the keys a MULTI watched and the versions they had when
	// WATCH ran (Machine.KeyVersion); if any changed, EXEC answers a null array.
	Watch []Watched
}

// Watched is one WATCHed key and the version it had when it was watched.
type Watched struct {
	Key     []byte
	Version uint64
}

// Entry is one Raft log entry: the leader's wall clock in milliseconds when it
// proposed the entry, and the requests applied in order. Every time the FSM
// needs (auto IDs, delivery and seen times) comes from Stamp.
type Entry struct {
	Stamp int64
	Reqs  []Request
}

// Request flag bits.
const (
	flagMulti byte = 1 << iota
	flagWatch
)

// ErrCorrupt is returned by DecodeEntry for bytes no binary ever wrote.
var ErrCorrupt = errors.New("fsm: corrupt log entry")

// AppendEncode appends the wire form of e (FormatVersion) to dst and
// returns it.
func (e *Entry) AppendEncode(dst []byte) []byte {
	start := len(dst)
	dst = append(dst, FormatVersion, byte(OpBatch))
	dst = binary.AppendVarint(dst, e.Stamp)
	dst = binary.AppendUvarint(dst, uint64(len(e.Reqs)))
	for _, r := range e.Reqs {
		var flags byte
		if r.Multi {
			flags |= flagMulti
		}
		if len(r.Watch) > 0 {
			flags |= flagWatch
		}
		dst = append(dst, flags)
		if len(r.Watch) > 0 {
			dst = binary.AppendUvarint(dst, uint64(len(r.Watch)))
			for _, w := range r.Watch {
				dst = binary.AppendUvarint(dst, uint64(len(w.Key)))
				dst = append(dst, w.Key...)
				dst = binary.AppendUvarint(dst, w.Version)
			}
		}
		dst = binary.AppendUvarint(dst, uint64(len(r.Cmds)))
		for _, argv := range r.Cmds {
			dst = binary.AppendUvarint(dst, uint64(len(argv)))
			for _, a := range argv {
				dst = binary.AppendUvarint(dst, uint64(len(a)))
				dst = append(dst, a...)
			}
		}
	}
	return binary.BigEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// DecodeEntry parses an encoded entry of any version this binary knows; a
// version-2 entry whose checksum does not match is ErrCorrupt. Arguments
// alias b: the caller keeps b alive and unchanged while the entry is in use.
func DecodeEntry(b []byte) (*Entry, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: short entry", ErrCorrupt)
	}
	switch v := b[0]; v {
	case formatV1:
	case FormatVersion:
		n := len(b) - crcLen
		if n < 1 {
			return nil, fmt.Errorf("%w: short entry", ErrCorrupt)
		}
		if got, want := crc32.Checksum(b[:n], castagnoli), binary.BigEndian.Uint32(b[n:]); got != want {
			return nil, fmt.Errorf("%w: checksum mismatch (computed %08x, stored %08x)", ErrCorrupt, got, want)
		}
		b = b[:n]
	default:
		return nil, fmt.Errorf("%w: format version %d", ErrCorrupt, v)
	}
	return decodeBody(b[1:])
}

// decodeBody parses what follows the version byte, the same in versions 1
// and 2 (without 2's checksum).
func decodeBody(b []byte) (*Entry, error) {
	d := decoder{b: b}
	if op := Op(d.byte()); op != OpBatch {
		return nil, fmt.Errorf("%w: op %d", ErrCorrupt, op)
	}
	e := &Entry{Stamp: d.varint()}
	n := d.count()
	e.Reqs = make([]Request, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		var r Request
		flags := d.byte()
		if flags&^(flagMulti|flagWatch) != 0 {
			d.fail("request flags")
		}
		r.Multi = flags&flagMulti != 0
		if flags&flagWatch != 0 {
			nw := d.count()
			if nw == 0 {
				d.fail("empty watch list")
			}
			for k := 0; k < nw && d.err == nil; k++ {
				key := d.bytes()
				r.Watch = append(r.Watch, Watched{Key: key, Version: d.uvarint()})
			}
		}
		nc := d.count()
		r.Cmds = make([][][]byte, 0, nc)
		for j := 0; j < nc && d.err == nil; j++ {
			argc := d.count()
			argv := make([][]byte, 0, argc)
			for k := 0; k < argc && d.err == nil; k++ {
				argv = append(argv, d.bytes())
			}
			r.Cmds = append(r.Cmds, argv)
		}
		e.Reqs = append(e.Reqs, r)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return nil, d.err
	}
	return e, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrCorrupt, what)
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail("short entry")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 || n != uvarintLen(uint64(v)<<1^uint64(v>>63)) {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 || n != uvarintLen(v) {
		d.fail("bad uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// Every varint must be in its shortest form, so that an entry has exactly
// one encoding (a decoded entry re-encodes to the same bytes).

// count reads a length that must fit in what is left of the entry, so a
// corrupt length cannot make the decoder allocate without bound.
func (d *decoder) count() int {
	v, n := binary.Uvarint(d.b)
	if n <= 0 || n != uvarintLen(v) {
		d.fail("bad length")
		return 0
	}
	d.b = d.b[n:]
	if v > uint64(len(d.b)) {
		d.fail("length past end")
		return 0
	}
	return int(v)
}

func (d *decoder) bytes() []byte {
	n := d.count()
	if d.err != nil {
		return nil
	}
	s := d.b[:n:n]
	d.b = d.b[n:]
	return s
}
