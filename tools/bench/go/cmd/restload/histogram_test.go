package main

import (
	"math"
	"testing"
)

func TestBucketsAreContiguousAndPrecise(t *testing.T) {
	previous := -1
	for us := uint64(0); us < 1<<22; us++ {
		b := bucketOf(us)
		if b != previous && b != previous+1 {
			t.Fatalf("bucket of %d us is %d, after %d", us, b, previous)
		}
		previous = b
		if mid := bucketMid(b); math.Abs(mid-float64(us)) > float64(us)/half+0.5 {
			t.Fatalf("%d us lands in bucket %d, whose middle is %g", us, b, mid)
		}
	}
}

func TestQuantilesOfUniformValues(t *testing.T) {
	var h histogram
	for us := uint64(1); us <= 10_000; us++ {
		h.record(us)
	}
	for _, c := range []struct{ q, want float64 }{{0.5, 5_000}, {0.99, 9_900}, {1, 10_000}} {
		if got := h.quantile(c.q); math.Abs(got-c.want) > c.want/half {
			t.Errorf("quantile(%g) = %g, want about %g", c.q, got, c.want)
		}
	}
	if h.mean() != 5_000.5 {
		t.Errorf("mean = %g", h.mean())
	}
}

func TestMergeAddsCounts(t *testing.T) {
	var a, b histogram
	a.record(10)
	b.record(100_000)
	a.merge(&b)
	if a.n != 2 || a.maxUs != 100_000 || a.quantile(1) != 100_000 {
		t.Errorf("merged: n=%d max=%d q1=%g", a.n, a.maxUs, a.quantile(1))
	}
}
