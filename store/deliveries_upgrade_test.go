package store_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"

	"github.com/hikyaku/hikyaku/internal/redistest"
	"github.com/hikyaku/hikyaku/store"
)

var tUpgrade = time.Date(2030, 3, 4, 5, 6, 7, 0, time.UTC)

// sentBefore is a timeline as the engine wrote it before it kept
// deliveries: a page by SMS, one by voice that failed, a Slack post to a
// chat channel, a dry-run record, a report.
func sentBefore(i int) []store.Event {
	ev := func(typ string, min int, kv ...string) store.Event {
		d := map[string]string{}
		for j := 0; j < len(kv); j += 2 {
			d[kv[j]] = kv[j+1]
		}
		return store.Event{At: tUpgrade.Add(time.Duration(min) * time.Minute), Type: typ, Detail: d}
	}
	return []store.Event{
		ev("created", 0, "key", "k"),
		ev("notified", 1, "to", "alice", "channel", "sms", "kind", "page", "provider_id", fmt.Sprintf("SM%d", i), "attempt", "1"),
		ev("notify_failed", 2, "to", "alice", "channel", "voice", "error", "busy", "reason", "client", "attempts", "1"),
		ev("notified", 3, "to", "#ops", "channel", "slack", "kind", "page", "provider_id", "1700000000.0001", "attempt", "1"),
		ev("recorded", 4, "to", "bob", "channel", "sms", "kind", "page", "provider_id", "", "attempt", "1"),
		ev("notified", 5, "to", "carol", "channel", "email", "kind", "report", "provider_id", "<m@x>", "attempt", "2"),
	}
}

