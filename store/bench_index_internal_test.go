package store

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"

	"github.com/hikyaku/hikyaku/internal/redistest"
)

// -bench.incidents sets how many resolved incidents the store benchmarks
// generate (plus one open per hundred). The figure is 1,000,000;
// 100,000 is what a shared 2-core machine generates in reasonable time.
var benchIncidents = flag.Int("bench.incidents", 100_000, "resolved incidents the query/retention benchmarks generate")

// -bench.keep names a directory where BenchmarkBoltOpen leaves its file (as
// hikyaku.db, reused when there), so a daemon's start can be timed on it.
var benchKeep = flag.String("bench.keep", "", "directory where BenchmarkBoltOpen keeps (and reuses) its file")

var benchDepts = []string{"engineering", "payments", "platform", "data", "security", "support", "sales", "ops"}

// benchIncident is the i-th generated incident: created a minute apart,
// resolved 10 minutes after, with a 2 KiB message.
func benchIncident(i int, open bool, base time.Time, msg []byte) *Incident {
	created := base.Add(time.Duration(i) * time.Minute)
	inc := &Incident{Key: fmt.Sprintf("bench/%d", i), Status: StatusResolved, CreatedAt: created, UpdatedAt: created,
		ResolvedAt: created.Add(10 * time.Minute), Department: benchDepts[i%len(benchDepts)],
		Severity: []string{"critical", "warning"}[i%2], Route: fmt.Sprintf("route-%d", i%20), Policy: fmt.Sprintf("policy-%d", i%5),
		AckedBy: fmt.Sprintf("user-%d", i%50), Message: msg, Escalation: Escalation{Step: 1}}
	if open {
		inc.Status, inc.ResolvedAt, inc.AckedBy = StatusOpen, time.Time{}, ""
	}
	return inc
}

var benchMsg = []byte(`{"receiver":"hikyaku","status":"firing","pad":"` + fmt.Sprintf("%02048d", 0) + `"}`)

