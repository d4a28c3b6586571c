package fsm

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
)

// IDMP (Redis 8.6 idempotent production) limits and defaults: how long an
// iid is remembered, in seconds, and how many iids each producer keeps.
const (
	idmpDefaultDuration = 100
	idmpDefaultMaxSize  = 100
	idmpMinDuration     = 1
	idmpMaxDuration     = 86400
	idmpMinMaxSize      = 1
	idmpMaxMaxSize      = 10000
	idmpSnapVersion     = 1
)

// IDMP error texts, byte-identical to Redis 8.6's t_stream.c.
const (
	errIDMPTwice     = "ERR syntax error, IDMP/IDMPAUTO specified multiple times"
	errIDMPAutoNoPid = "ERR syntax error, IDMPAUTO requires a non-empty producer ID"
	errIDMPNoPid     = "ERR syntax error, IDMP requires a non-empty producer ID"
	errIDMPNoIid     = "ERR syntax error, IDMP requires a non-empty idempotent ID"
	errIDMPAutoOnly  = "ERR syntax error, IDMP/IDMPAUTO can be used only with auto-generated IDs"
	errIDMPHash      = "ERR Failed to create idempotency hash"
)

// idmpEntry is one remembered (producer, iid) and the entry ID it produced.
type idmpEntry struct {
	prod *idmpProducer
	iid  string
	id   ID
	// evicted is set when IDMP-MAXSIZE removed the entry from its producer;
	// the stream-wide queue drops it lazily.
	evicted bool
}

// idmpProducer is one producer's iids, oldest first.
type idmpProducer struct {
	iids  map[string]*idmpEntry
	queue entryQueue
}

// entryQueue is a FIFO of entries.
type entryQueue struct {
	items []*idmpEntry
	head  int
}

func (q *entryQueue) len() int            { return len(q.items) - q.head }
func (q *entryQueue) push(e *idmpEntry)   { q.items = append(q.items, e) }
func (q *entryQueue) peek() *idmpEntry    { return q.items[q.head] }
func (q *entryQueue) live() []*idmpEntry  { return q.items[q.head:] }
func (q *entryQueue) reset(n int)         { q.items, q.head = make([]*idmpEntry, 0, n), 0 }
func (q *entryQueue) set(es []*idmpEntry) { q.items, q.head = es, 0 }

func (q *entryQueue) pop() *idmpEntry {
	e := q.items[q.head]
	q.items[q.head] = nil
	q.head++
	if q.head >= 32 && 2*q.head >= len(q.items) {
		q.items = append(q.items[:0], q.items[q.head:]...)
		q.head = 0
	}
	return e
}

// idmpState is a stream's IDMP configuration and maps. A nil *idmpState is
// a stream that never used IDMP nor XCFGSET: the defaults and no iids.
//
// Every iid is recorded with a freshly appended entry ID, so the stream-wide
// queue `all` is in ID order and expiry pops it from the front: O(expired).
type idmpState struct {
	duration  int64 // seconds
	maxSize   int64 // iids per producer
	producers map[string]*idmpProducer
	all       entryQueue // every producer's entries, oldest first
	tracked   int64      // live iids over all producers
	evicted   int64      // evicted entries still in all
	added     int64      // iids ever recorded (survives XCFGSET)
	dups      int64      // duplicates ever answered (survives XCFGSET)
}

func newIDMPState() *idmpState {
	return &idmpState{duration: idmpDefaultDuration, maxSize: idmpDefaultMaxSize,
		producers: make(map[string]*idmpProducer)}
}

// info returns what XINFO STREAM reports after recorded-first-entry-id (Redis
// 8.6): idmp-duration, idmp-maxsize, pids-tracked, iids-tracked, iids-added,
// iids-duplicates. A nil state reports the defaults and zeros.
func (s *idmpState) info() (duration, maxsize, pids, iids, added, dups int64) {
	if s == nil {
		return idmpDefaultDuration, idmpDefaultMaxSize, 0, 0, 0, 0
	}
	return s.duration, s.maxSize, int64(len(s.producers)), s.tracked, s.added, s.dups
}

