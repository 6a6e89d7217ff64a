package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The query indexes. Each entry of bucketIndex is
// facet name 0x00, 2-byte value length, value, created (or resolved) unix
// nanos, id — all big-endian, so a Cursor seeks a facet's time range.
var (
	bucketIndex     = []byte("index")      // facet entries → nil
	bucketIndexMeta = []byte("index_meta") // id → indexMeta JSON, the entries an incident has
)

func facetPrefix(f facet) []byte {
	b := make([]byte, 0, len(f.name)+3+len(f.value)+16)
	b = append(append(b, f.name...), 0)
	b = binary.BigEndian.AppendUint16(b, uint16(len(f.value)))
	return append(b, f.value...)
}

func indexKey(f facet, at, id int64) []byte {
	b := facetPrefix(f)
	b = binary.BigEndian.AppendUint64(b, uint64(at))
	return binary.BigEndian.AppendUint64(b, uint64(id))
}

// entries are the index keys of an incident whose meta is m.
func (m indexMeta) boltEntries(id int64) [][]byte {
	var out [][]byte
	for _, f := range m.facets() {
		out = append(out, indexKey(f, m.Created, id))
	}
	if m.Status == StatusResolved {
		out = append(out, indexKey(resolvedFacet, m.Resolved, id))
	}
	return out
}

func getMeta(tx *bolt.Tx, id int64) (*indexMeta, error) {
	v := tx.Bucket(bucketIndexMeta).Get(u64(uint64(id)))
	if v == nil {
		return nil, nil
	}
	var m indexMeta
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, fmt.Errorf("decode index entry of incident %d: %w", id, err)
	}
	return &m, nil
}

// writeIndex moves incident inc's index entries to where its state puts
// them, inside the transaction that writes it.
func writeIndex(tx *bolt.Tx, inc *Incident) error {
	old, err := getMeta(tx, inc.ID)
	if err != nil {
		return err
	}
	m := metaOf(inc)
	if old != nil && old.sameEntries(m) {
		return nil // most writes change no indexed field
	}
	ix := tx.Bucket(bucketIndex)
	keep := m.boltEntries(inc.ID)
	if old != nil {
		for _, k := range old.boltEntries(inc.ID) {
			if slices.ContainsFunc(keep, func(n []byte) bool { return bytes.Equal(n, k) }) {
				continue
			}
			if err := ix.Delete(k); err != nil {
				return err
			}
		}
	}
	for _, k := range keep {
		if err := ix.Put(k, nil); err != nil {
			return err
		}
	}
	return putJSON(tx.Bucket(bucketIndexMeta), u64(uint64(inc.ID)), m)
}

// buildIndexes indexes the incidents a version without the query indexes
// wrote. It runs once: the meta bucket's existence marks the file indexed,
// so later opens do not read the incidents.
func buildIndexes(tx *bolt.Tx) (int, error) {
	if tx.Bucket(bucketIndexMeta) != nil {
		return 0, nil
	}
	for _, name := range [][]byte{bucketIndexMeta, bucketIndex} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return 0, err
		}
	}
	n := 0
	err := tx.Bucket(bucketIncidents).ForEach(func(k, v []byte) error {
		var inc Incident
		if err := json.Unmarshal(v, &inc); err != nil {
			return fmt.Errorf("decode incident %x: %w", k, err)
		}
		n++
		return writeIndex(tx, &inc)
	})
	return n, err
}

func (s *Bolt) Query(ctx context.Context, opt ListOptions) (Page, error) {
	p, err := planQuery(opt)
	if err != nil {
		return Page{}, err
	}
	var page Page
	err = s.db.View(func(tx *bolt.Tx) error {
		var err error
		page, err = boltQuery(tx, &p)
		return err
	})
	if err != nil {
		return Page{}, fmt.Errorf("store: query incidents: %w", err)
	}
	return page, nil
}

