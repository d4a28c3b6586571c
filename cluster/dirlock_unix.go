//go:build unix

package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// lockFile is the file a raft-wal shard directory is locked through.
const lockFile = "LOCK"

// lockDir takes an exclusive lock on dir, waiting at most timeout for
// another holder (in this process or another) to let go. raft-wal opens its
// meta store without a lock timeout, so without this a second process on the
// same data dir would hang instead of failing (raft-boltdb gets the same
// guarantee from bolt's own timeout).
func lockDir(dir string, timeout time.Duration) (release func() error, err error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	deadline := time.Now().Add(timeout)
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f.Close, nil // closing the file releases the lock
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, &inUseError{path: dir, reason: fmt.Sprintf("in use by another streamraft (timeout after %v)", timeout)}
			}
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
