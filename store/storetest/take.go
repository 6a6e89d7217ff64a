package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// take calls Take and fails the test on error.
func take(t *testing.T, s store.RateWindows, key string, limit int, window time.Duration, now time.Time) (bool, time.Time) {
	t.Helper()
	ok, next, err := s.Take(ctx(t), key, limit, window, now)
	if err != nil {
		t.Fatalf("Take(%q, %d, %s, %s): %v", key, limit, window, now.Format(time.TimeOnly), err)
	}
	return ok, next
}

func testTakeSlidingWindow(t *testing.T, s store.RateWindows) {
	for i, at := range []time.Duration{0, 10 * time.Second, 20 * time.Second} {
		if ok, _ := take(t, s, "rate/alice/sms", 3, time.Minute, t0.Add(at)); !ok {
			t.Fatalf("send %d at +%s refused with the window not full", i+1, at)
		}
	}
	ok, next := take(t, s, "rate/alice/sms", 3, time.Minute, t0.Add(30*time.Second))
	if ok || !next.Equal(t0.Add(time.Minute)) {
		t.Fatalf("fourth send in a minute: ok %v next %v, want refused until t0+1m (the first send leaves the window)", ok, next)
	}
	if ok, _ := take(t, s, "rate/bob/sms", 3, time.Minute, t0.Add(30*time.Second)); !ok {
		t.Fatal("bob's first send refused: keys must count apart")
	}
	if ok, _ := take(t, s, "rate/alice/voice", 3, time.Minute, t0.Add(30*time.Second)); !ok {
		t.Fatal("alice's first call refused: keys must count apart")
	}
	if ok, _ := take(t, s, "rate/alice/sms", 3, time.Minute, t0.Add(time.Minute-time.Millisecond)); ok {
		t.Fatal("admitted before the first send left the window")
	}
	// A refusal is not a send: the slot freed at t0+1m is there to take.
	if ok, _ := take(t, s, "rate/alice/sms", 3, time.Minute, t0.Add(time.Minute)); !ok {
		t.Fatal("refused at t0+1m, when the first send left the window")
	}
	ok, next = take(t, s, "rate/alice/sms", 3, time.Minute, t0.Add(time.Minute))
	if ok || !next.Equal(t0.Add(70*time.Second)) {
		t.Fatalf("full again: ok %v next %v, want refused until t0+1m10s", ok, next)
	}
	// A lowered limit waits for enough sends to leave, not just the oldest.
	ok, next = take(t, s, "rate/alice/sms", 1, time.Minute, t0.Add(time.Minute))
	if ok || !next.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("limit lowered to 1: ok %v next %v, want refused until t0+2m", ok, next)
	}
	if _, _, err := s.Take(ctx(t), "rate/x", 0, time.Minute, t0); err == nil {
		t.Fatal("limit 0 accepted")
	}
	if _, _, err := s.Take(ctx(t), "rate/x", 1, 0, t0); err == nil {
		t.Fatal("window 0 accepted")
	}
}

func testTakeConcurrentNeverExceeds(t *testing.T, s store.RateWindows) {
	const limit, callers, each = 5, 8, 10
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for g := range callers {
		wg.Go(func() {
			for i := range each {
				// Every caller within the same second: only the limit gets through.
				now := t0.Add(time.Duration(g*each+i) * time.Millisecond)
				ok, _, err := s.Take(ctx(t), "rate/burst/sms", limit, time.Minute, now)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					admitted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := admitted.Load(); n != limit {
		t.Fatalf("%d concurrent takes admitted %d, want exactly %d", callers*each, n, limit)
	}
}
