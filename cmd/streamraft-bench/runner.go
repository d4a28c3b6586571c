package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// progressEvery is the span of one timeline point and progress line.
	progressEvery = time.Second
	// doneCheckEvery is how often the runner checks whether a --requests run
	// or a loaded group has been fully consumed.
	doneCheckEvery = 5 * time.Millisecond
	// drainTimeout bounds how long consumers may take to acknowledge what the
	// producers wrote once the producers are done, in a --requests run: an
	// entry whose XADD failed ambiguously may never come.
	drainTimeout = 10 * time.Second
	// rateShortfall is the fraction of --rate below which the producers are
	// said to have fallen behind.
	rateShortfall = 0.95
)

// runner runs one workload against one target: its goroutines share the
// client, the meter and a few counters.
type runner struct {
	cfg  config
	c    redis.UniversalClient
	keys []string
	m    *meter
	log  *slog.Logger

	stopped   atomic.Bool  // goroutines finish their round and return
	measuring atomic.Bool  // the warm-up is over
	claimed   atomic.Int64 // operations claimed since measuring began (--requests)
	produced  atomic.Int64 // entries written by this run (load included)
	acked     atomic.Int64 // entries acknowledged by this run's consumers
	producing atomic.Int64 // producer goroutines still running
	done      chan struct{}
	wg        sync.WaitGroup

	cpu    *cpuSampler              // CPU time of the measured window
	cpuUse func(ops int64) []CPUUse // set when measuring ends
}

// seriesNames are the series a workload reports: the consumer side (if
// any) first, then the producers (if they run while measuring).
func seriesNames(cfg config) (consume, produce string) {
	switch cfg.workload {
	case workloadXAdd:
		return "", workloadXAdd
	case workloadMixed:
		return "mixed/consume", "mixed/produce"
	}
	if cfg.producerCount() == 0 {
		return cfg.workload, ""
	}
	return cfg.workload, cfg.workload + "/produce"
}

// measureTarget connects to t, prepares the keys and runs the workload.
// procs are the target's server processes when this tool started them
// (--compare): their CPU time is reported with the load generator's.
func measureTarget(ctx context.Context, cfg config, t Target, procs []proc, log *slog.Logger, progress io.Writer) ([]Result, error) {
	c, isCluster, err := connect(ctx, cfg, t, cfg.clients+cfg.producerCount())
	if err != nil {
		return nil, err
	}
	defer c.Close()
	t.Cluster = isCluster
	log = log.With("target", t.Label)
	log.Info("connected", "addrs", t.Addrs, "cluster", isCluster, "workload", cfg.workload)
	r := newRunner(cfg, c, log, t.Label)
	r.cpu = newCPUSampler(procs)
	if err := r.prepare(ctx); err != nil {
		return nil, err
	}
	r.measure(ctx, progress)
	results := r.m.results(t)
	for i := range results {
		results[i].CPU = r.cpuUse(results[i].Ops)
	}
	warnSlowProducers(cfg, results, log)
	return results, ctx.Err()
}

// warnSlowProducers says when the producers did not reach --rate: their
// latencies then include the growing delay behind schedule.
func warnSlowProducers(cfg config, results []Result, log *slog.Logger) {
	_, produce := seriesNames(cfg)
	for _, r := range results {
		if cfg.rate > 0 && r.Workload == produce && r.OpsPerSec < rateShortfall*cfg.rate {
			log.Warn("producers fell behind --rate; latencies include the delay behind schedule",
				"rate", cfg.rate, "achieved", int64(r.OpsPerSec))
		}
	}
}

func newRunner(cfg config, c redis.UniversalClient, log *slog.Logger, label string) *runner {
	var names []string
	consume, produce := seriesNames(cfg)
	for _, n := range []string{consume, produce} {
		if n != "" {
			names = append(names, n)
		}
	}
	return &runner{cfg: cfg, c: c, keys: cfg.keyNames(), m: newMeter(label, names...), log: log,
		done: make(chan struct{})}
}

// prepare deletes the keys (--flush), creates the groups and loads the
// entries of a group run without producers.
func (r *runner) prepare(ctx context.Context) error {
	if r.cfg.flush {
		if err := flushKeys(ctx, r.c, r.keys); err != nil {
			return err
		}
	}
	if !r.cfg.consumes() {
		return nil
	}
	if err := createGroups(ctx, r.c, r.keys); err != nil {
		return err
	}
	if !r.cfg.loadsFirst() {
		return nil
	}
	return r.load(ctx, r.cfg.fillCount())
}

