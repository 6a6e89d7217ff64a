package store

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

var (
	//go:embed lua/dead_letter.lua
	luaDeadLetter string
	//go:embed lua/retry_dead.lua
	luaRetryDead string
	//go:embed lua/discard_dead.lua
	luaDiscardDead string

	scriptDeadLetter  = redis.NewScript(luaTimerLib + luaDeadLetter)
	scriptRetryDead   = redis.NewScript(luaTimerLib + luaRetryDead)
	scriptDiscardDead = redis.NewScript(luaDiscardDead)
)

// deadKey is the hash of dead timers (id → DeadTimer JSON); deadIndexKey
// orders them by when they died (score unix ms).
func (s *Redis) deadKey() string      { return s.base + "dead_timers" }
func (s *Redis) deadIndexKey() string { return s.base + "dead_timers_by_time" }

// deadKeys are the KEYS of dead_letter.lua and retry_dead.lua.
func (s *Redis) deadKeys() []string {
	return []string{s.timersKey(), s.dueKey(), s.claimsKey(), s.deadKey(), s.deadIndexKey()}
}

func (s *Redis) DeadLetter(ctx context.Context, c Claim, attempts int, reason string, at time.Time) error {
	d := DeadTimer{Timer: c.Timer, Error: reason, At: at}
	d.Attempt = attempts
	data, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("store: dead-letter timer %q: %w", c.ID, err)
	}
	ok, err := scriptDeadLetter.Run(ctx, s.rdb, s.deadKeys(), s.base, c.ID, c.Token, data, at.UnixMilli()).Bool()
	if err == nil && !ok {
		err = ErrStaleClaim
	}
	if err != nil {
		return fmt.Errorf("store: dead-letter timer %q: %w", c.ID, err)
	}
	return nil
}

func (s *Redis) DeadTimers(ctx context.Context, limit int) ([]DeadTimer, error) {
	ids, err := s.rdb.ZRange(ctx, s.deadIndexKey(), 0, int64(limit)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("store: list dead timers: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	vals, err := s.rdb.HMGet(ctx, s.deadKey(), ids...).Result()
	if err != nil {
		return nil, fmt.Errorf("store: list dead timers: %w", err)
	}
	out := make([]DeadTimer, 0, len(vals))
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue // retried or discarded between the two reads
		}
		var d DeadTimer
		if err := json.Unmarshal([]byte(str), &d); err != nil {
			return nil, fmt.Errorf("store: list dead timers: decode %q: %w", ids[i], err)
		}
		out = append(out, d)
	}
	return out, nil
}

func (s *Redis) DeadCount(ctx context.Context) (int, error) {
	n, err := s.rdb.HLen(ctx, s.deadKey()).Result()
	if err != nil {
		return 0, fmt.Errorf("store: count dead timers: %w", err)
	}
	return int(n), nil
}

func (s *Redis) RetryDead(ctx context.Context, id string, due time.Time) (DeadTimer, error) {
	// Read, then put back only if it is still dead as read: two operators
	// retrying at once put it back once.
	for range maxTxAttempts {
		raw, err := s.rdb.HGet(ctx, s.deadKey(), id).Result()
		if errors.Is(err, redis.Nil) {
			err = ErrNotFound
		}
		if err != nil {
			return DeadTimer{}, fmt.Errorf("store: retry dead timer %q: %w", id, err)
		}
		var d DeadTimer
		if err := json.Unmarshal([]byte(raw), &d); err != nil {
			return DeadTimer{}, fmt.Errorf("store: retry dead timer %q: decode: %w", id, err)
		}
		t := d.Timer
		t.Due, t.Attempt = due, 0
		data, err := json.Marshal(t)
		if err != nil {
			return DeadTimer{}, fmt.Errorf("store: retry dead timer %q: %w", id, err)
		}
		code, err := scriptRetryDead.Run(ctx, s.rdb, s.deadKeys(), s.base, id, raw, data, dueScore(due), t.IncidentID).Int()
		switch {
		case err != nil:
			return DeadTimer{}, fmt.Errorf("store: retry dead timer %q: %w", id, err)
		case code == 1:
			return d, nil
		case code == -1:
			return DeadTimer{}, fmt.Errorf("store: retry dead timer %q: %w", id, ErrTimerExists)
		}
	}
	return DeadTimer{}, fmt.Errorf("store: retry dead timer %q: gave up after %d conflicting attempts", id, maxTxAttempts)
}

func (s *Redis) DiscardDead(ctx context.Context, id string) (DeadTimer, error) {
	raw, err := scriptDiscardDead.Run(ctx, s.rdb, []string{s.deadKey(), s.deadIndexKey()}, id).Text()
	if errors.Is(err, redis.Nil) {
		err = ErrNotFound
	}
	if err != nil {
		return DeadTimer{}, fmt.Errorf("store: discard dead timer %q: %w", id, err)
	}
	var d DeadTimer
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		return DeadTimer{}, fmt.Errorf("store: discard dead timer %q: decode: %w", id, err)
	}
	return d, nil
}
