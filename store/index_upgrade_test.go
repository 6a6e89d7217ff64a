package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"

	"github.com/hikyaku/hikyaku/internal/redistest"
	"github.com/hikyaku/hikyaku/store"
)

// seedIncidents creates n incidents in department db and returns their ids.
func seedIncidents(t *testing.T, s store.Store, n int) []int64 {
	t.Helper()
	var ids []int64
	for i := range n {
		incRes, err := s.UpdateByKey(t.Context(), fmt.Sprintf("up/%d", i), func(*store.Incident) (*store.Change, error) {
			return &store.Change{Incident: &store.Incident{Department: "db",
				CreatedAt: time.Date(2030, 1, 1, 0, i, 0, 0, time.UTC)}}, nil
		})
		inc := incRes.Incident
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, inc.ID)
	}
	return ids
}

func deptIDs(t *testing.T, s store.Store) []int64 {
	t.Helper()
	page, err := s.Query(t.Context(), store.ListOptions{Department: "db", Oldest: true})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, inc := range page.Incidents {
		ids = append(ids, inc.ID)
	}
	return ids
}

// TestBoltIndexesOldFileOnOpen: a file written before the query indexes
// existed gets them at open, so its incidents are not invisible to queries.
func TestBoltIndexesOldFileOnOpen(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(t.Context(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	want := seedIncidents(t, s, 3)
	s.Close()
	// What an older version's file looks like: no index buckets.
	db, err := bolt.Open(filepath.Join(dir, store.BoltFileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range []string{"index", "index_meta"} {
			if err := tx.DeleteBucket([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err = store.Open(t.Context(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := deptIDs(t, s); !slices.Equal(got, want) {
		t.Fatalf("after reopening an unindexed file: %v, want %v", got, want)
	}
}

// TestRedisReindex: incidents an older version wrote are counted as
// unindexed and found by queries once reindexed.
func TestRedisReindex(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	s := openRedis(t, srv.URL())
	defer s.Close()
	want := seedIncidents(t, s, 5)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, "hikyaku:*:ix:*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("index keys: %v, %v", keys, err)
	}
	metas, _ := rdb.Keys(ctx, "hikyaku:*:index_meta").Result()
	if err := rdb.Del(ctx, append(keys, metas...)...).Err(); err != nil {
		t.Fatal(err)
	}
	r := s.(*store.Redis)
	if n, err := r.Unindexed(ctx); err != nil || n != 5 {
		t.Fatalf("Unindexed = %d, %v; want 5", n, err)
	}
	if got := deptIDs(t, s); len(got) != 0 {
		t.Fatalf("before reindex: %v", got)
	}
	if n, err := r.Reindex(ctx); err != nil || n != 5 {
		t.Fatalf("Reindex = %d, %v; want 5", n, err)
	}
	if n, err := r.Reindex(ctx); err != nil || n != 0 {
		t.Fatalf("second Reindex = %d, %v; want 0", n, err)
	}
	if n, _ := r.Unindexed(ctx); n != 0 {
		t.Fatalf("Unindexed after reindex = %d", n)
	}
	if got := deptIDs(t, s); !slices.Equal(got, want) {
		t.Fatalf("after reindex: %v, want %v", got, want)
	}
}