// producer returns pid's producer, creating it (Redis creates it before it
// looks the iid up, so a producer can exist with no iids).
func (s *idmpState) producer(pid []byte) *idmpProducer {
	p, ok := s.producers[string(pid)]
	if !ok {
		p = &idmpProducer{iids: make(map[string]*idmpEntry)}
		s.producers[string(pid)] = p
	}
	return p
}

// duplicate reports the entry ID recorded for iid, counting the duplicate.
func (s *idmpState) duplicate(p *idmpProducer, iid string) (ID, bool) {
	e, ok := p.iids[iid]
	if !ok {
		return ID{}, false
	}
	s.dups++
	return e.id, true
}

// insert records iid → id for p and evicts p's oldest iid past IDMP-MAXSIZE.
func (s *idmpState) insert(p *idmpProducer, iid string, id ID) {
	e := &idmpEntry{prod: p, iid: iid, id: id}
	p.iids[iid] = e
	p.queue.push(e)
	s.all.push(e)
	s.added++
	s.tracked++
	if int64(len(p.iids)) > s.maxSize {
		old := p.queue.pop()
		delete(p.iids, old.iid)
		old.evicted = true
		s.tracked--
		s.evicted++
		if s.evicted > 64 && s.evicted > s.tracked {
			s.compact()
		}
	}
}

// compact drops evicted entries from the stream-wide queue.
func (s *idmpState) compact() {
	live := make([]*idmpEntry, 0, s.tracked)
	for _, e := range s.all.live() {
		if !e.evicted {
			live = append(live, e)
		}
	}
	s.all.set(live)
	s.evicted = 0
}

// expire forgets the iids whose entry ID is IDMP-DURATION or more older
// than stamp (the leader's clock), as Redis's handleExpiredIdmpEntries does
// with its own clock: id.ms <= now - duration*1000. Producers stay.
func (s *idmpState) expire(stamp int64) {
	cutoff := stamp - s.duration*1000
	if cutoff < 0 {
		return
	}
	for s.all.len() > 0 {
		e := s.all.peek()
		if e.evicted {
			s.all.pop()
			s.evicted--
			continue
		}
		if e.id.Ms > uint64(cutoff) {
			return
		}
		s.all.pop()
		e.prod.queue.pop() // e is its producer's oldest too: IDs only grow
		delete(e.prod.iids, e.iid)
		s.tracked--
	}
}

// clear forgets every producer and iid; the lifetime counters stay.
func (s *idmpState) clear() {
	s.producers = make(map[string]*idmpProducer)
	s.all.reset(0)
	s.tracked, s.evicted = 0, 0
}

// autoIID is IDMPAUTO's iid: the XOR over the field/value pairs of each
// pair's FNV-1a 128-bit hash of (uvarint len(field), field, value), so the
// order of the pairs does not matter, as with Redis's XXH128 XOR. ok is
// false when the XOR is zero (an even number of identical pairs), which
// Redis refuses as "Failed to create idempotency hash".
func autoIID(fv [][]byte) (iid string, ok bool) {
	var acc, sum [16]byte
	var lenBuf [binary.MaxVarintLen64]byte
	h := fnv.New128a()
	for i := 0; i+1 < len(fv); i += 2 {
		h.Reset()
		h.Write(lenBuf[:binary.PutUvarint(lenBuf[:], uint64(len(fv[i])))])
		h.Write(fv[i])
		h.Write(fv[i+1])
		for j, b := range h.Sum(sum[:0]) {
			acc[j] ^= b
		}
	}
	return string(acc[:]), acc != [16]byte{}
}

