package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The work-queue test: a producer, crashing workers and a reaper sharing one
// consumer group, as an application would use streamraft (go-redis v9).
const (
	wqStream  = "{q}jobs"
	wqDead    = "{q}dead"
	wqGroup   = "workers"
	wqWorkers = 8
	// wqBlock is each worker's XREADGROUP BLOCK; short, so workers notice
	// the end quickly.
	wqBlock = 100 * time.Millisecond
	// wqMinIdle is the reaper's XAUTOCLAIM min-idle: a job unacknowledged
	// that long belongs to a crashed worker (a live one acks in ~ms).
	wqMinIdle = 200 * time.Millisecond
	// wqReapEvery is how often the reaper runs.
	wqReapEvery = 100 * time.Millisecond
	// wqDeadline bounds the whole run (2000 jobs take a few seconds).
	wqDeadline = 60 * time.Second
)

// workQueue is the shared state of one run.
type workQueue struct {
	c         *redis.Client
	poison    map[string]bool // job ids that always crash their worker
	crashRate float64         // the chance that a worker crashes on any job

	mu        sync.Mutex
	processed map[string]int // job id -> times processed

	crashes   atomic.Int64
	reclaimed atomic.Int64
}

// produce XADDs n jobs, job ids "job-1".."job-n", pipelined 50 at a time.
func (q *workQueue) produce(ctx context.Context, n int) error {
	for i := 1; i <= n; {
		pipe := q.c.Pipeline()
		for end := min(i+50, n+1); i < end; i++ {
			fields := map[string]any{"job": "job-" + strconv.Itoa(i), "payload": strings.Repeat("x", i%64)}
			pipe.XAdd(ctx, &redis.XAddArgs{Stream: wqStream, Values: fields})
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("produce: %w", err)
		}
	}
	return nil
}

// handle processes one job: a poison job, or bad luck, "crashes" the
// caller (false: nothing recorded, nothing acked); otherwise the job id is
// recorded, then acknowledged.
func (q *workQueue) handle(ctx context.Context, rng *rand.Rand, m redis.XMessage) (bool, error) {
	job, _ := m.Values["job"].(string)
	if q.poison[job] || rng.Float64() < q.crashRate {
		q.crashes.Add(1)
		return false, nil
	}
	q.mu.Lock()
	q.processed[job]++
	q.mu.Unlock()
	if err := q.c.XAck(ctx, wqStream, wqGroup, m.ID).Err(); err != nil {
		return false, fmt.Errorf("XACK %s: %w", m.ID, err)
	}
	return true, nil
}

// worker reads new jobs as consumer w<id>-<generation>; on a crash it drops
// the rest of its batch (pending, unacknowledged) and comes back under a new
// consumer name, as a restarted process would.
func (q *workQueue) worker(ctx context.Context, id int, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, uint64(id)))
	for gen := 0; ; gen++ {
		name := fmt.Sprintf("w%d-%d", id, gen)
	reading:
		for {
			res, err := q.c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: wqGroup, Consumer: name,
				Streams: []string{wqStream, ">"}, Count: 10, Block: wqBlock}).Result()
			switch {
			case ctx.Err() != nil:
				return nil
			case errors.Is(err, redis.Nil):
				continue
			case err != nil:
				return fmt.Errorf("worker %s: XREADGROUP: %w", name, err)
			}
			for _, m := range res[0].Messages {
				ok, err := q.handle(ctx, rng, m)
				if err != nil {
					return fmt.Errorf("worker %s: %w", name, err)
				}
				if !ok {
					break reading // crashed: restart as a new consumer
				}
			}
		}
	}
}

// reaper claims jobs idle longer than wqMinIdle (their worker crashed) and
// processes them; it may crash on a job too (poison jobs always do).
func (q *workQueue) reaper(ctx context.Context, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 1000))
	tick := time.NewTicker(wqReapEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		start := "0-0"
		for {
			msgs, next, err := q.c.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: wqStream, Group: wqGroup,
				Consumer: "reaper", MinIdle: wqMinIdle, Start: start, Count: 50}).Result()
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				return fmt.Errorf("reaper: XAUTOCLAIM: %w", err)
			}
			for _, m := range msgs {
				q.reclaimed.Add(1)
				if _, err := q.handle(ctx, rng, m); err != nil {
					return fmt.Errorf("reaper: %w", err)
				}
			}
			if next == "0-0" {
				break
			}
			start = next
		}
	}
}

// done reports whether every job in want was processed and nothing is
// pending in the group.
func (q *workQueue) done(ctx context.Context, want []string) (bool, error) {
	q.mu.Lock()
	for _, job := range want {
		if q.processed[job] == 0 {
			q.mu.Unlock()
			return false, nil
		}
	}
	q.mu.Unlock()
	p, err := q.c.XPending(ctx, wqStream, wqGroup).Result()
	if err != nil {
		return false, fmt.Errorf("XPENDING: %w", err)
	}
	return p.Count == 0, nil
}

// runWorkQueue produces n jobs (poison ones among them), runs the workers
// and the reaper until every non-poison job was processed and nothing is
// pending, and returns the run's state.
func runWorkQueue(t *testing.T, c *redis.Client, n int, crashRate float64, poison map[string]bool) *workQueue {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wqDeadline)
	defer cancel()
	q := &workQueue{c: c, poison: poison, crashRate: crashRate, processed: map[string]int{}}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	var want []string
	for i := 1; i <= n; i++ {
		if job := "job-" + strconv.Itoa(i); !poison[job] {
			want = append(want, job)
		}
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	errs := make(chan error, wqWorkers+2)
	run := func(f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil {
				errs <- err
				stop()
			}
		}()
	}
	start := time.Now()
	run(func() error { return q.produce(runCtx, n) })
	for i := range wqWorkers {
		run(func() error { return q.worker(runCtx, i, seed) })
	}
	run(func() error { return q.reaper(runCtx, seed) })
	for {
		ok, err := q.done(runCtx, want)
		if err == nil && ok {
			break
		}
		if runCtx.Err() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(start)
	stop()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("%v", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("not done within %v", wqDeadline)
	}
	t.Logf("%d jobs in %v (%.0f jobs/s): %d crashes, %d reclaimed by the reaper",
		n, took.Round(time.Millisecond), float64(n)/took.Seconds(), q.crashes.Load(), q.reclaimed.Load())
	return q
}

