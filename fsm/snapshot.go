package fsm

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/tidwall/btree"
)

// Snapshot format: magic, version byte, then uvarints and length-prefixed
// bytes, and a CRC-32 (IEEE) of everything before it.
const (
	snapMagic   = "SRFS"
	snapVersion = 3
)

// ErrBadSnapshot is returned by Restore for bytes WriteTo never wrote.
var ErrBadSnapshot = errors.New("fsm: bad snapshot")

// Snapshot is a frozen point-in-time view of a Machine.
type Snapshot struct {
	counter    uint64
	lastDelete uint64
	streams    []snapStream // in (hash, key) order
}

type snapStream struct {
	key  string
	meta stream // blocks is a copy-on-write clone
	idmp []byte // IDMP state, encoded in Snapshot() under the lock
}

// Snapshot captures the current state cheaply (O(number of keys): each
// stream's B-tree is cloned copy-on-write); writing it out happens later,
// while Apply goes on.
func (m *Machine) Snapshot() *Snapshot {
	// The write lock: Copy marks the live trees shared, a write.
	m.mu.Lock()
	defer m.mu.Unlock()
	sn := &Snapshot{counter: m.counter, lastDelete: m.lastDelete,
		streams: make([]snapStream, 0, len(m.keys))}
	m.order.Scan(func(k keyRef) bool {
		s := m.keys[k.key]
		meta := *s
		meta.blocks = s.blocks.Copy()
		meta.groups = cloneGroups(s.groups)
		meta.idmp = nil // mutable maps: they travel as bytes
		s.snapEpoch++   // blocks allocated so far are now shared
		sn.streams = append(sn.streams, snapStream{key: k.key, meta: meta, idmp: s.idmp.appendSnapshot(nil)})
		return true
	})
	return sn
}

// snapWriter writes the format and keeps the running CRC.
type snapWriter struct {
	w   *bufio.Writer
	crc uint32
	n   int64
	buf []byte
}

func (sw *snapWriter) flushBuf() error {
	sw.crc = crc32.Update(sw.crc, crc32.IEEETable, sw.buf)
	k, err := sw.w.Write(sw.buf)
	sw.n += int64(k)
	sw.buf = sw.buf[:0]
	if err != nil {
		return fmt.Errorf("fsm: write snapshot: %w", err)
	}
	return nil
}

func (sw *snapWriter) uv(v uint64)    { sw.buf = binary.AppendUvarint(sw.buf, v) }
func (sw *snapWriter) v(v int64)      { sw.buf = binary.AppendVarint(sw.buf, v) }
func (sw *snapWriter) id(id ID)       { sw.uv(id.Ms); sw.uv(id.Seq) }
func (sw *snapWriter) bytes(b []byte) { sw.uv(uint64(len(b))); sw.buf = append(sw.buf, b...) }

