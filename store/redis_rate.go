package store

import (
	"context"
	"crypto/rand"
	_ "embed"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

//go:embed lua/take.lua
var luaTake string

var scriptTake = redis.NewScript(luaTake)

// rateKey is under the store's hash tag like every other key, though take.lua
// touches it alone: one slot keeps a Cluster deployment simple.
func (s *Redis) rateKey(key string) string { return s.base + "rate:" + key }

// Take counts in milliseconds, the precision of the timer scores.
func (s *Redis) Take(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (bool, time.Time, error) {
	if err := checkTake(ctx, limit, window); err != nil {
		return false, time.Time{}, fmt.Errorf("store: take %q: %w", key, err)
	}
	nowMS := nowScore(now)
	member := strconv.FormatInt(nowMS, 10) + "-" + rand.Text() // two sends in one millisecond are two members
	res, err := scriptTake.Run(ctx, s.rdb, []string{s.rateKey(key)},
		nowMS, window.Milliseconds(), limit, member).Int64Slice()
	if err == nil && len(res) == 0 {
		err = fmt.Errorf("take script answered nothing")
	}
	if err != nil {
		return false, time.Time{}, fmt.Errorf("store: take %q: %w", key, err)
	}
	if res[0] == 1 {
		return true, time.Time{}, nil
	}
	if len(res) < 2 {
		return false, time.Time{}, fmt.Errorf("store: take %q: take script answered %v", key, res)
	}
	return false, time.UnixMilli(res[1]), nil
}