// checkWorkQueue asserts the end state shared by both tests.
func checkWorkQueue(t *testing.T, q *workQueue, n int) {
	t.Helper()
	ctx := context.Background()
	total := 0
	for i := 1; i <= n; i++ {
		job := "job-" + strconv.Itoa(i)
		times := q.processed[job]
		if q.poison[job] && times != 0 {
			t.Errorf("poison job %s processed %d times; want 0", job, times)
		}
		if !q.poison[job] && times == 0 {
			t.Errorf("job %s never processed", job)
		}
		total += times
	}
	if want := n - len(q.poison); total < want {
		t.Errorf("processed %d jobs in all; want >= %d", total, want)
	}
	if p, err := q.c.XPending(ctx, wqStream, wqGroup).Result(); err != nil || p.Count != 0 {
		t.Errorf("XPENDING = %+v, %v; want 0 pending", p, err)
	}
	if got, err := q.c.XLen(ctx, wqStream).Result(); err != nil || got != int64(n) {
		t.Errorf("XLEN %s = %d, %v; want %d", wqStream, got, err, n)
	}
}

// newWorkQueueClient connects to a fresh server and creates the group.
func newWorkQueueClient(t *testing.T) *redis.Client {
	t.Helper()
	srv := clientTarget(t)
	c := redis.NewClient(&redis.Options{Addr: srv.addr, PoolSize: 2 * wqWorkers})
	t.Cleanup(func() { c.Close() })
	if err := c.XGroupCreateMkStream(context.Background(), wqStream, wqGroup, "0").Err(); err != nil {
		t.Fatalf("XGROUP CREATE: %v", err)
	}
	return c
}

// TestWorkQueue: 2000 jobs, 8 workers that crash on ~5% of the jobs and
// come back as new consumers, a reaper with XAUTOCLAIM; every job ends
// processed at least once and acknowledged.
func TestWorkQueue(t *testing.T) {
	const n = 2000
	c := newWorkQueueClient(t)
	q := runWorkQueue(t, c, n, 0.05, nil)
	checkWorkQueue(t, q, n)
	if q.crashes.Load() == 0 || q.reclaimed.Load() == 0 {
		t.Errorf("%d crashes, %d reclaimed; want some of each (the reaper path was not exercised)",
			q.crashes.Load(), q.reclaimed.Load())
	}
}

// TestWorkQueueDeadLetters: poison jobs crash every worker that takes
// them; with XGROUP SETDLQ (a streamraft extension) max-deliveries 3 they
// end in the dead-letter stream, acknowledged in the group.
func TestWorkQueueDeadLetters(t *testing.T) {
	const n, maxDeliveries = 300, 3
	c := newWorkQueueClient(t)
	ctx := context.Background()
	err := c.Do(ctx, "XGROUP", "SETDLQ", wqStream, wqGroup, maxDeliveries, wqDead).Err()
	if err != nil && strings.Contains(err.Error(), "unknown subcommand") {
		t.Skipf("the server has no XGROUP SETDLQ: %v", err)
	}
	if err != nil {
		t.Fatalf("XGROUP SETDLQ: %v", err)
	}
	poison := map[string]bool{"job-7": true, "job-150": true, "job-299": true}
	// No random crashes here: a job unlucky three times would be dead-lettered.
	q := runWorkQueue(t, c, n, 0, poison)
	checkWorkQueue(t, q, n)
	dead, err := c.XRange(ctx, wqDead, "-", "+").Result()
	if err != nil {
		t.Fatalf("XRANGE %s: %v", wqDead, err)
	}
	if len(dead) != len(poison) {
		t.Fatalf("%d dead letters %v; want %d", len(dead), dead, len(poison))
	}
	for _, d := range dead {
		job, _ := d.Values["job"].(string)
		if !poison[job] {
			t.Errorf("dead letter %v is not a poison job", d.Values)
		}
		if d.Values["source-key"] != wqStream || d.Values["deliveries"] != strconv.Itoa(maxDeliveries) {
			t.Errorf("dead letter %v; want source-key %s, deliveries %d", d.Values, wqStream, maxDeliveries)
		}
		src, _ := d.Values["source-id"].(string)
		orig, err := c.XRange(ctx, wqStream, src, src).Result()
		if err != nil || len(orig) != 1 || orig[0].Values["job"] != job {
			t.Errorf("source-id %s of %s: XRANGE = %v, %v; want that job", src, job, orig, err)
		}
	}
	// The dead-letter entry's fields start with the three dead-letter ones.
	raw, err := c.Do(ctx, "XRANGE", wqDead, "-", "+", "COUNT", "1").Slice()
	if err != nil || len(raw) != 1 {
		t.Fatalf("XRANGE %s COUNT 1 = %v, %v", wqDead, raw, err)
	}
	fields := fmt.Sprint(raw[0].([]any)[1])
	if !strings.HasPrefix(fields, "[source-key "+wqStream+" source-id ") {
		t.Errorf("dead letter fields %s; want source-key, source-id, deliveries first", fields)
	}
}
