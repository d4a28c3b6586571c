package faultstore_test

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/streamraft/streamraft/cluster/clustertest/faultstore"
)

func mustOpen(t *testing.T, d *faultstore.Disk, path string, mode faultstore.SyncMode) *faultstore.Store {
	t.Helper()
	st, err := d.Open(path, mode)
	if err != nil {
		t.Fatalf("Open(%q, %v): %v", path, mode, err)
	}
	return st
}

func mustSetUint64(t *testing.T, st raft.StableStore, key string, v uint64) {
	t.Helper()
	if err := st.SetUint64([]byte(key), v); err != nil {
		t.Fatalf("SetUint64(%q, %d): %v", key, v, err)
	}
}

// checkUint64 checks GetUint64(key); want 0 means the key is missing,
// told by raft's test: the error's text is "not found".
func checkUint64(t *testing.T, st raft.StableStore, key string, want uint64) {
	t.Helper()
	v, err := st.GetUint64([]byte(key))
	if want == 0 {
		if err == nil || err.Error() != "not found" {
			t.Errorf("GetUint64(%q) = %d, %v; want not found", key, v, err)
		}
		return
	}
	if err != nil || v != want {
		t.Errorf("GetUint64(%q) = %d, %v; want %d, nil", key, v, err, want)
	}
}

func TestPowerLoss(t *testing.T) {
	for _, tc := range []struct {
		mode faultstore.SyncMode
		kept bool // whether acknowledged writes survive
	}{
		{faultstore.SyncAlways, true},
		{faultstore.SyncNever, false},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			var d faultstore.Disk
			st := mustOpen(t, &d, "n1/raft.db", tc.mode)
			mustStore(t, st, entries(1, 5, 1))
			mustSetUint64(t, st, "CurrentTerm", 1)
			d.Sync("n1/raft.db")
			mustStore(t, st, entries(6, 8, 2))
			mustDelete(t, st, 1, 2)
			mustSetUint64(t, st, "CurrentTerm", 2)
			checkBounds(t, st, 3, 8) // reads see the page cache

			if n := d.PowerLoss("n1"); n != 1 {
				t.Errorf("PowerLoss(n1) = %d files; want 1", n)
			}
			st = mustOpen(t, &d, "n1/raft.db", tc.mode)
			defer st.Close()
			if tc.kept {
				checkBounds(t, st, 3, 8)
				checkLog(t, st, 8, entry(8, 2))
				checkUint64(t, st, "CurrentTerm", 2)
			} else {
				checkBounds(t, st, 1, 5)
				checkLog(t, st, 1, entry(1, 1))
				checkLog(t, st, 6, nil)
				checkUint64(t, st, "CurrentTerm", 1)
			}
		})
	}
}

// TestCloseKeepsPageCache: a process that exits without fsync leaves its
// writes to the kernel; only a power loss drops them, even with no store
// open.
func TestCloseKeepsPageCache(t *testing.T) {
	var d faultstore.Disk
	st := mustOpen(t, &d, "n1/raft.db", faultstore.SyncNever)
	mustStore(t, st, entries(1, 3, 1))
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = mustOpen(t, &d, "n1/raft.db", faultstore.SyncNever)
	checkBounds(t, st, 1, 3)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	d.PowerLoss("n1/raft.db")
	st = mustOpen(t, &d, "n1/raft.db", faultstore.SyncNever)
	defer st.Close()
	checkBounds(t, st, 0, 0)
}

func TestCallsAfterPowerLossFail(t *testing.T) {
	var d faultstore.Disk
	st := mustOpen(t, &d, "n1/raft.db", faultstore.SyncAlways)
	mustStore(t, st, entries(1, 3, 1))
	d.PowerLoss()
	var l raft.Log
	calls := map[string]error{
		"StoreLog":    st.StoreLog(entry(4, 1)),
		"StoreLogs":   st.StoreLogs(entries(4, 5, 1)),
		"DeleteRange": st.DeleteRange(1, 1),
		"GetLog":      st.GetLog(1, &l),
		"Set":         st.Set([]byte("k"), []byte("v")),
		"SetUint64":   st.SetUint64([]byte("k"), 1),
	}
	_, calls["FirstIndex"] = st.FirstIndex()
	_, calls["LastIndex"] = st.LastIndex()
	_, calls["Get"] = st.Get([]byte("k"))
	_, calls["GetUint64"] = st.GetUint64([]byte("k"))
	calls["Close"] = st.Close()
	for call, err := range calls {
		if !errors.Is(err, faultstore.ErrPowerLost) {
			t.Errorf("%s after PowerLoss = %v; want ErrPowerLost", call, err)
		}
	}
	st = mustOpen(t, &d, "n1/raft.db", faultstore.SyncAlways) // power back on
	defer st.Close()
	checkBounds(t, st, 1, 3)
}

