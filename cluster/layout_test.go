package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamraft/streamraft/fsm"
)

// TestLayoutRanges: for every shard count the ranges are contiguous, cover
// every slot once, and ShardOfSlot agrees with them for every slot.
func TestLayoutRanges(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 7, 16, 1000, 16383, MaxShards} {
		l, err := NewLayout(n)
		if err != nil {
			t.Fatalf("NewLayout(%d): %v", n, err)
		}
		next := 0
		for i, r := range l.Ranges {
			if r[0] != next || r[1] < r[0] {
				t.Fatalf("NewLayout(%d): shard %d owns %v; want a non-empty range from %d", n, i, r, next)
			}
			for slot := r[0]; slot <= r[1]; slot++ {
				if got := l.ShardOfSlot(slot); got != i {
					t.Fatalf("NewLayout(%d).ShardOfSlot(%d) = %d; want %d", n, slot, got, i)
				}
			}
			next = r[1] + 1
		}
		if next != fsm.SlotCount {
			t.Errorf("NewLayout(%d): ranges end at %d; want %d", n, next-1, fsm.SlotCount-1)
		}
	}
	if l, _ := NewLayout(4); l.Ranges[1] != [2]int{4096, 8191} {
		t.Errorf("NewLayout(4) shard 1 = %v; want [4096 8191]", l.Ranges[1])
	}
	for _, n := range []int{0, -1, MaxShards + 1} {
		if _, err := NewLayout(n); err == nil {
			t.Errorf("NewLayout(%d) = nil error; want an error", n)
		}
	}
}

func TestLoadLayout(t *testing.T) {
	legacy := func(t *testing.T) string { // a data dir from before cluster.json
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "shards", "0", "snapshots"), 0o750); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	tests := []struct {
		name    string
		dir     func(t *testing.T) string
		first   int // 0: no first start
		shards  int
		wantErr string
	}{
		{"fresh", func(t *testing.T) string { return t.TempDir() }, 0, 4, ""},
		{"same count again", func(t *testing.T) string { return t.TempDir() }, 4, 4, ""},
		{"fewer shards", func(t *testing.T) string { return t.TempDir() }, 4, 2, "holds 4 shards"},
		{"more shards", func(t *testing.T) string { return t.TempDir() }, 1, 16, "--shards 1"},
		{"legacy dir adopted with 1 shard", legacy, 0, 1, ""},
		{"legacy dir refused with 4 shards", legacy, 0, 4, "no cluster.json"},
		{"fresh dir created", func(t *testing.T) string { return filepath.Join(t.TempDir(), "a", "b") }, 0, 3, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir(t)
			if tc.first > 0 {
				if _, err := loadLayout(dir, tc.first); err != nil {
					t.Fatalf("first loadLayout(%d): %v", tc.first, err)
				}
			}
			l, err := loadLayout(dir, tc.shards)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("loadLayout(%d) = %v; want an error mentioning %q", tc.shards, err, tc.wantErr)
				}
				return
			}
			if err != nil || l.Shards != tc.shards {
				t.Fatalf("loadLayout(%d) = %+v, %v; want %d shards", tc.shards, l.Shards, err, tc.shards)
			}
			b, err := os.ReadFile(filepath.Join(dir, layoutFile))
			if err != nil || !strings.Contains(string(b), `"slot_ranges"`) {
				t.Errorf("%s = %q, %v; want the stored layout", layoutFile, b, err)
			}
		})
	}
}

func TestLoadLayoutCorrupt(t *testing.T) {
	dir := t.TempDir()
	for _, body := range []string{"{", `{"version":9,"shards":1}`, `{"version":1,"shards":2,"slot_ranges":[[0,1],[2,16383]]}`} {
		if err := os.WriteFile(filepath.Join(dir, layoutFile), []byte(body), 0o640); err != nil {
			t.Fatal(err)
		}
		if _, err := loadLayout(dir, 2); err == nil {
			t.Errorf("loadLayout over %s = nil error; want an error", body)
		}
	}
}
