package router

import "sync/atomic"

// bodyBudget counts the bytes of webhook bodies being read and handled, so a
// flood of large posts takes a bounded amount of memory however many arrive
// at once. The limit is passed on each take, not fixed, so a reload of
// global.max_inflight_body_bytes applies to the next request.
type bodyBudget struct{ used atomic.Int64 }

// take reserves n bytes if that keeps the total within limit.
func (b *bodyBudget) take(n, limit int64) bool {
	for {
		used := b.used.Load()
		if used+n > limit {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// give returns what take reserved.
func (b *bodyBudget) give(n int64) { b.used.Add(-n) }

// bodyWeight is what a body reserves: its declared length, or the most it
// may be when it declares none (chunked).
func bodyWeight(contentLength, maxBody int64) int64 {
	if contentLength < 0 || contentLength > maxBody {
		return maxBody
	}
	return max(contentLength, 1)
}
