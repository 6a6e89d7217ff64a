package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Bucket layout. Integers are big-endian so bbolt's byte order is numeric order.
var (
	bucketIncidents      = []byte("incidents")       // id → Incident JSON; its sequence is the id counter
	bucketKeys           = []byte("keys")            // IndexKey(dedup key) → id of the non-resolved incident holding it
	bucketStatuses       = []byte("statuses")        // status 0x00 id → nil, for List by status
	bucketTimeline       = []byte("timeline")        // incident id, seq → Event JSON
	bucketTimers         = []byte("timers")          // timer id → boltTimer JSON
	bucketDue            = []byte("due")             // due unix nanos, timer id → nil; a claimed timer sits at its LeaseUntil
	bucketClaims         = []byte("claims")          // timer id → owner, for Release
	bucketIncidentTimers = []byte("incident_timers") // incident id, timer id → nil, for CancelIncidentTimers
)

var allBuckets = [][]byte{bucketMessages, bucketIncidents, bucketKeys, bucketStatuses, bucketTimeline, bucketTimers, bucketDue, bucketClaims, bucketIncidentTimers}

// lockTimeout bounds the wait for the file lock, so a second daemon on the same
// data dir fails fast instead of hanging.
const lockTimeout = 2 * time.Second

// Bolt is the embedded store: one bbolt file, where writes made at the same
// time share one fsync'd transaction (see groupCommit).
type Bolt struct {
	db *bolt.DB
	w  *groupCommit
}

// boltTimer is a timer as stored, with its claim if one is held.
type boltTimer struct {
	Timer
	Owner      string    `json:"owner,omitempty"`
	Token      string    `json:"token,omitempty"`
	LeaseUntil time.Time `json:"lease_until,omitzero"`
}

func (t *boltTimer) claimed() bool { return t.Token != "" }

// indexedAt is where the timer sits in the due index: when it next becomes claimable.
func (t *boltTimer) indexedAt() time.Time {
	if t.claimed() {
		return t.LeaseUntil
	}
	return t.Due
}

// OpenBolt opens (creating if needed) the bbolt file at path.
func OpenBolt(path string) (*Bolt, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: create data dir: %w", err)
	}
	// Before bbolt's open: its own rebuild after a crash is a consistency
	// check of every key, seconds on a large file (bolt_freelist.go).
	if _, err := freelistForCrash(path); err != nil {
		return nil, fmt.Errorf("store: %s: write the freelist after a crash: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: lockTimeout,
		// Timers come and go by the thousand, so the freelist is large and
		// churns; writing it on every commit nearly doubled the commit time
		// (0.8 ms to 1.4 ms, BenchmarkTimerLateness100k). Without it, the
		// open after a crash needs the freelist rebuilt from the file
		// (freelistForCrash, above), unless the last stop was clean (Close
		// writes it once). Data and meta pages are still fsync'd on every
		// commit.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("store: %s is locked by another process (is another hikyaku running with this data dir?): %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		if err := indexLongKeys(tx); err != nil {
			return err
		}
		if _, err := buildIndexes(tx); err != nil {
			return fmt.Errorf("build query indexes: %w", err)
		}
		if _, err := backfillDeliveries(tx); err != nil {
			return fmt.Errorf("backfill deliveries: %w", err)
		}
		// After: a file without deliveries gets its posted index with them.
		if _, err := backfillPosted(tx); err != nil {
			return fmt.Errorf("index deliveries by provider id: %w", err)
		}
		// The file lock makes us its only user, so every claim in it was held
		// by a process that died (kill -9, power loss): its timers are due
		// now, not when that process's lease would have ended. Each was an
		// attempt, as a lease that expired is: a timer that kills the process
		// every time it runs must not crash-loop it for ever.
		return releaseClaims(tx, func([]byte) bool { return true }, true)
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: prepare %s: %w", path, err)
	}
	if _, err := upgradeLayout(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	return &Bolt{db: db, w: newGroupCommit(db)}, nil
}

func (s *Bolt) UpdateByKey(ctx context.Context, key string, fn UpdateFunc) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("store: update %q: %w", errKey(key), err)
	}
	var out Result
	err := s.w.update(func(tx *bolt.Tx) error {
		var cur *Incident
		if id := tx.Bucket(bucketKeys).Get([]byte(IndexKey(key))); id != nil {
			var err error
			if cur, err = getIncident(tx, int64(binary.BigEndian.Uint64(id))); err != nil {
				return err
			}
		}
		var err error
		out, err = applyChange(tx, cur, key, fn)
		return err
	})
	if err != nil {
		return Result{}, fmt.Errorf("store: update %q: %w", errKey(key), err)
	}
	return out, nil
}

