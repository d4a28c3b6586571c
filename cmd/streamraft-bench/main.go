// Command streamraft-bench measures any Redis-protocol endpoint (streamraft,
// redis-server, a Redis Cluster) with stream workloads, the same way for all,
// so that their figures can be compared.
//
// It connects with go-redis: it sends CLUSTER INFO and, if the server
// answers it, uses a cluster client (CLUSTER SLOTS, MOVED followed),
// otherwise a plain client (--cluster=true/false forces either).
//
// Workloads (--workload):
//
//	xadd   --clients goroutines XADD to bench:<i> (--keys, --hash-tags,
//	       --value-size, --maxlen ~), --pipeline XADDs per round trip;
//	       latency per XADD (a pipeline's round trip counted once per XADD).
//	group  loads the keys with --requests entries (default 200,000; or runs
//	       --producers alongside), creates group "bench", then --clients
//	       consumers loop XREADGROUP COUNT --count BLOCK --block-ms + XACK.
//	       ops = entries acknowledged; latency per XREADGROUP+XACK round.
//	       The run ends when every loaded entry is acknowledged (or at
//	       --duration); it has no warm-up, which would eat the backlog.
//	e2e    producers XADD their send time, consumers XREADGROUP it and
//	       record now - send time (end-to-end latency), then XACK.
//	mixed  a work queue: producers at --rate XADDs/s in total (0: flat out)
//	       and consumers; reports both sides: XADD latency, and for the
//	       consumers the time from enqueue to acknowledgment.
//
// With --rate, latencies are measured from each XADD's scheduled send time,
// so a server stall shows up in the figures instead of silently slowing the
// producers down (coordinated omission).
//
// A run lasts --duration (default 10s) after --warmup (1s, not recorded),
// or until --requests operations when only that is given. Every second a
// progress line goes to stderr; at the end a table goes to stdout (latencies
// in ms, 3 significant digits), and --json, --csv ('-' for stdout) and
// --plot (SVG: throughput and p50/p99/p99.9 per second) write the results.
//
// --compare starts, in turn, redis-server with appendfsync always, then
// everysec, then a streamraft cluster of --nodes nodes (built with go build
// unless --streamraft-bin is given), runs the same workload on each, prints
// every table and the ratios streamraft/redis for ops/s and p99, and stops
// them all (also on Ctrl-C).
//
// Examples:
//
//	streamraft-bench --addr 127.0.0.1:6379 --workload xadd --clients 50 --pipeline 16
//	streamraft-bench --addr 127.0.0.1:7001 --workload group --keys 8 --hash-tags
//	streamraft-bench --label redis --addr :6379 --label streamraft --addr :7001 --plot out.svg
//	streamraft-bench --compare --nodes 3 --workload xadd --duration 10s --plot compare.svg
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "streamraft-bench:", err)
		os.Exit(1)
	}
}

// run is the whole tool: parse, measure every target, report.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, stderr)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid flags:\n%w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, nil)).With("component", "bench")
	var results []Result
	if cfg.compare {
		results, err = runCompare(ctx, cfg, log, stderr)
	} else {
		results, err = runTargets(ctx, cfg, log, stderr)
	}
	if len(results) > 0 {
		if werr := writeOutputs(cfg, results, stdout); werr != nil {
			err = errors.Join(err, werr)
		}
	}
	return err
}

// runTargets measures every target given by --addr/--label in turn.
func runTargets(ctx context.Context, cfg config, log *slog.Logger, progress io.Writer) ([]Result, error) {
	var results []Result
	for _, t := range cfg.targets() {
		res, err := measureTarget(ctx, cfg, t, nil, log, progress)
		results = append(results, res...)
		if err != nil {
			return results, fmt.Errorf("target %s: %w", t.Label, err)
		}
	}
	return results, nil
}

// printUsage is -h: what the tool does, then every flag.
func printUsage(fs *flag.FlagSet, out io.Writer) {
	fmt.Fprint(out, `streamraft-bench: load generator for any Redis-protocol endpoint (streams)

Usage:
  streamraft-bench [--addr host:port]... [--workload xadd|group|e2e|mixed] [flags]
  streamraft-bench --compare [--streamraft-bin PATH] [--nodes 3] [workload flags]

Workloads:
  xadd   --clients goroutines XADD (pipelined with --pipeline) to --keys streams
  group  load --requests entries (or run --producers), then --clients consumers
         XREADGROUP + XACK; ops = entries acknowledged, latency per round
  e2e    producers XADD their send time; consumers record now - send time
  mixed  work queue: producers at --rate/s plus consumers; both sides reported

--compare runs the workload on redis-server (appendfsync always, then
everysec) and on a local streamraft cluster, and prints the ratios and the
CPU each process used.

Examples:
  streamraft-bench --addr 127.0.0.1:6379 --clients 50 --pipeline 16 --duration 10s
  streamraft-bench --addr 127.0.0.1:7001 --workload e2e --rate 5000 --keys 4
  streamraft-bench --compare --nodes 3 --duration 10s --plot compare.svg --json out.json

Flags:
`)
	fs.PrintDefaults()
}
