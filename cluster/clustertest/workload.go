package clustertest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/streamraft/streamraft/cluster/clustertest/check"
)

// The fault workloads: streams as logs (every operation recorded for the
// linearizability checker) and a work queue (producers, crashing
// consumers and a reaper, for the work-queue checker).

const (
	// opTimeout bounds one workload operation, all its redirects included.
	opTimeout = 10 * time.Second
	// opEvery paces each stream client: enough operations to exercise the
	// cluster, few enough that the checker stays fast (see check's doc).
	opEvery = 10 * time.Millisecond
	// payloadField is the field every workload XADD writes.
	payloadField = "p"
	// keyEpoch is how long the stream workload writes the same keys
	// before it moves to new ones: each key's history stays short enough
	// for the linearizability checker however long a soak runs.
	keyEpoch = 20 * time.Second
)

// streamWorkload runs clients that XADD, XRANGE, XLEN and XREAD over keys
// through a Router, recording every operation.
type streamWorkload struct {
	router  *Router
	rec     *check.Recorder
	keys    int // keys per epoch
	clients int
	seed    int64
	start   time.Time
}

// key is the i-th key of the epoch at now.
func (w *streamWorkload) key(now time.Time, i int) string {
	return fmt.Sprintf("log-%d-%d", int(now.Sub(w.start)/keyEpoch), i)
}

// allKeys is every key written so far.
func (w *streamWorkload) allKeys() []string {
	var out []string
	for e := 0; e <= int(time.Since(w.start)/keyEpoch); e++ {
		for i := range w.keys {
			out = append(out, fmt.Sprintf("log-%d-%d", e, i))
		}
	}
	return out
}

func (w *streamWorkload) run(stop <-chan struct{}, wg *sync.WaitGroup) {
	for id := range w.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.client(id, stop)
		}()
	}
}

func (w *streamWorkload) client(id int, stop <-chan struct{}) {
	rng := rand.New(rand.NewPCG(uint64(w.seed), uint64(id)))
	seen := map[string][]check.ID{} // IDs this client saw, per key, to XREAD after
	tick := time.NewTicker(opEvery)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		key := w.key(time.Now(), rng.IntN(w.keys))
		switch p := rng.IntN(100); {
		case p < 50:
			w.xadd(id, key, fmt.Sprintf("c%d-%d", id, n), seen)
		case p < 65:
			w.xrange(id, key, seen)
		case p < 80:
			w.xlen(id, key)
		default:
			after := check.ID{}
			if ids := seen[key]; len(ids) > 0 && rng.IntN(4) > 0 {
				after = ids[rng.IntN(len(ids))]
			}
			w.xread(id, key, after, 1+rng.IntN(20), seen)
		}
	}
}

func (w *streamWorkload) do(p *check.Pending, key string, args ...any) (any, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	res, out, err := w.router.Do(ctx, key, args...)
	switch {
	case out == Unknown:
		p.Unknown()
	case out == NotApplied || err != nil:
		p.Fail()
	default:
		return res, true
	}
	return nil, false
}

func (w *streamWorkload) xadd(id int, key, payload string, seen map[string][]check.ID) {
	p := w.rec.Invoke(id, check.XAdd(key, payload))
	res, ok := w.do(p, key, "XADD", key, "*", payloadField, payload)
	if !ok {
		return
	}
	s, _ := res.(string)
	eid, err := check.ParseID(s)
	if err != nil {
		p.Fail()
		return
	}
	p.Ok(check.Output{ID: eid})
	seen[key] = append(seen[key], eid)
}

func (w *streamWorkload) xrange(id int, key string, seen map[string][]check.ID) {
	p := w.rec.Invoke(id, check.XRange(key))
	res, ok := w.do(p, key, "XRANGE", key, "-", "+")
	if !ok {
		return
	}
	entries, err := parseEntries(res)
	if err != nil {
		p.Fail()
		return
	}
	p.Ok(check.Output{Entries: entries})
	for _, e := range entries {
		seen[key] = append(seen[key], e.ID)
	}
}

func (w *streamWorkload) xlen(id int, key string) {
	p := w.rec.Invoke(id, check.XLen(key))
	res, ok := w.do(p, key, "XLEN", key)
	if !ok {
		return
	}
	n, _ := res.(int64)
	p.Ok(check.Output{Len: int(n)})
}

