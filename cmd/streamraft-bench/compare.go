package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// Labels of the --compare targets.
const (
	labelRedisAlways   = "redis-always"
	labelRedisEverysec = "redis-everysec"
)

const (
	// startTimeout bounds how long a started server may take to answer
	// PING. A streamraft node answers only once the cluster has formed and
	// every shard has a leader: a few seconds on loopback.
	startTimeout = 60 * time.Second
	// pingEvery is the pause between two PINGs while waiting.
	pingEvery = 100 * time.Millisecond
	// stopTimeout is how long a SIGTERMed server may take to exit before it
	// is killed.
	stopTimeout = 10 * time.Second
	// logTail is how much of a server's log an error shows.
	logTail = 2048
)

// streamraftLabel names the streamraft target of --compare.
func streamraftLabel(nodes int) string { return fmt.Sprintf("streamraft-%dn", nodes) }

// runCompare runs the workload on redis-server (appendfsync always), then
// everysec, then a streamraft cluster, each started fresh and stopped before
// the next one starts so that they do not share the CPU.
func runCompare(ctx context.Context, cfg config, log *slog.Logger, progress io.Writer) ([]Result, error) {
	dir, err := os.MkdirTemp("", "streamraft-bench-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	bin := cfg.streamraftBin
	if bin == "" {
		if bin, err = buildStreamraft(ctx, dir, log); err != nil {
			return nil, err
		}
	}
	starts := []struct {
		label string
		start func() (*servers, error)
	}{
		{labelRedisAlways, func() (*servers, error) { return startRedis(ctx, filepath.Join(dir, "always"), "always") }},
		{labelRedisEverysec, func() (*servers, error) { return startRedis(ctx, filepath.Join(dir, "everysec"), "everysec") }},
		{streamraftLabel(cfg.nodes), func() (*servers, error) {
			return startStreamraft(ctx, bin, filepath.Join(dir, "streamraft"), cfg.nodes, strings.Fields(cfg.streamraftArgs))
		}},
	}
	var results []Result
	for _, s := range starts {
		res, err := compareOne(ctx, cfg, s.label, s.start, log, progress)
		results = append(results, res...)
		if err != nil {
			return results, fmt.Errorf("%s: %w", s.label, err)
		}
	}
	return results, nil
}

// compareOne starts one target, measures it and stops it.
func compareOne(ctx context.Context, cfg config, label string, start func() (*servers, error),
	log *slog.Logger, progress io.Writer) ([]Result, error) {
	log.Info("starting", "target", label)
	srv, err := start()
	if err != nil {
		return nil, err
	}
	defer srv.stop(log)
	return measureTarget(ctx, cfg, Target{Label: label, Addrs: srv.addrs()}, srv.procs(), log, progress)
}

// buildStreamraft builds cmd/streamraft into dir.
func buildStreamraft(ctx context.Context, dir string, log *slog.Logger) (string, error) {
	bin := filepath.Join(dir, "streamraft-bin")
	log.Info("building streamraft", "out", bin)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/streamraft/streamraft/cmd/streamraft")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build streamraft (run from the repository, or pass --streamraft-bin): %w\n%s", err, out)
	}
	return bin, nil
}

// server is one process the tool started, with its log in a file.
type server struct {
	name    string
	addr    string // RESP address
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
}

// servers is what one --compare target started: one redis-server or the
// nodes of a streamraft cluster.
type servers struct{ list []*server }

func (s *servers) addrs() []string {
	out := make([]string, len(s.list))
	for i, p := range s.list {
		out[i] = p.addr
	}
	return out
}

// procs names the started processes, for their CPU time.
func (s *servers) procs() []proc {
	out := make([]proc, len(s.list))
	for i, p := range s.list {
		out[i] = proc{name: p.name, pid: p.cmd.Process.Pid}
	}
	return out
}

// stop stops every server concurrently.
func (s *servers) stop(log *slog.Logger) {
	var wg sync.WaitGroup
	for _, p := range s.list {
		wg.Go(func() {
			if err := p.stop(); err != nil {
				log.Warn("stop server", "server", p.name, "err", err)
			}
		})
	}
	wg.Wait()
}

