package faultstore

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// SyncMode says when a Store's writes become durable. The zero value is
// SyncAlways.
type SyncMode time.Duration

const (
	// SyncAlways makes every write durable before the call returns
	// (fsync before acknowledging), as raft-boltdb and raft-wal do.
	SyncAlways SyncMode = 0
	// SyncNever leaves writes volatile until Disk.Sync: a store that
	// acknowledges before it fsyncs (bolt with NoSync, say).
	SyncNever SyncMode = -1
)

// SyncEvery makes writes durable in the background every d (d > 0): a
// store that acknowledges first and fsyncs on a timer.
func SyncEvery(d time.Duration) SyncMode {
	if d <= 0 {
		panic(fmt.Sprintf("faultstore: SyncEvery(%v): the interval must be positive", d))
	}
	return SyncMode(d)
}

func (m SyncMode) String() string {
	switch {
	case m == SyncAlways:
		return "SyncAlways"
	case m == SyncNever:
		return "SyncNever"
	case m > 0:
		return fmt.Sprintf("SyncEvery(%v)", time.Duration(m))
	}
	return fmt.Sprintf("SyncMode(%d)", int64(m))
}

// Disk is an in-memory disk that outlives the Stores opened on it: a test
// shares one between its nodes, and a node that "restarts" opens its paths
// again. A file's contents are its durable state plus a journal of the
// writes not yet made durable (the page cache); reads see both.
//
// Writes reach the durable state in the order they were made, so what
// survives a power loss is always a prefix of the writes: entries are whole
// or absent, never corrupted. (raft-boltdb commits each batch atomically;
// raft-wal detects a torn tail by checksum and drops it. Neither hands raft
// a corrupt entry, so neither does Disk.)
//
// The zero value is an empty disk, ready to use. A Disk is safe for
// concurrent use.
type Disk struct {
	mu    sync.Mutex
	files map[string]*file // by cleaned path
}

type file struct {
	cache   *state // what reads see: durable plus journal
	durable *state
	journal []op   // writes applied to cache but not to durable, oldest first
	open    *Store // nil when no Store is open on the file
	lazy    bool   // Lazy: writes stay volatile until the file is opened again
}

// sync makes the journal durable.
func (f *file) sync() {
	for _, o := range f.journal {
		f.durable.apply(o)
	}
	f.journal = nil
}

// powerLoss drops the journal and turns off the Store open on f, if any.
func (f *file) powerLoss() *Store {
	if len(f.journal) > 0 {
		f.cache = f.durable.clone()
		f.journal = nil
	}
	s := f.open
	if s != nil {
		s.stopLocked(ErrPowerLost)
	}
	return s
}

// Open returns a Store on path, creating the file if the disk has none.
// It sees everything written to path before, durable or not, unless the
// path lost power since. Only one Store may be open on a path at a time.
func (d *Disk) Open(path string, mode SyncMode) (*Store, error) {
	if mode < SyncNever {
		return nil, fmt.Errorf("faultstore: open %s: invalid %v", path, mode)
	}
	name := filepath.Clean(path)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.files == nil {
		d.files = make(map[string]*file)
	}
	f := d.files[name]
	if f == nil {
		f = &file{cache: newState(), durable: newState()}
		d.files[name] = f
	}
	if f.open != nil {
		return nil, fmt.Errorf("faultstore %s: %w", name, ErrInUse)
	}
	f.lazy = false
	s := &Store{disk: d, f: f, name: name, mode: mode, stop: make(chan struct{}), done: make(chan struct{})}
	f.open = s
	if mode > 0 {
		go s.flushEvery(time.Duration(mode))
	} else {
		close(s.done)
	}
	return s, nil
}

// Sync makes the volatile writes of the given files durable, as fsync
// does; a path that names a directory syncs every file under it. Without
// paths it syncs the whole disk.
func (d *Disk) Sync(paths ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, name := range d.matching(paths) {
		d.files[name].sync()
	}
}

