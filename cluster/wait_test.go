package cluster

import (
	"testing"
)

func received(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestWaitRegistrySignal(t *testing.T) {
	tests := []struct {
		name   string
		watch  []string
		signal []string
		want   bool
	}{
		{"same key", []string{"a"}, []string{"a"}, true},
		{"other key", []string{"a"}, []string{"b"}, false},
		{"one of several", []string{"a", "b", "c"}, []string{"x", "c"}, true},
		{"no keys signalled", []string{"a"}, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var w WaitRegistry
			ch, cancel := w.Watch(tc.watch)
			w.Signal(tc.signal)
			w.Signal(tc.signal) // a second signal must not block
			if got := received(ch); got != tc.want {
				t.Errorf("woken = %v; want %v", got, tc.want)
			}
			cancel()
			cancel() // idempotent
			if n := w.Len(); n != 0 {
				t.Errorf("Len() after cancel = %d; want 0", n)
			}
		})
	}
}

func TestWaitRegistryNoLeaks(t *testing.T) {
	var w WaitRegistry
	const n = 100
	cancels := make([]func(), 0, n)
	chans := make([]<-chan struct{}, 0, n)
	for i := range n {
		ch, cancel := w.Watch([]string{"shared", string(rune('a' + i%26))})
		chans = append(chans, ch)
		cancels = append(cancels, cancel)
	}
	if got := w.Len(); got != 27 {
		t.Fatalf("Len() = %d; want 27", got)
	}
	w.Signal([]string{"shared"})
	for i, ch := range chans {
		if !received(ch) {
			t.Errorf("watcher %d not woken by a shared key", i)
		}
	}
	for i, cancel := range cancels {
		if i%2 == 0 {
			cancel()
		}
	}
	w.SignalAll()
	for i, ch := range chans {
		if got, want := received(ch), i%2 == 1; got != want {
			t.Errorf("watcher %d woken by SignalAll = %v; want %v", i, got, want)
		}
	}
	for _, cancel := range cancels {
		cancel()
	}
	if got := w.Len(); got != 0 {
		t.Errorf("Len() after every cancel = %d; want 0", got)
	}
}

func TestWaitRegistryClose(t *testing.T) {
	var w WaitRegistry
	before, cancelBefore := w.Watch([]string{"k"})
	w.Close()
	if !received(before) {
		t.Errorf("watcher registered before Close not woken")
	}
	after, cancelAfter := w.Watch([]string{"k"})
	if !received(after) {
		t.Errorf("watcher registered after Close not signalled at once")
	}
	cancelBefore()
	cancelAfter()
	if got := w.Len(); got != 0 {
		t.Errorf("Len() = %d; want 0", got)
	}
}
