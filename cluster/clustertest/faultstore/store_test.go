package faultstore_test

import (
	"bytes"
	"errors"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/streamraft/streamraft/cluster/clustertest/faultstore"
)

// opener opens the same store again on every call (after the previous one
// was closed).
type opener func(t *testing.T) faultstore.LogStore

// stores are the stores the semantics tests run on: raft-boltdb, the
// store the cluster uses, is the reference a Disk store must match.
func stores(t *testing.T) map[string]opener {
	t.Helper()
	disk := &faultstore.Disk{}
	boltPath := filepath.Join(t.TempDir(), "raft.db")
	return map[string]opener{
		"raft-boltdb": func(t *testing.T) faultstore.LogStore {
			st, err := raftboltdb.NewBoltStore(boltPath)
			if err != nil {
				t.Fatalf("raftboltdb.NewBoltStore: %v", err)
			}
			return st
		},
		"Disk/SyncAlways": diskOpener(disk, "always/raft.db", faultstore.SyncAlways),
		"Disk/SyncNever":  diskOpener(disk, "never/raft.db", faultstore.SyncNever),
		"Disk/SyncEvery":  diskOpener(disk, "every/raft.db", faultstore.SyncEvery(time.Millisecond)),
	}
}

func diskOpener(d *faultstore.Disk, path string, mode faultstore.SyncMode) opener {
	return func(t *testing.T) faultstore.LogStore {
		st, err := d.Open(path, mode)
		if err != nil {
			t.Fatalf("Open(%q, %v): %v", path, mode, err)
		}
		return st
	}
}

func entry(index, term uint64) *raft.Log {
	return &raft.Log{
		Index: index, Term: term, Type: raft.LogCommand,
		Data:       []byte{byte(index), byte(term), 'd'},
		Extensions: []byte{'x'},
		AppendedAt: time.Unix(1700000000, int64(index)).UTC(),
	}
}

func entries(lo, hi, term uint64) []*raft.Log {
	var ls []*raft.Log
	for i := lo; i <= hi; i++ {
		ls = append(ls, entry(i, term))
	}
	return ls
}

func mustStore(t *testing.T, st raft.LogStore, logs []*raft.Log) {
	t.Helper()
	if err := st.StoreLogs(logs); err != nil {
		t.Fatalf("StoreLogs(%d..%d): %v", logs[0].Index, logs[len(logs)-1].Index, err)
	}
}

func mustDelete(t *testing.T, st raft.LogStore, lo, hi uint64) {
	t.Helper()
	if err := st.DeleteRange(lo, hi); err != nil {
		t.Fatalf("DeleteRange(%d, %d): %v", lo, hi, err)
	}
}

// checkBounds checks FirstIndex and LastIndex.
func checkBounds(t *testing.T, st raft.LogStore, first, last uint64) {
	t.Helper()
	f, err := st.FirstIndex()
	if err != nil || f != first {
		t.Errorf("FirstIndex() = %d, %v; want %d, nil", f, err, first)
	}
	l, err := st.LastIndex()
	if err != nil || l != last {
		t.Errorf("LastIndex() = %d, %v; want %d, nil", l, err, last)
	}
}

// checkLog checks that GetLog(want.Index) returns want (nil: not found).
func checkLog(t *testing.T, st raft.LogStore, index uint64, want *raft.Log) {
	t.Helper()
	var got raft.Log
	err := st.GetLog(index, &got)
	if want == nil {
		// raft compares with ==, not errors.Is (replication.go).
		if err != raft.ErrLogNotFound {
			t.Errorf("GetLog(%d) = %v; want raft.ErrLogNotFound", index, err)
		}
		return
	}
	if err != nil {
		t.Errorf("GetLog(%d) = %v; want the entry", index, err)
		return
	}
	if got.Index != want.Index || got.Term != want.Term || got.Type != want.Type ||
		!bytes.Equal(got.Data, want.Data) || !bytes.Equal(got.Extensions, want.Extensions) ||
		!got.AppendedAt.Equal(want.AppendedAt) {
		t.Errorf("GetLog(%d) = %+v; want %+v", index, got, *want)
	}
}

