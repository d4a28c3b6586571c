package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"

	"go.etcd.io/bbolt"
)

// bolt's on-disk format (go.etcd.io/bbolt v1.3.6: page.go, db.go), read
// with plain file reads before bolt touches its memory map.
const (
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	boltPageHeader   = 16 // id u64, flags u16, count u16, overflow u32
	boltMetaChecksum = 56 // offset of the meta's checksum, which covers what precedes it
	boltFreelistFlag = 0x10
	boltNoFreelist   = ^uint64(0)
	boltMinPage      = 0x1000 // bbolt.Open reads this much to find the page size
)

// boltMeta is the part of a bolt meta page the checks need.
type boltMeta struct {
	pageSize uint32
	root     uint64 // the root bucket's page
	freelist uint64
	pgid     uint64 // high water mark: the pages in use are 0..pgid-1
	txid     uint64
}

// openBolt opens a bolt file read-only, waiting at most the lock timeout
// for a process that holds it read-write (reported in use).
func (v *verifier) openBolt(path string) (*bbolt.DB, bool) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: v.opts.LockTimeout})
	switch {
	case errors.Is(err, bbolt.ErrTimeout):
		v.problem(ProblemInUse, path, "in use by another process (its lock was not released within %v)", v.opts.LockTimeout)
		return nil, false
	case err != nil:
		v.problem(ProblemFatal, path, "bolt cannot open it: %v", err)
		v.log.broken = true
		return nil, false
	}
	return db, true
}

// checkBoltFile checks db's structure: the meta and freelist pages and the
// file's length with plain reads, then every page through a walk of every
// bucket in this goroutine (a fault or panic there is caught by guard),
// and only then bolt's own tx.Check.
func (v *verifier) checkBoltFile(db *bbolt.DB, path string) bool {
	m, ok := v.checkBoltLayout(path)
	if !ok {
		return false
	}
	limit := m.pgid * uint64(m.pageSize) // no walk visits more keys than bytes in use
	err := db.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(_ []byte, b *bbolt.Bucket) error {
			return walkBucket(b, int(m.pageSize), &limit)
		})
	})
	if err != nil {
		v.problem(ProblemFatal, path, "reading its pages: %v", err)
		return false
	}
	// tx.Check runs in a goroutine of bbolt's own, where a fault or panic
	// would end the process: it runs only after the walk above read every
	// page it visits.
	var errs []error
	_ = db.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return nil
	})
	if len(errs) > 0 {
		more := ""
		if len(errs) > 1 {
			more = fmt.Sprintf(" (and %d more)", len(errs)-1)
		}
		v.problem(ProblemFatal, path, "bolt's consistency check failed: %v%s", errs[0], more)
		return false
	}
	return true
}

// walkBucket reads every key and value of b and its nested buckets,
// touching each page of every value.
func walkBucket(b *bbolt.Bucket, pageSize int, limit *uint64) error {
	c := b.Cursor()
	var sink byte
	for k, val := c.First(); k != nil; k, val = c.Next() {
		if *limit == 0 {
			return errors.New("more keys than the file can hold: its page tree loops")
		}
		*limit--
		if val == nil {
			if nb := b.Bucket(k); nb != nil {
				if err := walkBucket(nb, pageSize, limit); err != nil {
					return err
				}
			}
			continue
		}
		for i := 0; i < len(val); i += pageSize {
			sink ^= val[i]
		}
		if len(val) > 0 {
			sink ^= val[len(val)-1]
		}
	}
	_ = sink
	return nil
}