// indexLongKeys moves dedup keys longer than MaxIndexedKey, written before
// they were indexed by digest, to their IndexKey. Without it the open
// incident of such a group would no longer be found: Alertmanager's next post
// would open a second one and its resolve would never reach the first. The
// file lock makes this open the only writer, so one pass is enough.
func indexLongKeys(tx *bolt.Tx) error {
	keys := tx.Bucket(bucketKeys)
	var long [][]byte
	err := keys.ForEach(func(k, _ []byte) error {
		if len(k) > MaxIndexedKey {
			long = append(long, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range long {
		id := bytes.Clone(keys.Get(k))
		if err := keys.Delete(k); err != nil {
			return err
		}
		if err := keys.Put([]byte(IndexKey(string(k))), id); err != nil {
			return fmt.Errorf("index dedup key by digest: %w", err)
		}
	}
	return nil
}

func (s *Bolt) Update(ctx context.Context, id int64, fn UpdateFunc) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("store: update incident %d: %w", id, err)
	}
	var out Result
	err := s.w.update(func(tx *bolt.Tx) error {
		cur, err := getIncident(tx, id)
		if err != nil {
			return err
		}
		out, err = applyChange(tx, cur, cur.Key, fn)
		return err
	})
	if err != nil {
		return Result{}, fmt.Errorf("store: update incident %d: %w", id, err)
	}
	return out, nil
}

// applyChange runs fn on cur and writes its Change inside tx.
// bbolt has a single writer, so fn never races; it runs again only when a
// write sharing its group commit failed.
func applyChange(tx *bolt.Tx, cur *Incident, key string, fn UpdateFunc) (Result, error) {
	ch, err := fn(cloneIncident(cur))
	if err != nil {
		return Result{}, err
	}
	res := Result{Incident: cur}
	if ch != nil {
		res.Outcome = ch.Outcome
	}
	next, err := nextState(cur, ch, key)
	if err != nil {
		return Result{}, err
	}
	if next == nil {
		return res, nil
	}
	if ch.Complete != nil {
		if err := checkClaim(tx, *ch.Complete); err != nil {
			return Result{}, err
		}
	}
	if next.ID == 0 {
		seq, err := tx.Bucket(bucketIncidents).NextSequence()
		if err != nil {
			return Result{}, err
		}
		next.ID = int64(seq)
	}
	rewritten, err := putIncident(tx, cur, next)
	if err != nil {
		return Result{}, err
	}
	if rewritten {
		if err := indexIncident(tx, cur, next); err != nil {
			return Result{}, err
		}
	}
	id := u64(uint64(next.ID))
	timeline := tx.Bucket(bucketTimeline)
	for _, ev := range ch.Events {
		seq, err := timeline.NextSequence()
		if err != nil {
			return Result{}, err
		}
		if err := putJSON(timeline, join(id, u64(seq)), ev); err != nil {
			return Result{}, err
		}
	}
	if err := writeDeliveries(tx, cur, next, ch.Deliveries); err != nil {
		return Result{}, err
	}

	schedule := scheduleFor(ch, next.ID)
	if err := cancelTimers(tx, next.ID, ch, schedule); err != nil {
		return Result{}, err
	}
	if ch.Complete != nil {
		if err := removeTimer(tx, ch.Complete.ID); err != nil {
			return Result{}, err
		}
	}
	for _, t := range schedule {
		if err := addTimer(tx, t); err != nil {
			return Result{}, err
		}
	}
	res.Incident, res.Written = next, true
	return res, nil
}

// indexIncident moves next's dedup key, status and query index entries from
// where cur (nil when new) had them.
func indexIncident(tx *bolt.Tx, cur, next *Incident) error {
	id := u64(uint64(next.ID))
	keys := tx.Bucket(bucketKeys)
	indexed := []byte(IndexKey(next.Key))
	holder := keys.Get(indexed)
	var err error
	switch {
	case holdsKey(next.Status) && holder != nil && !bytes.Equal(holder, id):
		return fmt.Errorf("incident %d cannot reopen: %w", next.ID, ErrKeyConflict)
	case holdsKey(next.Status) && holder == nil:
		err = keys.Put(indexed, id)
	case !holdsKey(next.Status) && bytes.Equal(holder, id):
		err = keys.Delete(indexed)
	}
	if err != nil {
		return err
	}
	// A page is rewritten whole once touched, so what is already in place
	// is left alone: most writes keep the key and the status.
	if cur == nil || cur.Status != next.Status {
		statuses := tx.Bucket(bucketStatuses)
		if cur != nil {
			if err := statuses.Delete(statusKey(cur.Status, next.ID)); err != nil {
				return err
			}
		}
		if err := statuses.Put(statusKey(next.Status, next.ID), nil); err != nil {
			return err
		}
	}
	return writeIndex(tx, next)
}

// cancelTimers removes ch.Cancel and, if asked, the incident's other timers not in schedule.
func cancelTimers(tx *bolt.Tx, incidentID int64, ch *Change, schedule []Timer) error {
	for _, id := range ch.Cancel {
		if err := removeTimer(tx, id); err != nil {
			return err
		}
	}
	if !ch.CancelIncidentTimers {
		return nil
	}
	keep := make(map[string]bool, len(schedule))
	for _, t := range schedule {
		keep[t.ID] = true
	}
	prefix := u64(uint64(incidentID))
	var doomed []string
	c := tx.Bucket(bucketIncidentTimers).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if id := string(k[8:]); !keep[id] {
			doomed = append(doomed, id)
		}
	}
	for _, id := range doomed {
		if err := removeTimer(tx, id); err != nil {
			return err
		}
	}
	return nil
}

// addTimer stores t as pending unless a timer with its ID exists.
func addTimer(tx *bolt.Tx, t Timer) error {
	timers := tx.Bucket(bucketTimers)
	if timers.Get([]byte(t.ID)) != nil {
		return nil
	}
	if err := putJSON(timers, []byte(t.ID), boltTimer{Timer: t}); err != nil {
		return err
	}
	if err := tx.Bucket(bucketDue).Put(dueKey(t.Due, t.ID), nil); err != nil {
		return err
	}
	return tx.Bucket(bucketIncidentTimers).Put(join(u64(uint64(t.IncidentID)), []byte(t.ID)), nil)
}

// removeTimer deletes a timer and its index entries; a missing timer is not an error.
func removeTimer(tx *bolt.Tx, id string) error {
	t, err := getTimer(tx, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, del := range []struct {
		bucket []byte
		key    []byte
	}{
		{bucketTimers, []byte(id)},
		{bucketDue, dueKey(t.indexedAt(), id)},
		{bucketClaims, []byte(id)},
		{bucketIncidentTimers, join(u64(uint64(t.IncidentID)), []byte(id))},
	} {
		if err := tx.Bucket(del.bucket).Delete(del.key); err != nil {
			return err
		}
	}
	return nil
}

// putTimer writes t, moving its due-index entry from where it was indexed before.
func putTimer(tx *bolt.Tx, t *boltTimer, wasAt time.Time) error {
	due := tx.Bucket(bucketDue)
	if err := due.Delete(dueKey(wasAt, t.ID)); err != nil {
		return err
	}
	if err := due.Put(dueKey(t.indexedAt(), t.ID), nil); err != nil {
		return err
	}
	claims := tx.Bucket(bucketClaims)
	var err error
	if t.claimed() {
		err = claims.Put([]byte(t.ID), []byte(t.Owner))
	} else {
		err = claims.Delete([]byte(t.ID))
	}
	if err != nil {
		return err
	}
	return putJSON(tx.Bucket(bucketTimers), []byte(t.ID), t)
}

func (s *Bolt) Get(ctx context.Context, id int64) (*Incident, error) {
	var inc *Incident
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		inc, err = getIncident(tx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: get incident %d: %w", id, err)
	}
	return inc, nil
}

func (s *Bolt) List(ctx context.Context, opt ListOptions) ([]*Incident, error) {
	out, err := listPages(ctx, s.Query, opt)
	if err != nil {
		return nil, fmt.Errorf("store: list incidents: %w", err)
	}
	return out, nil
}

func (s *Bolt) Timeline(ctx context.Context, id int64) ([]Event, error) {
	var out []Event
	err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketIncidents).Get(u64(uint64(id))) == nil {
			return ErrNotFound
		}
		prefix := u64(uint64(id))
		c := tx.Bucket(bucketTimeline).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var ev Event
			if err := json.Unmarshal(v, &ev); err != nil {
				return fmt.Errorf("decode event %x: %w", k, err)
			}
			out = append(out, ev)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: timeline of incident %d: %w", id, err)
	}
	return out, nil
}

