package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"

	"github.com/hikyaku/hikyaku/internal/redistest"
	"github.com/hikyaku/hikyaku/store"
)

// The layout 1 fixtures' incidents (testdata/README.md), written here from
// the generator's literals, not read back through the store.
var (
	fixtureLongKey = "ops/" + strings.Repeat("x", 600)
	fixtureMsgs    = map[int64]string{
		1: `{"version":"4","status":"firing","receiver":"ops","groupKey":"g1","alerts":[{"status":"firing","labels":{"alertname":"A"}}]}`,
		2: `{"version":"4","status":"resolved","receiver":"ops","groupKey":"g2","alerts":[{"status":"resolved","labels":{"alertname":"B"}}]}`,
		3: `{"version":"4","status":"firing","receiver":"ops","groupKey":"long","alerts":[]}`,
	}
	fixtureT0 = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
)

// checkLayout1Fixture checks a store opened on the layout 1 fixture reads
// and writes it as the version that wrote it did.
func checkLayout1Fixture(t *testing.T, s store.Store) {
	ctx := t.Context()
	for id, msg := range fixtureMsgs {
		inc, err := s.Get(ctx, id)
		if err != nil {
			t.Fatalf("incident %d: %v", id, err)
		}
		if string(inc.Message) != msg {
			t.Errorf("incident %d message = %s, want %s", id, inc.Message, msg)
		}
		evs, err := s.Timeline(ctx, id)
		if err != nil || len(evs) == 0 || evs[0].Type != "created" {
			t.Errorf("incident %d timeline = %+v (%v), want it to start with created", id, evs, err)
		}
	}
	// The open incident and the acked one under a long key are still found
	// by their keys: an Alertmanager post updates them, not a new incident.
	for key, want := range map[string]int64{"ops/g1": 1, fixtureLongKey: 3} {
		res, err := s.UpdateByKey(ctx, key, func(cur *store.Incident) (*store.Change, error) {
			if cur == nil {
				return nil, nil
			}
			inc := *cur
			inc.UpdatedAt = fixtureT0.Add(time.Hour)
			return &store.Change{Incident: &inc, Events: []store.Event{{At: fixtureT0.Add(time.Hour), Type: "alerts_changed"}}}, nil
		})
		if err != nil || res.Incident == nil || res.Incident.ID != want {
			t.Fatalf("UpdateByKey(%.10q) = %+v (%v), want incident %d", key, res.Incident, err, want)
		}
		inc, err := s.Get(ctx, want)
		if err != nil || string(inc.Message) != fixtureMsgs[want] || !inc.UpdatedAt.Equal(fixtureT0.Add(time.Hour)) {
			t.Errorf("incident %d after a write = %+v (%v), want its message kept and the new UpdatedAt", want, inc, err)
		}
	}
	// Incident 1's step timer (a–c by creation order) is still pending.
	cs, err := s.ClaimDue(ctx, fixtureT0.Add(time.Hour), "t", time.Minute, 10)
	if err != nil || len(cs) != 1 || cs[0].ID != "step/a" || cs[0].IncidentID != 1 {
		t.Errorf("ClaimDue = %+v (%v), want incident 1's step/a", cs, err)
	}
	page, err := s.Query(ctx, store.ListOptions{Department: "infra", Oldest: true})
	if err != nil || len(page.Incidents) != 3 || string(page.Incidents[1].Message) != fixtureMsgs[2] {
		t.Errorf("Query = %d incidents (%v), want 3 with their messages", len(page.Incidents), err)
	}
	n, err := s.DeleteResolved(ctx, fixtureT0.Add(time.Hour), 10)
	if err != nil || n != 1 {
		t.Errorf("DeleteResolved = %d (%v), want the resolved incident 2", n, err)
	}
	if _, err := s.Get(ctx, 2); err == nil {
		t.Errorf("incident 2 still there after retention")
	}
}

