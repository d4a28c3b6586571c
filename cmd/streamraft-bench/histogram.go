package main

import (
	"math"
	"math/bits"
	"time"
)

// Histogram is a log-linear latency histogram in the style of HdrHistogram:
// every power of two of nanoseconds is split into subBuckets equal-width
// buckets, so a recorded value is known to within 1/subBuckets of itself
// (1.6%) from 1 ns up to maxTrackable, in about 2,000 counters. Values are
// recorded exactly below subBuckets ns. Histograms merge by adding counters,
// which is how per-client histograms become a per-second or total one.
//
// The zero value is not usable; call newHistogram. A Histogram is not safe
// for concurrent use: each client records into its own.
type Histogram struct {
	counts []int64
	total  int64
	min    int64 // nanoseconds; valid when total > 0
	max    int64
	sum    float64
}

const (
	// subBucketBits sets the precision: 2^6 = 64 buckets per power of two.
	subBucketBits = 6
	subBuckets    = 1 << subBucketBits
	// maxTrackable is the largest latency kept apart; larger values share
	// one overflow bucket, whose percentile is the exact max. A minute is
	// far beyond any sane request latency.
	maxTrackable = int64(60 * time.Second)
)

// overflowBucket counts the values above maxTrackable; it is the last.
var overflowBucket = bucketIndex(maxTrackable) + 1

// histogramLen is the number of counters.
var histogramLen = overflowBucket + 1

func newHistogram() *Histogram {
	return &Histogram{counts: make([]int64, histogramLen)}
}

// bucketIndex maps a value in ns to its bucket. Values below subBuckets get
// a bucket each; above, a value with its highest bit at position e falls in
// the linear sub-bucket given by its next subBucketBits bits.
func bucketIndex(v int64) int {
	if v < subBuckets {
		return int(max(v, 0))
	}
	e := bits.Len64(uint64(v)) - 1 // v in [2^e, 2^(e+1))
	shift := e - subBucketBits
	sub := int(v>>shift) & (subBuckets - 1)
	return (shift+1)*subBuckets + sub
}

// bucketRange returns the smallest and largest value of bucket i.
func bucketRange(i int) (lo, hi int64) {
	if i < subBuckets {
		return int64(i), int64(i)
	}
	shift := i/subBuckets - 1
	sub := int64(i % subBuckets)
	lo = (subBuckets + sub) << shift
	return lo, lo + (1 << shift) - 1
}

// Record adds one latency.
func (h *Histogram) Record(d time.Duration) { h.RecordN(d, 1) }

// RecordN adds n samples of the same latency (a pipeline's round trip,
// counted once per command in it).
func (h *Histogram) RecordN(d time.Duration, n int64) {
	if n <= 0 {
		return
	}
	v := max(int64(d), 0)
	if h.total == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	i := overflowBucket
	if v <= maxTrackable {
		i = bucketIndex(v)
	}
	h.counts[i] += n
	h.total += n
	h.sum += float64(v) * float64(n)
}

// Count is the number of samples recorded.
func (h *Histogram) Count() int64 { return h.total }

// Max is the largest sample, exactly.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Min is the smallest sample, exactly.
func (h *Histogram) Min() time.Duration { return time.Duration(h.min) }

// Mean is the average sample.
func (h *Histogram) Mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.total))
}

// Merge adds o's samples to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	if h.total == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.sum += o.sum
}

// Reset empties h, keeping its counters' memory.
func (h *Histogram) Reset() {
	clear(h.counts)
	h.total, h.min, h.max, h.sum = 0, 0, 0, 0
}

// Percentile returns the value at or below which q percent (0..100) of the
// samples lie. Like HdrHistogram it reports the highest value of the bucket
// holding that sample, clamped to the exact min and max: never below the
// exact percentile, and above it by at most 1/64 of it.
func (h *Histogram) Percentile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := int64(math.Ceil(q / 100 * float64(h.total)))
	rank = min(max(rank, 1), h.total)
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank && i == overflowBucket {
			return time.Duration(h.max)
		}
		if seen >= rank {
			_, hi := bucketRange(i)
			return time.Duration(min(max(hi, h.min), h.max))
		}
	}
	return time.Duration(h.max)
}