// appendSnapshot appends s's encoding (nothing for a nil state):
//
//	version byte, uvarint duration, maxSize, added, dups,
//	uvarint producer count, producers' pids sorted (uvarint len + bytes),
//	uvarint iid count, iids oldest first: uvarint producer index,
//	uvarint len + iid bytes, uvarint id.ms, uvarint id.seq
func (s *idmpState) appendSnapshot(dst []byte) []byte {
	if s == nil {
		return dst
	}
	dst = append(dst, idmpSnapVersion)
	for _, v := range []int64{s.duration, s.maxSize, s.added, s.dups} {
		dst = binary.AppendUvarint(dst, uint64(v))
	}
	pids := make([]string, 0, len(s.producers))
	for pid := range s.producers {
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	index := make(map[*idmpProducer]int, len(pids))
	dst = binary.AppendUvarint(dst, uint64(len(pids)))
	for i, pid := range pids {
		index[s.producers[pid]] = i
		dst = appendBytes(dst, pid)
	}
	dst = binary.AppendUvarint(dst, uint64(s.tracked))
	for _, e := range s.all.live() {
		if e.evicted {
			continue
		}
		dst = binary.AppendUvarint(dst, uint64(index[e.prod]))
		dst = appendBytes(dst, e.iid)
		dst = binary.AppendUvarint(dst, e.id.Ms)
		dst = binary.AppendUvarint(dst, e.id.Seq)
	}
	return dst
}

func appendBytes(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

// idmpReader decodes appendSnapshot's format, keeping the first error.
type idmpReader struct {
	b   []byte
	err error
}

func (r *idmpReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: idmp: "+format, append([]any{ErrBadSnapshot}, args...)...)
	}
}

func (r *idmpReader) uv() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a count that must fit in what is left (each item >= 1 byte).
func (r *idmpReader) count() int {
	n := r.uv()
	if n > uint64(len(r.b)) {
		r.fail("count %d", n)
		return 0
	}
	return int(n)
}

func (r *idmpReader) str() string {
	n := r.count()
	if r.err != nil {
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// decodeIDMP decodes appendSnapshot's bytes; empty bytes are a nil state.
// Every invariant is checked, so a bad snapshot cannot build a bad state.
func decodeIDMP(b []byte) (*idmpState, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if b[0] != idmpSnapVersion {
		return nil, fmt.Errorf("%w: idmp version %d", ErrBadSnapshot, b[0])
	}
	r := &idmpReader{b: b[1:]}
	s := newIDMPState()
	var v [4]uint64
	for i := range v {
		v[i] = r.uv()
	}
	if v[0] < idmpMinDuration || v[0] > idmpMaxDuration || v[1] < idmpMinMaxSize ||
		v[1] > idmpMaxMaxSize || v[2] > math.MaxInt64 || v[3] > math.MaxInt64 {
		r.fail("config %v", v)
	}
	s.duration, s.maxSize, s.added, s.dups = int64(v[0]), int64(v[1]), int64(v[2]), int64(v[3])
	prods := make([]*idmpProducer, r.count())
	prev := ""
	for i := range prods {
		pid := r.str()
		if r.err == nil && (pid == "" || (i > 0 && pid <= prev)) {
			r.fail("producer %q out of order", pid)
		}
		prev = pid
		prods[i] = s.producer([]byte(pid))
	}
	n := r.count()
	s.all.reset(n)
	for i := 0; i < n && r.err == nil; i++ {
		r.decodeEntry(s, prods)
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d trailing bytes", len(r.b))
	}
	if r.err != nil {
		return nil, r.err
	}
	return s, nil
}

func (r *idmpReader) decodeEntry(s *idmpState, prods []*idmpProducer) {
	k := r.uv()
	iid := r.str()
	id := ID{r.uv(), r.uv()}
	if r.err != nil {
		return
	}
	if k >= uint64(len(prods)) || iid == "" {
		r.fail("entry producer %d iid %q", k, iid)
		return
	}
	p := prods[k]
	if _, dup := p.iids[iid]; dup || int64(len(p.iids)) >= s.maxSize {
		r.fail("iid %q repeated or over maxsize", iid)
		return
	}
	e := &idmpEntry{prod: p, iid: iid, id: id}
	p.iids[iid] = e
	p.queue.push(e)
	s.all.push(e)
	s.tracked++
}
