package cluster

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// A failing disk (full, or fsync returning EIO) must stop a node from
// acknowledging, not crash it. hashicorp/raft copes with a failing log
// write (a leader steps down, a follower rejects the entries), but it
// panics when it cannot save its term (raft.go setCurrentTerm), which it
// does at every start, so a full disk would crash-loop the node. holdStable
// keeps trying such writes instead, with backoff, until they succeed: the
// group stalls on this node (it neither votes nor leads, so the others go
// on without it) and resumes once there is room again. A write is never
// reported done before it is.
const (
	stableRetryMin = 50 * time.Millisecond
	stableRetryMax = 2 * time.Second
	// diskErrorLogEvery spaces the repeated "still failing" log lines.
	diskErrorLogEvery = 10 * time.Second
)

// holdStable is a LogStore whose stable-store writes wait for the disk.
type holdStable struct {
	LogStore
	group   string
	logger  *slog.Logger
	failing atomic.Bool
	// lastErr is the last write error, for Status.
	lastErr atomic.Pointer[string]
}

func newHoldStable(st LogStore, group string, logger *slog.Logger) *holdStable {
	return &holdStable{LogStore: st, group: group, logger: logger}
}

func (s *holdStable) Set(key, val []byte) error {
	return s.hold("save "+string(key), func() error { return s.LogStore.Set(key, val) })
}

func (s *holdStable) SetUint64(key []byte, val uint64) error {
	return s.hold("save "+string(key), func() error { return s.LogStore.SetUint64(key, val) })
}

// StoreLogs and StoreLog pass through (raft handles their errors), but a
// failure is recorded for Status.
func (s *holdStable) StoreLogs(logs []*raft.Log) error {
	err := s.LogStore.StoreLogs(logs)
	s.note(err)
	return err
}

func (s *holdStable) StoreLog(l *raft.Log) error {
	err := s.LogStore.StoreLog(l)
	s.note(err)
	return err
}

func (s *holdStable) note(err error) {
	if err == nil {
		if s.failing.CompareAndSwap(true, false) {
			s.logger.Info("disk writes succeed again", "group", s.group)
		}
		return
	}
	msg := err.Error()
	s.lastErr.Store(&msg)
	if s.failing.CompareAndSwap(false, true) {
		s.logger.Error("disk write failed: this replica stops acknowledging until writes succeed", "group", s.group, "err", err)
	}
}

// hold runs write until it succeeds.
func (s *holdStable) hold(what string, write func() error) error {
	backoff, logged := stableRetryMin, time.Time{}
	for {
		err := write()
		s.note(err)
		if err == nil {
			return nil
		}
		if time.Since(logged) > diskErrorLogEvery {
			logged = time.Now()
			s.logger.Error(fmt.Sprintf("cannot %s; Raft waits for the disk (this replica neither votes nor leads meanwhile)", what),
				"group", s.group, "err", err)
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, stableRetryMax)
	}
}

// DiskError is the last write error while writes are failing, "" when
// they succeed.
func (s *holdStable) DiskError() string {
	if !s.failing.Load() {
		return ""
	}
	if p := s.lastErr.Load(); p != nil {
		return *p
	}
	return "failing"
}
