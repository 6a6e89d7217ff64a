package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// calendarTokensKey is one hash of every calendar token: id → JSON.
// Tokens are few (people × feeds), so a person's are found in one HGETALL,
// and issuing or revoking is one script over the whole hash.
func (s *Redis) calendarTokensKey() string { return s.base + "calendar_tokens" }

func (s *Redis) IssueCalendarToken(ctx context.Context, t CalendarToken) error {
	if err := checkCalendarToken(t); err != nil {
		return err
	}
	data, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("store: issue calendar token %s: %w", t.ID, err)
	}
	n, err := scriptCalendarTokens.Run(ctx, s.rdb, []string{s.calendarTokensKey()}, t.User, t.Feed, t.ID, data).Int()
	switch {
	case err != nil:
		return fmt.Errorf("store: issue calendar token %s: %w", t.ID, err)
	case n < 0:
		return fmt.Errorf("store: issue calendar token %s: %w", t.ID, ErrTokenExists)
	}
	return nil
}

func (s *Redis) CalendarToken(ctx context.Context, id string) (CalendarToken, error) {
	raw, err := s.rdb.HGet(ctx, s.calendarTokensKey(), id).Result()
	if errors.Is(err, redis.Nil) {
		err = ErrNotFound
	}
	if err != nil {
		return CalendarToken{}, fmt.Errorf("store: calendar token %s: %w", id, err)
	}
	var t CalendarToken
	if err := json.Unmarshal([]byte(raw), &t); err != nil {
		return CalendarToken{}, fmt.Errorf("store: calendar token %s: %w", id, err)
	}
	return t, nil
}

func (s *Redis) CalendarTokensOf(ctx context.Context, user string) ([]CalendarToken, error) {
	raw, err := s.rdb.HGetAll(ctx, s.calendarTokensKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("store: calendar tokens of %s: %w", user, err)
	}
	all, err := decodeCalendarTokens(raw)
	if err != nil {
		return nil, fmt.Errorf("store: calendar tokens of %s: %w", user, err)
	}
	var out []CalendarToken
	for _, t := range all {
		if t.User == user {
			out = append(out, t)
		}
	}
	sortCalendarTokens(out)
	return out, nil
}

func (s *Redis) RevokeCalendarTokens(ctx context.Context, user, feed string) (int, error) {
	n, err := scriptCalendarTokens.Run(ctx, s.rdb, []string{s.calendarTokensKey()}, user, feed, "", "").Int()
	if err != nil {
		return 0, fmt.Errorf("store: revoke calendar tokens of %s: %w", user, err)
	}
	return n, nil
}

func decodeCalendarTokens(raw map[string]string) (map[string]CalendarToken, error) {
	all := make(map[string]CalendarToken, len(raw))
	for id, v := range raw {
		var t CalendarToken
		if err := json.Unmarshal([]byte(v), &t); err != nil {
			return nil, fmt.Errorf("calendar token %s: %w", id, err)
		}
		all[id] = t
	}
	return all, nil
}
