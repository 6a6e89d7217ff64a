package policies

import (
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/config"
)

// The goals in the comments are the budgets docs/oncall.md promises for
// the generated company (GenLargeConfig); compare with -benchmem output.

func largeSet(b *testing.B) *Set {
	b.Helper()
	cfg, err := config.Parse(GenLargeConfig(1), "large.yml")
	if err != nil {
		b.Fatal(err)
	}
	return Compile(cfg)
}

// BenchmarkLoad parses, validates and compiles the whole file, as a reload does. Goal: < 200 ms.
func BenchmarkLoad(b *testing.B) {
	data := GenLargeConfig(1)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		cfg, err := config.Parse(data, "large.yml")
		if err != nil {
			b.Fatal(err)
		}
		Compile(cfg)
	}
}

// BenchmarkShiftsOneYear lays out one windowed, overridden 12h rotation over a year. Goal: < 50 ms.
func BenchmarkShiftsOneYear(b *testing.B) {
	s := largeSet(b)
	// rot-0-2 has shift 12h (2 % 3) and the nights + us-daytime windows (2 % 5).
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(1, 0, 0)
	for b.Loop() {
		if _, err := s.Shifts("rot-0-2", from, to); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCoverageGaps28d checks every policy's first step over four weeks. Goal: < 1 s.
func BenchmarkCoverageGaps28d(b *testing.B) {
	s := largeSet(b)
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		s.CoverageGaps(from, from.Add(28*24*time.Hour))
	}
}

// BenchmarkOnCall is the hot path of every page: one rotation at one instant.
func BenchmarkOnCall(b *testing.B) {
	s := largeSet(b)
	at := time.Date(2026, 7, 15, 3, 0, 0, 0, time.UTC)
	for b.Loop() {
		s.OnCall("rot-0-2", at)
	}
}

// BenchmarkOnCallFarFuture shows finding the turn is O(1), not a scan from start.
func BenchmarkOnCallFarFuture(b *testing.B) {
	s := largeSet(b)
	at := time.Date(2046, 7, 15, 3, 0, 0, 0, time.UTC)
	for b.Loop() {
		s.OnCall("rot-0-2", at)
	}
}

// BenchmarkCompile is BenchmarkLoad without config.Parse: this package's share of a reload.
func BenchmarkCompile(b *testing.B) {
	cfg, err := config.Parse(GenLargeConfig(1), "large.yml")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		Compile(cfg)
	}
}