// start launches the producers and consumers, and the goroutine that
// notices when a bounded run is complete.
func (r *runner) start(ctx context.Context) {
	consume, produce := seriesNames(r.cfg)
	if produce != "" {
		s := r.m.get(produce)
		n := r.cfg.producerCount()
		r.producing.Store(int64(n))
		for i := range n {
			r.wg.Go(func() { r.produce(ctx, newProducer(r.cfg, i, n), s.newRecorder()) })
		}
	}
	if consume != "" {
		s := r.m.get(consume)
		for i := range r.cfg.clients {
			r.wg.Go(func() { r.consume(ctx, i, s.newRecorder()) })
		}
	}
	go r.watchDone()
}

// measure starts the goroutines and runs the warm-up, then makes a point
// and a progress line every second until the duration ends, the run is
// complete or ctx is cancelled; then it stops the goroutines and closes the
// last point at the moment it stopped them.
func (r *runner) measure(ctx context.Context, progress io.Writer) {
	// A loaded group is not warmed up: the consumers would eat into the
	// finite backlog being measured, and the load warmed the server up.
	if r.cfg.warmup == 0 || r.cfg.loadsFirst() {
		r.begin()
		r.start(ctx)
	} else {
		r.start(ctx)
		select {
		case <-ctx.Done():
		case <-r.done:
		case <-time.After(r.cfg.warmup):
		}
		r.begin()
	}
	var deadline <-chan time.Time
	if r.cfg.timeLimited() {
		timer := time.NewTimer(r.cfg.duration)
		defer timer.Stop()
		deadline = timer.C
	}
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	for running := ctx.Err() == nil; running; {
		select {
		case <-ctx.Done():
			running = false
		case <-r.done:
			running = false
		case <-deadline:
			running = false
		case now := <-tick.C:
			r.m.tick(now, false)
			r.m.progress(progress)
		}
	}
	// Operations in flight finish and count in the last point, but the
	// time a blocked XREADGROUP takes to return does not.
	end := time.Now()
	r.cpuUse = r.cpu.end(end)
	r.stopped.Store(true)
	r.wg.Wait()
	if r.m.tick(end, true) {
		r.m.progress(progress)
	}
}

// begin discards what the warm-up recorded and starts measuring: from now
// on, operations that start are recorded and claimed from --requests.
func (r *runner) begin() {
	now := time.Now()
	r.cpu.begin(now)
	r.m.begin(now)
	r.measuring.Store(true)
}

// claim takes up to n of the --requests operations; 0 means none are left.
// Operations of the warm-up (measured false) are not counted.
func (r *runner) claim(n int64, measured bool) int64 {
	if r.cfg.requests == 0 || !measured {
		return n
	}
	prev := r.claimed.Add(n) - n
	if prev >= r.cfg.requests {
		return 0
	}
	return min(n, r.cfg.requests-prev)
}

// watchDone closes r.done once the producers have finished (their
// --requests are written, or a group run loaded its entries beforehand) and
// the consumers have acknowledged everything written.
func (r *runner) watchDone() {
	tick := time.NewTicker(doneCheckEvery)
	defer tick.Stop()
	var drainStart time.Time
	for range tick.C {
		if r.stopped.Load() {
			return
		}
		if r.producing.Load() > 0 {
			continue
		}
		if !r.cfg.consumes() || r.acked.Load() >= r.produced.Load() {
			close(r.done)
			return
		}
		if r.cfg.loadsFirst() {
			continue // the duration bounds the run
		}
		if drainStart.IsZero() {
			drainStart = time.Now()
		}
		if time.Since(drainStart) > drainTimeout {
			r.log.Warn("consumers did not acknowledge every entry written; stopping",
				"written", r.produced.Load(), "acknowledged", r.acked.Load())
			close(r.done)
			return
		}
	}
}

// load writes n entries round-robin over the keys before measuring, with a
// few pipelining goroutines.
func (r *runner) load(ctx context.Context, n int64) error {
	const batch, loaders = 256, 8
	start := time.Now()
	r.log.Info("loading entries", "entries", n, "keys", len(r.keys))
	var next atomic.Int64
	errs := make(chan error, loaders)
	var wg sync.WaitGroup
	for i := range loaders {
		p := newProducer(r.cfg, i, loaders)
		wg.Go(func() {
			for {
				from := next.Add(batch) - batch
				if from >= n || ctx.Err() != nil {
					return
				}
				ok, _, err := p.send(ctx, r.c, min(batch, n-from), time.Now())
				r.produced.Add(ok)
				if err != nil {
					errs <- fmt.Errorf("load entries: %w", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	r.log.Info("loaded", "entries", r.produced.Load(), "took", time.Since(start).Round(time.Millisecond))
	return ctx.Err()
}
