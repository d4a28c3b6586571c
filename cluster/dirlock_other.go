//go:build !unix

package cluster

import "time"

// lockDir is a no-op where flock(2) does not exist: raft-wal's meta store
// then waits on its own bolt lock.
func lockDir(string, time.Duration) (func() error, error) { return func() error { return nil }, nil }
