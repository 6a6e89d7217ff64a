package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hikyaku/hikyaku/internal/redistest"
	"github.com/hikyaku/hikyaku/store"
	"github.com/hikyaku/hikyaku/store/storetest"
)

var prefixes atomic.Int64

// openRedis opens a store on srv under a prefix no other test uses, so one
// server serves a whole suite.
func openRedis(t testing.TB, url string) store.Store {
	t.Helper()
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	s, err := store.Open(t.Context(), fmt.Sprintf("%s%sprefix=t%d", url, sep, prefixes.Add(1)), "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRedis(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	storetest.Run(t, func(t *testing.T) store.Store {
		// The suite's clock is fake; the store's own clock is tested in
		// redis_lease_test.go.
		s := openRedis(t, srv.URL())
		store.UseCallerClock(s)
		return s
	})
}

func TestRedisIncidentsSurviveRestartWithAppendOnly(t *testing.T) {
	// always syncs the disk before replying. everysec is Redis's default AOF
	// policy: each write reaches the kernel before Redis replies, so a killed
	// and restarted Redis loses nothing it acknowledged (a power loss can lose
	// the last second) — except while an fsync is slower than a second, when
	// Redis postpones writing its AOF buffer up to 2 s but still replies
	// (docs/store.md, Durability). On a loaded machine that happens, so the
	// everysec case kills Redis once its buffer is written, which is the
	// promise; always kills it at once.
	for _, fsync := range []string{"always", "everysec"} {
		t.Run("appendfsync="+fsync, func(t *testing.T) {
			testSurviveRestart(t, redistest.Start(t, redistest.Options{AppendOnly: true, Args: []string{"--appendfsync", fsync}}), fsync == "everysec")
		})
	}
}

// aofWritten waits until Redis has written its AOF buffer to the kernel.
func aofWritten(t *testing.T, srv *redistest.Server) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := rdb.Info(t.Context(), "persistence").Result()
		if err == nil && strings.Contains(info, "aof_buffer_length:0\r\n") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Redis did not write its AOF buffer within 10 s: %v\n%s", err, info)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testSurviveRestart(t *testing.T, srv *redistest.Server, waitAOF bool) {
	s := openRedis(t, srv.URL())
	defer s.Close()
	ctx := t.Context()
	var ids []int64
	for i := range 5 {
		incRes, err := s.UpdateByKey(ctx, fmt.Sprintf("r/%d", i), func(cur *store.Incident) (*store.Change, error) {
			return &store.Change{Incident: &store.Incident{Status: store.StatusOpen},
				Schedule: []store.Timer{{ID: fmt.Sprint("step-", i), Due: time.Unix(int64(i), 0)}}}, nil
		})
		inc := incRes.Incident
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, inc.ID)
	}

	if waitAOF {
		aofWritten(t, srv)
	}
	srv.Kill()
	srv.Restart()

	for _, id := range ids {
		if _, err := s.Get(ctx, id); err != nil {
			t.Fatalf("incident %d after restart: %v", id, err)
		}
	}
	if n, err := s.Pending(ctx); err != nil || n != 5 {
		t.Fatalf("Pending after restart = %d, %v; want 5", n, err)
	}
	// The counter survived too: the next incident does not reuse an id.
	incRes, err := s.UpdateByKey(ctx, "r/new", func(cur *store.Incident) (*store.Change, error) {
		return &store.Change{Incident: &store.Incident{}}, nil
	})
	inc := incRes.Incident
	if err != nil || inc.ID != ids[len(ids)-1]+1 {
		t.Fatalf("new incident after restart = %+v, %v; want id %d", inc, err, ids[len(ids)-1]+1)
	}
}

func TestRedisDownFailsPromptlyAndRecovers(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{AppendOnly: true})
	s := openRedis(t, srv.URL()+"?dial_timeout=200ms&max_retries=1")
	defer s.Close()
	create := func(ctx context.Context, key string) error {
		_, err := s.UpdateByKey(ctx, key, func(cur *store.Incident) (*store.Change, error) {
			return &store.Change{Incident: &store.Incident{}}, nil
		})
		return err
	}
	if err := create(t.Context(), "r/before"); err != nil {
		t.Fatal(err)
	}

	srv.Kill()
	calls := map[string]func(ctx context.Context) error{
		"UpdateByKey": func(ctx context.Context) error { return create(ctx, "r/down") },
		"Get":         func(ctx context.Context) error { _, err := s.Get(ctx, 1); return err },
		"ClaimDue": func(ctx context.Context) error {
			_, err := s.ClaimDue(ctx, time.Now(), "w", time.Minute, 10)
			return err
		},
		"Ping": s.Ping,
	}
	for name, call := range calls {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		start := time.Now()
		err := call(ctx)
		cancel()
		if err == nil {
			t.Fatalf("%s with Redis down: no error", name)
		}
		if took := time.Since(start); took > 2500*time.Millisecond {
			t.Fatalf("%s with Redis down took %s", name, took)
		}
	}

	srv.Restart()
	// go-redis reconnects on its own; the first call may still see a dead pooled connection.
	var err error
	for range 3 {
		if err = create(t.Context(), "r/after"); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("same Store after restart: %v", err)
	}
	if _, err := s.Get(t.Context(), 1); err != nil {
		t.Fatalf("incident written before the crash: %v", err)
	}
}
