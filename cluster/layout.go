package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/streamraft/streamraft/fsm"
)

// MaxShards is the most shards a node may split the slots into: one per
// slot.
const MaxShards = fsm.SlotCount

const (
	layoutFile    = "cluster.json"
	layoutVersion = 1
)

// Layout is how the slots are split into shards, fixed when the data dir is
// first used and stored in <data-dir>/cluster.json.
type Layout struct {
	Version int      `json:"version"`
	Shards  int      `json:"shards"`
	Ranges  [][2]int `json:"slot_ranges"` // Ranges[i] = {lo, hi} of shard i, inclusive
}

// NewLayout splits the 16384 slots into n contiguous ranges: shard i owns
// slots [i*16384/n, (i+1)*16384/n - 1] (integer division).
func NewLayout(n int) (Layout, error) {
	if n < 1 || n > MaxShards {
		return Layout{}, fmt.Errorf("shards %d: want 1-%d", n, MaxShards)
	}
	l := Layout{Version: layoutVersion, Shards: n, Ranges: make([][2]int, n)}
	for i := range n {
		l.Ranges[i] = [2]int{i * fsm.SlotCount / n, (i+1)*fsm.SlotCount/n - 1}
	}
	return l, nil
}

// ShardOfSlot returns the shard that owns slot (0 <= slot < 16384): the
// largest i with i*16384/n <= slot, i.e. ((slot+1)*n - 1) / 16384.
func (l Layout) ShardOfSlot(slot int) int {
	return ((slot+1)*l.Shards - 1) / fsm.SlotCount
}

// loadLayout returns the layout stored in dataDir, creating it for n shards
// on first use. It refuses a data dir that holds another shard count, and
// one that holds shard data but no cluster.json unless n is 1 (a data dir
// written before the layout file existed held exactly one shard, "0", which
// owned every slot: it is adopted as is).
func loadLayout(dataDir string, n int) (Layout, error) {
	want, err := NewLayout(n)
	if err != nil {
		return Layout{}, err
	}
	path := filepath.Join(dataDir, layoutFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		return checkLayout(path, b, want)
	case !errors.Is(err, fs.ErrNotExist):
		return Layout{}, fmt.Errorf("read %s: %w", path, err)
	}
	entries, err := os.ReadDir(filepath.Join(dataDir, "shards"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Layout{}, fmt.Errorf("read shards dir: %w", err)
	}
	if len(entries) > 0 && n != 1 {
		return Layout{}, fmt.Errorf("data dir %s holds shard data but no %s (a one-shard data dir from an earlier version): start it with --shards 1, or use an empty --data-dir for %d shards",
			dataDir, layoutFile, n)
	}
	if err := writeLayout(dataDir, path, want); err != nil {
		return Layout{}, err
	}
	return want, nil
}

// hasLayout reports whether dataDir holds a layout: a cluster.json, or
// shard data from before that file existed.
func hasLayout(dataDir string) bool {
	if _, err := os.Stat(filepath.Join(dataDir, layoutFile)); err == nil {
		return true
	}
	entries, _ := os.ReadDir(filepath.Join(dataDir, "shards"))
	return len(entries) > 0
}

func checkLayout(path string, b []byte, want Layout) (Layout, error) {
	var got Layout
	if err := json.Unmarshal(b, &got); err != nil {
		return Layout{}, fmt.Errorf("parse %s: %w", path, err)
	}
	if got.Version != layoutVersion {
		return Layout{}, fmt.Errorf("%s: version %d; this build reads version %d", path, got.Version, layoutVersion)
	}
	if got.Shards != want.Shards {
		return Layout{}, fmt.Errorf("data dir holds %d shards (%s) but --shards is %d: the shard count is fixed when the data dir is created; start with --shards %d or use an empty --data-dir",
			got.Shards, path, want.Shards, got.Shards)
	}
	if len(got.Ranges) != len(want.Ranges) {
		return Layout{}, fmt.Errorf("%s: %d slot ranges for %d shards", path, len(got.Ranges), got.Shards)
	}
	for i := range got.Ranges {
		if got.Ranges[i] != want.Ranges[i] {
			return Layout{}, fmt.Errorf("%s: shard %d owns slots %v; this build expects %v", path, i, got.Ranges[i], want.Ranges[i])
		}
	}
	return got, nil
}

// writeLayout writes the layout durably.
func writeLayout(dataDir, path string, l Layout) error {
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	return writeJSON(dataDir, path, l)
}

// writeFileDurably writes b to path so that a crash leaves either the old
// file or the new one: a temporary file, fsynced, renamed over path, and
// the directory dir fsynced.
func writeFileDurably(dir, path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
