package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// precision is the relative error the histogram promises: 1/64.
const precision = 1.0 / subBuckets

// exactPercentile is the nearest-rank percentile of sorted data.
func exactPercentile(sorted []int64, q float64) int64 {
	rank := int(math.Ceil(q / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// checkPercentiles compares h with the exact percentiles of data: never
// below, above by at most the bucket precision.
func checkPercentiles(t *testing.T, name string, h *Histogram, data []int64) {
	t.Helper()
	sorted := slices.Clone(data)
	slices.Sort(sorted)
	for _, q := range []float64{0, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100} {
		want := exactPercentile(sorted, q)
		got := int64(h.Percentile(q))
		if got < want || float64(got-want) > precision*float64(want) {
			t.Errorf("%s: Percentile(%g) = %d; want %d (within +%.2f%%)", name, q, got, want, 100*precision)
		}
	}
	if h.Count() != int64(len(data)) {
		t.Errorf("%s: Count() = %d; want %d", name, h.Count(), len(data))
	}
	if int64(h.Max()) != sorted[len(sorted)-1] || int64(h.Min()) != sorted[0] {
		t.Errorf("%s: Min, Max = %d, %d; want %d, %d", name, h.Min(), h.Max(), sorted[0], sorted[len(sorted)-1])
	}
}

// latencyData returns n values drawn from a distribution shaped like
// request latencies: log-normal around median, in nanoseconds.
func latencyData(r *rand.Rand, n int, median time.Duration) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(float64(median) * math.Exp(r.NormFloat64()))
	}
	return out
}

func TestHistogramPercentiles(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name string
		data []int64
	}{
		{"one value", []int64{int64(1500 * time.Microsecond)}},
		{"1..1000 µs", func() []int64 {
			var d []int64
			for i := 1; i <= 1000; i++ {
				d = append(d, int64(i)*int64(time.Microsecond))
			}
			return d
		}()},
		{"small exact values", []int64{0, 1, 2, 3, 5, 8, 13, 21, 34, 55}},
		{"log-normal around 1 ms", latencyData(r, 100_000, time.Millisecond)},
		{"log-normal around 500 ms", latencyData(r, 10_000, 500*time.Millisecond)},
		{"bimodal", append(latencyData(r, 9_000, 200*time.Microsecond), latencyData(r, 1_000, 50*time.Millisecond)...)},
	}
	for _, c := range cases {
		h := newHistogram()
		for _, v := range c.data {
			h.Record(time.Duration(v))
		}
		checkPercentiles(t, c.name, h, c.data)
	}
}

func TestHistogramRecordNCountsEverySample(t *testing.T) {
	h := newHistogram()
	h.RecordN(2*time.Millisecond, 16) // a pipeline of 16
	h.RecordN(10*time.Millisecond, 4)
	h.RecordN(time.Second, 0) // nothing
	data := make([]int64, 0, 20)
	for range 16 {
		data = append(data, int64(2*time.Millisecond))
	}
	for range 4 {
		data = append(data, int64(10*time.Millisecond))
	}
	checkPercentiles(t, "RecordN", h, data)
}

func TestHistogramMerge(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var all []int64
	merged := newHistogram()
	for part := range 8 {
		data := latencyData(r, 5_000, time.Duration(part+1)*time.Millisecond)
		h := newHistogram()
		for _, v := range data {
			h.Record(time.Duration(v))
		}
		merged.Merge(h)
		all = append(all, data...)
	}
	merged.Merge(newHistogram()) // merging an empty one changes nothing
	checkPercentiles(t, "merged", merged, all)

	direct := newHistogram()
	for _, v := range all {
		direct.Record(time.Duration(v))
	}
	if !slices.Equal(merged.counts, direct.counts) {
		t.Errorf("merged counters differ from recording every value into one histogram")
	}
	merged.Reset()
	if merged.Count() != 0 || merged.Percentile(50) != 0 || merged.Max() != 0 {
		t.Errorf("after Reset: Count %d, p50 %s, Max %s; want all 0", merged.Count(), merged.Percentile(50), merged.Max())
	}
}

func TestHistogramBucketsCoverValues(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 100_000 {
		v := r.Int64N(maxTrackable + 1)
		if r.IntN(2) == 0 {
			v = r.Int64N(100_000) // dense at small values too
		}
		i := bucketIndex(v)
		lo, hi := bucketRange(i)
		if v < lo || v > hi {
			t.Fatalf("value %d in bucket %d = [%d, %d]", v, i, lo, hi)
		}
		if float64(hi-lo) > precision*float64(lo) {
			t.Fatalf("bucket %d = [%d, %d] wider than 1/%d of its start", i, lo, hi, subBuckets)
		}
	}
	if got := bucketIndex(maxTrackable); got != overflowBucket-1 {
		t.Errorf("bucketIndex(maxTrackable) = %d; want the last bucket before the overflow, %d", got, overflowBucket-1)
	}
}

func TestHistogramBeyondRangeKeepsMax(t *testing.T) {
	h := newHistogram()
	h.Record(time.Millisecond)
	h.Record(time.Millisecond)
	h.Record(5 * time.Minute) // beyond maxTrackable
	if got := h.Max(); got != 5*time.Minute {
		t.Errorf("Max() = %s; want 5m0s", got)
	}
	if got := h.Percentile(100); got != 5*time.Minute {
		t.Errorf("Percentile(100) = %s; want the exact max 5m0s", got)
	}
	if got := h.Percentile(50); got < time.Millisecond || got > time.Millisecond+time.Millisecond/subBuckets {
		t.Errorf("Percentile(50) = %s; want 1ms within 1/%d", got, subBuckets)
	}
}