// PowerLoss cuts the power to the given files: every write not yet durable
// is lost, and the Stores open on them fail every further call with
// ErrPowerLost until the path is opened again. A path that names a
// directory (a node's data dir) cuts every file under it; without paths the
// whole disk loses power. It returns the number of files that lost power.
func (d *Disk) PowerLoss(paths ...string) int { return d.turnOff(paths, nil, false) }

// turnOff cuts the power of the files at or under paths (tearing each
// first when tear is set), removes them when remove is set, and waits for
// the Stores that were open on them to stop. It returns how many files it
// turned off.
func (d *Disk) turnOff(paths []string, tear func(*file), remove bool) int {
	d.mu.Lock()
	var off []*Store
	names := d.matching(paths)
	for _, name := range names {
		f := d.files[name]
		if tear != nil {
			tear(f)
		}
		if s := f.powerLoss(); s != nil {
			off = append(off, s)
		}
		if remove {
			delete(d.files, name)
		}
	}
	d.mu.Unlock()
	for _, s := range off {
		<-s.done
	}
	return len(names)
}

// TornPowerLoss is PowerLoss in the middle of writing back the last
// volatile StoreLogs batch of each file: the writes before that batch are
// durable, a prefix of its entries drawn from rng (none, some or all) is
// durable, and the writes after it are lost. A file without a volatile
// batch loses its volatile writes as with PowerLoss; with SyncAlways there
// never is one, since an acknowledged batch cannot tear. rng nil uses
// math/rand/v2's global source. Files are visited in path order, so a
// seeded rng gives the same tear every run.
func (d *Disk) TornPowerLoss(rng *rand.Rand, paths ...string) int {
	intN := rand.IntN
	if rng != nil {
		intN = rng.IntN
	}
	return d.turnOff(paths, func(f *file) { f.tear(intN) }, false)
}

// tear makes durable the journal up to its last StoreLogs batch and a
// prefix of that batch of intN(len+1) entries.
func (f *file) tear(intN func(int) int) {
	last := len(f.journal) - 1
	for last >= 0 && f.journal[last].kind != opStoreLogs {
		last--
	}
	if last < 0 {
		return
	}
	for _, o := range f.journal[:last] {
		f.durable.apply(o)
	}
	batch := f.journal[last].logs
	f.durable.apply(op{kind: opStoreLogs, logs: batch[:intN(len(batch)+1)]})
	f.journal = f.journal[last:] // dropped by powerLoss
}

// matching returns the names of the files at or under paths, sorted; all
// of them without paths.
func (d *Disk) matching(paths []string) []string {
	var names []string
	for name := range d.files {
		if len(paths) == 0 || slices.ContainsFunc(paths, func(p string) bool { return under(name, p) }) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// under reports whether name is p or a file below directory p.
func under(name, p string) bool {
	p = filepath.Clean(p)
	if name == p {
		return true
	}
	if !strings.HasSuffix(p, string(filepath.Separator)) {
		p += string(filepath.Separator)
	}
	return strings.HasPrefix(name, p)
}

// Remove deletes the given files (a directory path removes every file
// under it), as a wiped disk does; a Store still open on one of them is
// turned off first. It returns the number of files removed.
func (d *Disk) Remove(paths ...string) int { return d.turnOff(paths, nil, true) }

// Lazy makes the open stores on the given files (a directory: every file
// under it; none: every file) acknowledge writes without syncing them,
// whatever their mode, until the file is opened again: a store that
// acknowledges before it fsyncs, from now on. A test forms a cluster on
// synced stores and then turns them lazy, so that a power loss drops
// acknowledged writes and nothing the cluster needs to come back.
func (d *Disk) Lazy(paths ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, name := range d.matching(paths) {
		if f := d.files[name]; f.open != nil {
			f.lazy = true
		}
	}
}
