package fsm

import "encoding/binary"

// Block limits, as Redis's stream-node-max-entries and stream-node-max-bytes.
const (
	maxBlockEntries = 100
	maxBlockBytes   = 4096
)

// Entry flag bits (the first byte of every encoded entry).
const (
	flagDeleted   byte = 1 << 0 // removed by XDEL or an exact trim
	flagSameField byte = 1 << 1 // field names are the block's master fields
	// Bits 2-3: how the ID is encoded relative to the previous entry's.
	idSeqNext  byte = 0 << 2 // same ms, seq+1: no bytes
	idNewMs    byte = 1 << 2 // uvarint ms delta (>0), uvarint seq
	idSeqDelta byte = 2 << 2 // same ms, uvarint seq delta
	idMask     byte = 3 << 2
)

// block is a run of up to maxBlockEntries consecutive entries of a stream,
// encoded in data, like a Redis listpack node. It is stored by value in the
// stream's B-tree, keyed by first. data[0:len] is never modified once written
// (a snapshot may share it): appends go past len, and XDEL or trimming write a
// modified copy.
//
// data layout: uvarint master field count, the master fields (uvarint length
// and bytes), then the entries. An entry is: flags byte, ID bytes (see the id*
// constants; the first entry's previous ID is first itself), then either the
// values only (flagSameField) or uvarint field count and field/value pairs;
// every string is a uvarint length and its bytes.
type block struct {
	first ID // ID of the first entry, live or not
	last  ID // ID of the last entry, live or not
	data  []byte
	count uint16 // entries, deleted ones included
	live  uint16 // entries not deleted
	// epoch is the stream's snapshot epoch when data was allocated: while
	// it is still current, no snapshot shares data and flags may be
	// flipped in place.
	epoch uint32
}

func blockLess(a, b block) bool { return a.first.Less(b.first) }

// entryView is one decoded entry header inside a block.
type entryView struct {
	id      ID
	flags   byte
	off     int // offset of the flags byte
	body    int // offset of the field count (or the values when same-field)
	end     int // offset just after the entry
	nfields int
}

func (e *entryView) deleted() bool { return e.flags&flagDeleted != 0 }

// blockIter walks a block's entries in order.
type blockIter struct {
	b       *block
	pos     int
	prev    ID
	started bool
	master  [][]byte
	mstack  [8][]byte
}

func (it *blockIter) reset(b *block) {
	it.b = b
	it.prev = b.first
	it.started = false
	it.master = it.mstack[:0]
	n, p := binary.Uvarint(b.data)
	pos := p
	for i := uint64(0); i < n; i++ {
		l, q := binary.Uvarint(b.data[pos:])
		pos += q
		it.master = append(it.master, b.data[pos:pos+int(l)])
		pos += int(l)
	}
	it.pos = pos
}

// next decodes the next entry; ok is false at the end of the block.
func (it *blockIter) next(e *entryView) bool {
	d := it.b.data
	if it.pos >= len(d) {
		return false
	}
	e.off = it.pos
	e.flags = d[it.pos]
	pos := it.pos + 1
	id := it.prev
	switch e.flags & idMask {
	case idSeqNext:
		id.Seq++
	case idNewMs:
		dm, n := binary.Uvarint(d[pos:])
		pos += n
		seq, n2 := binary.Uvarint(d[pos:])
		pos += n2
		id = ID{id.Ms + dm, seq}
	case idSeqDelta:
		ds, n := binary.Uvarint(d[pos:])
		pos += n
		id.Seq += ds
	}
	if !it.started {
		id = it.b.first
		it.started = true
	}
	e.id = id
	e.body = pos
	strs := 0
	if e.flags&flagSameField != 0 {
		e.nfields = len(it.master)
		strs = e.nfields
	} else {
		nf, n := binary.Uvarint(d[pos:])
		pos += n
		e.nfields = int(nf)
		strs = 2 * e.nfields
	}
	for i := 0; i < strs; i++ {
		l, n := binary.Uvarint(d[pos:])
		pos += n + int(l)
	}
	e.end = pos
	it.prev = id
	it.pos = pos
	return true
}

