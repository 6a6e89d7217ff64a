package store_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"

	"github.com/hikyaku/hikyaku/internal/redistest"
	"github.com/hikyaku/hikyaku/store"
)

// legacyKey is a dedup key over 512 bytes but under bbolt's 32 KiB limit:
// versions before long keys were indexed by digest stored it as it is.
var legacyKey = "r/{}:{" + strings.Repeat("l", 2000) + "}"

// digestOf is the index form, computed here independently of store.IndexKey.
func digestOf(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func TestIndexKey(t *testing.T) {
	short := strings.Repeat("a", 512)
	if got := store.IndexKey(short); got != short {
		t.Fatalf("a key of 512 bytes is indexed as %q, want itself", got)
	}
	if got, want := store.IndexKey("r/"+strings.Repeat("a", 511)), digestOf("r/"+strings.Repeat("a", 511)); got != want {
		t.Fatalf("a key of 513 bytes is indexed as %q, want %q", got, want)
	}
	// from: head -c 513 /dev/zero | tr '\0' a | sha256sum
	if got, want := store.IndexKey(strings.Repeat("a", 513)), "sha256:02425c0f5b0dabf3d2b9115f3f7723a02ad8bcfb1534a0d231614fd42b8188f6"; got != want {
		t.Fatalf("IndexKey(a×513) = %q, want %q", got, want)
	}
}

// openIncident creates an incident for key and returns its id.
func openIncident(t *testing.T, s store.Store, key string) int64 {
	t.Helper()
	incRes, err := s.UpdateByKey(t.Context(), key, func(cur *store.Incident) (*store.Change, error) {
		return &store.Change{Incident: &store.Incident{Status: store.StatusOpen}}, nil
	})
	inc := incRes.Incident
	if err != nil {
		t.Fatal(err)
	}
	return inc.ID
}

// findByKey fails unless key leads to incident want.
func findByKey(t *testing.T, s store.Store, key string, want int64) {
	t.Helper()
	_, err := s.UpdateByKey(t.Context(), key, func(cur *store.Incident) (*store.Change, error) {
		if cur == nil || cur.ID != want {
			return nil, fmt.Errorf("key leads to %+v, want incident %d", cur, want)
		}
		cur.Severity = "critical"
		return &store.Change{Incident: cur}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBoltIndexesLegacyLongKeysAtOpen: an incident opened under a long key
// as it is (before digests) is found by that key after an upgrade, and the
// index holds the digest only.
func TestBoltIndexesLegacyLongKeysAtOpen(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(t.Context(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	id := openIncident(t, s, legacyKey)
	s.Close()

	path := filepath.Join(dir, store.BoltFileName)
	rewriteKeys(t, path, func(keys *bolt.Bucket) error {
		v := keys.Get([]byte(digestOf(legacyKey)))
		if v == nil {
			return fmt.Errorf("the long key is not indexed under its digest")
		}
		v = append([]byte(nil), v...)
		if err := keys.Delete([]byte(digestOf(legacyKey))); err != nil {
			return err
		}
		return keys.Put([]byte(legacyKey), v) // as the old version wrote it
	})

	s, err = store.Open(t.Context(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	findByKey(t, s, legacyKey, id)
	s.Close()
	rewriteKeys(t, path, func(keys *bolt.Bucket) error {
		if keys.Get([]byte(legacyKey)) != nil || keys.Get([]byte(digestOf(legacyKey))) == nil {
			return fmt.Errorf("after open the index still holds the key as it is, or not its digest")
		}
		return nil
	})
}

func rewriteKeys(t *testing.T, path string, fn func(keys *bolt.Bucket) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error { return fn(tx.Bucket([]byte("keys"))) }); err != nil {
		t.Fatal(err)
	}
}

// TestRedisFindsLegacyLongKeys: Redis replicas cannot be upgraded in one
// pass, so a long key as it is stays readable; the first write moves it to
// the digest and a resolve deletes both.
func TestRedisFindsLegacyLongKeys(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	s, err := store.Open(t.Context(), srv.URL()+"?prefix=legacy", "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	ctx := t.Context()
	base := "hikyaku:{legacy}:key:"

	id := openIncident(t, s, legacyKey)
	if n, err := rdb.Exists(ctx, base+digestOf(legacyKey)).Result(); err != nil || n != 1 {
		t.Fatalf("digest key exists = %d, %v; want 1", n, err)
	}
	if err := rdb.Rename(ctx, base+digestOf(legacyKey), base+legacyKey).Err(); err != nil {
		t.Fatal(err)
	}
	findByKey(t, s, legacyKey, id)
	if n, _ := rdb.Exists(ctx, base+legacyKey).Result(); n != 0 {
		t.Fatal("the write kept the key as it is next to its digest")
	}
	if got, _ := rdb.Get(ctx, base+digestOf(legacyKey)).Result(); got != fmt.Sprint(id) {
		t.Fatalf("digest key holds %q, want %d", got, id)
	}

	// A resolve of a still-legacy incident frees it too.
	if err := rdb.Rename(ctx, base+digestOf(legacyKey), base+legacyKey).Err(); err != nil {
		t.Fatal(err)
	}
	_, err = s.Update(ctx, id, func(cur *store.Incident) (*store.Change, error) {
		cur.Status = store.StatusResolved
		return &store.Change{Incident: cur}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.Exists(ctx, base+legacyKey, base+digestOf(legacyKey)).Result(); n != 0 {
		t.Fatalf("%d dedup keys left after resolve, want 0", n)
	}
	if again := openIncident(t, s, legacyKey); again == id {
		t.Fatal("after resolve the key still led to the resolved incident")
	}
}
