package main

import "math/bits"

// subBits sets the histogram's precision: values of at least 2^subBits
// microseconds share a bucket with values less than 1/2^(subBits-1) (0.8 %)
// apart; smaller values have a bucket each.
const (
	subBits = 8
	half    = 1 << (subBits - 1)
)

// histogram counts latencies in microseconds in log-linear buckets, like
// HdrHistogram: constant memory whatever the count, a bounded relative error.
type histogram struct {
	counts []uint64
	n      uint64
	sumUs  uint64
	maxUs  uint64
}

func bucketOf(us uint64) int {
	if us < 1<<subBits {
		return int(us)
	}
	shift := bits.Len64(us) - subBits // >= 1
	return 1<<subBits + (shift-1)*half + int(us>>shift) - half
}

// bucketMid is the middle of a bucket's range of values.
func bucketMid(i int) float64 {
	if i < 1<<subBits {
		return float64(i)
	}
	j := i - 1<<subBits
	shift := j/half + 1
	low := uint64(j%half+half) << shift
	return float64(low) + float64(uint64(1)<<shift-1)/2
}

func (h *histogram) record(us uint64) {
	b := bucketOf(us)
	if b >= len(h.counts) {
		h.counts = append(h.counts, make([]uint64, b+1-len(h.counts))...)
	}
	h.counts[b]++
	h.n++
	h.sumUs += us
	h.maxUs = max(h.maxUs, us)
}

func (h *histogram) merge(o *histogram) {
	if len(o.counts) > len(h.counts) {
		h.counts = append(h.counts, make([]uint64, len(o.counts)-len(h.counts))...)
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sumUs += o.sumUs
	h.maxUs = max(h.maxUs, o.maxUs)
}

// quantile is the value below which a fraction q of the values lie (the
// middle of its bucket, never above the maximum); 0 when empty.
func (h *histogram) quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	rank := max(uint64(q*float64(h.n)+0.999999), 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(bucketMid(i), float64(h.maxUs))
		}
	}
	return float64(h.maxUs)
}

func (h *histogram) mean() float64 {
	if h.n == 0 {
		return 0
	}
	return float64(h.sumUs) / float64(h.n)
}