// Digest is the SHA-256 of the snapshot's bytes: two machines hold the
// same state exactly when their digests are equal (the encoding is
// canonical: keys in order, blocks as applied).
func (s *Snapshot) Digest() (string, error) {
	h := sha256.New()
	if _, err := s.WriteTo(h); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// WriteTo streams the snapshot.
func (s *Snapshot) WriteTo(w io.Writer) (int64, error) {
	sw := &snapWriter{w: bufio.NewWriterSize(w, 64<<10), buf: make([]byte, 0, 8<<10)}
	sw.buf = append(sw.buf, snapMagic...)
	sw.buf = append(sw.buf, snapVersion)
	sw.uv(s.counter)
	sw.uv(s.lastDelete)
	sw.uv(uint64(len(s.streams)))
	for i := range s.streams {
		if err := sw.stream(&s.streams[i]); err != nil {
			return sw.n, err
		}
	}
	if err := sw.flushBuf(); err != nil {
		return sw.n, err
	}
	sw.buf = binary.BigEndian.AppendUint32(sw.buf, sw.crc)
	if err := sw.flushBuf(); err != nil {
		return sw.n, err
	}
	if err := sw.w.Flush(); err != nil {
		return sw.n, fmt.Errorf("fsm: write snapshot: %w", err)
	}
	return sw.n, nil
}

func (sw *snapWriter) stream(ss *snapStream) error {
	st := &ss.meta
	sw.bytes([]byte(ss.key))
	sw.uv(st.length)
	sw.id(st.lastID)
	sw.id(st.firstID)
	sw.id(st.maxDeleted)
	sw.uv(st.entriesAdded)
	sw.uv(st.version)
	sw.uv(uint64(st.blocks.Len()))
	var err error
	st.blocks.Scan(func(b block) bool {
		sw.id(b.first)
		sw.id(b.last)
		sw.uv(uint64(b.count))
		sw.uv(uint64(b.live))
		sw.bytes(b.data)
		if len(sw.buf) >= 32<<10 {
			err = sw.flushBuf()
		}
		return err == nil
	})
	if err != nil {
		return err
	}
	if err := sw.groups(st); err != nil {
		return err
	}
	sw.bytes(ss.idmp)
	return nil
}

// snapReader decodes the format and keeps the running CRC.
type snapReader struct {
	version byte // the format version read (2 or 3)
	r       *bufio.Reader
	crc     uint32
	err     error
}

func (sr *snapReader) ReadByte() (byte, error) {
	c, err := sr.r.ReadByte()
	if err == nil {
		sr.crc = crc32.Update(sr.crc, crc32.IEEETable, []byte{c})
	}
	return c, err
}

func (sr *snapReader) uv() uint64 {
	if sr.err != nil {
		return 0
	}
	v, err := binary.ReadUvarint(sr)
	if err != nil {
		sr.err = fmt.Errorf("%w: %w", ErrBadSnapshot, err)
	}
	return v
}

func (sr *snapReader) id() ID { return ID{sr.uv(), sr.uv()} }

func (sr *snapReader) v() int64 {
	if sr.err != nil {
		return 0
	}
	v, err := binary.ReadVarint(sr)
	if err != nil {
		sr.err = fmt.Errorf("%w: %w", ErrBadSnapshot, err)
	}
	return v
}

func (sr *snapReader) bytes(limit uint64) []byte {
	n := sr.uv()
	if sr.err != nil {
		return nil
	}
	if n > limit {
		sr.err = fmt.Errorf("%w: length %d", ErrBadSnapshot, n)
		return nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(sr.r, b); err != nil {
		sr.err = fmt.Errorf("%w: %w", ErrBadSnapshot, err)
		return nil
	}
	sr.crc = crc32.Update(sr.crc, crc32.IEEETable, b)
	return b
}

// Restore replaces the machine's state with a snapshot written by WriteTo.
func (m *Machine) Restore(r io.Reader) error {
	sr := &snapReader{r: bufio.NewReaderSize(r, 64<<10)}
	head := make([]byte, len(snapMagic)+1)
	if _, err := io.ReadFull(sr.r, head); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSnapshot, err)
	}
	sr.version = head[len(snapMagic)]
	if string(head[:len(snapMagic)]) != snapMagic || sr.version < 2 || sr.version > snapVersion {
		return fmt.Errorf("%w: header %q", ErrBadSnapshot, head)
	}
	sr.crc = crc32.Update(0, crc32.IEEETable, head)
	nm := New()
	nm.counter = sr.uv()
	nm.lastDelete = sr.uv()
	n := sr.uv()
	for i := uint64(0); i < n && sr.err == nil; i++ {
		key, s := sr.stream()
		if sr.err == nil {
			nm.keys[key] = s
			nm.order.Set(keyRef{keyHash(key), key})
		}
	}
	if sr.err != nil {
		return sr.err
	}
	want := sr.crc
	var tail [4]byte
	if _, err := io.ReadFull(sr.r, tail[:]); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSnapshot, err)
	}
	if binary.BigEndian.Uint32(tail[:]) != want {
		return fmt.Errorf("%w: checksum mismatch", ErrBadSnapshot)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys, m.order, m.counter, m.lastDelete = nm.keys, nm.order, nm.counter, nm.lastDelete
	return nil
}

func (sr *snapReader) stream() (string, *stream) {
	key := string(sr.bytes(1 << 30))
	s := newStream()
	s.length = sr.uv()
	s.lastID = sr.id()
	s.firstID = sr.id()
	s.maxDeleted = sr.id()
	s.entriesAdded = sr.uv()
	s.version = sr.uv()
	nb := sr.uv()
	blocks := make([]block, 0, min(nb, 1<<16))
	for j := uint64(0); j < nb && sr.err == nil; j++ {
		b := block{first: sr.id(), last: sr.id()}
		count, live := sr.uv(), sr.uv()
		if count > maxBlockEntries || live > count {
			sr.err = fmt.Errorf("%w: block counts %d/%d", ErrBadSnapshot, live, count)
		}
		b.count, b.live = uint16(count), uint16(live)
		b.data = sr.bytes(1 << 30)
		if sr.err == nil && (!b.valid() || (len(blocks) > 0 && !blocks[len(blocks)-1].first.Less(b.first))) {
			sr.err = fmt.Errorf("%w: block %v of %q", ErrBadSnapshot, b.first, key)
		}
		blocks = append(blocks, b)
	}
	var live uint64
	for _, b := range blocks {
		live += uint64(b.live)
	}
	if live != s.length && sr.err == nil {
		sr.err = fmt.Errorf("%w: %q has %d entries, not %d", ErrBadSnapshot, key, live, s.length)
	}
	s.blocks = loadBlocks(blocks)
	s.groups = sr.groups(key)
	idmp := sr.bytes(1 << 30)
	if sr.err == nil {
		s.idmp, sr.err = decodeIDMP(idmp)
	}
	return key, s
}

// loadBlocks builds a block tree from blocks in ascending order.
func loadBlocks(blocks []block) *btree.BTreeG[block] {
	t := newBlockTree()
	for _, b := range blocks {
		t.Load(b)
	}
	return t
}
