package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// BenchmarkSeen records new keys into a record that already holds 100,000
// live ones, as 30 days of inbound SMS of a busy team would. Filling it
// takes about two minutes on the embedded store (one fsync per key).
func BenchmarkSeen(b *testing.B) {
	benchStores(b, func(b *testing.B, s store.Store) {
		for i := range 100_000 {
			if _, err := s.Seen(b.Context(), fmt.Sprintf("act:SM%032d", i), time.Hour); err != nil {
				b.Fatal(err)
			}
		}
		for i := 0; b.Loop(); i++ {
			first, err := s.Seen(b.Context(), fmt.Sprintf("act:SMnew%029d", i), time.Hour)
			if err != nil || !first {
				b.Fatalf("first=%v, %v", first, err)
			}
		}
	})
}
