// Command streamraft runs a Redis-compatible stream broker whose writes go
// through a Raft log. Run with no flags it is a one-node server on
// 127.0.0.1:6379 with its data in ./data; see -h for the flags.
// `streamraft check --data-dir DIR` verifies a data dir offline.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/streamraft/streamraft/cluster/embed"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "check" {
		os.Exit(runCheck(os.Args[2:], os.Getenv, os.Stdout, os.Stderr)) // check.go
	}
	if err := run(os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "streamraft:", err)
		os.Exit(1)
	}
}

// run is the start-up script; it returns when a signal has stopped the
// server, or with the first error.
func run(args []string, getenv func(string) string) error {
	cfg, err := parseConfig(args, getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	logger := newLogger(cfg.LogLevel)
	defer logger.Info("stopped")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	srv, err := embed.Start(ctx, cfg, logger)
	if err != nil {
		if ctx.Err() != nil {
			logger.Info("signal received during start-up; shutting down")
			return nil
		}
		return err
	}
	defer srv.Close()
	select {
	case <-ctx.Done():
		logger.Info("signal received; shutting down")
		return nil
	case err := <-srv.Done():
		return fmt.Errorf("resp server stopped: %w", err)
	}
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // Validate checked it
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}