func (s *Bolt) ClaimDue(ctx context.Context, now time.Time, owner string, lease time.Duration, max int) ([]Claim, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: claim timers: %w", err)
	}
	if max <= 0 {
		return nil, nil
	}
	limit := dueNanos(now)
	if !s.anyDue(limit) {
		return nil, nil // a write transaction would cost an fsync to claim nothing
	}
	var out []Claim
	tokenBase := rand.Text()
	leaseUntil := now.Add(lease)
	err := s.w.update(func(tx *bolt.Tx) error {
		out = out[:0] // the group commit may run this again
		// Collect first: moving entries while the cursor walks the same bucket is unsafe.
		var ids []string
		c := tx.Bucket(bucketDue).Cursor()
		for k, _ := c.First(); k != nil && len(ids) < max; k, _ = c.Next() {
			if binary.BigEndian.Uint64(k[:8]) > limit {
				break
			}
			ids = append(ids, string(k[8:]))
		}
		for i, id := range ids {
			t, err := getTimer(tx, id)
			if err != nil {
				return err
			}
			wasAt := t.indexedAt()
			if t.claimed() {
				// Its lease expired: the holder died or hung mid-handler. That was an attempt.
				t.Attempt++
				t.TakenOver = true
			}
			t.Owner, t.Token, t.LeaseUntil = owner, fmt.Sprintf("%s-%d", tokenBase, i), leaseUntil
			if err := putTimer(tx, t, wasAt); err != nil {
				return err
			}
			out = append(out, Claim{Timer: t.Timer, Owner: owner, Token: t.Token, LeaseUntil: leaseUntil})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim timers: %w", err)
	}
	return out, nil
}

// anyDue tells whether a timer is claimable at limit (unix nanos), in a read transaction.
func (s *Bolt) anyDue(limit uint64) bool {
	due := true // on a read error, let the write transaction report it
	s.db.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketDue).Cursor().First()
		due = k != nil && binary.BigEndian.Uint64(k[:8]) <= limit
		return nil
	})
	return due
}

