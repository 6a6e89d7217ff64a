package store

import (
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hikyaku/hikyaku/internal/redistest"
)

// -bench.retention.batch is the deletes per retention batch; 500 is router's.
var benchRetentionBatch = flag.Int("bench.retention.batch", 500, "incidents one retention batch deletes")

// BenchmarkIntakeDuringRetention measures the latency of intake's write (a
// new incident with its message, two events and its step timer) offered at
// 1,000/s, first alone, then while retention deletes -bench.incidents
// expired incidents as router's job does (batches of 500, 50 ms apart;
// -bench.retention.batch changes the 500):
//
//	go test ./store/ -run '^$' -bench BenchmarkIntakeDuringRetention -benchtime 1x -v -args -bench.incidents=100000
func BenchmarkIntakeDuringRetention(b *testing.B) {
	b.Run("bolt", func(b *testing.B) {
		s, err := OpenBolt(filepath.Join(b.TempDir(), "r.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		fillBolt(b, s, *benchIncidents, benchBase)
		intakeDuringRetention(b, s)
	})
	b.Run("redis", func(b *testing.B) {
		srv := redistest.Start(b, redistest.Options{AppendOnly: true, Args: []string{"--appendfsync", "everysec"}})
		s := NewRedis(redis.NewClient(&redis.Options{Addr: srv.Addr()}), RedisOptions{Prefix: "bench"})
		defer s.Close()
		fillRedis(b, s, *benchIncidents, benchBase)
		intakeDuringRetention(b, s)
	})
}

func intakeDuringRetention(b *testing.B, s Store) {
	const rate, pause = 1000, 50 * time.Millisecond
	batch := *benchRetentionBatch
	keys := 0
	// intake offers writes at rate until stop closes and returns their latencies.
	intake := func(stop <-chan struct{}) []time.Duration {
		var mu sync.Mutex
		var lat []time.Duration
		var wg sync.WaitGroup
		start := time.Now()
		for i := 0; ; i++ {
			select {
			case <-stop:
				wg.Wait()
				return lat
			default:
			}
			time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / rate)))
			keys++
			key := fmt.Sprintf("live/%d", keys)
			wg.Go(func() {
				t0 := time.Now()
				now := benchBase.Add(time.Duration(*benchIncidents) * 3 * time.Minute)
				_, err := s.UpdateByKey(b.Context(), key, func(*Incident) (*Change, error) {
					return &Change{Incident: &Incident{CreatedAt: now, UpdatedAt: now, Department: "ops", Severity: "critical", Message: benchMsg},
						Events:   []Event{{At: now, Type: "created"}, {At: now, Type: "routed"}},
						Schedule: []Timer{{ID: key + "/step/0", Due: now.Add(time.Hour), Kind: "step"}}}, nil
				})
				d := time.Since(t0)
				if err != nil {
					b.Error(err)
				}
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			})
		}
	}
	for b.Loop() {
		stop := make(chan struct{})
		time.AfterFunc(3*time.Second, func() { close(stop) })
		alone := intake(stop)

		stop = make(chan struct{})
		deleted := 0
		var elapsed time.Duration
		go func() {
			defer close(stop)
			start := time.Now()
			for {
				n, err := s.DeleteResolved(b.Context(), benchBase.Add(time.Duration(*benchIncidents)*time.Minute*2), batch)
				if err != nil {
					b.Error(err)
					return
				}
				if deleted += n; n == 0 {
					elapsed = time.Since(start)
					return
				}
				time.Sleep(pause)
			}
		}()
		during := intake(stop)
		b.Logf("intake alone: %s", percentiles(alone))
		b.Logf("intake while retention deleted %d in %s (batches of %d): %s", deleted, elapsed, batch, percentiles(during))
	}
}

func percentiles(lat []time.Duration) string {
	slices.Sort(lat)
	at := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	return fmt.Sprintf("%d writes, p50 %s, p99 %s, max %s", len(lat), at(0.50).Round(10*time.Microsecond), at(0.99).Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond))
}
