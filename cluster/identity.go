package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Identities kept on disk. Raft cannot tell a voter that lost its disk
// from one that lags: both answer as the same server ID, and a wiped one
// grants votes with an empty log. So every replica directory gets a
// random replica ID when it is created, before any Raft state, and the
// address under which its group knows it carries that ID
// ("<raft-addr>/<replica-id>"). A peer dials that address and names the
// replica it expects in the connection header; a replica with another ID
// (the directory was wiped or rebuilt) refuses the connection, so it can
// never vote or acknowledge as the replica it replaced. The group's
// leader learns the new ID from the replica (announce), adds it as a
// non-voter under its new address, lets it catch up, and only then
// promotes it (controller.go).
//
// The node's own file, node.json, ties the data dir to its --node-id and
// to the cluster it joined (the cluster ID is made at formation and
// checked in gossip and in every connection header).
const (
	nodeFile        = "node.json"
	replicaFile     = "replica.json"
	identityVersion = 1
	// replicaIDBytes is the replica ID's length in random bytes (16 hex
	// characters): enough that two directories never share one.
	replicaIDBytes = 8
	clusterIDBytes = 16
)

// nodeIdentity is <data-dir>/node.json.
type nodeIdentity struct {
	Version   int    `json:"version"`
	NodeID    string `json:"node_id"`
	ClusterID string `json:"cluster_id,omitempty"`
}

// loadNodeIdentity reads dataDir's node.json, creating it for nodeID when
// the data dir has none. A data dir that belongs to another node ID is
// refused.
func loadNodeIdentity(dataDir, nodeID string) (nodeIdentity, error) {
	path := filepath.Join(dataDir, nodeFile)
	var id nodeIdentity
	err := readJSON(path, &id)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		id = nodeIdentity{Version: identityVersion, NodeID: nodeID}
		return id, writeJSON(dataDir, path, id)
	case err != nil:
		return nodeIdentity{}, err
	case id.Version != identityVersion:
		return nodeIdentity{}, fmt.Errorf("%s: version %d; this build reads version %d", path, id.Version, identityVersion)
	case id.NodeID != nodeID:
		return nodeIdentity{}, fmt.Errorf("data dir %s belongs to node %q (%s), not --node-id %q: start it with --node-id %s, or use another --data-dir",
			dataDir, id.NodeID, path, nodeID, id.NodeID)
	}
	return id, nil
}

// saveNodeIdentity rewrites dataDir's node.json durably.
func saveNodeIdentity(dataDir string, id nodeIdentity) error {
	return writeJSON(dataDir, filepath.Join(dataDir, nodeFile), id)
}

// replicaIdentity is <replica-dir>/replica.json.
type replicaIdentity struct {
	Version int    `json:"version"`
	ID      string `json:"id"`
}

// loadReplicaID returns the replica ID of the Raft group directory dir,
// creating dir and a new ID when dir holds no Raft state yet. A directory
// with Raft state but no replica.json was written before replica IDs
// existed: its ID is "" (its group knows it under its bare address).
func loadReplicaID(dir string) (string, error) {
	path := filepath.Join(dir, replicaFile)
	var id replicaIdentity
	err := readJSON(path, &id)
	switch {
	case err == nil && id.Version != identityVersion:
		return "", fmt.Errorf("%s: version %d; this build reads version %d", path, id.Version, identityVersion)
	case err == nil:
		if !validReplicaID(id.ID) {
			return "", fmt.Errorf("%s: bad replica ID %q", path, id.ID)
		}
		return id.ID, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", err
	}
	if hasRaftFiles(dir) {
		return "", nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	id = replicaIdentity{Version: identityVersion, ID: randomHex(replicaIDBytes)}
	if err := writeJSON(dir, path, id); err != nil {
		return "", err
	}
	return id.ID, nil
}

// hasRaftFiles reports whether dir holds a log store or snapshots.
func hasRaftFiles(dir string) bool {
	for _, name := range []string{boltFile, walDir} {
		if exists(filepath.Join(dir, name)) {
			return true
		}
	}
	snaps, _ := os.ReadDir(filepath.Join(dir, "snapshots"))
	return len(snaps) > 0
}

func validReplicaID(id string) bool {
	if len(id) == 0 || len(id) > maxHeaderField {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// replicaAddr is the Raft address of the replica id on the node whose Raft
// port is raftAddr: "<raftAddr>/<id>", or raftAddr alone for a replica
// from before replica IDs.
func replicaAddr(raftAddr, id string) string {
	if id == "" {
		return raftAddr
	}
	return raftAddr + "/" + id
}

// splitReplicaAddr undoes replicaAddr.
func splitReplicaAddr(addr string) (raftAddr, id string) {
	if i := strings.LastIndexByte(addr, '/'); i >= 0 {
		return addr[:i], addr[i+1:]
	}
	return addr, ""
}

// randomHex is n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	return hex.EncodeToString(b)
}

// newClusterID makes the ID of a new cluster.
func newClusterID() string { return randomHex(clusterIDBytes) }

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}

// writeJSON writes v to path durably: a temporary file, fsynced, renamed
// over path, and the directory dir fsynced.
func writeJSON(dir, path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return writeFileDurably(dir, path, append(b, '\n'))
}
