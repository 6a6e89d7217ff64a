package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
)

// overridesKey and mutesKey are one hash each: id → JSON. They are few,
// and every decision reads them whole, so one HGETALL serves it.
func (s *Redis) overridesKey() string { return s.base + "overrides" }
func (s *Redis) mutesKey() string     { return s.base + "mutes" }

func (s *Redis) AddOverride(ctx context.Context, o Override) error {
	if err := checkOverride(o); err != nil {
		return err
	}
	if err := s.hashAdd(ctx, s.overridesKey(), o.ID, o); err != nil {
		return fmt.Errorf("store: add override %s: %w", o.ID, err)
	}
	return nil
}

func (s *Redis) ListOverrides(ctx context.Context) ([]Override, error) {
	out, err := redisList[Override](ctx, s, s.overridesKey())
	if err != nil {
		return nil, fmt.Errorf("store: list overrides: %w", err)
	}
	slices.SortFunc(out, func(a, b Override) int { return compareCreated(a.CreatedAt, b.CreatedAt, a.ID, b.ID) })
	return out, nil
}

// RemoveOverride reads the override, then deletes it: of two replicas
// removing it at once, the one whose HDEL deleted nothing says not found.
func (s *Redis) RemoveOverride(ctx context.Context, id string) (Override, error) {
	raw, err := s.rdb.HGet(ctx, s.overridesKey(), id).Result()
	if errors.Is(err, redis.Nil) {
		err = ErrNotFound
	}
	if err != nil {
		return Override{}, fmt.Errorf("store: remove override %s: %w", id, err)
	}
	var o Override
	if err := json.Unmarshal([]byte(raw), &o); err != nil {
		return Override{}, fmt.Errorf("store: remove override %s: %w", id, err)
	}
	n, err := s.rdb.HDel(ctx, s.overridesKey(), id).Result()
	switch {
	case err != nil:
		return Override{}, fmt.Errorf("store: remove override %s: %w", id, err)
	case n == 0:
		return Override{}, fmt.Errorf("store: remove override %s: %w", id, ErrNotFound)
	}
	return o, nil
}

// ListStored reads both hashes in one pipeline: every page and every
// alert's routing asks, so it costs one round trip, not two.
func (s *Redis) ListStored(ctx context.Context) ([]Override, []Mute, error) {
	var oc, mc *redis.MapStringStringCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		oc, mc = p.HGetAll(ctx, s.overridesKey()), p.HGetAll(ctx, s.mutesKey())
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: list overrides and mutes: %w", err)
	}
	os, err := decodeAll[Override](oc.Val())
	if err != nil {
		return nil, nil, fmt.Errorf("store: list overrides: %w", err)
	}
	ms, err := decodeAll[Mute](mc.Val())
	if err != nil {
		return nil, nil, fmt.Errorf("store: list mutes: %w", err)
	}
	slices.SortFunc(os, func(a, b Override) int { return compareCreated(a.CreatedAt, b.CreatedAt, a.ID, b.ID) })
	slices.SortFunc(ms, func(a, b Mute) int { return compareCreated(a.CreatedAt, b.CreatedAt, a.ID, b.ID) })
	return os, ms, nil
}

func (s *Redis) AddMute(ctx context.Context, m Mute) error {
	if err := checkMute(m); err != nil {
		return err
	}
	if err := s.hashAdd(ctx, s.mutesKey(), m.ID, m); err != nil {
		return fmt.Errorf("store: add mute %s: %w", m.ID, err)
	}
	return nil
}

func (s *Redis) ListMutes(ctx context.Context) ([]Mute, error) {
	out, err := redisList[Mute](ctx, s, s.mutesKey())
	if err != nil {
		return nil, fmt.Errorf("store: list mutes: %w", err)
	}
	slices.SortFunc(out, func(a, b Mute) int { return compareCreated(a.CreatedAt, b.CreatedAt, a.ID, b.ID) })
	return out, nil
}

// EndMute reads and writes under WATCH: two replicas ending it at once
// keep one end, the first written.
func (s *Redis) EndMute(ctx context.Context, id, by string, at time.Time) (Mute, error) {
	key := s.mutesKey()
	var m Mute
	end := func(tx *redis.Tx) error {
		raw, err := tx.HGet(ctx, key, id).Result()
		if errors.Is(err, redis.Nil) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		m = Mute{}
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			return err
		}
		if !endMute(&m, by, at) {
			return nil
		}
		data, err := json.Marshal(m)
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error { return p.HSet(ctx, key, id, data).Err() })
		return err
	}
	var err error
	for range 5 { // another writer between WATCH and EXEC: read again
		if err = s.rdb.Watch(ctx, end, key); !errors.Is(err, redis.TxFailedErr) {
			break
		}
	}
	if err != nil {
		return Mute{}, fmt.Errorf("store: end mute %s: %w", id, err)
	}
	return m, nil
}

// DeleteEnded needs no WATCH: an ended record only ever ends earlier or
// goes, so one read ended before cutoff stays so.
func (s *Redis) DeleteEnded(ctx context.Context, cutoff time.Time) (int, error) {
	n := 0
	for _, key := range []string{s.overridesKey(), s.mutesKey()} {
		all, err := s.rdb.HGetAll(ctx, key).Result()
		if err != nil {
			return n, fmt.Errorf("store: delete ended overrides: %w", err)
		}
		var gone []string
		for id, raw := range all {
			var r struct {
				End time.Time `json:"end"`
			}
			if err := json.Unmarshal([]byte(raw), &r); err != nil {
				return n, fmt.Errorf("store: delete ended overrides: %s: %w", id, err)
			}
			if r.End.Before(cutoff) {
				gone = append(gone, id)
			}
		}
		if len(gone) == 0 {
			continue
		}
		d, err := s.rdb.HDel(ctx, key, gone...).Result()
		n += int(d)
		if err != nil {
			return n, fmt.Errorf("store: delete ended overrides: %w", err)
		}
	}
	return n, nil
}

// hashAdd sets id to v's JSON in the hash at key unless id is taken.
func (s *Redis) hashAdd(ctx context.Context, key, id string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	added, err := s.rdb.HSetNX(ctx, key, id, data).Result()
	switch {
	case err != nil:
		return err
	case !added:
		return ErrOverrideExists
	}
	return nil
}

// redisList is every record of the hash at key.
func redisList[T any](ctx context.Context, s *Redis, key string) ([]T, error) {
	all, err := s.rdb.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, err
	}
	return decodeAll[T](all)
}

// decodeAll decodes a hash's values, id → JSON.
func decodeAll[T any](all map[string]string) ([]T, error) {
	out := make([]T, 0, len(all))
	for id, raw := range all {
		var r T
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		out = append(out, r)
	}
	return out, nil
}
