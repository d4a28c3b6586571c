// Package faultstore provides Raft log and stable stores for fault tests.
//
// Disk is an in-memory disk shared by the nodes of a test: a Store opened
// on it keeps what it was given in a volatile layer (the page cache) until
// it is made durable, and PowerLoss drops what was not, as cutting a
// machine's power would. FaultyStore wraps any store, a real raft-boltdb
// one included, and makes its writes or reads fail on demand (a full disk,
// a failing fsync).
//
// Both implement LogStore, the interface the cluster runs a Raft group on.
// Store copies raft-boltdb/v2's behaviour where hashicorp/raft depends on
// it: GetLog of a missing index returns raft.ErrLogNotFound, Get and
// GetUint64 of a missing key return ErrKeyNotFound (raft recognises it by
// its text, "not found", and treats a missing term as 0), FirstIndex and
// LastIndex are 0 on an empty log, DeleteRange is inclusive, and Set and
// SetUint64 share one key space (SetUint64 stores 8 big-endian bytes).
package faultstore

import (
	"errors"
	"io"

	"github.com/hashicorp/raft"
)

// LogStore is a Raft log and stable store that can be closed: the store a
// cluster node opens for each of its Raft groups.
type LogStore interface {
	raft.LogStore
	raft.StableStore
	io.Closer
}

var (
	// ErrKeyNotFound is what Get and GetUint64 return for a missing key.
	// Its text is raft-boltdb's exactly: hashicorp/raft compares
	// err.Error() with "not found" to tell a fresh store from a broken one.
	ErrKeyNotFound = errors.New("not found")
	// ErrPowerLost is returned (wrapped) by every call on a Store whose
	// path lost power, until the path is opened again.
	ErrPowerLost = errors.New("power lost")
	// ErrClosed is returned (wrapped) by every call on a closed Store.
	ErrClosed = errors.New("store closed")
	// ErrInUse is returned (wrapped) by Open when a Store is open on the
	// path already, as raft-boltdb's open fails on a locked file.
	ErrInUse = errors.New("path in use")
)