func (w *streamWorkload) xread(id int, key string, after check.ID, count int, seen map[string][]check.ID) {
	p := w.rec.Invoke(id, check.XRead(key, after, count))
	res, ok := w.do(p, key, "XREAD", "COUNT", count, "STREAMS", key, after.String())
	if !ok {
		return
	}
	var entries []check.Entry
	if res != nil { // a null reply: nothing after the ID
		streams, ok := res.([]any)
		if !ok || len(streams) != 1 {
			p.Fail()
			return
		}
		pair, ok := streams[0].([]any)
		if !ok || len(pair) != 2 {
			p.Fail()
			return
		}
		var err error
		if entries, err = parseEntries(pair[1]); err != nil {
			p.Fail()
			return
		}
	}
	p.Ok(check.Output{Entries: entries})
	for _, e := range entries {
		seen[key] = append(seen[key], e.ID)
	}
}

// parseEntries reads an XRANGE-shaped reply: [[id, [field, value, ...]], ...].
func parseEntries(res any) ([]check.Entry, error) {
	list, ok := res.([]any)
	if !ok {
		return nil, fmt.Errorf("entries: %T", res)
	}
	out := make([]check.Entry, 0, len(list))
	for _, item := range list {
		e, ok := item.([]any)
		if !ok || len(e) != 2 {
			return nil, fmt.Errorf("entry: %v", item)
		}
		s, _ := e[0].(string)
		id, err := check.ParseID(s)
		if err != nil {
			return nil, err
		}
		fields, _ := e[1].([]any)
		payload := ""
		for i := 0; i+1 < len(fields); i += 2 {
			if f, _ := fields[i].(string); f == payloadField {
				payload, _ = fields[i+1].(string)
			}
		}
		out = append(out, check.Entry{ID: id, Payload: payload})
	}
	return out, nil
}

// finalReads records one XRANGE of every key from a last client, once the
// others have stopped: it shows every write that took effect.
func (w *streamWorkload) finalReads() {
	for _, key := range w.allKeys() {
		w.xrange(w.clients, key, map[string][]check.ID{})
	}
}

// queueWorkload is a work queue: producers XADD jobs through a Router
// (outcomes known exactly), consumers take them with XREADGROUP and XACK
// through go-redis's ClusterClient (as an application would), some
// "crash" with jobs in hand, and a reaper XAUTOCLAIMs what stays pending.
type queueWorkload struct {
	router    *Router
	cc        *redis.ClusterClient
	keys      []string
	group     string
	producers int
	consumers int
	seed      int64

	mu sync.Mutex
	h  check.QueueHistory
}

const (
	// queueClaimIdle is how long a job stays pending before the reaper
	// takes it: well above a live consumer's processing time.
	queueClaimIdle = 1500 * time.Millisecond
	// queueCrashPercent is the chance that a consumer crashes holding a
	// batch.
	queueCrashPercent = 5
)

func (q *queueWorkload) setup(ctx context.Context) error {
	for _, k := range q.keys {
		if err := q.cc.XGroupCreateMkStream(ctx, k, q.group, "$").Err(); err != nil {
			return fmt.Errorf("XGROUP CREATE %s: %w", k, err)
		}
	}
	return nil
}

func (q *queueWorkload) run(stop <-chan struct{}, wg *sync.WaitGroup) {
	for id := range q.producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q.produce(id, stop)
		}()
	}
	for id := range q.consumers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q.consume(id, stop)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		q.reap(stop)
	}()
}

func (q *queueWorkload) produce(id int, stop <-chan struct{}) {
	tick := time.NewTicker(4 * opEvery)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		key := q.keys[n%len(q.keys)]
		payload := fmt.Sprintf("job-%d-%d", id, n)
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		res, out, err := q.router.Do(ctx, key, "XADD", key, "*", payloadField, payload)
		cancel()
		s, _ := res.(string)
		eid, perr := check.ParseID(s)
		q.mu.Lock()
		switch {
		case out == Applied && err == nil && perr == nil:
			q.h.Produced = append(q.h.Produced, check.Produced{Key: key, ID: eid, Payload: payload})
		case out == Unknown:
			q.h.ProducedUnknown = append(q.h.ProducedUnknown, check.Produced{Key: key, Payload: payload})
		}
		q.mu.Unlock()
	}
}

