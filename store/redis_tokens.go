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

// tokensKey is one hash of every token: id → JSON. Tokens are few (one or
// two per person), so one key holds them all and listing is one HGETALL.
func (s *Redis) tokensKey() string { return s.base + "tokens" }

func (s *Redis) AddToken(ctx context.Context, t Token) error {
	if err := checkToken(t); err != nil {
		return err
	}
	data, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("store: add token %s: %w", t.ID, err)
	}
	added, err := s.rdb.HSetNX(ctx, s.tokensKey(), t.ID, data).Result()
	switch {
	case err != nil:
		return fmt.Errorf("store: add token %s: %w", t.ID, err)
	case !added:
		return fmt.Errorf("store: add token %s: %w", t.ID, ErrTokenExists)
	}
	return nil
}

func (s *Redis) Token(ctx context.Context, id string) (Token, error) {
	raw, err := s.rdb.HGet(ctx, s.tokensKey(), id).Result()
	if errors.Is(err, redis.Nil) {
		err = ErrNotFound
	}
	if err != nil {
		return Token{}, fmt.Errorf("store: token %s: %w", id, err)
	}
	var t Token
	if err := json.Unmarshal([]byte(raw), &t); err != nil {
		return Token{}, fmt.Errorf("store: token %s: %w", id, err)
	}
	return t, nil
}

func (s *Redis) ListTokens(ctx context.Context) ([]Token, error) {
	all, err := s.rdb.HGetAll(ctx, s.tokensKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("store: list tokens: %w", err)
	}
	out := make([]Token, 0, len(all))
	for id, raw := range all {
		var t Token
		if err := json.Unmarshal([]byte(raw), &t); err != nil {
			return nil, fmt.Errorf("store: list tokens: token %s: %w", id, err)
		}
		out = append(out, t)
	}
	slices.SortFunc(out, compareTokens)
	return out, nil
}

// RevokeToken reads and writes under WATCH: two replicas revoking at once
// keep one time, the first written.
func (s *Redis) RevokeToken(ctx context.Context, id string, at time.Time) (Token, error) {
	key := s.tokensKey()
	var t Token
	revoke := func(tx *redis.Tx) error {
		raw, err := tx.HGet(ctx, key, id).Result()
		if errors.Is(err, redis.Nil) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		t = Token{}
		if err := json.Unmarshal([]byte(raw), &t); err != nil {
			return err
		}
		if t.Revoked() {
			return nil
		}
		t.RevokedAt = at
		data, err := json.Marshal(t)
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error { return p.HSet(ctx, key, id, data).Err() })
		return err
	}
	var err error
	for range 5 { // another writer between WATCH and EXEC: read again
		if err = s.rdb.Watch(ctx, revoke, key); !errors.Is(err, redis.TxFailedErr) {
			break
		}
	}
	if err != nil {
		return Token{}, fmt.Errorf("store: revoke token %s: %w", id, err)
	}
	return t, nil
}