// fillBolt writes n resolved and n/100 open incidents straight into
// transactions of 10,000 (the store API would fsync each).
func fillBolt(tb testing.TB, s *Bolt, n int, base time.Time) {
	total := n + n/100
	for start := 0; start < total; start += 10_000 {
		err := s.db.Update(func(tx *bolt.Tx) error {
			for i := start; i < min(start+10_000, total); i++ {
				inc := benchIncident(i, i >= n, base, benchMsg)
				_, err := applyChange(tx, nil, inc.Key, func(*Incident) (*Change, error) {
					return &Change{Incident: inc, Events: []Event{{At: inc.CreatedAt, Type: "created"}, {At: inc.ResolvedAt, Type: "resolved"}}}, nil
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// fillRedis writes through the store API from 64 writers (pipelined).
func fillRedis(tb testing.TB, s *Redis, n int, base time.Time) {
	total := n + n/100
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < total; i += 64 {
				inc := benchIncident(i, i >= n, base, benchMsg)
				_, err := s.UpdateByKey(context.Background(), inc.Key, func(*Incident) (*Change, error) {
					c := *inc
					c.Key = ""
					return &Change{Incident: &c, Events: []Event{{At: inc.CreatedAt, Type: "created"}, {At: inc.ResolvedAt, Type: "resolved"}}}, nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		tb.Fatal(err)
	}
}

var benchBase = time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)

// benchQueries are the filtered pages of 50 measured.
var benchQueries = map[string]ListOptions{
	"department":          {Department: "payments", Limit: 50},
	"open":                {Status: StatusOpen, Limit: 50},
	"resolved+department": {Status: StatusResolved, Department: "payments", Limit: 50},
	"dept+severity+route": {Department: "payments", Severity: "warning", Route: "route-1", Limit: 50},
	"acked_by+opened":     {AckedBy: "user-7", OpenedAfter: benchBase.Add(24 * time.Hour), OpenedBefore: benchBase.Add(72 * time.Hour), Limit: 50},
	"resolved range":      {ResolvedAfter: benchBase.Add(24 * time.Hour), ResolvedBefore: benchBase.Add(48 * time.Hour), Oldest: true, Limit: 50},
}

func benchQuery(b *testing.B, q func(context.Context, ListOptions) (Page, error)) {
	for name, opt := range benchQueries {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				page, err := q(b.Context(), opt)
				if err != nil || len(page.Incidents) == 0 {
					b.Fatalf("%v: %d, %v", opt, len(page.Incidents), err)
				}
			}
		})
	}
}

// BenchmarkQueryBolt: go test -run '^$' -bench BenchmarkQueryBolt -benchtime 200x ./store/ [-bench.incidents 1000000]
func BenchmarkQueryBolt(b *testing.B) {
	path := filepath.Join(b.TempDir(), "q.db")
	s, err := OpenBolt(path)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	fillBolt(b, s, *benchIncidents, benchBase)
	b.Logf("generated %d+%d incidents in %s", *benchIncidents, *benchIncidents/100, time.Since(start))
	benchQuery(b, s.Query)
	s.Close()
	st, _ := os.Stat(path)
	start = time.Now()
	s, err = OpenBolt(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("reopen of a %d MiB file: %s", st.Size()>>20, time.Since(start))
	start = time.Now()
	deleted := 0
	for {
		n, err := s.DeleteResolved(b.Context(), benchBase.Add(time.Duration(*benchIncidents)*time.Minute*2), 500)
		if err != nil {
			b.Fatal(err)
		}
		if deleted += n; n == 0 {
			break
		}
	}
	b.Logf("retention deleted %d in %s (batches of 500, no pause)", deleted, time.Since(start))
	s.Close()
}

// BenchmarkQueryRedis: go test -run '^$' -bench BenchmarkQueryRedis -benchtime 200x ./store/
func BenchmarkQueryRedis(b *testing.B) {
	srv := redistest.Start(b, redistest.Options{})
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	s := NewRedis(rdb, RedisOptions{Prefix: "bench"})
	defer s.Close()
	before, _ := rdb.Info(b.Context(), "memory").Result()
	start := time.Now()
	fillRedis(b, s, *benchIncidents, benchBase)
	after, _ := rdb.Info(b.Context(), "memory").Result()
	b.Logf("generated %d+%d incidents in %s; used_memory %d -> %d bytes", *benchIncidents, *benchIncidents/100, time.Since(start), usedMemory(before), usedMemory(after))
	benchQuery(b, s.Query)
	start = time.Now()
	deleted := 0
	for {
		n, err := s.DeleteResolved(b.Context(), benchBase.Add(time.Duration(*benchIncidents)*time.Minute*2), 500)
		if err != nil {
			b.Fatal(err)
		}
		if deleted += n; n == 0 {
			break
		}
	}
	end, _ := rdb.Info(b.Context(), "memory").Result()
	b.Logf("retention deleted %d in %s; used_memory now %d", deleted, time.Since(start), usedMemory(end))
}

func usedMemory(info string) int64 {
	var n int64
	for _, line := range strings.Split(info, "\r\n") {
		if _, err := fmt.Sscanf(line, "used_memory:%d", &n); err == nil {
			return n
		}
	}
	return -1
}

// BenchmarkBoltOpen measures the embedded store's open (the daemon start's
// bulk) on a file of -bench.incidents resolved incidents: after a clean stop
// (Close wrote the freelist, open reads it) and after a crash (the last
// commit wrote none, as every commit while running does: open rebuilds it
// from a walk of the file, see freelistForCrash; bbolt's own rebuild is
// timed too):
//
//	go test ./store/ -run '^$' -bench BenchmarkBoltOpen -benchtime 1x -v -args -bench.incidents=1000000
//
// With -bench.keep DIR the file stays in DIR for `hikyaku serve --storage.path DIR`.
func BenchmarkBoltOpen(b *testing.B) {
	path := filepath.Join(b.TempDir(), "open.db")
	if *benchKeep != "" {
		path = filepath.Join(*benchKeep, BoltFileName)
	}
	_, statErr := os.Stat(path)
	s, err := OpenBolt(path)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if statErr != nil {
		fillBolt(b, s, *benchIncidents, benchBase)
	}
	s.Close()
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	if statErr != nil {
		b.Logf("generated %d+%d incidents in %s: a %d MiB file", *benchIncidents, *benchIncidents/100, time.Since(start), st.Size()>>20)
	} else {
		b.Logf("reused %s: a %d MiB file", path, st.Size()>>20)
	}
	for b.Loop() {
		start = time.Now()
		s, err = OpenBolt(path)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("OpenBolt after a clean stop (freelist read): %s", time.Since(start))
		// A write, then a stop without Close: the freelist is stale on disk.
		if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put([]byte("bench"), []byte("x")) }); err != nil {
			b.Fatal(err)
		}
		s.w.shutdown()
		s.db.Close()
		// bbolt alone, for comparison: its rebuild is a check of every key.
		// It commits nothing, so the file is left as the crash left it.
		start = time.Now()
		db, err := bolt.Open(path, 0o600, crashOptions)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("bbolt's own open after a crash (freelist rebuilt by its consistency scan): %s", time.Since(start))
		db.Close()
		start = time.Now()
		s, err = OpenBolt(path)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("OpenBolt after a crash (freelist written by freelistForCrash's walk first): %s", time.Since(start))
		s.Close()
	}
}