// withClaim runs fn on the stored timer if c still holds it.
func (s *Bolt) withClaim(c Claim, fn func(tx *bolt.Tx, t *boltTimer) error) error {
	return s.w.update(func(tx *bolt.Tx) error {
		t, err := heldTimer(tx, c)
		if err != nil {
			return err
		}
		return fn(tx, t)
	})
}

// heldTimer reads the timer c claims; ErrStaleClaim if c no longer holds it.
func heldTimer(tx *bolt.Tx, c Claim) (*boltTimer, error) {
	t, err := getTimer(tx, c.ID)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrStaleClaim
	}
	if err != nil {
		return nil, err
	}
	if c.Token == "" || t.Token != c.Token {
		return nil, ErrStaleClaim
	}
	return t, nil
}

// checkClaim is heldTimer for a write that only needs to know.
func checkClaim(tx *bolt.Tx, c Claim) error {
	_, err := heldTimer(tx, c)
	if err != nil {
		return fmt.Errorf("complete timer %q: %w", c.ID, err)
	}
	return nil
}

// Renew extends c's lease to now+lease. The embedded store serves one
// process, so it cannot be away while its holder lives: its leases run on
// the caller's clock.
func (s *Bolt) Renew(ctx context.Context, c Claim, now time.Time, lease time.Duration) error {
	err := s.withClaim(c, func(tx *bolt.Tx, t *boltTimer) error {
		wasAt := t.indexedAt()
		t.LeaseUntil = now.Add(lease)
		return putTimer(tx, t, wasAt)
	})
	if err != nil {
		return fmt.Errorf("store: renew claim on timer %q: %w", c.ID, err)
	}
	return nil
}

func (s *Bolt) Complete(ctx context.Context, c Claim) error {
	err := s.withClaim(c, func(tx *bolt.Tx, t *boltTimer) error {
		return removeTimer(tx, t.ID)
	})
	if err != nil {
		return fmt.Errorf("store: complete timer %q: %w", c.ID, err)
	}
	return nil
}