func TestLogSemantics(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			defer st.Close()
			checkBounds(t, st, 0, 0)
			checkLog(t, st, 1, nil)

			mustStore(t, st, entries(1, 10, 1))
			checkBounds(t, st, 1, 10)
			checkLog(t, st, 5, entry(5, 1))
			checkLog(t, st, 11, nil)

			// A stored entry is the store's copy: changing the caller's
			// entry or the one read back changes nothing.
			e := entry(11, 2)
			if err := st.StoreLog(e); err != nil {
				t.Fatalf("StoreLog(11): %v", err)
			}
			e.Data[0], e.Term = 99, 99
			var got raft.Log
			if err := st.GetLog(11, &got); err != nil {
				t.Fatalf("GetLog(11): %v", err)
			}
			got.Data[0] = 98
			checkLog(t, st, 11, entry(11, 2))

			// Storing over an index replaces the entry (a follower
			// overwriting a conflicting suffix).
			mustStore(t, st, []*raft.Log{entry(10, 3)})
			checkLog(t, st, 10, entry(10, 3))
			checkBounds(t, st, 1, 11)

			mustDelete(t, st, 1, 3) // a compacted prefix
			checkBounds(t, st, 4, 11)
			checkLog(t, st, 3, nil)
			checkLog(t, st, 4, entry(4, 1))

			mustDelete(t, st, 9, math.MaxUint64) // a truncated suffix
			checkBounds(t, st, 4, 8)
			checkLog(t, st, 9, nil)

			mustDelete(t, st, 6, 6) // inclusive: one entry
			checkLog(t, st, 6, nil)
			checkLog(t, st, 5, entry(5, 1))
			checkLog(t, st, 7, entry(7, 1))
			checkBounds(t, st, 4, 8)

			mustDelete(t, st, 8, 7) // empty range
			checkBounds(t, st, 4, 8)

			mustDelete(t, st, 0, math.MaxUint64)
			checkBounds(t, st, 0, 0)

			mustStore(t, st, entries(20, 22, 4)) // after a snapshot install: a gap
			checkBounds(t, st, 20, 22)
		})
	}
}

func TestStableSemantics(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			defer st.Close()
			// What NewRaft and HasExistingState read on a fresh store:
			// they accept exactly the text "not found" (api.go).
			if v, err := st.GetUint64([]byte("CurrentTerm")); err == nil || err.Error() != "not found" || v != 0 {
				t.Errorf("GetUint64(missing) = %d, %v; want 0, not found", v, err)
			}
			if v, err := st.Get([]byte("LastVoteCand")); err == nil || err.Error() != "not found" || v != nil {
				t.Errorf("Get(missing) = %q, %v; want nil, not found", v, err)
			}

			val := []byte("n1")
			if err := st.Set([]byte("LastVoteCand"), val); err != nil {
				t.Fatalf("Set: %v", err)
			}
			val[0] = 'X' // the store kept its own copy
			got, err := st.Get([]byte("LastVoteCand"))
			if err != nil || string(got) != "n1" {
				t.Errorf("Get = %q, %v; want \"n1\", nil", got, err)
			}
			got[0] = 'Y' // and handed out a copy
			if got, _ := st.Get([]byte("LastVoteCand")); string(got) != "n1" {
				t.Errorf("Get after changing the returned slice = %q; want \"n1\"", got)
			}

			if err := st.SetUint64([]byte("CurrentTerm"), 7); err != nil {
				t.Fatalf("SetUint64: %v", err)
			}
			if v, err := st.GetUint64([]byte("CurrentTerm")); err != nil || v != 7 {
				t.Errorf("GetUint64 = %d, %v; want 7, nil", v, err)
			}
			// One key space: SetUint64 is Set of 8 big-endian bytes.
			if raw, err := st.Get([]byte("CurrentTerm")); err != nil || !bytes.Equal(raw, []byte{0, 0, 0, 0, 0, 0, 0, 7}) {
				t.Errorf("Get(CurrentTerm) = %v, %v; want [0 0 0 0 0 0 0 7], nil", raw, err)
			}
			// An empty value reads back as nil without an error.
			if err := st.Set([]byte("empty"), []byte{}); err != nil {
				t.Fatalf("Set(empty): %v", err)
			}
			if got, err := st.Get([]byte("empty")); err != nil || got != nil {
				t.Errorf("Get(empty) = %#v, %v; want nil, nil", got, err)
			}
			if err := st.Set(nil, []byte("v")); err == nil {
				t.Errorf("Set(nil key) = nil; want an error")
			}
		})
	}
}

func TestReopenAfterClose(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			mustStore(t, st, entries(1, 5, 1))
			mustDelete(t, st, 1, 2)
			if err := st.SetUint64([]byte("CurrentTerm"), 3); err != nil {
				t.Fatalf("SetUint64: %v", err)
			}
			if err := st.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := st.StoreLog(entry(6, 1)); err == nil {
				t.Errorf("StoreLog after Close = nil; want an error")
			}

			st = open(t)
			defer st.Close()
			checkBounds(t, st, 3, 5)
			checkLog(t, st, 4, entry(4, 1))
			if v, err := st.GetUint64([]byte("CurrentTerm")); err != nil || v != 3 {
				t.Errorf("GetUint64 after reopen = %d, %v; want 3, nil", v, err)
			}
		})
	}
}

func TestOpenTwice(t *testing.T) {
	var d faultstore.Disk
	st, err := d.Open("n1/raft.db", faultstore.SyncAlways)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := d.Open("n1/./raft.db", faultstore.SyncAlways); !errors.Is(err, faultstore.ErrInUse) {
		t.Errorf("second Open = %v; want ErrInUse", err)
	}
	if _, err := d.Open("n1/other.db", faultstore.SyncMode(-2)); err == nil {
		t.Errorf("Open with SyncMode(-2) = nil; want an error")
	}
}
