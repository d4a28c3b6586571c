package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// errorPause keeps a goroutine whose command failed from spinning on a
	// server that is down or electing a leader.
	errorPause = 10 * time.Millisecond
	// sleepSlice bounds one sleep of a paced producer, so that it notices
	// the end of the run quickly even at a low --rate.
	sleepSlice = 50 * time.Millisecond
)

// producer writes entries for one goroutine: the keys round-robin from its
// own offset, paced when --rate is set.
type producer struct {
	cfg      config
	keys     []string
	next     int       // index of the next key
	value    string    // the value when no send time is stamped
	pad      string    // padding after the send time
	interval float64   // seconds between two entries of this producer (0: no pacing)
	due      time.Time // scheduled time of the next entry
}

// newProducer builds producer id of n.
func newProducer(cfg config, id, n int) *producer {
	p := &producer{cfg: cfg, keys: cfg.keyNames(), next: id % cfg.keys}
	if cfg.stamped() {
		p.pad = strings.Repeat("x", cfg.valueSize-stampLen)
	} else {
		p.value = strings.Repeat("x", cfg.valueSize)
	}
	if cfg.rate > 0 && cfg.producerCount() > 0 {
		p.interval = float64(n) / cfg.rate
		// Stagger the producers over one interval so that they do not all
		// send at the same instant.
		p.due = time.Now().Add(time.Duration(p.interval * float64(id) / float64(n) * float64(time.Second)))
	}
	return p
}

// pace waits until the next batch of n entries is due and returns its
// scheduled time; unpaced, it returns now. Latency counted from the
// scheduled time includes any delay a slow server caused the producer.
func (p *producer) pace(stopped func() bool, n int64) time.Time {
	if p.interval == 0 {
		return time.Now()
	}
	due := p.due
	p.due = p.due.Add(time.Duration(p.interval * float64(n) * float64(time.Second)))
	for wait := time.Until(due); wait > 0 && !stopped(); wait = time.Until(due) {
		time.Sleep(min(wait, sleepSlice))
	}
	return due
}

// args builds the XADD of the next entry, stamped with sent.
func (p *producer) args(sent time.Time) *redis.XAddArgs {
	key := p.keys[p.next]
	p.next = (p.next + 1) % len(p.keys)
	v := p.value
	if p.cfg.stamped() {
		v = fmt.Sprintf("%0*d", stampLen, sent.UnixNano()) + p.pad
	}
	return &redis.XAddArgs{Stream: key, ID: "*", MaxLen: p.cfg.maxLen, Approx: p.cfg.maxLen > 0, Values: []string{"v", v}}
}

// send writes n entries: one XADD, or n in one pipeline. It returns how
// many succeeded and failed, and the first error.
func (p *producer) send(ctx context.Context, c redis.UniversalClient, n int64, sent time.Time) (ok, failed int64, err error) {
	if n == 1 {
		a := p.args(sent)
		if err := c.XAdd(ctx, a).Err(); err != nil {
			return 0, 1, fmt.Errorf("XADD %s: %w", a.Stream, err)
		}
		return 1, 0, nil
	}
	cmds := make([]*redis.StringCmd, n)
	_, _ = c.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i := range cmds {
			cmds[i] = pipe.XAdd(ctx, p.args(sent))
		}
		return nil
	}) // each command's own error is checked below
	for _, cmd := range cmds {
		if e := cmd.Err(); e != nil {
			failed++
			if err == nil {
				err = fmt.Errorf("pipelined XADD: %w", e)
			}
			continue
		}
		ok++
	}
	return ok, failed, err
}

// produce is a producer goroutine: it writes until the run stops or its
// share of --requests is claimed.
func (r *runner) produce(ctx context.Context, p *producer, rec *recorder) {
	defer r.producing.Add(-1)
	stopped := r.stopped.Load
	for !stopped() {
		// An operation is measured if it starts after the warm-up.
		measured := r.measuring.Load()
		n := r.claim(int64(r.cfg.pipeline), measured)
		if n == 0 {
			return
		}
		sent := p.pace(stopped, n)
		ok, failed, err := p.send(ctx, r.c, n, sent)
		lat := time.Since(sent)
		if ctx.Err() != nil {
			return
		}
		r.produced.Add(ok)
		if measured {
			rec.record(lat, ok, ok)
		}
		if failed > 0 {
			if measured {
				rec.fail(failed, err)
			}
			time.Sleep(errorPause)
		}
	}
}

// consume is a consumer goroutine: XREADGROUP new entries of its key, XACK
// them, and record what the workload measures. It stops between rounds, so
// that nothing it read is left unacknowledged.
func (r *runner) consume(ctx context.Context, id int, rec *recorder) {
	key := r.keys[id%len(r.keys)]
	args := &redis.XReadGroupArgs{Group: groupName, Consumer: "c" + strconv.Itoa(id),
		Streams: []string{key, ">"}, Count: r.cfg.count, Block: time.Duration(r.cfg.blockMS) * time.Millisecond}
	// The warm-up's rounds go to a recorder nobody reads.
	warm := &recorder{hist: newHistogram()}
	for !r.stopped.Load() {
		into := warm
		if r.measuring.Load() {
			into = rec
		}
		if err := r.round(ctx, key, args, into); err != nil {
			if ctx.Err() != nil {
				return
			}
			into.fail(1, err)
			time.Sleep(errorPause)
		}
	}
}

// round is one XREADGROUP (and XACK of what it returned).
func (r *runner) round(ctx context.Context, key string, args *redis.XReadGroupArgs, rec *recorder) error {
	start := time.Now()
	res, err := r.c.XReadGroup(ctx, args).Result()
	if errors.Is(err, redis.Nil) {
		return nil // BLOCK timed out: nothing new
	}
	if err != nil {
		return fmt.Errorf("XREADGROUP %s: %w", key, err)
	}
	received := time.Now()
	var msgs []redis.XMessage
	for _, s := range res {
		msgs = append(msgs, s.Messages...)
	}
	if len(msgs) == 0 {
		return nil
	}
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
	}
	acked, err := r.c.XAck(ctx, key, groupName, ids...).Result()
	if err != nil {
		return fmt.Errorf("XACK %s (%d ids): %w", key, len(ids), err)
	}
	done := time.Now()
	r.acked.Add(acked)
	switch r.cfg.workload {
	case workloadE2E:
		return recordSince(rec, msgs, received, acked)
	case workloadMixed:
		return recordSince(rec, msgs, done, acked)
	}
	rec.record(done.Sub(start), 1, acked)
	return nil
}

// recordSince records, for every message, the time from its send time to
// at, and counts acked operations.
func recordSince(rec *recorder, msgs []redis.XMessage, at time.Time, acked int64) error {
	rec.record(0, 0, acked)
	for _, m := range msgs {
		sent, err := sendTime(m)
		if err != nil {
			return err
		}
		rec.record(at.Sub(sent), 1, 0)
	}
	return nil
}

// sendTime reads the send time a producer put at the start of field v.
func sendTime(m redis.XMessage) (time.Time, error) {
	v, _ := m.Values["v"].(string)
	if len(v) < stampLen {
		return time.Time{}, fmt.Errorf("entry %s: field v %q holds no send time", m.ID, v)
	}
	ns, err := strconv.ParseInt(v[:stampLen], 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("entry %s: send time %q: %w", m.ID, v[:stampLen], err)
	}
	return time.Unix(0, ns), nil
}
