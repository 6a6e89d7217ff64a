package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketDead holds dead-lettered timers: timer id → DeadTimer JSON. It is
// created by the first dead letter, so files written before it existed open unchanged.
var bucketDead = []byte("dead_timers")

func (s *Bolt) DeadLetter(ctx context.Context, c Claim, attempts int, reason string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: dead-letter timer %q: %w", c.ID, err)
	}
	err := s.withClaim(c, func(tx *bolt.Tx, t *boltTimer) error {
		dead, err := tx.CreateBucketIfNotExists(bucketDead)
		if err != nil {
			return err
		}
		d := DeadTimer{Timer: t.Timer, Error: reason, At: at}
		d.Attempt = attempts
		if err := putJSON(dead, []byte(t.ID), d); err != nil {
			return err
		}
		return removeTimer(tx, t.ID)
	})
	if err != nil {
		return fmt.Errorf("store: dead-letter timer %q: %w", c.ID, err)
	}
	return nil
}

func (s *Bolt) DeadTimers(ctx context.Context, limit int) ([]DeadTimer, error) {
	var out []DeadTimer
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDead)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var d DeadTimer
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("decode dead timer %q: %w", k, err)
			}
			out = append(out, d)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: list dead timers: %w", err)
	}
	sortDead(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// sortDead orders dead timers oldest first, then by id.
func sortDead(ds []DeadTimer) {
	slices.SortFunc(ds, func(a, b DeadTimer) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.ID, b.ID))
	})
}

func (s *Bolt) DeadCount(ctx context.Context) (int, error) {
	var n int
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketDead); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: count dead timers: %w", err)
	}
	return n, nil
}

func (s *Bolt) RetryDead(ctx context.Context, id string, due time.Time) (DeadTimer, error) {
	var d DeadTimer
	err := s.w.update(func(tx *bolt.Tx) error {
		var err error
		if d, err = takeDead(tx, id); err != nil {
			return err
		}
		if tx.Bucket(bucketTimers).Get([]byte(id)) != nil {
			return ErrTimerExists
		}
		t := d.Timer
		t.Due, t.Attempt = due, 0
		return addTimer(tx, t)
	})
	if err != nil {
		return DeadTimer{}, fmt.Errorf("store: retry dead timer %q: %w", id, err)
	}
	return d, nil
}

func (s *Bolt) DiscardDead(ctx context.Context, id string) (DeadTimer, error) {
	var d DeadTimer
	err := s.w.update(func(tx *bolt.Tx) error {
		var err error
		d, err = takeDead(tx, id)
		return err
	})
	if err != nil {
		return DeadTimer{}, fmt.Errorf("store: discard dead timer %q: %w", id, err)
	}
	return d, nil
}

// takeDead removes the dead timer id from the dead-letter set and returns it.
func takeDead(tx *bolt.Tx, id string) (DeadTimer, error) {
	var d DeadTimer
	b := tx.Bucket(bucketDead)
	if b == nil {
		return d, ErrNotFound
	}
	v := b.Get([]byte(id))
	if v == nil {
		return d, ErrNotFound
	}
	if err := json.Unmarshal(v, &d); err != nil {
		return d, fmt.Errorf("decode dead timer %q: %w", id, err)
	}
	return d, b.Delete([]byte(id))
}
