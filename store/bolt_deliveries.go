package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

	bolt "go.etcd.io/bbolt"
)

// The deliveries' buckets. bucketDeliveries' existence also marks a file
// whose open incidents were backfilled from their timelines
// (backfillDeliveries), so it is not in allBuckets.
var (
	bucketDeliveries = []byte("deliveries") // incident id, seq → Delivery JSON
	// bucketPaged indexes the pages of incidents not resolved by person:
	// 2-byte user length, user, 2-byte channel length, channel, incident
	// id, seq → nil. The suffix is the delivery's key in bucketDeliveries.
	bucketPaged = []byte("deliveries_paged")
	// bucketPosted indexes every delivery with a provider id by it:
	// 2-byte channel length, channel, provider id → the delivery's key in
	// bucketDeliveries (incident id, seq). The first delivery of a provider
	// id keeps it. Its existence marks a file whose open incidents'
	// deliveries were indexed (backfillPosted).
	bucketPosted = []byte("deliveries_posted")
)

func postedKey(channel, providerID string) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(channel)))
	return append(append(b, channel...), providerID...)
}

// indexPosted files d, kept at at, under its provider id unless a delivery
// holds that id already.
func indexPosted(b *bolt.Bucket, d *Delivery, at []byte) error {
	if !indexedPosted(d) {
		return nil
	}
	k := postedKey(d.Channel, d.ProviderID)
	if b.Get(k) != nil {
		return nil
	}
	return b.Put(k, at)
}

func pagedPrefix(user string) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(user)))
	return append(b, user...)
}

func pagedKey(d *Delivery, at []byte) []byte {
	b := pagedPrefix(d.User)
	b = binary.BigEndian.AppendUint16(b, uint16(len(d.Channel)))
	return append(append(b, d.Channel...), at...)
}

// writeDeliveries stores ch's deliveries of incident next inside the
// transaction that writes it, and keeps the by-person index to the
// incidents not resolved: a resolve drops the incident's entries, a reopen
// puts them back.
func writeDeliveries(tx *bolt.Tx, cur, next *Incident, ds []Delivery) error {
	b := tx.Bucket(bucketDeliveries)
	paged, posted := tx.Bucket(bucketPaged), tx.Bucket(bucketPosted)
	held, holds := cur != nil && holdsKey(cur.Status), holdsKey(next.Status)
	id := u64(uint64(next.ID))
	for i := range ds {
		if len(ds[i].User) > math.MaxUint16 || len(ds[i].Channel) > math.MaxUint16 {
			// The index's 2-byte lengths would wrap and file it under another person.
			return fmt.Errorf("delivery to a user or channel name of over %d bytes", math.MaxUint16)
		}
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		at := join(id, u64(seq))
		if err := putJSON(b, at, &ds[i]); err != nil {
			return fmt.Errorf("write delivery: %w", err)
		}
		if holds && indexedPage(&ds[i]) {
			if err := paged.Put(pagedKey(&ds[i], at), nil); err != nil {
				return err
			}
		}
		if err := indexPosted(posted, &ds[i], at); err != nil {
			return err
		}
	}
	if held == holds || cur == nil {
		return nil
	}
	// A resolve or a reopen: every delivery of the incident moves.
	return forDeliveries(tx, next.ID, func(at []byte, d *Delivery) error {
		if !indexedPage(d) {
			return nil
		}
		if holds {
			return paged.Put(pagedKey(d, at), nil)
		}
		return paged.Delete(pagedKey(d, at))
	})
}

// forDeliveries calls fn on each delivery of incident id, in write order,
// with its key. fn may write to any bucket but bucketDeliveries.
func forDeliveries(tx *bolt.Tx, id int64, fn func(at []byte, d *Delivery) error) error {
	prefix := u64(uint64(id))
	c := tx.Bucket(bucketDeliveries).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var d Delivery
		if err := json.Unmarshal(v, &d); err != nil {
			return fmt.Errorf("decode delivery %x: %w", k, err)
		}
		d.Incident = id
		if err := fn(bytes.Clone(k), &d); err != nil {
			return err
		}
	}
	return nil
}

// deleteDeliveries removes incident id's deliveries and index entries, for
// retention.
func deleteDeliveries(tx *bolt.Tx, id int64) error {
	var doomed [][]byte
	paged, posted := tx.Bucket(bucketPaged), tx.Bucket(bucketPosted)
	err := forDeliveries(tx, id, func(at []byte, d *Delivery) error {
		doomed = append(doomed, at)
		if indexedPosted(d) {
			// Only the entry that names this delivery: another incident's
			// may hold the id.
			if k := postedKey(d.Channel, d.ProviderID); bytes.Equal(posted.Get(k), at) {
				if err := posted.Delete(k); err != nil {
					return err
				}
			}
		}
		if indexedPage(d) {
			return paged.Delete(pagedKey(d, at))
		}
		return nil
	})
	if err != nil {
		return err
	}
	b := tx.Bucket(bucketDeliveries)
	for _, k := range doomed {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

func (s *Bolt) Deliveries(ctx context.Context, id int64) ([]Delivery, error) {
	var out []Delivery
	err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketIncidents).Get(u64(uint64(id))) == nil {
			return ErrNotFound
		}
		return forDeliveries(tx, id, func(_ []byte, d *Delivery) error {
			out = append(out, *d)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: deliveries of incident %d: %w", id, err)
	}
	return out, nil
}

func (s *Bolt) Paged(ctx context.Context, user, channel string) ([]Delivery, error) {
	var out []Delivery
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := pagedPrefix(user)
		if channel != "" {
			prefix = pagedKey(&Delivery{User: user, Channel: channel}, nil)
		}
		deliveries := tx.Bucket(bucketDeliveries)
		status := map[int64]Status{}
		c := tx.Bucket(bucketPaged).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if len(k) < len(prefix)+16 {
				return fmt.Errorf("index entry %x is too short", k)
			}
			at := k[len(k)-16:]
			v := deliveries.Get(at)
			if v == nil {
				return fmt.Errorf("index entry %x names no delivery", k)
			}
			var d Delivery
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("decode delivery %x: %w", at, err)
			}
			d.Incident = int64(binary.BigEndian.Uint64(at[:8]))
			st, ok := status[d.Incident]
			if !ok {
				var err error
				if st, err = boltStatus(tx, d.Incident); err != nil {
					return err
				}
				status[d.Incident] = st
			}
			d.Status = st
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: pages of %q on %q: %w", user, channel, err)
	}
	sortPaged(out)
	return out, nil
}