// seedBefore writes an open, an acked and a resolved incident the way the
// version before deliveries did: timeline events, no Deliveries.
func seedBefore(t *testing.T, s store.Store) (open, acked, resolved int64) {
	t.Helper()
	var ids []int64
	for i, st := range []store.Status{store.StatusOpen, store.StatusAcked, store.StatusResolved} {
		inc, err := s.UpdateByKey(t.Context(), fmt.Sprintf("upgrade/%d", i), func(*store.Incident) (*store.Change, error) {
			return &store.Change{Incident: &store.Incident{Status: st, CreatedAt: tUpgrade}, Events: sentBefore(i)}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, inc.Incident.ID)
	}
	return ids[0], ids[1], ids[2]
}

// checkBackfilled: the open and acked incidents' deliveries are what their
// timelines said was sent, and the bare-ack lookup finds their pages.
func checkBackfilled(t *testing.T, s store.Store, open, acked, resolved int64) {
	t.Helper()
	for i, id := range []int64{open, acked} {
		got, err := s.Deliveries(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.Delivery{
			{Incident: id, Kind: "page", Channel: "sms", User: "alice", ProviderID: fmt.Sprintf("SM%d", i), At: tUpgrade.Add(time.Minute)},
			{Incident: id, Kind: "page", Channel: "slack", Chat: "ops", ProviderID: "1700000000.0001", At: tUpgrade.Add(3 * time.Minute)},
			{Incident: id, Kind: "report", Channel: "email", User: "carol", ProviderID: "<m@x>", At: tUpgrade.Add(5 * time.Minute)},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("backfilled deliveries of incident %d =\n%+v\nwant\n%+v", id, got, want)
		}
	}
	if ds, err := s.Deliveries(t.Context(), resolved); err != nil || len(ds) != 0 {
		t.Errorf("a resolved incident was backfilled: %+v, %v", ds, err)
	}
	ds, err := s.Paged(t.Context(), "alice", "sms")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range ds {
		got = append(got, fmt.Sprintf("%d:%s:%s", d.Incident, d.ProviderID, d.Status))
	}
	if want := []string{fmt.Sprintf("%d:SM0:open", open), fmt.Sprintf("%d:SM1:acked", acked)}; !reflect.DeepEqual(got, want) {
		t.Errorf("Paged(alice, sms) after the upgrade = %v, want %v", got, want)
	}
	for _, who := range []string{"bob", "carol"} {
		if ds, err := s.Paged(t.Context(), who, ""); err != nil || len(ds) != 0 {
			t.Errorf("Paged(%s) = %+v, %v; a dry-run record and a report are no pages", who, ds, err)
		}
	}
}

// TestBoltBackfillsDeliveriesOnOpen: a file written before deliveries were
// kept gets its open incidents' deliveries from their timelines at open.
func TestBoltBackfillsDeliveriesOnOpen(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(t.Context(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	open, acked, resolved := seedBefore(t, s)
	s.Close()
	// What an older version's file looks like: no deliveries buckets.
	db, err := bolt.Open(filepath.Join(dir, store.BoltFileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range []string{"deliveries", "deliveries_paged"} {
			if err := tx.DeleteBucket([]byte(b)); err != nil {
				return fmt.Errorf("delete bucket %s: %w", b, err)
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second open backfills nothing twice
		s, err = store.Open(t.Context(), "", dir)
		if err != nil {
			t.Fatal(err)
		}
		checkBackfilled(t, s, open, acked, resolved)
		s.Close()
	}
}

// TestRedisBackfillsDeliveries: on Redis, BackfillDeliveries (run by serve
// at start, on every replica) records the open incidents' deliveries once.
func TestRedisBackfillsDeliveries(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	s := openRedis(t, srv.URL())
	defer s.Close()
	open, acked, resolved := seedBefore(t, s)
	r := s.(*store.Redis)
	for i, want := range []int{2, 0} { // the second run finds them done
		n, err := r.BackfillDeliveries(t.Context())
		if err != nil || n != want {
			t.Fatalf("run %d: BackfillDeliveries = %d, %v; want %d", i+1, n, err, want)
		}
		checkBackfilled(t, s, open, acked, resolved)
	}
}

// TestRedisRetentionLeavesNoDeliveryKeys: Redis memory is bounded by
// retention, so a deleted incident's delivery list and its entries in the
// by-person sets are gone, and a person's set with them once it is empty.
func TestRedisRetentionLeavesNoDeliveryKeys(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	s, err := store.Open(t.Context(), srv.URL()+"?prefix=retained", "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 3 {
		inc, err := s.UpdateByKey(t.Context(), fmt.Sprintf("gone/%d", i), func(*store.Incident) (*store.Change, error) {
			return &store.Change{Incident: &store.Incident{CreatedAt: tUpgrade}, Deliveries: []store.Delivery{
				{Kind: store.DeliveryPage, Channel: "sms", User: "alice", At: tUpgrade},
				{Kind: "report", Channel: "email", User: "carol", At: tUpgrade}}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Update(t.Context(), inc.Incident.ID, func(cur *store.Incident) (*store.Change, error) {
			cur.Status, cur.ResolvedAt = store.StatusResolved, tUpgrade
			return &store.Change{Incident: cur}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	keys := func() []string {
		t.Helper()
		var out []string
		for _, pattern := range []string{"hikyaku:{retained}:deliveries:*", "hikyaku:{retained}:paged:*"} {
			ks, err := rdb.Keys(t.Context(), pattern).Result()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, ks...)
		}
		slices.Sort(out)
		return out
	}
	want := []string{"hikyaku:{retained}:deliveries:1", "hikyaku:{retained}:deliveries:2", "hikyaku:{retained}:deliveries:3"}
	if got := keys(); !slices.Equal(got, want) {
		t.Fatalf("keys after the resolves = %v, want %v (the resolves empty paged:alice)", got, want)
	}
	if n, err := s.DeleteResolved(t.Context(), tUpgrade.Add(time.Hour), 10); err != nil || n != 3 {
		t.Fatalf("DeleteResolved = %d, %v", n, err)
	}
	if got := keys(); len(got) != 0 {
		t.Errorf("keys left after retention: %v", got)
	}
}

// seedPosted writes an open, an acked and a resolved incident, each with a
// Slack page, as a version without the posted index did (the index is
// removed by the caller).
func seedPosted(t *testing.T, s store.Store) []int64 {
	t.Helper()
	var ids []int64
	for i, st := range []store.Status{store.StatusOpen, store.StatusAcked, store.StatusResolved} {
		inc, err := s.UpdateByKey(t.Context(), fmt.Sprintf("posted/%d", i), func(*store.Incident) (*store.Change, error) {
			return &store.Change{Incident: &store.Incident{Status: st, CreatedAt: tUpgrade}, Deliveries: []store.Delivery{
				{Kind: store.DeliveryPage, Channel: "slack", Chat: "ops", To: "C0OPS", ProviderID: fmt.Sprintf("C0OPS/17000000%02d.000100", i), At: tUpgrade}}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, inc.Incident.ID)
	}
	return ids
}

// checkPosted: the open and acked incidents' pages are found by provider
// id; the resolved one's, left out of the upgrade, is not.
func checkPosted(t *testing.T, s store.Store, ids []int64) {
	t.Helper()
	for i, id := range ids {
		d, err := s.Posted(t.Context(), "slack", fmt.Sprintf("C0OPS/17000000%02d.000100", i))
		switch {
		case i < 2 && (err != nil || d.Incident != id):
			t.Errorf("Posted of incident %d's page after the upgrade = %+v, %v", id, d, err)
		case i == 2 && !errors.Is(err, store.ErrNotFound):
			t.Errorf("Posted of the resolved incident's page after the upgrade = %+v, %v; want ErrNotFound", d, err)
		}
	}
}

// TestBoltIndexesPostedOnOpen: a file written before the posted index gets
// its open and acked incidents' deliveries indexed when it opens, once.
func TestBoltIndexesPostedOnOpen(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(t.Context(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	ids := seedPosted(t, s)
	s.Close()
	db, err := bolt.Open(filepath.Join(dir, store.BoltFileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("deliveries_posted")) })
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		s, err = store.Open(t.Context(), "", dir)
		if err != nil {
			t.Fatal(err)
		}
		checkPosted(t, s, ids)
		s.Close()
	}
}

// TestRedisBackfillsPosted: on Redis, BackfillPosted (run by serve at
// start) indexes the open and acked incidents' deliveries, once.
func TestRedisBackfillsPosted(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	s, err := store.Open(t.Context(), srv.URL()+"?prefix=posted", "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ids := seedPosted(t, s)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	if n, err := rdb.Del(t.Context(), "hikyaku:{posted}:posted").Result(); err != nil || n != 1 {
		t.Fatalf("deleting the posted hash: %d, %v", n, err)
	}
	r := s.(*store.Redis)
	for i, want := range []int{2, 0} { // the second run finds it done
		n, err := r.BackfillPosted(t.Context())
		if err != nil || n != want {
			t.Fatalf("run %d: BackfillPosted = %d, %v; want %d", i+1, n, err, want)
		}
		checkPosted(t, s, ids)
	}
	// Retention takes the resolved incidents' entries with them.
	if _, err := s.Update(t.Context(), ids[0], func(cur *store.Incident) (*store.Change, error) {
		cur.Status, cur.ResolvedAt = store.StatusResolved, tUpgrade
		return &store.Change{Incident: cur}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteResolved(t.Context(), tUpgrade.Add(time.Hour), 10); err != nil || n != 2 {
		t.Fatalf("DeleteResolved = %d, %v; want 2", n, err)
	}
	if fields, err := rdb.HKeys(t.Context(), "hikyaku:{posted}:posted").Result(); err != nil || len(fields) != 1 {
		t.Errorf("posted fields after retention = %q, %v; want the acked incident's only", fields, err)
	}
}
