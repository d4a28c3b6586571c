package faultstore_test

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/streamraft/streamraft/cluster/clustertest/faultstore"
)

// TestFsyncBeforeAckKeepsAcknowledgedEntries cuts the power to a whole
// 3-server group right after it acknowledged writes. Stores that fsync
// before they acknowledge (SyncAlways, as raft-boltdb does) bring every
// acknowledged entry back; stores that acknowledge first (SyncNever) bring
// the group back without them: a majority acknowledging an entry is no
// durability unless each of them fsynced it.
func TestFsyncBeforeAckKeepsAcknowledgedEntries(t *testing.T) {
	const writes = 20
	for _, tc := range []struct {
		mode faultstore.SyncMode
		kept bool
	}{
		{faultstore.SyncAlways, true},
		{faultstore.SyncNever, false},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			disk := &faultstore.Disk{}
			g := newGroup(t, 3, func(id raft.ServerID) faultstore.LogStore {
				st, err := disk.Open(path.Join(string(id), "raft.db"), tc.mode)
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				return st
			})
			l := g.leader()
			if err := l.r.Barrier(waitFor).Error(); err != nil {
				t.Fatalf("Barrier: %v", err)
			}
			// The group itself (configuration, term, the leader's first
			// entry) is durable in both modes: only the writes below are
			// at stake.
			disk.Sync()

			var acked []string
			for i := range writes {
				cmd := fmt.Sprintf("w%02d", i)
				if err := l.r.Apply([]byte(cmd), waitFor).Error(); err != nil {
					t.Fatalf("Apply(%s): %v", cmd, err)
				}
				acked = append(acked, cmd)
			}

			// Raft is stopped before the power goes: a Raft left running on
			// stores that fail would panic at its next term change
			// (setCurrentTerm), taking the test binary down. Shutdown
			// writes nothing, so the disk ends as a power cut leaves it.
			g.stop()
			if n := disk.PowerLoss(); n != 3 {
				t.Fatalf("PowerLoss() = %d files; want 3", n)
			}
			if _, err := g.servers[0].store.LastIndex(); !errors.Is(err, faultstore.ErrPowerLost) {
				t.Errorf("LastIndex after PowerLoss = %v; want ErrPowerLost", err)
			}

			g.start(nil)
			l = g.leader()
			if err := l.r.Barrier(waitFor).Error(); err != nil {
				t.Fatalf("Barrier after restart: %v", err)
			}
			if tc.kept {
				if got := l.fsm.applied(); !slices.Equal(got, acked) {
					t.Fatalf("leader %s applied %q after the power loss; want every acknowledged write %q", l.id, got, acked)
				}
				for _, s := range g.servers {
					waitUntil(t, fmt.Sprintf("%s applies the acknowledged writes", s.id), func() bool {
						return slices.Equal(s.fsm.applied(), acked)
					})
				}
				return
			}
			if got := l.fsm.applied(); len(got) != 0 {
				t.Errorf("leader %s applied %q after the power loss; want none of the %d acknowledged writes (never fsynced)", l.id, got, writes)
			}
			t.Logf("SyncNever: %d writes acknowledged by a majority, %d survived the power loss", writes, len(l.fsm.applied()))
		})
	}
}