func (s *Bolt) Retry(ctx context.Context, c Claim, due time.Time) error {
	err := s.withClaim(c, func(tx *bolt.Tx, t *boltTimer) error {
		wasAt := t.indexedAt()
		t.Due, t.Attempt = due, t.Attempt+1
		t.TakenOver = t.TakenOver || c.TakenOver // the caller's send may be out (Timers.Retry)
		t.Owner, t.Token, t.LeaseUntil = "", "", time.Time{}
		return putTimer(tx, t, wasAt)
	})
	if err != nil {
		return fmt.Errorf("store: retry timer %q: %w", c.ID, err)
	}
	return nil
}

func (s *Bolt) Release(ctx context.Context, owner string) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		return releaseClaims(tx, func(o []byte) bool { return string(o) == owner }, false)
	})
	if err != nil {
		return fmt.Errorf("store: release claims of %q: %w", owner, err)
	}
	return nil
}

// releaseClaims makes the claims of the owners that match pending again at
// their due time; attempted counts each as an attempt of its timer.
func releaseClaims(tx *bolt.Tx, match func(owner []byte) bool, attempted bool) error {
	var ids []string
	err := tx.Bucket(bucketClaims).ForEach(func(id, o []byte) error {
		if match(o) {
			ids = append(ids, string(id))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		t, err := getTimer(tx, id)
		if err != nil {
			return err
		}
		wasAt := t.indexedAt()
		t.Owner, t.Token, t.LeaseUntil = "", "", time.Time{}
		if attempted {
			t.Attempt++
			t.TakenOver = true
		}
		if err := putTimer(tx, t, wasAt); err != nil {
			return err
		}
	}
	return nil
}

func (s *Bolt) NextDue(ctx context.Context) (time.Time, bool, error) {
	var next time.Time
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketDue).Cursor().First()
		if k != nil {
			next, ok = time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))), true
		}
		return nil
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: next due timer: %w", err)
	}
	return next, ok, nil
}

func (s *Bolt) Pending(ctx context.Context) (int, error) {
	var n int
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketTimers).Stats().KeyN
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: count timers: %w", err)
	}
	return n, nil
}

// Ping checks the file takes a write: a small write, committed and
// fsync'd like any other, and room on its disk for the file to grow by
// bbolt's next step. The write alone would not do: on a full disk it lands
// in pages the file already has, while an incident's write, which needs
// the file to grow, fails with ENOSPC.
func (s *Bolt) Ping(ctx context.Context) error {
	err := s.w.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketProbe)
		if err != nil {
			return err
		}
		return b.Put(keyProbe, u64(uint64(max(time.Now().UnixNano(), 0))))
	})
	if err != nil {
		return fmt.Errorf("store: probe write: %w", err)
	}
	free, err := freeBytes(filepath.Dir(s.db.Path()))
	if err != nil {
		return fmt.Errorf("store: free space: %w", err)
	}
	if free < minFreeBytes {
		return fmt.Errorf("store: %d bytes free on the disk of %s, under the %d a write may need to grow the file", free, s.db.Path(), minFreeBytes)
	}
	return nil
}

// minFreeBytes is bbolt's largest growth step (its AllocSize): with less
// free, the next write that grows the file may fail.
const minFreeBytes = 16 << 20

// The probe write's bucket and key, apart from everything else.
var (
	bucketProbe = []byte("probe")
	keyProbe    = []byte("ready")
)

