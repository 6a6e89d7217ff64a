package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The replay record. bucketSeen maps IndexKey(key) to its expiry (unix
// nanos, big-endian); bucketSeenExpiry indexes the same entries by expiry
// then key, so the expired ones are found oldest first without a scan.
// Both are created on first use: older files open unchanged.
var (
	bucketSeen       = []byte("seen")
	bucketSeenExpiry = []byte("seen_expiry")
)

// seenSweep bounds how many expired entries one Seen deletes, so a write
// never grows with the backlog; every Seen sweeps, which keeps up with any
// rate of new keys.
const seenSweep = 64

func (s *Bolt) Seen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := checkSeen(ctx, key, ttl); err != nil {
		return false, fmt.Errorf("store: seen %q: %w", errKey(key), err)
	}
	k := []byte(IndexKey(key))
	var first bool
	err := s.w.update(func(tx *bolt.Tx) error {
		first = false // the group commit may run this again
		now := time.Now().UnixNano()
		seen, err := tx.CreateBucketIfNotExists(bucketSeen)
		if err != nil {
			return err
		}
		byExpiry, err := tx.CreateBucketIfNotExists(bucketSeenExpiry)
		if err != nil {
			return err
		}
		if err := sweepSeen(seen, byExpiry, now); err != nil {
			return err
		}
		if v := seen.Get(k); len(v) == 8 {
			if exp := int64(binary.BigEndian.Uint64(v)); exp > now {
				return nil
			}
			if err := byExpiry.Delete(join(v, k)); err != nil {
				return err
			}
		}
		first = true
		exp := binary.BigEndian.AppendUint64(nil, uint64(now+int64(ttl)))
		if err := seen.Put(k, exp); err != nil {
			return err
		}
		return byExpiry.Put(join(exp, k), nil)
	})
	if err != nil {
		return false, fmt.Errorf("store: seen %q: %w", errKey(key), err)
	}
	return first, nil
}

func (s *Bolt) Unsee(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: unsee %q: %w", errKey(key), err)
	}
	k := []byte(IndexKey(key))
	err := s.w.update(func(tx *bolt.Tx) error {
		seen := tx.Bucket(bucketSeen)
		if seen == nil {
			return nil
		}
		if v := seen.Get(k); v != nil {
			if err := tx.Bucket(bucketSeenExpiry).Delete(join(v, k)); err != nil {
				return err
			}
		}
		return seen.Delete(k)
	})
	if err != nil {
		return fmt.Errorf("store: unsee %q: %w", errKey(key), err)
	}
	return nil
}

func (s *Bolt) WasSeen(ctx context.Context, key string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("store: was seen %q: %w", errKey(key), err)
	}
	k := []byte(IndexKey(key))
	var seen bool
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSeen)
		if b == nil {
			return nil
		}
		// An expired record the sweep has not reached yet is no record.
		if v := b.Get(k); len(v) == 8 {
			seen = int64(binary.BigEndian.Uint64(v)) > time.Now().UnixNano()
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: was seen %q: %w", errKey(key), err)
	}
	return seen, nil
}

// sweepSeen deletes up to seenSweep entries that expired by now.
func sweepSeen(seen, byExpiry *bolt.Bucket, now int64) error {
	var expired [][]byte
	c := byExpiry.Cursor()
	for k, _ := c.First(); k != nil && len(expired) < seenSweep; k, _ = c.Next() {
		if len(k) < 8 || int64(binary.BigEndian.Uint64(k[:8])) > now {
			break
		}
		expired = append(expired, bytes.Clone(k))
	}
	// Deleted after the walk: deleting under a moving cursor skips entries.
	for _, k := range expired {
		if err := byExpiry.Delete(k); err != nil {
			return err
		}
		// The key may have been seen again since, with a later expiry.
		if v := seen.Get(k[8:]); bytes.Equal(v, k[:8]) {
			if err := seen.Delete(k[8:]); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkSeen(ctx context.Context, key string, ttl time.Duration) error {
	if key == "" {
		return fmt.Errorf("empty key")
	}
	if ttl <= 0 {
		return fmt.Errorf("ttl %s: must be positive", ttl)
	}
	return ctx.Err()
}
