package store

import (
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// bucketCalendarTokens maps a calendar token's id to its JSON. It is
// created by the first token, so older files open unchanged. Tokens are
// few (people × feeds), so a person's are found by a scan.
var bucketCalendarTokens = []byte("calendar_tokens")

func (s *Bolt) IssueCalendarToken(ctx context.Context, t CalendarToken) error {
	if err := checkCalendarToken(t); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: issue calendar token %s: %w", t.ID, err)
	}
	data, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("store: issue calendar token %s: %w", t.ID, err)
	}
	err = s.w.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketCalendarTokens)
		if err != nil {
			return err
		}
		if b.Get([]byte(t.ID)) != nil {
			return ErrTokenExists
		}
		if _, err := deleteCalendarTokens(b, t.User, t.Feed); err != nil {
			return err
		}
		return b.Put([]byte(t.ID), data)
	})
	if err != nil {
		return fmt.Errorf("store: issue calendar token %s: %w", t.ID, err)
	}
	return nil
}

// deleteCalendarTokens deletes user's tokens for feed (all when "").
func deleteCalendarTokens(b *bolt.Bucket, user, feed string) (int, error) {
	var doomed [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var t CalendarToken
		if err := json.Unmarshal(v, &t); err != nil {
			return fmt.Errorf("calendar token %s: %w", k, err)
		}
		if revokes(t, user, feed) {
			doomed = append(doomed, k)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range doomed { // a bucket must not change under ForEach
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(doomed), nil
}

func (s *Bolt) CalendarToken(ctx context.Context, id string) (CalendarToken, error) {
	if err := ctx.Err(); err != nil {
		return CalendarToken{}, fmt.Errorf("store: calendar token %s: %w", id, err)
	}
	var t CalendarToken
	err := s.db.View(func(tx *bolt.Tx) error {
		var v []byte
		if b := tx.Bucket(bucketCalendarTokens); b != nil {
			v = b.Get([]byte(id))
		}
		if v == nil {
			return ErrNotFound
		}
		return json.Unmarshal(v, &t)
	})
	if err != nil {
		return CalendarToken{}, fmt.Errorf("store: calendar token %s: %w", id, err)
	}
	return t, nil
}

func (s *Bolt) CalendarTokensOf(ctx context.Context, user string) ([]CalendarToken, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: calendar tokens of %s: %w", user, err)
	}
	var out []CalendarToken
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCalendarTokens)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var t CalendarToken
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("calendar token %s: %w", k, err)
			}
			if t.User == user {
				out = append(out, t)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: calendar tokens of %s: %w", user, err)
	}
	sortCalendarTokens(out)
	return out, nil
}

func (s *Bolt) RevokeCalendarTokens(ctx context.Context, user, feed string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("store: revoke calendar tokens of %s: %w", user, err)
	}
	var n int
	err := s.w.update(func(tx *bolt.Tx) error {
		n = 0 // the group commit may run this again
		b := tx.Bucket(bucketCalendarTokens)
		if b == nil {
			return nil
		}
		var err error
		n, err = deleteCalendarTokens(b, user, feed)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: revoke calendar tokens of %s: %w", user, err)
	}
	return n, nil
}
