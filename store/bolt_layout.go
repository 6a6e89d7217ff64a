package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// The embedded file's layout. Layout 1 kept each incident's Alertmanager
// message inside its record, so every write of the incident (each timeline
// line, each send) rewrote up to 4 MiB. Layout 2 keeps the message in
// bucketMessages, written only when it changes; a record is a few hundred
// bytes, and it too is written only when one of its fields changes.
const boltLayout = 2

var (
	bucketMessages = []byte("messages") // incident id → its Alertmanager message, a large one in a bucket of its own (see ownBucketMin) (layout 2)
	keyMessage     = []byte("m")
	bucketMeta     = []byte("meta") // keyLayout → layout version; absent in layout 1
	keyLayout      = []byte("layout")
)

// upgradeBatch is how many incidents one upgrade transaction moves, so a
// large file's upgrade does not build one transaction of every message.
const upgradeBatch = 1000

// fileLayout reads the file's layout version: 1 for a file with incidents
// and no meta bucket, boltLayout for a new file.
func fileLayout(tx *bolt.Tx) (int, error) {
	if b := tx.Bucket(bucketMeta); b != nil {
		v := b.Get(keyLayout)
		if len(v) != 8 {
			return 0, fmt.Errorf("layout version is %d bytes, not 8", len(v))
		}
		return int(binary.BigEndian.Uint64(v)), nil
	}
	if k, _ := tx.Bucket(bucketIncidents).Cursor().First(); k != nil {
		return 1, nil
	}
	return boltLayout, nil
}

func setLayout(tx *bolt.Tx, v int) error {
	b, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return err
	}
	return b.Put(keyLayout, u64(uint64(v)))
}

// upgradeLayout brings a file to boltLayout when it opens, in batches. The
// file lock makes this open its only user; a crash midway leaves records
// moved and not, which reads the same (getIncident takes a message kept in
// its record), and the next open goes on. The version is written last.
func upgradeLayout(db *bolt.DB) (int, error) {
	var layout int
	if err := db.Update(func(tx *bolt.Tx) error {
		var err error
		if layout, err = fileLayout(tx); err != nil {
			return err
		}
		if layout == boltLayout && tx.Bucket(bucketMeta) == nil {
			return setLayout(tx, boltLayout)
		}
		return nil
	}); err != nil {
		return 0, err
	}
	switch {
	case layout == boltLayout:
		return 0, nil
	case layout > boltLayout:
		return 0, fmt.Errorf("the file has layout %d, newer than this version's %d: run the hikyaku that wrote it", layout, boltLayout)
	}
	moved := 0
	var after []byte
	for done := false; !done; {
		err := db.Update(func(tx *bolt.Tx) error {
			msgs, err := tx.CreateBucketIfNotExists(bucketMessages)
			if err != nil {
				return err
			}
			type rec struct{ k, v []byte }
			var batch []rec
			c := tx.Bucket(bucketIncidents).Cursor()
			k, v := c.First()
			if after != nil {
				if k, v = c.Seek(after); bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			for ; k != nil && len(batch) < upgradeBatch; k, v = c.Next() {
				batch = append(batch, rec{bytes.Clone(k), bytes.Clone(v)})
			}
			for _, r := range batch {
				var inc Incident
				if err := json.Unmarshal(r.v, &inc); err != nil {
					return fmt.Errorf("decode incident %x: %w", r.k, err)
				}
				if len(inc.Message) == 0 {
					continue
				}
				if err := putMessage(msgs, r.k, inc.Message); err != nil {
					return err
				}
				inc.Message = nil
				if err := putJSON(tx.Bucket(bucketIncidents), r.k, &inc); err != nil {
					return err
				}
				moved++
			}
			if len(batch) < upgradeBatch {
				done = true
				return setLayout(tx, boltLayout)
			}
			after = batch[len(batch)-1].k
			return nil
		})
		if err != nil {
			return moved, fmt.Errorf("upgrade to layout %d: %w", boltLayout, err)
		}
	}
	return moved, nil
}

// getRecord reads incident id's record, without its message unless the
// record still holds it (layout 1).
func getRecord(tx *bolt.Tx, id int64) (*Incident, error) {
	v := tx.Bucket(bucketIncidents).Get(u64(uint64(id)))
	if v == nil {
		return nil, ErrNotFound
	}
	var inc Incident
	if err := json.Unmarshal(v, &inc); err != nil {
		return nil, fmt.Errorf("decode incident %d: %w", id, err)
	}
	return &inc, nil
}

// getIncident reads incident id with its message.
func getIncident(tx *bolt.Tx, id int64) (*Incident, error) {
	inc, err := getRecord(tx, id)
	if err != nil {
		return nil, err
	}
	if m := getMessage(tx.Bucket(bucketMessages), u64(uint64(id))); m != nil {
		inc.Message = bytes.Clone(m) // bbolt's memory is the transaction's
	}
	return inc, nil
}

// putIncident writes next, whose ID is set, over cur (nil when new): its
// record only when a field other than Version changed, its message only
// when the message changed. It reports whether it wrote the record; when it
// did not, next keeps cur's Version.
func putIncident(tx *bolt.Tx, cur, next *Incident) (bool, error) {
	id := u64(uint64(next.ID))
	incidents, msgs := tx.Bucket(bucketIncidents), tx.Bucket(bucketMessages)
	stored := getMessage(msgs, id)
	msgChanged := !bytes.Equal(stored, next.Message)
	if cur != nil && !msgChanged {
		same := *next
		same.Version, same.Message = cur.Version, nil
		rec, err := json.Marshal(&same)
		if err != nil {
			return false, err
		}
		if bytes.Equal(rec, incidents.Get(id)) {
			next.Version = cur.Version
			return false, nil
		}
	}
	if msgChanged {
		var err error
		if len(next.Message) == 0 {
			err = deleteMessage(msgs, id)
		} else if !json.Valid(next.Message) {
			err = errors.New("its message is not valid JSON")
		} else {
			err = putMessage(msgs, id, next.Message)
		}
		if err != nil {
			return false, fmt.Errorf("incident %d: %w", next.ID, err)
		}
	}
	bare := *next
	bare.Message = nil
	return true, putJSON(incidents, id, &bare)
}

// A message of ownBucketMin bytes or more sits in a bucket of its own
// (incident id → bucket, keyMessage → message); a smaller one is a plain
// value (incident id → message). In one shared bucket a large message
// shares its B-tree leaf with its neighbours and bbolt rewrites a leaf
// whole: storing incident n's message rewrote incident n-1's too, megabytes
// per intake. A bucket that large is never inlined in its parent, so adding
// one rewrites only the parent's leaf of 16-byte bucket headers. A small
// message costs less as a plain value: a bucket of its own would take a
// page of its own.
const ownBucketMin = 4096

func getMessage(msgs *bolt.Bucket, id []byte) []byte {
	if msgs == nil {
		return nil
	}
	if m := msgs.Get(id); m != nil {
		return m
	}
	if b := msgs.Bucket(id); b != nil {
		return b.Get(keyMessage)
	}
	return nil
}

func putMessage(msgs *bolt.Bucket, id, msg []byte) error {
	if err := deleteMessage(msgs, id); err != nil {
		return err
	}
	if len(msg) < ownBucketMin {
		return msgs.Put(id, msg)
	}
	b, err := msgs.CreateBucket(id)
	if err != nil {
		return err
	}
	return b.Put(keyMessage, msg)
}

func deleteMessage(msgs *bolt.Bucket, id []byte) error {
	if msgs.Bucket(id) != nil {
		return msgs.DeleteBucket(id)
	}
	return msgs.Delete(id)
}
