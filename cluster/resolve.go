package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	"github.com/streamraft/streamraft/fsm"
)

// Resolving a write whose leader changed. hashicorp/raft fails the futures
// of entries that were in the log but not yet known to be committed when
// the leader stepped down (ErrLeadershipLost), or whose local write failed.
// Such an entry may still commit under the next leader, so answering it
// with a redirect, which clients (go-redis's ClusterClient, --proxy) retry
// by themselves, could apply one XADD twice or deliver one XREADGROUP
// twice. Instead the proposing node watches its own replica's log settle:
// once it has applied index i, the entry committed at i is final. If it is
// this node's entry (the same bytes), its callers get the replies this
// replica's machine computed for it; if another entry took i, theirs was
// discarded and a redirect is true. If the log does not settle within
// resolveWait (this node is cut off, say), the callers get ErrUncertain.

// resolveWait bounds the wait: the old leader steps down within its lease,
// a follower campaigns within two heartbeat timeouts of its last contact,
// and the new leader commits an entry of its own within milliseconds;
// resolveMargin covers a lost first election and a loaded machine. With
// the default timeouts (lease 150 ms, heartbeat 300 ms) that is 1.75 s,
// below common client read timeouts (go-redis: 3 s), so that the client
// gets the answer, not a timeout it would retry.
func resolveWait(conf *raft.Config) time.Duration {
	return conf.LeaderLeaseTimeout + 2*conf.HeartbeatTimeout + resolveMargin
}

const resolveMargin = time.Second

// resolvePoll is how often the replica's applied index is checked.
const resolvePoll = 10 * time.Millisecond

// errDiscarded: another entry was committed at the index.
var errDiscarded = errors.New("cluster: another entry was committed at its index")

// resolve returns the replies of the entry data proposed at index if it
// committed, errDiscarded if another entry did, or an error saying why
// neither is known.
func (s *Shard) resolve(index uint64, data []byte) ([]fsm.Reply, error) {
	want := s.fsm.outcomes.hash(data)
	applied, stop := s.fsm.outcomes.watch(index)
	defer stop()
	wait := resolveWait(s.conf)
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(resolvePoll)
	defer tick.Stop()
	ours := false // the committed entry at index has our bytes
	for {
		select {
		case out := <-applied:
			if out.hash != want {
				return nil, errDiscarded
			}
			return out.replies, nil
		case <-tick.C:
			if ours || s.r.AppliedIndex() < index {
				continue
			}
			var l raft.Log
			if err := s.store.GetLog(index, &l); err != nil {
				continue // compacted; the machine may still tell
			}
			if l.Type != raft.LogCommand || !bytes.Equal(l.Data, data) {
				return nil, errDiscarded
			}
			ours = true // committed: its replies come once the machine applies it
		case <-deadline.C:
			if ours {
				return nil, fmt.Errorf("entry %d committed, but its replies were not seen in %v", index, wait)
			}
			return nil, fmt.Errorf("the log did not settle at index %d within %v", index, wait)
		case <-s.raftDown:
			return nil, fmt.Errorf("raft shut down before index %d settled", index)
		}
	}
}