func (q *queueWorkload) consume(id int, stop <-chan struct{}) {
	rng := rand.New(rand.NewPCG(uint64(q.seed), uint64(1000+id)))
	gen := 0
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		default:
		}
		consumer := fmt.Sprintf("c%d.%d", id, gen)
		key := q.keys[n%len(q.keys)]
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		streams, err := q.cc.XReadGroup(ctx, &redis.XReadGroupArgs{Group: q.group, Consumer: consumer,
			Streams: []string{key, ">"}, Count: 5, Block: 200 * time.Millisecond}).Result()
		cancel()
		if err != nil {
			continue // nothing new (redis.Nil), or a failover
		}
		msgs := q.delivered(consumer, "XREADGROUP", streams)
		if rng.IntN(100) < queueCrashPercent {
			gen++ // crashed with msgs in hand: they stay pending for the reaper
			continue
		}
		q.ack(key, msgs)
	}
}

// reap XAUTOCLAIMs jobs pending longer than queueClaimIdle and acks them.
func (q *queueWorkload) reap(stop <-chan struct{}) {
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		for _, key := range q.keys {
			q.claim(key, queueClaimIdle)
		}
	}
}

// claim takes over key's jobs idle for at least idle and acks them; it
// reports how many it took.
func (q *queueWorkload) claim(key string, idle time.Duration) int {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	msgs, _, err := q.cc.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: key, Group: q.group, Consumer: "reaper",
		MinIdle: idle, Start: "0-0", Count: 100}).Result()
	if err != nil || len(msgs) == 0 {
		return 0
	}
	got := q.delivered("reaper", "XAUTOCLAIM", []redis.XStream{{Stream: key, Messages: msgs}})
	q.ack(key, got)
	return len(got)
}

// delivered records the entries a consumer received.
func (q *queueWorkload) delivered(consumer, via string, streams []redis.XStream) []redis.XMessage {
	var out []redis.XMessage
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, s := range streams {
		for _, m := range s.Messages {
			id, err := check.ParseID(m.ID)
			if err != nil {
				continue
			}
			payload, _ := m.Values[payloadField].(string)
			q.h.Deliveries = append(q.h.Deliveries, check.Delivery{Consumer: consumer, Key: s.Stream, ID: id, Payload: payload, Via: via})
			out = append(out, m)
		}
	}
	return out
}

func (q *queueWorkload) ack(key string, msgs []redis.XMessage) {
	for _, m := range msgs {
		id, err := check.ParseID(m.ID)
		if err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		err = q.cc.XAck(ctx, key, q.group, m.ID).Err()
		cancel()
		a := check.Ack{Key: key, Group: q.group, ID: id}
		q.mu.Lock()
		if err == nil {
			q.h.Acks = append(q.h.Acks, a)
		} else {
			q.h.AcksUnknown = append(q.h.AcksUnknown, a)
		}
		q.mu.Unlock()
	}
}

// drain consumes and acks whatever is left, then reads the final state.
func (q *queueWorkload) drain(ctx context.Context) error {
	for _, key := range q.keys {
		for {
			c, cancel := context.WithTimeout(ctx, opTimeout)
			streams, err := q.cc.XReadGroup(c, &redis.XReadGroupArgs{Group: q.group, Consumer: "drain",
				Streams: []string{key, ">"}, Count: 100, Block: -1}).Result()
			cancel()
			if err != nil && err != redis.Nil {
				return fmt.Errorf("drain %s: %w", key, err)
			}
			msgs := q.delivered("drain", "XREADGROUP", streams)
			q.ack(key, msgs)
			if len(msgs) == 0 && q.claim(key, 0) == 0 {
				break
			}
		}
		final := check.Final{Key: key}
		msgs, err := q.cc.XRange(ctx, key, "-", "+").Result()
		if err != nil {
			return fmt.Errorf("final XRANGE %s: %w", key, err)
		}
		for _, m := range msgs {
			id, _ := check.ParseID(m.ID)
			payload, _ := m.Values[payloadField].(string)
			final.Entries = append(final.Entries, check.Entry{ID: id, Payload: payload})
		}
		pending, err := q.cc.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: key, Group: q.group, Start: "-", End: "+", Count: 1 << 20}).Result()
		if err != nil {
			return fmt.Errorf("final XPENDING %s: %w", key, err)
		}
		for _, p := range pending {
			id, _ := check.ParseID(p.ID)
			final.Pending = append(final.Pending, check.PendingEntry{Key: key, Group: q.group, ID: id, Consumer: p.Consumer})
		}
		q.mu.Lock()
		q.h.Final = append(q.h.Final, final)
		q.mu.Unlock()
	}
	return nil
}

// history is what the queue's clients saw.
func (q *queueWorkload) history() check.QueueHistory {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.h
}
