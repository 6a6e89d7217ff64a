package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketTokens maps a token's id to its JSON. It is created by the first
// token, so files written before tokens existed open unchanged.
var bucketTokens = []byte("tokens")

func (s *Bolt) AddToken(ctx context.Context, t Token) error {
	if err := checkToken(t); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: add token %s: %w", t.ID, err)
	}
	data, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("store: add token %s: %w", t.ID, err)
	}
	err = s.w.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketTokens)
		if err != nil {
			return err
		}
		if b.Get([]byte(t.ID)) != nil {
			return ErrTokenExists
		}
		return b.Put([]byte(t.ID), data)
	})
	if err != nil {
		return fmt.Errorf("store: add token %s: %w", t.ID, err)
	}
	return nil
}

func (s *Bolt) Token(ctx context.Context, id string) (Token, error) {
	if err := ctx.Err(); err != nil {
		return Token{}, fmt.Errorf("store: token %s: %w", id, err)
	}
	var t Token
	err := s.db.View(func(tx *bolt.Tx) error {
		var v []byte
		if b := tx.Bucket(bucketTokens); b != nil {
			v = b.Get([]byte(id))
		}
		if v == nil {
			return ErrNotFound
		}
		return json.Unmarshal(v, &t)
	})
	if err != nil {
		return Token{}, fmt.Errorf("store: token %s: %w", id, err)
	}
	return t, nil
}

func (s *Bolt) ListTokens(ctx context.Context) ([]Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: list tokens: %w", err)
	}
	var out []Token
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var t Token
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("token %s: %w", k, err)
			}
			out = append(out, t)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: list tokens: %w", err)
	}
	slices.SortFunc(out, compareTokens)
	return out, nil
}

func (s *Bolt) RevokeToken(ctx context.Context, id string, at time.Time) (Token, error) {
	if err := ctx.Err(); err != nil {
		return Token{}, fmt.Errorf("store: revoke token %s: %w", id, err)
	}
	var t Token
	err := s.w.update(func(tx *bolt.Tx) error {
		t = Token{} // the group commit may run this again
		b := tx.Bucket(bucketTokens)
		var v []byte
		if b != nil {
			v = b.Get([]byte(id))
		}
		if v == nil {
			return ErrNotFound
		}
		if err := json.Unmarshal(v, &t); err != nil {
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
		return b.Put([]byte(id), data)
	})
	if err != nil {
		return Token{}, fmt.Errorf("store: revoke token %s: %w", id, err)
	}
	return t, nil
}
