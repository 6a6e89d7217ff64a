package store

import (
	"context"
	"fmt"
	"time"
)

// seenKey is one replay record: a plain key Redis expires by itself (SET NX
// PX), on Redis's clock, so replicas' clocks do not matter.
func (s *Redis) seenKey(key string) string { return s.base + "seen:" + IndexKey(key) }

func (s *Redis) Seen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := checkSeen(ctx, key, ttl); err != nil {
		return false, fmt.Errorf("store: seen %q: %w", errKey(key), err)
	}
	first, err := s.rdb.SetNX(ctx, s.seenKey(key), "1", max(ttl, time.Millisecond)).Result()
	if err != nil {
		return false, fmt.Errorf("store: seen %q: %w", errKey(key), err)
	}
	return first, nil
}

func (s *Redis) Unsee(ctx context.Context, key string) error {
	if err := s.rdb.Del(ctx, s.seenKey(key)).Err(); err != nil {
		return fmt.Errorf("store: unsee %q: %w", errKey(key), err)
	}
	return nil
}

func (s *Redis) WasSeen(ctx context.Context, key string) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.seenKey(key)).Result()
	if err != nil {
		return false, fmt.Errorf("store: was seen %q: %w", errKey(key), err)
	}
	return n == 1, nil
}
