// Command streamraft-worker is a small, complete work-queue consumer for
// streamraft (or Redis): it is meant to be read as an example.
//
// It joins a consumer group (creating the stream and group if needed),
// reads new jobs with XREADGROUP BLOCK, handles each one and acknowledges
// it with XACK. A job that a crashed worker took but never acknowledged
// stays pending in the group; a background reaper in every worker claims
// such jobs with XAUTOCLAIM once they have been idle longer than --min-idle
// and handles them. SIGINT or SIGTERM stop the worker gracefully: the job
// in hand is finished and acknowledged first.
//
//	streamraft-worker --addr 127.0.0.1:6379 --stream jobs --group workers
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// config is the worker's flags.
type config struct {
	addr     string
	stream   string
	group    string
	consumer string
	minIdle  time.Duration
	block    time.Duration
	count    int64
	failRate float64
}

// errCrash is returned by run when --fail-rate simulated a crash.
var errCrash = errors.New("simulated crash")

func main() {
	cfg := parseFlags()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("consumer", cfg.consumer)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log); err != nil {
		log.Error("worker stopped", "err", err)
		if errors.Is(err, errCrash) {
			os.Exit(3) // like a real crash: the job in hand stays pending
		}
		os.Exit(1)
	}
}

func parseFlags() config {
	host, _ := os.Hostname()
	var cfg config
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:6379", "streamraft (or Redis) address")
	flag.StringVar(&cfg.stream, "stream", "jobs", "stream holding the jobs")
	flag.StringVar(&cfg.group, "group", "workers", "consumer group shared by the workers")
	flag.StringVar(&cfg.consumer, "consumer", fmt.Sprintf("%s-%d", host, os.Getpid()), "this worker's consumer name")
	flag.DurationVar(&cfg.minIdle, "min-idle", 30*time.Second, "claim pending jobs idle longer than this")
	flag.DurationVar(&cfg.block, "block", 5*time.Second, "XREADGROUP BLOCK timeout")
	flag.Int64Var(&cfg.count, "count", 10, "jobs read per XREADGROUP")
	flag.Float64Var(&cfg.failRate, "fail-rate", 0, "chance (0..1) of crashing on a job, to try the reaper")
	flag.Parse()
	return cfg
}

// worker handles jobs for one consumer name.
type worker struct {
	cfg config
	c   *redis.Client
	log *slog.Logger
}

// run joins the group and consumes until ctx ends (nil) or an error.
func run(ctx context.Context, cfg config, log *slog.Logger) error {
	c := redis.NewClient(&redis.Options{Addr: cfg.addr})
	defer c.Close()
	err := c.XGroupCreateMkStream(ctx, cfg.stream, cfg.group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("create group %s on %s: %w", cfg.group, cfg.stream, err)
	}
	w := &worker{cfg: cfg, c: c, log: log}
	log.Info("worker started", "addr", cfg.addr, "stream", cfg.stream, "group", cfg.group)

	// The reaper and the consumer stop together: the first error ends both.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := w.reap(ctx); err != nil {
			cancel(err)
		}
	})
	if err := w.consume(ctx); err != nil {
		cancel(err)
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	log.Info("worker stopped gracefully")
	return nil
}

// consume reads new jobs (`>`) and handles them, until ctx ends.
func (w *worker) consume(ctx context.Context) error {
	for ctx.Err() == nil {
		res, err := w.c.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: w.cfg.group, Consumer: w.cfg.consumer,
			Streams: []string{w.cfg.stream, ">"}, Count: w.cfg.count, Block: w.cfg.block,
		}).Result()
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, redis.Nil):
			continue // the block timed out: nothing new
		case err != nil:
			return fmt.Errorf("XREADGROUP: %w", err)
		}
		for _, m := range res[0].Messages {
			if ctx.Err() != nil {
				return nil // the rest stay pending; a reaper will claim them
			}
			if err := w.handle(ctx, m, "new"); err != nil {
				return err
			}
		}
	}
	return nil
}

// reap claims jobs idle longer than --min-idle (their worker died) and
// handles them, every half --min-idle.
func (w *worker) reap(ctx context.Context) error {
	tick := time.NewTicker(max(w.cfg.minIdle/2, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		for start := "0-0"; ; {
			msgs, next, err := w.c.XAutoClaim(ctx, &redis.XAutoClaimArgs{
				Stream: w.cfg.stream, Group: w.cfg.group, Consumer: w.cfg.consumer,
				MinIdle: w.cfg.minIdle, Start: start, Count: w.cfg.count,
			}).Result()
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				return fmt.Errorf("XAUTOCLAIM: %w", err)
			}
			for _, m := range msgs {
				if err := w.handle(ctx, m, "claimed"); err != nil {
					return err
				}
			}
			if next == "0-0" {
				break
			}
			start = next
		}
	}
}

// handle "processes" one job (it logs it) and acknowledges it. The ack
// does not use ctx: a job started before a stop signal is finished and
// acknowledged.
func (w *worker) handle(ctx context.Context, m redis.XMessage, how string) error {
	if w.cfg.failRate > 0 && rand.Float64() < w.cfg.failRate {
		return fmt.Errorf("job %s: %w", m.ID, errCrash)
	}
	w.log.Info("job", "id", m.ID, "how", how, "fields", m.Values)
	ackCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := w.c.XAck(ackCtx, w.cfg.stream, w.cfg.group, m.ID).Err(); err != nil {
		return fmt.Errorf("XACK %s: %w", m.ID, err)
	}
	return nil
}
