package clustertest_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/streamraft/streamraft/cluster/clustertest"
	"github.com/streamraft/streamraft/cluster/clustertest/faultstore"
)

// TestFaults is the short seeded fault run of every CI run: three nodes,
// the stream and work-queue workloads, every in-process fault one after
// another, then the checkers. STREAMRAFT_SOAK=30m makes it a soak,
// STREAMRAFT_FAULT_SEED replays a run's choices.
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("fault run")
	}
	clustertest.Run(t, clustertest.RunOptions{})
}

// TestPowerLoss shows that fsync before acknowledging is what keeps the
// data: every node loses power at once, on an in-memory disk that drops
// what was not synced. With the shards' writes synced before they are
// acknowledged (what raft-boltdb does) the checkers find nothing; with
// the same stores acknowledging before they sync (from once the cluster
// formed), acknowledged writes are gone and the checkers say so.
func TestPowerLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("fault run")
	}
	for _, tc := range []struct {
		name string
		lazy bool
	}{{"fsync before ack", false}, {"ack before fsync", true}} {
		t.Run(tc.name, func(t *testing.T) {
			disk := &faultstore.Disk{}
			o := clustertest.RunOptions{
				Duration: 6 * time.Second, Shards: 2, Faults: []clustertest.Fault{clustertest.FaultPowerLoss},
				Options:         []clustertest.Option{clustertest.WithMemDisk(disk, faultstore.SyncAlways)},
				ExpectAnomalies: tc.lazy,
			}
			if tc.lazy {
				o.AfterFormation = func(c *clustertest.Cluster) {
					for _, nd := range c.Nodes() {
						disk.Lazy(filepath.Join(nd.Cfg.DataDir, "shards"))
					}
				}
			}
			clustertest.Run(t, o)
		})
	}
}
