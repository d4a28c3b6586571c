package clustertest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/streamraft/streamraft/cluster/clustertest/check"
)

// A fault run: a real cluster, the stream and work-queue workloads, and a
// nemesis injecting faults one after another; then every fault is healed
// and three checkers judge what the clients saw: linearizability of the
// streams (porcupine), the work queue's guarantees, and that every
// replica of every shard converged to the same state (CLUSTER
// SHARDDIGEST). One summary line says what happened; a seed replays the
// choices (not the timing) of a run.

// The environment a run reads.
const (
	// EnvSeed replays a run: STREAMRAFT_FAULT_SEED=1234.
	EnvSeed = "STREAMRAFT_FAULT_SEED"
	// EnvSoak runs for as long as asked instead of the short CI run:
	// STREAMRAFT_SOAK=30m.
	EnvSoak = "STREAMRAFT_SOAK"
	// EnvDir is where every run's history is kept (default:
	// $TMPDIR/streamraft-faults; the summary line names the files).
	EnvDir = "STREAMRAFT_FAULT_DIR"
)

// RunOptions configure a fault run; zero values take the defaults.
type RunOptions struct {
	Name     string        // names the history files (default: the test's name)
	Seed     int64         // 0: EnvSeed, else random
	Duration time.Duration // how long faults are injected (0: EnvSoak, else 15 s)
	Nodes    int           // 3
	Shards   int           // 4
	Faults   []Fault       // AllFaults
	// StreamClients, StreamKeys: the linearizability workload (6 clients;
	// 6 keys at a time, new ones every 20 s).
	StreamClients, StreamKeys int
	// Options are passed to New (an in-memory disk, say).
	Options []Option
	// AfterFormation, if set, runs once the cluster has formed, before the
	// workloads start.
	AfterFormation func(c *Cluster)
	// ExpectAnomalies inverts the verdict: the run fails unless the
	// checkers find something (a run that shows a checker can fail).
	ExpectAnomalies bool
}

// RunReport is what a run found.
type RunReport struct {
	Seed       int64
	Duration   time.Duration
	Ops        check.Counts
	Faults     int
	FaultKinds string
	Lin        check.Result
	Queue      check.QueueReport
	Converged  string // "" when every replica of every shard has the same digest
	Anomalies  []string
	HistoryDir string // the histories' files (a glob; "" if nowhere)
}

// Summary is the run's one line.
func (r RunReport) Summary() string {
	return fmt.Sprintf("fault run: seed=%d duration=%v ops=%d (ok %d, unknown %d, failed %d) queue=[%s] faults=%d (%s) anomalies=%d history=%s",
		r.Seed, r.Duration.Round(time.Second), r.Ops.OK+r.Ops.Unknown+r.Ops.Failed, r.Ops.OK, r.Ops.Unknown, r.Ops.Failed,
		r.Queue.Summary(), r.Faults, r.FaultKinds, len(r.Anomalies), r.HistoryDir)
}

// Run runs one fault run, logs its summary line, and fails t on any
// anomaly.
func Run(t *testing.T, o RunOptions) RunReport {
	t.Helper()
	o = o.withDefaults(t)
	c := New(t, o.Nodes, o.Shards, append([]Option{WithSeed(o.Seed)}, o.Options...)...)
	c.StartAll()
	c.WaitUntil("formation", func() string { return c.Settled(o.Nodes) })
	if o.AfterFormation != nil {
		o.AfterFormation(c)
	}

	var seeds []string
	for _, nd := range c.Nodes() {
		seeds = append(seeds, nd.Cfg.Addr)
	}
	router := NewRouter(seeds)
	defer router.Close()
	rec := check.NewRecorder()
	streams := &streamWorkload{router: router, rec: rec, clients: o.StreamClients, keys: o.StreamKeys, seed: o.Seed, start: time.Now()}
	queue := &queueWorkload{router: router, cc: c.Client(), keys: []string{"jobs-a", "jobs-b", "jobs-c"},
		group: "workers", producers: 2, consumers: 3, seed: o.Seed}
	if err := queue.setup(context.Background()); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	streams.run(stop, &wg)
	queue.run(stop, &wg)
	nem := &nemesis{c: c, rng: rand.New(rand.NewPCG(uint64(o.Seed), 0)), faults: o.Faults, counts: map[Fault]int{},
		log: func(format string, args ...any) { t.Logf("nemesis: "+format, args...) }}
	start := time.Now()
	end := time.NewTimer(o.Duration)
	go func() {
		<-end.C
		close(stop)
	}()
	for {
		select {
		case <-stop:
		default:
			nem.step(stop)
			continue
		}
		break
	}
	wg.Wait()
	rep := RunReport{Seed: o.Seed, Duration: time.Since(start)}
	rep.Faults, rep.FaultKinds = nem.summary()

	// Heal everything, bring every node back, let the log settle.
	c.Net.Heal()
	for _, nd := range c.Nodes() {
		nd.FailDisk(nil)
		if nd.Srv == nil {
			c.Restart(nd, false)
		}
	}
	c.WaitUntil("the cluster settled after the faults", func() string { return c.Settled(o.Nodes) })
	streams.finalReads()
	drainErr := queue.drain(context.Background())
	c.WaitUntil("every replica converged", c.Converged())

	rep.Ops = rec.Counts()
	rep.Lin = check.Check(rec.Operations(), 2*time.Minute)
	rep.Queue = check.CheckQueue(queue.history())
	if !rep.Lin.Ok() {
		rep.Anomalies = append(rep.Anomalies, "streams: "+rep.Lin.String())
	}
	if drainErr != nil {
		rep.Anomalies = append(rep.Anomalies, "queue: drain: "+drainErr.Error())
	}
	rep.Anomalies = append(rep.Anomalies, rep.Queue.Anomalies()...)
	rep.HistoryDir = keepHistory(t, o.Name, rec, queue.history(), rep)
	t.Log(rep.Summary())
	switch {
	case o.ExpectAnomalies && len(rep.Anomalies) == 0:
		t.Errorf("the checkers found nothing; this run expected them to")
	case o.ExpectAnomalies:
		for i, a := range rep.Anomalies {
			if i == 5 {
				t.Logf("... and %d more", len(rep.Anomalies)-i)
				break
			}
			t.Logf("anomaly (expected): %.300s", a)
		}
	default:
		for _, a := range rep.Anomalies {
			t.Errorf("anomaly: %s", a)
		}
	}
	return rep
}