func boltQuery(tx *bolt.Tx, p *plan) (Page, error) {
	var page Page
	prefix := facetPrefix(p.candidates[0])
	c := tx.Bucket(bucketIndex).Cursor()
	// Position the cursor on the first entry of the walk.
	var k []byte
	if p.desc {
		hi := position{p.hi, 0}
		if p.after != nil && p.after.before(hi) {
			hi = *p.after
		}
		k, _ = c.Seek(binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(slices.Clone(prefix), uint64(hi.at)), uint64(hi.id)))
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
	} else {
		lo := position{p.lo, 0}
		if p.after != nil && lo.before(*p.after) {
			lo = *p.after
		}
		k, _ = c.Seek(binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(slices.Clone(prefix), uint64(lo.at)), uint64(lo.id)))
	}
	step := c.Next
	if p.desc {
		step = c.Prev
	}
	for scanned := 0; ; k, _ = step() {
		if k == nil || len(k) != len(prefix)+16 || !bytes.HasPrefix(k, prefix) {
			return page, nil
		}
		pos := position{int64(binary.BigEndian.Uint64(k[len(prefix):])), int64(binary.BigEndian.Uint64(k[len(prefix)+8:]))}
		if pos.at < p.lo || pos.at >= p.hi {
			return page, nil
		}
		if !p.past(pos) {
			continue
		}
		if len(page.Incidents) == p.limit || scanned == scanBudget {
			// Another entry is in range: the page ends before it.
			page.Next = encodeCursor(p.lastPos, p.opt)
			return page, nil
		}
		scanned++
		p.lastPos = pos
		m, err := getMeta(tx, pos.id)
		if err != nil {
			return page, err
		}
		if m == nil || !p.match(*m) {
			continue
		}
		inc, err := getIncident(tx, pos.id)
		if err != nil {
			return page, err
		}
		page.Incidents = append(page.Incidents, inc)
	}
}

func (s *Bolt) DeleteResolved(ctx context.Context, cutoff time.Time, max int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("store: delete resolved incidents: %w", err)
	}
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		prefix := facetPrefix(resolvedFacet)
		end := nanos(cutoff)
		var ids []int64
		c := tx.Bucket(bucketIndex).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(ids) < max; k, _ = c.Next() {
			if int64(binary.BigEndian.Uint64(k[len(prefix):])) >= end {
				break
			}
			ids = append(ids, int64(binary.BigEndian.Uint64(k[len(prefix)+8:])))
		}
		for _, id := range ids {
			deleted, err := deleteIncident(tx, id)
			if err != nil {
				return fmt.Errorf("incident %d: %w", id, err)
			}
			if deleted {
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete resolved incidents: %w", err)
	}
	return n, nil
}

// deleteIncident removes a resolved incident and everything that names it.
// It refuses (false) an incident that is not resolved, whatever the index says.
func deleteIncident(tx *bolt.Tx, id int64) (bool, error) {
	m, err := getMeta(tx, id)
	if err != nil || m == nil {
		return false, err
	}
	inc, err := getRecord(tx, id)
	if err != nil {
		return false, err
	}
	if inc.Status != StatusResolved || m.Status != StatusResolved {
		return false, nil
	}
	ix := tx.Bucket(bucketIndex)
	for _, k := range m.boltEntries(id) {
		if err := ix.Delete(k); err != nil {
			return false, err
		}
	}
	key := u64(uint64(id))
	if err := tx.Bucket(bucketIndexMeta).Delete(key); err != nil {
		return false, err
	}
	if err := tx.Bucket(bucketStatuses).Delete(statusKey(inc.Status, id)); err != nil {
		return false, err
	}
	keys := tx.Bucket(bucketKeys)
	if indexed := []byte(IndexKey(inc.Key)); bytes.Equal(keys.Get(indexed), key) {
		if err := keys.Delete(indexed); err != nil {
			return false, err
		}
	}
	var doomed [][]byte
	tc := tx.Bucket(bucketTimeline).Cursor()
	for k, _ := tc.Seek(key); k != nil && bytes.HasPrefix(k, key); k, _ = tc.Next() {
		doomed = append(doomed, bytes.Clone(k))
	}
	for _, k := range doomed {
		if err := tx.Bucket(bucketTimeline).Delete(k); err != nil {
			return false, err
		}
	}
	if err := cancelTimers(tx, id, &Change{CancelIncidentTimers: true}, nil); err != nil {
		return false, err
	}
	if err := deleteDeliveries(tx, id); err != nil {
		return false, err
	}
	if err := deleteMessage(tx.Bucket(bucketMessages), key); err != nil {
		return false, err
	}
	return true, tx.Bucket(bucketIncidents).Delete(key)
}