// TestBoltOpensLayout1File: a file written before messages were kept apart
// is upgraded at open; every record loses its message to the messages
// bucket, and the store reads and writes it as before.
func TestBoltOpensLayout1File(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, store.BoltFileName)
	data, err := os.ReadFile("testdata/layout1.db")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	checkLayout1Fixture(t, s)
	s.Close()

	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket([]byte("meta")).Get([]byte("layout")); !bytes.Equal(v, []byte{0, 0, 0, 0, 0, 0, 0, 2}) {
			t.Errorf("layout = %x, want 2", v)
		}
		tx.Bucket([]byte("incidents")).ForEach(func(k, v []byte) error {
			if bytes.Contains(v, []byte(`"message"`)) {
				t.Errorf("record %x still holds its message: %s", k, v)
			}
			return nil
		})
		for _, id := range []byte{1, 3} {
			if m := tx.Bucket([]byte("messages")).Get([]byte{0, 0, 0, 0, 0, 0, 0, id}); string(m) != fixtureMsgs[int64(id)] {
				t.Errorf("messages[%d] = %s, want %s", id, m, fixtureMsgs[int64(id)])
			}
		}
		return nil
	})
}

// TestBoltRefusesNewerLayout: a file from a newer version is not guessed at.
func TestBoltRefusesNewerLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), store.BoltFileName)
	s, err := store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("layout"), []byte{0, 0, 0, 0, 0, 0, 0, 3})
	})
	db.Close()
	if s, err := store.OpenBolt(path); err == nil || !strings.Contains(err.Error(), "layout 3, newer") {
		if s != nil {
			s.Close()
		}
		t.Fatalf("open of a layout 3 file: %v, want refused", err)
	}
}

// TestRedisOpensLayout1Keys: keys written before messages were kept apart
// are read as they are, upgraded at open, and read and written as before.
func TestRedisOpensLayout1Keys(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	loadRedisFixture(t, rdb, "testdata/redis_layout1.json", "up1")

	s, err := store.Open(t.Context(), srv.URL()+"?prefix=up1", "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	store.UseCallerClock(s)
	if v, _ := rdb.Get(t.Context(), "hikyaku:{up1}:layout").Result(); v != "2" {
		t.Errorf("layout = %q, want 2", v)
	}
	for id := range fixtureMsgs {
		key := "hikyaku:{up1}:incident:" + string(rune('0'+id))
		if rec, _ := rdb.Get(t.Context(), key).Result(); strings.Contains(rec, `"message"`) {
			t.Errorf("%s still holds its message: %s", key, rec)
		}
	}
	checkLayout1Fixture(t, s)
}

// TestRedisReadsLayout1Record: a record still holding its message (a
// replica of layout 1 wrote it after the upgrade, or the upgrade has not
// reached it) reads and updates as any other.
func TestRedisReadsLayout1Record(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	loadRedisFixture(t, rdb, "testdata/redis_layout1.json", "up2")
	// The layout says upgraded: nothing moves the messages at open.
	rdb.Set(t.Context(), "hikyaku:{up2}:layout", 2, 0)
	s, err := store.Open(t.Context(), srv.URL()+"?prefix=up2", "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	store.UseCallerClock(s)
	checkLayout1Fixture(t, s)
	msg, _ := rdb.Get(t.Context(), "hikyaku:{up2}:message:1").Result()
	if msg != fixtureMsgs[1] {
		t.Errorf("message:1 after incident 1's write = %q, want its message moved there", msg)
	}
}

// loadRedisFixture writes a key dump (layout1_gen.go.txt's format) under prefix.
func loadRedisFixture(t *testing.T, rdb *redis.Client, path, prefix string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var dump map[string]struct {
		Type  string          `json:"type"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(data, &dump); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for k, v := range dump {
		k = strings.Replace(k, "{fixture}", "{"+prefix+"}", 1)
		var err error
		switch v.Type {
		case "string":
			var s string
			json.Unmarshal(v.Value, &s)
			err = rdb.Set(ctx, k, s, 0).Err()
		case "list":
			var l []string
			json.Unmarshal(v.Value, &l)
			err = rdb.RPush(ctx, k, toAny(l)...).Err()
		case "set":
			var l []string
			json.Unmarshal(v.Value, &l)
			err = rdb.SAdd(ctx, k, toAny(l)...).Err()
		case "hash":
			var h map[string]string
			json.Unmarshal(v.Value, &h)
			err = rdb.HSet(ctx, k, h).Err()
		case "zset":
			var zs []struct {
				Score  float64
				Member string
			}
			json.Unmarshal(v.Value, &zs)
			for _, z := range zs {
				if err = rdb.ZAdd(ctx, k, redis.Z{Score: z.Score, Member: z.Member}).Err(); err != nil {
					break
				}
			}
		default:
			t.Fatalf("fixture key %s: type %q", k, v.Type)
		}
		if err != nil {
			t.Fatalf("fixture key %s: %v", k, err)
		}
	}
}

func toAny(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}