// fields appends the entry's field/value pairs (aliasing the block's bytes).
func (it *blockIter) fields(e *entryView, dst []Reply) []Reply {
	d := it.b.data
	pos := e.body
	str := func() []byte {
		l, n := binary.Uvarint(d[pos:])
		pos += n
		s := d[pos : pos+int(l) : pos+int(l)]
		pos += int(l)
		return s
	}
	if e.flags&flagSameField != 0 {
		for _, f := range it.master {
			dst = append(dst, Bulk(f), Bulk(str()))
		}
		return dst
	}
	_, n := binary.Uvarint(d[pos:])
	pos += n
	for i := 0; i < e.nfields; i++ {
		f := str()
		dst = append(dst, Bulk(f), Bulk(str()))
	}
	return dst
}

// sameFields reports whether argv's field names equal the master fields.
func sameFields(master [][]byte, fv [][]byte) bool {
	if len(master)*2 != len(fv) {
		return false
	}
	for i, f := range master {
		if string(f) != string(fv[2*i]) {
			return false
		}
	}
	return true
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// encodedSize is an upper bound of the bytes appendEntry adds for fv.
func encodedSize(fv [][]byte) int {
	n := 1 + 2*binary.MaxVarintLen64 + binary.MaxVarintLen64
	for _, s := range fv {
		n += uvarintLen(uint64(len(s))) + len(s)
	}
	return n
}

// newBlock starts a block whose master fields are fv's field names.
func newBlock(id ID, fv [][]byte, epoch uint32) block {
	size := uvarintLen(uint64(len(fv) / 2))
	for i := 0; i < len(fv); i += 2 {
		size += uvarintLen(uint64(len(fv[i]))) + len(fv[i])
	}
	// Room for 100 entries like this one in the same-field form (flags, one
	// spare byte for the ID, values), or the byte limit.
	per := 2
	for i := 1; i < len(fv); i += 2 {
		per += uvarintLen(uint64(len(fv[i]))) + len(fv[i])
	}
	est := size + per*maxBlockEntries
	if est > maxBlockBytes {
		est = max(maxBlockBytes, size+per)
	}
	data := make([]byte, 0, est)
	data = binary.AppendUvarint(data, uint64(len(fv)/2))
	for i := 0; i < len(fv); i += 2 {
		data = binary.AppendUvarint(data, uint64(len(fv[i])))
		data = append(data, fv[i]...)
	}
	return block{first: id, last: id, data: data, epoch: epoch}
}

// appendEntry encodes id and fv at the end of b. The caller has checked that
// id is greater than b.last (or that b is empty).
func (b *block) appendEntry(id ID, fv [][]byte, master [][]byte) {
	flags := byte(0)
	same := sameFields(master, fv)
	if same {
		flags |= flagSameField
	}
	prev := b.last
	d := b.data
	switch {
	case b.count == 0 || (id.Ms == prev.Ms && id.Seq == prev.Seq+1):
		d = append(d, flags|idSeqNext)
	case id.Ms == prev.Ms:
		d = append(d, flags|idSeqDelta)
		d = binary.AppendUvarint(d, id.Seq-prev.Seq)
	default:
		d = append(d, flags|idNewMs)
		d = binary.AppendUvarint(d, id.Ms-prev.Ms)
		d = binary.AppendUvarint(d, id.Seq)
	}
	if same {
		for i := 1; i < len(fv); i += 2 {
			d = binary.AppendUvarint(d, uint64(len(fv[i])))
			d = append(d, fv[i]...)
		}
	} else {
		d = binary.AppendUvarint(d, uint64(len(fv)/2))
		for _, s := range fv {
			d = binary.AppendUvarint(d, uint64(len(s)))
			d = append(d, s...)
		}
	}
	b.data = d
	b.last = id
	b.count++
	b.live++
}

// masterFields decodes the block's master field names.
func (b *block) masterFields(dst [][]byte) [][]byte {
	n, p := binary.Uvarint(b.data)
	pos := p
	for i := uint64(0); i < n; i++ {
		l, q := binary.Uvarint(b.data[pos:])
		pos += q
		dst = append(dst, b.data[pos:pos+int(l)])
		pos += int(l)
	}
	return dst
}

// withDeleted returns b with the entries at the given flag offsets marked
// deleted. When a snapshot may share b's bytes (b.epoch is not the current
// epoch), the flags are set in a copy and the original bytes stay untouched.
func (b *block) withDeleted(offs []int, epoch uint32) block {
	nb := *b
	if b.epoch != epoch {
		nb.data = make([]byte, len(b.data))
		copy(nb.data, b.data)
		nb.epoch = epoch
	}
	for _, o := range offs {
		nb.data[o] |= flagDeleted
	}
	nb.live -= uint16(len(offs))
	return nb
}

// shrink returns b with its spare capacity dropped when that saves memory.
func (b *block) shrink(epoch uint32) {
	if cap(b.data)-len(b.data) > len(b.data)/8+16 {
		d := make([]byte, len(b.data))
		copy(d, b.data)
		b.data = d
		b.epoch = epoch
	}
}

// safeReader decodes untrusted block bytes (a snapshot being restored)
// without ever slicing out of range.
type safeReader struct {
	d   []byte
	pos int
	bad bool
}

func (r *safeReader) uv() uint64 {
	v, n := binary.Uvarint(r.d[min(r.pos, len(r.d)):])
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.pos += n
	return v
}

func (r *safeReader) skipString() {
	l := r.uv()
	if r.bad || l > uint64(len(r.d)-r.pos) {
		r.bad = true
		return
	}
	r.pos += int(l)
}

// valid reports whether b's bytes decode to exactly b.count entries with
// ascending IDs from b.first to b.last and b.live of them not deleted, so
// that the unchecked blockIter can be trusted with them.
func (b *block) valid() bool {
	r := safeReader{d: b.data}
	nm := r.uv()
	if nm > uint64(len(b.data)) {
		return false
	}
	for i := uint64(0); i < nm && !r.bad; i++ {
		r.skipString()
	}
	count, live := 0, 0
	prev := b.first
	for r.pos < len(b.data) && !r.bad {
		flags := b.data[r.pos]
		r.pos++
		if flags&^(flagDeleted|flagSameField|idMask) != 0 || flags&idMask == idMask {
			return false
		}
		id, ok := r.entryID(flags, prev, count == 0, b.first)
		if !ok {
			return false
		}
		strs := nm
		if flags&flagSameField == 0 {
			nf := r.uv()
			if nf > uint64(len(b.data)) {
				return false
			}
			strs = 2 * nf
		}
		for i := uint64(0); i < strs && !r.bad; i++ {
			r.skipString()
		}
		if flags&flagDeleted == 0 {
			live++
		}
		count++
		prev = id
	}
	return !r.bad && count > 0 && count == int(b.count) && live == int(b.live) && prev == b.last
}

// entryID decodes one entry's ID and checks that it ascends.
func (r *safeReader) entryID(flags byte, prev ID, first bool, firstID ID) (ID, bool) {
	id := prev
	switch flags & idMask {
	case idSeqNext:
		if !first {
			if id.Seq == maxID.Seq {
				return id, false
			}
			id.Seq++
		}
	case idNewMs:
		dm, seq := r.uv(), r.uv()
		if dm == 0 || id.Ms+dm < id.Ms {
			return id, false
		}
		id = ID{id.Ms + dm, seq}
	case idSeqDelta:
		ds := r.uv()
		if ds == 0 || id.Seq+ds < id.Seq {
			return id, false
		}
		id.Seq += ds
	}
	if first {
		return firstID, flags&idMask == idSeqNext && !r.bad
	}
	return id, !r.bad
}
