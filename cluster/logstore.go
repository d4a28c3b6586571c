package cluster

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	wal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
	"go.etcd.io/bbolt"
)

// The shard log stores. raft-boltdb (one bolt file, two fdatasyncs per
// append) is the default; hashicorp/raft-wal (segment files, one fsync per
// append) is the alternative measured in the README. A data dir keeps the
// store it was created with: opening it with the other is refused, since
// the other would find no state and the shard would start empty.
const (
	LogStoreBolt = "bolt"
	LogStoreWAL  = "wal"
	walDir       = "wal"
)

// LogStore is a Raft log and stable store that can be closed: what every
// Raft group of a node keeps its log, term and vote in.
type LogStore interface {
	raft.LogStore
	raft.StableStore
	io.Closer
}

// openLogStore opens dir's log store of the given kind ("" is bolt), or
// whatever hook opens when it is set (tests).
func openLogStore(dir, kind string, hook func(dir string) (LogStore, error)) (LogStore, error) {
	if hook != nil {
		return hook(dir)
	}
	boltPath, walPath := filepath.Join(dir, boltFile), filepath.Join(dir, walDir)
	hasBolt, hasWAL := exists(boltPath), exists(walPath)
	switch kind {
	case "", LogStoreBolt:
		if hasWAL && !hasBolt {
			return nil, fmt.Errorf("%s holds a raft-wal log: start with --log-store %s", dir, LogStoreWAL)
		}
		st, err := raftboltdb.New(raftboltdb.Options{Path: boltPath, BoltOptions: &bbolt.Options{Timeout: boltLockTimeout}})
		if errors.Is(err, bbolt.ErrTimeout) {
			return nil, fmt.Errorf("%s is in use by another streamraft (timeout after %v): %w", dir, boltLockTimeout, err)
		}
		if err != nil {
			return nil, err // not a typed nil in the interface
		}
		return st, nil
	case LogStoreWAL:
		if hasBolt && !hasWAL {
			return nil, fmt.Errorf("%s holds a raft-boltdb log: start with --log-store %s", dir, LogStoreBolt)
		}
		if err := os.MkdirAll(walPath, 0o750); err != nil {
			return nil, err
		}
		unlock, err := lockDir(walPath, boltLockTimeout)
		if err != nil {
			return nil, err
		}
		// raft-wal v0.4.0's Close leaves its bolt meta file open (and
		// locked): reopening the shard in this process would wait on the
		// lock forever. Hand it a meta store this code closes.
		meta := &metadb.BoltMetaDB{}
		st, err := wal.Open(walPath, wal.WithMetaStore(meta))
		if err != nil {
			return nil, errors.Join(err, meta.Close(), unlock())
		}
		return walStore{WAL: st, meta: meta, unlock: unlock}, nil
	}
	return nil, fmt.Errorf("unknown log store %q (want %s or %s)", kind, LogStoreBolt, LogStoreWAL)
}

// walStore closes the WAL, then its meta store, then releases the
// directory's lock.
type walStore struct {
	*wal.WAL
	meta   *metadb.BoltMetaDB
	unlock func() error
}

func (w walStore) Close() error {
	return errors.Join(w.WAL.Close(), w.meta.Close(), w.unlock())
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// OpenLogStore opens dir's log store of the given kind (LogStoreBolt or
// LogStoreWAL), as a shard does: for tests that wrap the real store
// (NodeConfig.OpenLogStore).
func OpenLogStore(dir, kind string) (LogStore, error) { return openLogStore(dir, kind, nil) }