// launch starts bin with args, its output going to logPath.
func launch(name, addr, logPath, bin string, args ...string) (*server, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", logPath, err)
	}
	defer f.Close() // the child has its own descriptor
	p := &server{name: name, addr: addr, cmd: exec.Command(bin, args...), logPath: logPath, exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		_ = p.cmd.Wait() // the exit status is not interesting: stop reads exited
		close(p.exited)
	}()
	return p, nil
}

// stop sends SIGTERM and, after stopTimeout, SIGKILL.
func (p *server) stop() error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("SIGTERM %s: %w", p.name, err)
	}
	select {
	case <-p.exited:
		return nil
	case <-time.After(stopTimeout):
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %s: %w", p.name, err)
	}
	<-p.exited
	return fmt.Errorf("%s did not exit within %s of SIGTERM; killed", p.name, stopTimeout)
}

// waitPing waits until the server answers PING.
func (p *server) waitPing(ctx context.Context) error {
	c := redis.NewClient(&redis.Options{Addr: p.addr, DisableIdentity: true, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(startTimeout)
	for {
		err := c.Ping(ctx).Err()
		if err == nil {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited before answering PING; log:\n%s", p.name, p.tail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pingEvery):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer PING on %s within %s (last: %v); log:\n%s",
				p.name, p.addr, startTimeout, err, p.tail())
		}
	}
}

// tail returns the end of the server's log.
func (p *server) tail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(read %s: %v)", p.logPath, err)
	}
	return string(b[max(0, len(b)-logTail):])
}

// startRedis starts redis-server in dir on a free port, with an append-only
// file fsynced as fsync says and no RDB snapshots.
func startRedis(ctx context.Context, dir, fsync string) (*servers, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	addrs, err := freeAddrs(1)
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addrs[0])
	p, err := launch("redis-server-"+fsync, addrs[0], filepath.Join(dir, "redis.log"), "redis-server",
		"--port", port, "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes",
		"--appendfsync", fsync, "--save", "", "--daemonize", "no")
	if err != nil {
		return nil, err
	}
	s := &servers{list: []*server{p}}
	if err := p.waitPing(ctx); err != nil {
		s.stop(slog.New(slog.DiscardHandler))
		return nil, err
	}
	return s, nil
}

// startStreamraft starts a cluster of n streamraft nodes as the README
// does (one node without --join when n is 1) and waits until every node
// answers PING, which a node does once the cluster has formed.
func startStreamraft(ctx context.Context, bin, dir string, n int, extra []string) (*servers, error) {
	// Per node: RESP, Raft, HTTP and gossip addresses.
	addrs, err := freeAddrs(4 * n)
	if err != nil {
		return nil, err
	}
	gossip := make([]string, n)
	for i := range n {
		gossip[i] = addrs[4*i+3]
	}
	s := &servers{}
	for i := range n {
		id := "n" + strconv.Itoa(i+1)
		args := []string{"--node-id", id, "--data-dir", filepath.Join(dir, id), "--addr", addrs[4*i],
			"--raft-addr", addrs[4*i+1], "--http-addr", addrs[4*i+2], "--log-level", "warn"}
		if n > 1 {
			args = append(args, "--gossip-addr", gossip[i], "--join", strings.Join(gossip, ","),
				"--bootstrap-expect", strconv.Itoa(n))
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create %s: %w", dir, err)
		}
		p, err := launch("streamraft-"+id, addrs[4*i], filepath.Join(dir, id+".log"), bin, append(args, extra...)...)
		if err != nil {
			s.stop(slog.New(slog.DiscardHandler))
			return nil, err
		}
		s.list = append(s.list, p)
	}
	for _, p := range s.list {
		if err := p.waitPing(ctx); err != nil {
			s.stop(slog.New(slog.DiscardHandler))
			return nil, err
		}
	}
	return s, nil
}

// freeAddrs returns n distinct loopback addresses whose ports were free a
// moment ago. The listeners are held until all n are chosen, so the kernel
// cannot hand out the same port twice.
func freeAddrs(n int) ([]string, error) {
	out := make([]string, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		defer ln.Close()
		out = append(out, ln.Addr().String())
	}
	return out, nil
}