// checkBoltLayout reads the meta page bolt would use and checks that the
// file holds every page it names and that the freelist page is one.
func (v *verifier) checkBoltLayout(path string) (boltMeta, bool) {
	fail := func(format string, args ...any) (boltMeta, bool) {
		v.problem(ProblemFatal, path, format, args...)
		return boltMeta{}, false
	}
	f, err := os.Open(path)
	if err != nil {
		return fail("%v", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fail("%v", err)
	}
	m, err := readBoltMetas(f)
	if err != nil {
		return fail("%v", err)
	}
	ps := uint64(m.pageSize)
	if need := m.pgid * ps; uint64(st.Size()) < need {
		return fail("truncated: %d bytes, but its meta page (transaction %d) says its %d pages take %d bytes: bolt faults reading past the end",
			st.Size(), m.txid, m.pgid, need)
	}
	if m.root >= m.pgid {
		return fail("the root bucket's page %d is past the file's %d pages", m.root, m.pgid)
	}
	if m.freelist == boltNoFreelist {
		return m, true
	}
	if m.freelist >= m.pgid {
		return fail("the freelist page %d is past the file's %d pages", m.freelist, m.pgid)
	}
	hdr := make([]byte, boltPageHeader+8)
	if _, err := f.ReadAt(hdr, int64(m.freelist*ps)); err != nil {
		return fail("read the freelist page %d: %v", m.freelist, err)
	}
	flags, count, overflow := binary.NativeEndian.Uint16(hdr[8:]), uint64(binary.NativeEndian.Uint16(hdr[10:])), uint64(binary.NativeEndian.Uint32(hdr[12:]))
	if flags&boltFreelistFlag == 0 {
		return fail("page %d, its freelist, is not a freelist page (flags %#x): bolt panics loading it", m.freelist, flags)
	}
	first := uint64(0)
	if count == 0xFFFF {
		count, first = binary.NativeEndian.Uint64(hdr[boltPageHeader:]), 1
	}
	if m.freelist+overflow >= m.pgid || boltPageHeader+(first+count)*8 > (overflow+1)*ps {
		return fail("the freelist page %d (count %d, overflow %d) runs past its pages", m.freelist, count, overflow)
	}
	return m, true
}

// readBoltMetas picks the meta page bolt would: the one of the two with
// the higher transaction ID, unless it is invalid and the other is valid.
func readBoltMetas(f io.ReaderAt) (boltMeta, error) {
	buf := make([]byte, boltMinPage)
	if _, err := f.ReadAt(buf, 0); err != nil {
		return boltMeta{}, fmt.Errorf("shorter than a page, or unreadable: %v", err)
	}
	m0, err0 := parseBoltMeta(buf)
	pageSize := int64(os.Getpagesize())
	if err0 == nil {
		pageSize = int64(m0.pageSize)
	}
	if _, err := f.ReadAt(buf[:boltPageHeader+boltMetaChecksum+8], pageSize); err != nil {
		return boltMeta{}, fmt.Errorf("read the second meta page: %v", err)
	}
	m1, err1 := parseBoltMeta(buf)
	a, b, errA, errB := m0, m1, err0, err1
	if m1.txid > m0.txid {
		a, b, errA, errB = m1, m0, err1, err0
	}
	switch {
	case errA == nil:
		return a, nil
	case errB == nil:
		return b, nil
	}
	return boltMeta{}, fmt.Errorf("both meta pages are invalid: %v; %v", err0, err1)
}

// parseBoltMeta decodes and validates the meta page at the start of p, as
// bbolt's meta.validate does.
func parseBoltMeta(p []byte) (boltMeta, error) {
	b := p[boltPageHeader:]
	e := binary.NativeEndian
	m := boltMeta{pageSize: e.Uint32(b[8:]), root: e.Uint64(b[16:]), freelist: e.Uint64(b[32:]),
		pgid: e.Uint64(b[40:]), txid: e.Uint64(b[48:])}
	switch sum := e.Uint64(b[boltMetaChecksum:]); {
	case e.Uint32(b[0:]) != boltMagic:
		return m, errors.New("not a bolt meta page (bad magic)")
	case e.Uint32(b[4:]) != boltVersion:
		return m, fmt.Errorf("bolt version %d", e.Uint32(b[4:]))
	case sum != 0 && sum != fnv64a(b[:boltMetaChecksum]):
		return m, errors.New("meta page checksum mismatch")
	case m.pageSize < 512 || m.pageSize&(m.pageSize-1) != 0:
		return m, fmt.Errorf("page size %d", m.pageSize)
	}
	return m, nil
}

func fnv64a(b []byte) uint64 {
	h := fnv.New64a()
	_, _ = h.Write(b)
	return h.Sum64()
}