// TestPowerLossByDirectory: a node's data dir loses power as a whole, and
// only it (n1 is not a prefix of n10).
func TestPowerLossByDirectory(t *testing.T) {
	var d faultstore.Disk
	paths := []string{"n1/meta/raft.db", "n1/shards/0/raft.db", "n10/raft.db", "n2/raft.db"}
	for _, p := range paths {
		st := mustOpen(t, &d, p, faultstore.SyncNever)
		mustStore(t, st, entries(1, 1, 1))
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if n := d.PowerLoss("n1/"); n != 2 {
		t.Errorf("PowerLoss(n1/) = %d files; want 2", n)
	}
	for i, p := range paths {
		st := mustOpen(t, &d, p, faultstore.SyncNever)
		if lost := i < 2; lost {
			checkBounds(t, st, 0, 0)
		} else {
			checkBounds(t, st, 1, 1)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTornPowerLoss(t *testing.T) {
	const batch = 10 // entries 7..16, the batch that tears
	kept := map[int]int{}
	for seed := range uint64(50) {
		var d faultstore.Disk
		st := mustOpen(t, &d, "n1/raft.db", faultstore.SyncNever)
		mustStore(t, st, entries(1, 3, 1))
		d.Sync()
		mustSetUint64(t, st, "a", 1)
		mustStore(t, st, entries(4, 6, 1))
		mustStore(t, st, entries(7, 6+batch, 1))
		mustSetUint64(t, st, "b", 2) // after the torn batch: lost

		d.TornPowerLoss(rand.New(rand.NewPCG(seed, seed)), "n1")
		st = mustOpen(t, &d, "n1/raft.db", faultstore.SyncNever)
		last, err := st.LastIndex()
		if err != nil || last < 6 || last > 6+batch {
			t.Fatalf("seed %d: LastIndex() = %d, %v; want 6..%d", seed, last, err, 6+batch)
		}
		kept[int(last-6)]++
		checkBounds(t, st, 1, last)
		for i := uint64(1); i <= last; i++ { // a prefix: no holes
			checkLog(t, st, i, entry(i, 1))
		}
		checkLog(t, st, last+1, nil)
		checkUint64(t, st, "a", 1)
		checkUint64(t, st, "b", 0)
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
	partial := 0
	for n, seeds := range kept {
		if n > 0 && n < batch {
			partial += seeds
		}
	}
	if partial == 0 {
		t.Errorf("entries kept of the torn batch, by count: %v; want some partial batches", kept)
	}
}

func TestTornPowerLossSyncAlwaysKeepsAll(t *testing.T) {
	var d faultstore.Disk
	st := mustOpen(t, &d, "n1/raft.db", faultstore.SyncAlways)
	mustStore(t, st, entries(1, 10, 1))
	d.TornPowerLoss(rand.New(rand.NewPCG(1, 1)))
	st = mustOpen(t, &d, "n1/raft.db", faultstore.SyncAlways)
	defer st.Close()
	checkBounds(t, st, 1, 10)
}

func TestSyncEvery(t *testing.T) {
	// flushWait bounds the wait for a 1 ms background flush: generous for
	// a loaded machine running -race.
	const flushWait = 5 * time.Second
	var d faultstore.Disk
	st := mustOpen(t, &d, "n1/raft.db", faultstore.SyncEvery(time.Millisecond))
	mustStore(t, st, entries(1, 3, 1))
	deadline := time.Now().Add(flushWait)
	for d.Volatile("n1/raft.db") > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %d writes still volatile; want 0", flushWait, d.Volatile("n1/raft.db"))
		}
		time.Sleep(time.Millisecond)
	}
	d.PowerLoss()
	st = mustOpen(t, &d, "n1/raft.db", faultstore.SyncNever)
	defer st.Close()
	checkBounds(t, st, 1, 3)
}
