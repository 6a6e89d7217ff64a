package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/internal/redistest"
	"github.com/hikyaku/hikyaku/store"
)

// benchStores runs fn on a fresh embedded store and a fresh Redis store.
func benchStores(b *testing.B, fn func(b *testing.B, s store.Store)) {
	b.Run("bolt", func(b *testing.B) {
		s, err := store.Open(b.Context(), "", b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		fn(b, s)
	})
	b.Run("redis", func(b *testing.B) {
		srv := redistest.Start(b, redistest.Options{})
		s := openRedis(b, srv.URL())
		defer s.Close()
		fn(b, s)
	})
}

// BenchmarkClaimDue claims 10 timers at a time out of 100,000 pending ones.
// When all are claimed, the clock moves past their leases so they come due again.
func BenchmarkClaimDue(b *testing.B) {
	const incidents, perIncident, batch = 100, 1000, 10
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	benchStores(b, func(b *testing.B, s store.Store) {
		for i := range incidents {
			timers := make([]store.Timer, perIncident)
			for j := range timers {
				timers[j] = store.Timer{ID: fmt.Sprintf("step-%d-%d", i, j), Due: t0.Add(time.Duration(i*perIncident+j) * time.Millisecond), Kind: "step"}
			}
			_, err := s.UpdateByKey(b.Context(), fmt.Sprintf("r/%d", i), func(*store.Incident) (*store.Change, error) {
				return &store.Change{Incident: &store.Incident{}, Schedule: timers}, nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		now := t0.Add(time.Duration(incidents*perIncident) * time.Millisecond)
		for b.Loop() {
			cs, err := s.ClaimDue(b.Context(), now, "bench", time.Minute, batch)
			if err != nil {
				b.Fatal(err)
			}
			if len(cs) == 0 {
				now = now.Add(2 * time.Minute)
			}
		}
	})
}

// BenchmarkUpdateByKey creates one incident per op, with its first event and step timer,
// as a new Alertmanager group does.
func BenchmarkUpdateByKey(b *testing.B) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	msg := []byte(`{"version":"4","status":"firing","receiver":"ops","groupKey":"{}:{alertname=\"HighLatency\"}","alerts":[{"status":"firing","labels":{"alertname":"HighLatency","severity":"critical"}}]}`)
	benchStores(b, func(b *testing.B, s store.Store) {
		i := 0
		for b.Loop() {
			i++
			_, err := s.UpdateByKey(b.Context(), fmt.Sprintf("ops/group-%d", i), func(cur *store.Incident) (*store.Change, error) {
				return &store.Change{
					Incident: &store.Incident{Status: store.StatusOpen, CreatedAt: t0, UpdatedAt: t0, Severity: "critical", Message: msg, Escalation: store.Escalation{Step: -1}},
					Events:   []store.Event{{At: t0, Type: "created"}},
					Schedule: []store.Timer{{ID: fmt.Sprintf("%d/step/0", i), Due: t0, Kind: "step"}},
				}, nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