func (o RunOptions) withDefaults(t *testing.T) RunOptions {
	t.Helper()
	if o.Name == "" {
		o.Name = strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	}
	if o.Seed == 0 {
		if s := os.Getenv(EnvSeed); s != "" {
			seed, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				t.Fatalf("%s=%q: %v", EnvSeed, s, err)
			}
			o.Seed = seed
		} else {
			o.Seed = time.Now().UnixNano() % 1_000_000
		}
	}
	if o.Duration == 0 {
		o.Duration = 15 * time.Second
		if s := os.Getenv(EnvSoak); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil {
				t.Fatalf("%s=%q: %v", EnvSoak, s, err)
			}
			o.Duration = d
		}
	}
	o.Nodes = max(o.Nodes, 3)
	if o.Shards == 0 {
		o.Shards = 4
	}
	if len(o.Faults) == 0 {
		o.Faults = AllFaults
	}
	if o.StreamClients == 0 {
		o.StreamClients = 6
	}
	if o.StreamKeys == 0 {
		o.StreamKeys = 6
	}
	t.Logf("fault run %s: seed %d (replay the choices with %s=%d), %v", o.Name, o.Seed, EnvSeed, o.Seed, o.Duration)
	return o
}

// keepHistory writes the run's histories, its summary and, when the
// streams were not linearizable, porcupine's visualization to EnvDir (or
// $TMPDIR/streamraft-faults), named after the run and its seed; it
// returns the directory, "" if nothing could be written.
func keepHistory(t *testing.T, name string, rec *check.Recorder, q check.QueueHistory, rep RunReport) string {
	dir := os.Getenv(EnvDir)
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "streamraft-faults")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Logf("keep the history: %v", err)
		return ""
	}
	base := filepath.Join(dir, fmt.Sprintf("%s-seed%d", name, rep.Seed))
	if err := rec.WriteJSON(base + "-streams.json"); err != nil {
		t.Logf("write the stream history: %v", err)
	}
	if b, err := json.MarshalIndent(q, "", " "); err == nil {
		_ = os.WriteFile(base+"-queue.json", b, 0o640)
	}
	if !rep.Lin.Ok() {
		if err := rep.Lin.Visualize(base + "-streams.html"); err != nil {
			t.Logf("write the visualization: %v", err)
		}
	}
	_ = os.WriteFile(base+"-summary.txt", []byte(rep.Summary()+"\n"+strings.Join(rep.Anomalies, "\n")+"\n"), 0o640)
	return base + "-*"
}

// Converged reports what keeps the replicas of some shard from holding the
// same state ("" once each shard's running replicas answer CLUSTER
// SHARDDIGEST with the same applied index and digest).
func (c *Cluster) Converged() func() string {
	return func() string {
		type answer struct {
			node    string
			applied int64
			digest  string
		}
		byShard := map[int][]answer{}
		for _, nd := range c.Running() {
			rc := redis.NewClient(&redis.Options{Addr: nd.Cfg.Addr, Protocol: 2, MaxRetries: -1})
			for _, s := range nd.Srv.Node().Status().Shards {
				i, _ := strconv.Atoi(s.ID)
				res, err := rc.Do(context.Background(), "CLUSTER", "SHARDDIGEST", i).Slice()
				if err != nil || len(res) != 2 {
					_ = rc.Close()
					return fmt.Sprintf("%s CLUSTER SHARDDIGEST %d: %v %v", nd.ID, i, res, err)
				}
				applied, _ := res[0].(int64)
				digest, _ := res[1].(string)
				byShard[i] = append(byShard[i], answer{nd.ID, applied, digest})
			}
			_ = rc.Close()
		}
		for i, as := range byShard {
			for _, a := range as[1:] {
				if a.applied != as[0].applied || a.digest != as[0].digest {
					return fmt.Sprintf("shard %d: %s at %d %.12s, %s at %d %.12s", i, as[0].node, as[0].applied, as[0].digest,
						a.node, a.applied, a.digest)
				}
			}
		}
		return ""
	}
}
