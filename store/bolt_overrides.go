package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketOverrides and bucketMutes map an id to its JSON. They are created
// by the first write, so files written before them open unchanged.
var (
	bucketOverrides = []byte("overrides")
	bucketMutes     = []byte("mutes")
)

func (s *Bolt) AddOverride(ctx context.Context, o Override) error {
	if err := checkOverride(o); err != nil {
		return err
	}
	if err := boltAdd(ctx, s, bucketOverrides, o.ID, o); err != nil {
		return fmt.Errorf("store: add override %s: %w", o.ID, err)
	}
	return nil
}

func (s *Bolt) ListOverrides(ctx context.Context) ([]Override, error) {
	out, err := boltList[Override](ctx, s, bucketOverrides)
	if err != nil {
		return nil, fmt.Errorf("store: list overrides: %w", err)
	}
	slices.SortFunc(out, func(a, b Override) int { return compareCreated(a.CreatedAt, b.CreatedAt, a.ID, b.ID) })
	return out, nil
}

func (s *Bolt) RemoveOverride(ctx context.Context, id string) (Override, error) {
	if err := ctx.Err(); err != nil {
		return Override{}, fmt.Errorf("store: remove override %s: %w", id, err)
	}
	var o Override
	err := s.w.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOverrides)
		var v []byte
		if b != nil {
			v = b.Get([]byte(id))
		}
		if v == nil {
			return ErrNotFound
		}
		o = Override{} // the group commit may run this again
		if err := json.Unmarshal(v, &o); err != nil {
			return err
		}
		return b.Delete([]byte(id))
	})
	if err != nil {
		return Override{}, fmt.Errorf("store: remove override %s: %w", id, err)
	}
	return o, nil
}

func (s *Bolt) ListStored(ctx context.Context) ([]Override, []Mute, error) {
	os, err := s.ListOverrides(ctx)
	if err != nil {
		return nil, nil, err
	}
	ms, err := s.ListMutes(ctx)
	if err != nil {
		return nil, nil, err
	}
	return os, ms, nil
}

func (s *Bolt) AddMute(ctx context.Context, m Mute) error {
	if err := checkMute(m); err != nil {
		return err
	}
	if err := boltAdd(ctx, s, bucketMutes, m.ID, m); err != nil {
		return fmt.Errorf("store: add mute %s: %w", m.ID, err)
	}
	return nil
}

func (s *Bolt) ListMutes(ctx context.Context) ([]Mute, error) {
	out, err := boltList[Mute](ctx, s, bucketMutes)
	if err != nil {
		return nil, fmt.Errorf("store: list mutes: %w", err)
	}
	slices.SortFunc(out, func(a, b Mute) int { return compareCreated(a.CreatedAt, b.CreatedAt, a.ID, b.ID) })
	return out, nil
}

func (s *Bolt) EndMute(ctx context.Context, id, by string, at time.Time) (Mute, error) {
	if err := ctx.Err(); err != nil {
		return Mute{}, fmt.Errorf("store: end mute %s: %w", id, err)
	}
	var m Mute
	err := s.w.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMutes)
		var v []byte
		if b != nil {
			v = b.Get([]byte(id))
		}
		if v == nil {
			return ErrNotFound
		}
		m = Mute{}
		if err := json.Unmarshal(v, &m); err != nil {
			return err
		}
		if !endMute(&m, by, at) {
			return nil
		}
		data, err := json.Marshal(m)
		if err != nil {
			return err
		}
		return b.Put([]byte(id), data)
	})
	if err != nil {
		return Mute{}, fmt.Errorf("store: end mute %s: %w", id, err)
	}
	return m, nil
}

func (s *Bolt) DeleteEnded(ctx context.Context, cutoff time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("store: delete ended overrides: %w", err)
	}
	var n int
	err := s.w.update(func(tx *bolt.Tx) error {
		n = 0
		for _, name := range [][]byte{bucketOverrides, bucketMutes} {
			b := tx.Bucket(name)
			if b == nil {
				continue
			}
			var gone [][]byte
			err := b.ForEach(func(k, v []byte) error {
				var r struct {
					End time.Time `json:"end"`
				}
				if err := json.Unmarshal(v, &r); err != nil {
					return fmt.Errorf("%s %s: %w", name, k, err)
				}
				if r.End.Before(cutoff) {
					gone = append(gone, slices.Clone(k))
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, k := range gone {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			n += len(gone)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete ended overrides: %w", err)
	}
	return n, nil
}

// boltAdd puts v under id in bucket unless id is taken.
func boltAdd(ctx context.Context, s *Bolt, bucket []byte, id string, v any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.w.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		if b.Get([]byte(id)) != nil {
			return ErrOverrideExists
		}
		return b.Put([]byte(id), data)
	})
}

// boltList is every record of bucket, in key order.
func boltList[T any](ctx context.Context, s *Bolt, bucket []byte) ([]T, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []T
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var r T
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("%s %s: %w", bucket, k, err)
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}
