package faultstore_test

import (
	"errors"
	"sync"
	"syscall"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/streamraft/streamraft/cluster/clustertest/faultstore"
)

// calls runs every store call once and returns the errors of the writes
// and of the reads, by call name.
func calls(st faultstore.LogStore) (writes, reads map[string]error) {
	var l raft.Log
	writes = map[string]error{
		"StoreLog":    st.StoreLog(entry(20, 1)),
		"StoreLogs":   st.StoreLogs(entries(21, 22, 1)),
		"DeleteRange": st.DeleteRange(1, 1),
		"Set":         st.Set([]byte("k"), []byte("v")),
		"SetUint64":   st.SetUint64([]byte("n"), 1),
	}
	reads = map[string]error{"GetLog": st.GetLog(2, &l)}
	_, reads["FirstIndex"] = st.FirstIndex()
	_, reads["LastIndex"] = st.LastIndex()
	_, reads["Get"] = st.Get([]byte("CurrentTerm"))
	_, reads["GetUint64"] = st.GetUint64([]byte("CurrentTerm"))
	return writes, reads
}

var stableCalls = map[string]bool{"Set": true, "SetUint64": true}

func TestFaulty(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := faultstore.Faulty(open(t))
			defer f.Close()
			mustStore(t, f, entries(1, 10, 1))
			mustSetUint64(t, f, "CurrentTerm", 4)

			f.FailWrites(syscall.ENOSPC)
			writes, reads := calls(f)
			for call, err := range writes {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Errorf("FailWrites: %s = %v; want ENOSPC", call, err)
				}
			}
			for call, err := range reads {
				if err != nil {
					t.Errorf("FailWrites: %s = %v; want nil", call, err)
				}
			}
			checkBounds(t, f, 1, 10) // the failed writes changed nothing
			checkUint64(t, f, "CurrentTerm", 4)
			checkUint64(t, f, "n", 0)
			if n := f.FailedWrites(); n != uint64(len(writes)) {
				t.Errorf("FailedWrites() = %d; want %d", n, len(writes))
			}

			f.Heal()
			f.FailLogWrites(syscall.EIO)
			writes, _ = calls(f)
			for call, err := range writes {
				if stableCalls[call] == (err != nil) {
					t.Errorf("FailLogWrites: %s = %v; want an EIO for log writes only", call, err)
				}
			}

			f.Heal()
			f.FailStableWrites(syscall.EIO)
			writes, _ = calls(f)
			for call, err := range writes {
				if stableCalls[call] != errors.Is(err, syscall.EIO) {
					t.Errorf("FailStableWrites: %s = %v; want an EIO for stable writes only", call, err)
				}
			}

			f.Heal()
			f.FailReads(syscall.EIO)
			writes, reads = calls(f)
			for call, err := range reads {
				if !errors.Is(err, syscall.EIO) {
					t.Errorf("FailReads: %s = %v; want EIO", call, err)
				}
			}
			for call, err := range writes {
				if err != nil {
					t.Errorf("FailReads: %s = %v; want nil", call, err)
				}
			}
			if n := f.FailedReads(); n != uint64(len(reads)) {
				t.Errorf("FailedReads() = %d; want %d", n, len(reads))
			}

			f.Heal()
			writes, reads = calls(f)
			for call, err := range writes {
				if err != nil {
					t.Errorf("Heal: %s = %v; want nil", call, err)
				}
			}
			for call, err := range reads {
				if err != nil {
					t.Errorf("Heal: %s = %v; want nil", call, err)
				}
			}
		})
	}
}

// TestFaultyConcurrent toggles faults while other goroutines use the
// store; run with -race.
func TestFaultyConcurrent(t *testing.T) {
	var d faultstore.Disk
	f := faultstore.Faulty(mustOpen(t, &d, "n1/raft.db", faultstore.SyncAlways))
	defer f.Close()
	const workers, rounds = 4, 200
	var wg sync.WaitGroup
	var failed [workers]int
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				idx := uint64(w*rounds + i + 1)
				if err := f.StoreLog(entry(idx, 1)); err != nil {
					failed[w]++
					continue
				}
				var l raft.Log
				if err := f.GetLog(idx, &l); err != nil && !errors.Is(err, syscall.EIO) {
					t.Errorf("GetLog(%d) = %v; want the entry or an injected EIO", idx, err)
				}
			}
		})
	}
	wg.Go(func() {
		for i := range rounds {
			switch i % 3 {
			case 0:
				f.FailWrites(syscall.ENOSPC)
			case 1:
				f.FailReads(syscall.EIO)
			default:
				f.Heal()
			}
		}
	})
	wg.Wait()
	total := 0
	for _, n := range failed {
		total += n
	}
	if got := f.FailedWrites(); got != uint64(total) {
		t.Errorf("FailedWrites() = %d; want %d (the StoreLogs that failed)", got, total)
	}
}
