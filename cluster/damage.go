package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// What a node does with a damaged replica when it opens it. Every replica
// directory is verified before Raft loads it (CheckReplica, verify.go):
//
//   - a damaged snapshot the replica does not need (an older good one is
//     still covered by the log) is moved aside and the replica opens;
//   - a replica whose state cannot be loaded is moved aside whole, and a
//     new, empty replica takes its place if its group has other replicas:
//     the empty one gets a new replica ID, so it rejoins as a non-voter and
//     is rebuilt from its peers (identity.go, controller.go);
//   - the only copy of a group's state is never replaced: the node refuses
//     to start, with a message that names the file and the way out.
//
// Nothing is ever deleted: what is moved aside goes under
// <data-dir>/damaged/, named after the group and the time.
const damagedDir = "damaged"

// setAside moves path under the data dir's damaged/ directory and returns
// where it went.
func setAside(dataDir, name, path string) (string, error) {
	dst := filepath.Join(dataDir, damagedDir, fmt.Sprintf("%s-%s", name, time.Now().UTC().Format("20060102T150405.000000000")))
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return "", fmt.Errorf("set aside %s: %w", path, err)
	}
	if err := os.Rename(path, dst); err != nil {
		return "", fmt.Errorf("set aside %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return dst, nil
}

// errDamageUndecided: a replica is damaged and whether its group has other
// replicas is not known yet (the meta state has not caught up): the node
// opens it later, from the controller (placeShards), when it is known.
var errDamageUndecided = errors.New("cluster: damaged replica; its group's other replicas are not known yet")

// checkOnOpen verifies the replica directory dir of group (name: "meta"
// or "shard-<i>") before it is opened, moving damaged parts aside as
// described above. others reports whether the group has replicas on other
// nodes, given the voters the damaged replica's own log and snapshots
// name (nil when unreadable), and whether that is known.
func (n *Node) checkOnOpen(dir string, kind ReplicaKind, name string, others func(voters []string) (others, known bool)) error {
	if !exists(filepath.Join(dir, boltFile)) && !exists(filepath.Join(dir, walDir)) {
		return nil // a new replica, or one whose log store is not on disk (tests)
	}
	rep := VerifyReplica(dir, kind, VerifyOptions{})
	err := rep.Err()
	var dmg *DamageError
	if err == nil || !errors.As(err, &dmg) {
		return err // nil, or the directory is in use
	}
	if !dmg.Fatal() {
		for _, snap := range dmg.SetAside() {
			dst, err := setAside(n.cfg.DataDir, name+"-snapshot-"+filepath.Base(snap), snap)
			if err != nil {
				return err
			}
			n.logger.Warn("a damaged snapshot was moved aside; the replica loads from an older one and its log",
				"group", name, "problem", dmg.Error(), "moved_to", dst)
		}
		return n.checkOnOpen(dir, kind, name, others)
	}
	more, known := others(rep.Voters)
	if !known {
		n.logger.Warn("a damaged replica waits until the cluster configuration says whether other nodes hold its group",
			"group", name, "problem", dmg.Error())
		return fmt.Errorf("%s: %w: %w", name, errDamageUndecided, dmg)
	}
	if !more {
		return fmt.Errorf("%s: %w\nThis is the only copy of the group's state this node knows of, so it is not rebuilt from other replicas. "+
			"Run `streamraft check --data-dir %s` for the details; then restore %s from a backup, "+
			"or move it out of the data dir to give up its data (the group then starts again empty)", name, dmg, n.cfg.DataDir, dir)
	}
	dst, err := setAside(n.cfg.DataDir, name, dir)
	if err != nil {
		return err
	}
	n.logger.Error("a damaged replica was moved aside; an empty one is rebuilt from the group's other replicas",
		"group", name, "problem", dmg.Error(), "moved_to", dst)
	n.rebuilt.Add(1)
	return nil
}

// otherShardReplicas reports whether shard i has replicas on other nodes:
// per the damaged replica's own configuration, or the meta state (not
// known before the node has the cluster configuration).
func (n *Node) otherShardReplicas(i int) func(voters []string) (bool, bool) {
	return func(voters []string) (bool, bool) {
		if slices.ContainsFunc(voters, func(id string) bool { return id != n.id }) {
			return true, true
		}
		if len(n.cfg.Join) == 0 {
			return false, true // a lone node: nobody else holds anything
		}
		st := n.meta.state()
		if !st.Initialized() || i >= len(st.Groups) {
			return false, false
		}
		g := st.Groups[i]
		return slices.ContainsFunc(append(slices.Clone(g.Replicas), g.Voters...), func(id string) bool { return id != n.id }), true
	}
}

// otherMetaReplicas reports whether the meta group has replicas on other
// nodes: per the damaged replica's configuration, or, when that is
// unreadable, because the node joins others (--join).
func (n *Node) otherMetaReplicas(voters []string) (bool, bool) {
	if slices.ContainsFunc(voters, func(id string) bool { return id != n.id }) {
		return true, true
	}
	return voters == nil && len(n.cfg.Join) > 0, true
}

// failStart records an error that keeps this node from ever serving (the
// only copy of a shard is damaged): WaitReady returns it, so the process
// exits with it instead of waiting for ever.
func (n *Node) failStart(err error) {
	if n.fatal.CompareAndSwap(nil, &err) {
		n.logger.Error("this node cannot serve", "err", err)
	}
}