func (s *Bolt) Posted(ctx context.Context, channel, providerID string) (Delivery, error) {
	var d Delivery
	err := s.db.View(func(tx *bolt.Tx) error {
		if providerID == "" {
			return ErrNotFound
		}
		at := tx.Bucket(bucketPosted).Get(postedKey(channel, providerID))
		if at == nil {
			return ErrNotFound
		}
		if len(at) != 16 {
			return fmt.Errorf("index entry %x is %d bytes, not 16", at, len(at))
		}
		v := tx.Bucket(bucketDeliveries).Get(at)
		if v == nil {
			return fmt.Errorf("index entry %x names no delivery", at)
		}
		if err := json.Unmarshal(v, &d); err != nil {
			return fmt.Errorf("decode delivery %x: %w", at, err)
		}
		d.Incident = int64(binary.BigEndian.Uint64(at[:8]))
		return nil
	})
	if err != nil {
		return Delivery{}, fmt.Errorf("store: the %s message %q: %w", channel, providerID, err)
	}
	return d, nil
}

// backfillPosted indexes by provider id the deliveries of the open and
// acknowledged incidents a version without the index wrote, so a reply in
// the thread of a page they posted still finds it. It runs once: the
// bucket's existence marks the file done. Resolved incidents are left out,
// as backfillDeliveries leaves them: the open file takes no long scan.
func backfillPosted(tx *bolt.Tx) (int, error) {
	if tx.Bucket(bucketPosted) != nil {
		return 0, nil
	}
	posted, err := tx.CreateBucket(bucketPosted)
	if err != nil {
		return 0, err
	}
	ids := openAndAckedIDs(tx)
	n := 0
	for _, id := range ids {
		err := forDeliveries(tx, id, func(at []byte, d *Delivery) error {
			if indexedPosted(d) {
				n++
			}
			return indexPosted(posted, d, at)
		})
		if err != nil {
			return n, fmt.Errorf("incident %d: %w", id, err)
		}
	}
	return n, nil
}

// openAndAckedIDs are the incidents not resolved, from the statuses index.
func openAndAckedIDs(tx *bolt.Tx) []int64 {
	var ids []int64
	c := tx.Bucket(bucketStatuses).Cursor()
	for _, st := range []Status{StatusOpen, StatusAcked} {
		prefix := append([]byte(st), 0)
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			ids = append(ids, int64(binary.BigEndian.Uint64(k[len(prefix):])))
		}
	}
	return ids
}

// boltStatus reads an incident's status from its index meta, which is
// small, rather than the incident, whose Alertmanager message may be
// megabytes. Every incident has a meta once the file is open (buildIndexes).
func boltStatus(tx *bolt.Tx, id int64) (Status, error) {
	m, err := getMeta(tx, id)
	if err != nil {
		return "", err
	}
	if m == nil {
		return "", fmt.Errorf("incident %d has no index meta", id)
	}
	return m.Status, nil
}

// backfillDeliveries records the deliveries of the open and acknowledged
// incidents a version that kept none wrote, from their timelines, so an
// ack after the upgrade still finds its page. It runs once: the deliveries
// bucket's existence marks the file done. Resolved incidents get none:
// nothing reads theirs but a rewrite already done.
func backfillDeliveries(tx *bolt.Tx) (int, error) {
	if tx.Bucket(bucketDeliveries) != nil {
		return 0, nil
	}
	for _, name := range [][]byte{bucketDeliveries, bucketPaged, bucketPosted} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return 0, err
		}
	}
	ids := openAndAckedIDs(tx)
	n := 0
	for _, id := range ids {
		inc, err := getIncident(tx, id)
		if err != nil {
			return n, err
		}
		evs, err := boltTimeline(tx, id)
		if err != nil {
			return n, err
		}
		if err := writeDeliveries(tx, inc, inc, deliveriesFromTimeline(id, evs)); err != nil {
			return n, fmt.Errorf("incident %d: %w", id, err)
		}
		n++
	}
	return n, nil
}

func boltTimeline(tx *bolt.Tx, id int64) ([]Event, error) {
	var out []Event
	prefix := u64(uint64(id))
	c := tx.Bucket(bucketTimeline).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var ev Event
		if err := json.Unmarshal(v, &ev); err != nil {
			return nil, fmt.Errorf("decode event %x: %w", k, err)
		}
		out = append(out, ev)
	}
	return out, nil
}
