package cluster

import (
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/raft"
)

// What the node's controller needs to move a shard's replicas: the group's
// voters, and configuration changes proposed by its leader.

// configChangeTimeout bounds one configuration change's enqueueing.
const configChangeTimeout = 5 * time.Second

// Servers returns the group's current configuration (nil while unknown).
func (s *Shard) Servers() []raft.Server {
	f := s.r.GetConfiguration()
	if f.Error() != nil {
		return nil
	}
	return f.Configuration().Servers
}

// voterIDs is the sorted IDs of servers' voters.
func voterIDs(servers []raft.Server) []string {
	var ids []string
	for _, srv := range servers {
		if srv.Suffrage == raft.Voter {
			ids = append(ids, string(srv.ID))
		}
	}
	slices.Sort(ids)
	return ids
}

// LeaderID is the ID of the node this replica believes leads the group,
// "" when it knows none.
func (s *Shard) LeaderID() string {
	_, id := s.r.LeaderWithID()
	return string(id)
}

// Term is the group's current Raft term as this replica knows it.
func (s *Shard) Term() uint64 { return s.r.CurrentTerm() }

// HasState reports whether the group has any Raft state here (a
// configuration, a log or a snapshot): such a group is never bootstrapped.
func (s *Shard) HasState() bool {
	ok, err := raft.HasExistingState(s.store, s.store, s.snaps)
	return err != nil || ok
}

// RaftApplied is the last log index this replica's Raft applied, of any
// entry type (configuration changes and barriers too, which the machine
// never sees): what a catch-up check compares.
func (s *Shard) RaftApplied() uint64 { return s.r.AppliedIndex() }

// LastIndex is the last index in this replica's log.
func (s *Shard) LastIndex() uint64 { return s.r.LastIndex() }

// AddVoter promotes the non-voter id (or adds id) as a voter; only the
// leader can. The controller promotes only non-voters that caught up.
func (s *Shard) AddVoter(id, addr string) error {
	if err := s.r.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, configChangeTimeout).Error(); err != nil {
		return fmt.Errorf("shard %s: add voter %s: %w", s.id, id, err)
	}
	return nil
}

// RemoveServer removes id from the group; only the leader can.
func (s *Shard) RemoveServer(id string) error {
	if err := s.r.RemoveServer(raft.ServerID(id), 0, configChangeTimeout).Error(); err != nil {
		return fmt.Errorf("shard %s: remove %s: %w", s.id, id, err)
	}
	return nil
}

// TransferLeadership asks Raft to hand the leadership to id, which it first
// brings up to date; it returns once the transfer is done or failed.
func (s *Shard) TransferLeadership(id, addr string) error {
	if err := s.r.LeadershipTransferToServer(raft.ServerID(id), raft.ServerAddress(addr)).Error(); err != nil {
		return fmt.Errorf("shard %s: transfer leadership to %s: %w", s.id, id, err)
	}
	return nil
}

// Addr is this replica's Raft address: the node's Raft address and the
// replica ID (identity.go).
func (s *Shard) Addr() string { return string(s.transport.LocalAddr()) }

// ReplicaID is this replica's ID ("" for a replica from before replica
// IDs).
func (s *Shard) ReplicaID() string {
	_, id := splitReplicaAddr(s.Addr())
	return id
}

// Suffrage says how the group's configuration, as this replica knows it,
// lists this replica: "voter", "nonvoter", or "" when it does not list
// this node under this replica's address (a new or rebuilt replica its
// leader has not added yet).
func (s *Shard) Suffrage() string { return membership(s.Servers(), s.nodeID, s.Addr()) }

// membership is how servers list node id at addr (see Shard.Suffrage).
func membership(servers []raft.Server, id, addr string) string {
	for _, srv := range servers {
		if string(srv.ID) != id || string(srv.Address) != addr {
			continue
		}
		if srv.Suffrage == raft.Voter {
			return "voter"
		}
		return "nonvoter"
	}
	return ""
}

// AddNonvoter adds id at addr as a non-voter, or changes the address of
// the non-voter id; only the leader can. A non-voter receives the log and
// snapshots but neither votes nor counts toward a commit.
func (s *Shard) AddNonvoter(id, addr string) error {
	if err := s.r.AddNonvoter(raft.ServerID(id), raft.ServerAddress(addr), 0, configChangeTimeout).Error(); err != nil {
		return fmt.Errorf("shard %s: add non-voter %s: %w", s.id, id, err)
	}
	return nil
}

// DemoteVoter makes the voter id a non-voter; only the leader can.
func (s *Shard) DemoteVoter(id string) error {
	if err := s.r.DemoteVoter(raft.ServerID(id), 0, configChangeTimeout).Error(); err != nil {
		return fmt.Errorf("shard %s: demote %s: %w", s.id, id, err)
	}
	return nil
}
