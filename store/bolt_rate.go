package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketRates holds one entry per rate key: the times of the sends admitted
// in the last window, unix nanos big-endian, oldest first. It is created on
// first use, so files written before rate limits existed open unchanged.
var bucketRates = []byte("rates")

func (s *Bolt) Take(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (bool, time.Time, error) {
	if err := checkTake(ctx, limit, window); err != nil {
		return false, time.Time{}, fmt.Errorf("store: take %q: %w", key, err)
	}
	var (
		ok   bool
		next time.Time
	)
	err := s.w.update(func(tx *bolt.Tx) error {
		ok, next = false, time.Time{} // the group commit may run this again
		b, err := tx.CreateBucketIfNotExists(bucketRates)
		if err != nil {
			return err
		}
		at := decodeTimes(b.Get([]byte(key)))
		at, ok, next = admit(at, limit, window, now.UnixNano())
		return b.Put([]byte(key), encodeTimes(at))
	})
	if err != nil {
		return false, time.Time{}, fmt.Errorf("store: take %q: %w", key, err)
	}
	return ok, next, nil
}

// admit is the sliding window: sends in (now-window, now] count; now is
// added when fewer than limit do. Refused, next is when enough of them have
// left the window for one more. Sends stamped after now (a replica whose
// clock runs ahead) count too: they happened.
func admit(at []int64, limit int, window time.Duration, now int64) ([]int64, bool, time.Time) {
	at = slices.DeleteFunc(at, func(t int64) bool { return t <= now-int64(window) })
	if len(at) < limit {
		i, _ := slices.BinarySearch(at, now)
		return slices.Insert(at, i, now), true, time.Time{}
	}
	return at, false, time.Unix(0, at[len(at)-limit]+int64(window))
}

func checkTake(ctx context.Context, limit int, window time.Duration) error {
	if limit <= 0 || window <= 0 {
		return fmt.Errorf("limit %d per %s: both must be positive", limit, window)
	}
	return ctx.Err()
}

func decodeTimes(v []byte) []int64 {
	out := make([]int64, 0, len(v)/8+1)
	for ; len(v) >= 8; v = v[8:] {
		out = append(out, int64(binary.BigEndian.Uint64(v)))
	}
	return out
}

func encodeTimes(at []int64) []byte {
	out := make([]byte, 0, 8*len(at))
	for _, t := range at {
		out = binary.BigEndian.AppendUint64(out, uint64(t))
	}
	return out
}
