package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// minSpan is the shortest final point kept apart from the one before.
const minSpan = progressEvery / 4

// recorder holds what one client goroutine measured since the collector last
// took it. Each goroutine has its own, so the lock is almost never contended;
// the collector takes every recorder once a second.
type recorder struct {
	mu       sync.Mutex
	hist     *Histogram
	ops      int64
	errs     int64
	firstErr error
}

// record adds a latency counted samples times, and ops completed operations
// (for a consumer round, the entries it acknowledged).
func (r *recorder) record(lat time.Duration, samples, ops int64) {
	r.mu.Lock()
	r.hist.RecordN(lat, samples)
	r.ops += ops
	r.mu.Unlock()
}

// fail counts n failed operations; the first error is kept for the report.
func (r *recorder) fail(n int64, err error) {
	r.mu.Lock()
	r.errs += n
	if r.firstErr == nil {
		r.firstErr = err
	}
	r.mu.Unlock()
}

// takeInto moves r's measurements into iv and empties r.
func (r *recorder) takeInto(iv *interval) {
	r.mu.Lock()
	defer r.mu.Unlock()
	iv.hist.Merge(r.hist)
	iv.ops += r.ops
	iv.errs += r.errs
	if iv.firstErr == nil {
		iv.firstErr = r.firstErr
	}
	r.hist.Reset()
	r.ops, r.errs, r.firstErr = 0, 0, nil
}

// interval is the merged measurements of a series over some span of time.
type interval struct {
	hist     *Histogram
	ops      int64
	errs     int64
	firstErr error
}

func newInterval() *interval { return &interval{hist: newHistogram()} }

func (iv *interval) add(o *interval) {
	iv.hist.Merge(o.hist)
	iv.ops += o.ops
	iv.errs += o.errs
	if iv.firstErr == nil {
		iv.firstErr = o.firstErr
	}
}

// Point is one second (or the last, shorter span) of a series' timeline.
type Point struct {
	Second    float64 `json:"second"` // end of the span, seconds since measuring began
	Ops       int64   `json:"ops"`
	OpsPerSec float64 `json:"ops_per_sec"`
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
	P999ms    float64 `json:"p999_ms"`
	Errors    int64   `json:"errors"`
}

// series is one measured side of a run: "xadd", "group", "e2e/produce", ...
type series struct {
	name     string
	mu       sync.Mutex
	recs     []*recorder
	total    *interval
	timeline []Point
	last     *interval     // the measurements of the last point
	lastSpan time.Duration // and the time it spans
}

// newRecorder gives a client goroutine its recorder.
func (s *series) newRecorder() *recorder {
	r := &recorder{hist: newHistogram()}
	s.mu.Lock()
	s.recs = append(s.recs, r)
	s.mu.Unlock()
	return r
}

// collect takes every recorder's measurements into one interval.
func (s *series) collect() *interval {
	iv := newInterval()
	s.mu.Lock()
	recs := s.recs
	s.mu.Unlock()
	for _, r := range recs {
		r.takeInto(iv)
	}
	return iv
}

// meter turns the series of a run into per-second points, progress lines
// and totals.
type meter struct {
	label  string
	series []*series
	start  time.Time // when measuring began (after the warm-up)
	last   time.Time // end of the last point
}

func newMeter(label string, names ...string) *meter {
	m := &meter{label: label}
	for _, n := range names {
		m.series = append(m.series, &series{name: n, total: newInterval()})
	}
	return m
}

// get returns the series called name.
func (m *meter) get(name string) *series {
	for _, s := range m.series {
		if s.name == name {
			return s
		}
	}
	panic("meter: no series " + name) // a workload asked for a series it did not declare
}

// begin discards everything recorded so far (the warm-up) and starts the
// clock.
func (m *meter) begin(now time.Time) {
	for _, s := range m.series {
		s.collect()
	}
	m.start, m.last = now, now
}

// tick closes the span since the last tick as one point of every series.
// A final span shorter than minSpan (the run ended just after a tick) is
// folded into the previous point: a rate over a few milliseconds is noise.
// It reports whether it added a point.
func (m *meter) tick(now time.Time, final bool) bool {
	span := now.Sub(m.last)
	if span <= 0 {
		return false
	}
	fold := final && span < minSpan && now.Sub(m.start) > span
	for _, s := range m.series {
		iv := s.collect()
		s.total.add(iv)
		if fold {
			s.last.add(iv)
			s.timeline[len(s.timeline)-1] = s.point(now.Sub(m.start), s.lastSpan+span)
			continue
		}
		s.last, s.lastSpan = iv, span
		s.timeline = append(s.timeline, s.point(now.Sub(m.start), span))
	}
	m.last = now
	return !fold
}

// point summarises s.last, which spans span and ends at end.
func (s *series) point(end, span time.Duration) Point {
	h := s.last.hist
	return Point{
		Second:    end.Seconds(),
		Ops:       s.last.ops,
		OpsPerSec: float64(s.last.ops) / span.Seconds(),
		P50ms:     ms(h.Percentile(50)),
		P99ms:     ms(h.Percentile(99)),
		P999ms:    ms(h.Percentile(99.9)),
		Errors:    s.last.errs,
	}
}

// progress writes one line: the last second's rate and the percentiles so
// far of every series.
func (m *meter) progress(w io.Writer) {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %5.1fs", m.label, m.last.Sub(m.start).Seconds())
	for _, s := range m.series {
		p := Point{}
		if len(s.timeline) > 0 {
			p = s.timeline[len(s.timeline)-1]
		}
		fmt.Fprintf(&b, " | %s %s ops/s p50 %sms p99 %sms err %d", s.name, sig3(p.OpsPerSec),
			sig3(ms(s.total.hist.Percentile(50))), sig3(ms(s.total.hist.Percentile(99))), s.total.errs)
	}
	fmt.Fprintln(w, b.String())
}

// results summarises every series once the run is over.
func (m *meter) results(target Target) []Result {
	secs := m.last.Sub(m.start).Seconds()
	out := make([]Result, 0, len(m.series))
	for _, s := range m.series {
		out = append(out, newResult(s, target, secs))
	}
	return out
}

// ms converts a latency to milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