func (s *Bolt) Close() error {
	s.w.shutdown()
	// The last commit of a clean stop writes the freelist, so that the next
	// open reads it (0.3 ms) instead of walking every page of the file to
	// rebuild it (freelistForCrash: 0.8 s of CPU at 1,000,000 incidents).
	// Commits while running keep not writing it (see OpenBolt); the next one
	// marks it stale again, so a kill -9 still means a rebuild, never a
	// wrong freelist. The flag is read
	// only by write transactions, and this one holds the write lock.
	err := s.db.Update(func(*bolt.Tx) error {
		s.db.NoFreelistSync = false
		return nil
	})
	if err != nil {
		s.db.Close()
		return fmt.Errorf("store: close: write the freelist: %w", err)
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

func getTimer(tx *bolt.Tx, id string) (*boltTimer, error) {
	v := tx.Bucket(bucketTimers).Get([]byte(id))
	if v == nil {
		return nil, ErrNotFound
	}
	var t boltTimer
	if err := json.Unmarshal(v, &t); err != nil {
		return nil, fmt.Errorf("decode timer %q: %w", id, err)
	}
	return &t, nil
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func join(a, b []byte) []byte { return append(append(make([]byte, 0, len(a)+len(b)), a...), b...) }

func statusKey(s Status, id int64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(s), 0), uint64(id))
}

// dueNanos maps a time onto the due index's unsigned order; times before 1970 sort first.
func dueNanos(t time.Time) uint64 { return uint64(max(t.UnixNano(), 0)) }

func dueKey(t time.Time, id string) []byte { return append(u64(dueNanos(t)), id...) }

// bucketOptOut holds the addresses that opted out (SMS STOP): address → "1".
// It is created by the first STOP, so files written before it existed open unchanged.
var bucketOptOut = []byte("opt_out")

func (s *Bolt) SetOptOut(ctx context.Context, address string, out bool) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: opt-out %q: %w", address, err)
	}
	if address == "" {
		return fmt.Errorf("store: opt-out: empty address")
	}
	err := s.w.update(func(tx *bolt.Tx) error {
		if !out {
			if b := tx.Bucket(bucketOptOut); b != nil {
				return b.Delete([]byte(address))
			}
			return nil
		}
		b, err := tx.CreateBucketIfNotExists(bucketOptOut)
		if err != nil {
			return err
		}
		// Not nil: bbolt may read a nil value back as nil, which Get also means for "absent".
		return b.Put([]byte(address), []byte("1"))
	})
	if err != nil {
		return fmt.Errorf("store: opt-out %q: %w", address, err)
	}
	return nil
}

func (s *Bolt) OptedOut(ctx context.Context, address string) (bool, error) {
	var out bool
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketOptOut); b != nil {
			out = b.Get([]byte(address)) != nil
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: opted out %q: %w", address, err)
	}
	return out, nil
}

func (s *Bolt) SetTimer(ctx context.Context, op TimerOp, t Timer) (*Timer, error) {
	if err := checkStandalone(op, t); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: %v timer %q: %w", op, t.ID, err)
	}
	var prev *Timer
	read := func(tx *bolt.Tx) error {
		bt, err := getTimer(tx, t.ID)
		switch {
		case errors.Is(err, ErrNotFound):
			return nil
		case err != nil:
			return err
		case bt.IncidentID != 0:
			return errIncidentTimer(t.ID, bt.IncidentID)
		}
		prev = &bt.Timer
		return nil
	}
	var err error
	if op == TimerGet {
		err = s.db.View(read)
	} else {
		err = s.w.update(func(tx *bolt.Tx) error {
			prev = nil // the group commit may run this again
			if err := read(tx); err != nil {
				return err
			}
			switch {
			case op == TimerAdd && prev != nil:
				return nil
			case op == TimerReplace, op == TimerRemove:
				if err := removeTimer(tx, t.ID); err != nil {
					return err
				}
			}
			if op == TimerRemove {
				return nil
			}
			return addTimer(tx, t)
		})
	}
	if err != nil {
		return nil, fmt.Errorf("store: %v timer %q: %w", op, t.ID, err)
	}
	return prev, nil
}

// bucketVerified holds the contact methods' last verification:
// user NUL channel → verifiedStamp. Created by the first one.
var bucketVerified = []byte("verified")

func (s *Bolt) SetVerified(ctx context.Context, user, channel string, at time.Time) error {
	if err := checkVerified(user, channel); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: verified %s %s: %w", user, channel, err)
	}
	stamp := []byte(verifiedStamp(at))
	err := s.w.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketVerified)
		if err != nil {
			return err
		}
		k := []byte(verifiedField(user, channel))
		if cur := b.Get(k); cur != nil && string(cur) >= string(stamp) {
			return nil
		}
		return b.Put(k, stamp)
	})
	if err != nil {
		return fmt.Errorf("store: verified %s %s: %w", user, channel, err)
	}
	return nil
}

func (s *Bolt) Verified(ctx context.Context) ([]Verification, error) {
	var out []Verification
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketVerified)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			vf, err := parseVerified(string(k), string(v))
			if err != nil {
				return err
			}
			out = append(out, vf)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: verified: %w", err)
	}
	return out, nil
}
