package cluster

import "sync"

// WaitRegistry parks blocked readers by key, in the style of etcd's pkg/wait:
// Watch registers interest in some keys, Signal wakes every watcher of a key
// that an applied write touched, SignalAll wakes everybody (leadership lost,
// shutdown). A wake-up is a hint to re-try, never data: the channel is
// buffered(1) and sends never block, so a slow watcher cannot stall Apply.
//
// The zero value is ready to use.
type WaitRegistry struct {
	mu     sync.Mutex
	byKey  map[string]map[*watcher]struct{}
	closed bool
}

type watcher struct {
	ch   chan struct{}
	keys []string
}

// Watch returns a channel that receives a value whenever one of keys is
// signalled, and cancel, which removes the watcher from every key; cancel
// must be called once the watcher is done (it is idempotent). After Close,
// Watch returns a channel that is already signalled.
func (w *WaitRegistry) Watch(keys []string) (<-chan struct{}, func()) {
	wt := &watcher{ch: make(chan struct{}, 1), keys: keys}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		wt.ch <- struct{}{}
		return wt.ch, func() {}
	}
	if w.byKey == nil {
		w.byKey = make(map[string]map[*watcher]struct{})
	}
	for _, k := range keys {
		set := w.byKey[k]
		if set == nil {
			set = make(map[*watcher]struct{})
			w.byKey[k] = set
		}
		set[wt] = struct{}{}
	}
	var once sync.Once
	return wt.ch, func() { once.Do(func() { w.remove(wt) }) }
}

func (w *WaitRegistry) remove(wt *watcher) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, k := range wt.keys {
		set := w.byKey[k]
		delete(set, wt)
		if len(set) == 0 {
			delete(w.byKey, k)
		}
	}
}

// Signal wakes every watcher of each key, without blocking.
func (w *WaitRegistry) Signal(keys []string) {
	if len(keys) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, k := range keys {
		for wt := range w.byKey[k] {
			notify(wt.ch)
		}
	}
}

// SignalAll wakes every watcher, so each re-tries its command and finds out
// that this node can no longer serve it.
func (w *WaitRegistry) SignalAll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, set := range w.byKey {
		for wt := range set {
			notify(wt.ch)
		}
	}
}

// Close wakes every watcher and makes later Watch calls return at once.
func (w *WaitRegistry) Close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.SignalAll()
}

// Len reports how many keys have at least one watcher (for tests and
// metrics: it must drop to zero once every watcher is cancelled).
func (w *WaitRegistry) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.byKey)
}

func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
