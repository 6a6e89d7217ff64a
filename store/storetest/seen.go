package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// testSeenOnceUntilExpiry: a key is first once, then not while its record
// lasts, and first again after it expired or was forgotten; keys are
// independent, long keys work, and bad arguments are refused.
func testSeenOnceUntilExpiry(t *testing.T, s store.Replays) {
	seen := func(key string, ttl time.Duration, want bool) {
		t.Helper()
		first, err := s.Seen(ctx(t), key, ttl)
		if err != nil {
			t.Fatalf("Seen(%.40q): %v", key, err)
		}
		if first != want {
			t.Fatalf("Seen(%.40q) first = %v, want %v", key, first, want)
		}
	}
	long := strings.Repeat("k", 40<<10) // longer than bbolt's key limit
	for _, key := range []string{"sms:SM1", "link:abc", long} {
		seen(key, time.Hour, true)
		seen(key, time.Hour, false)
		seen(key, time.Hour, false)
	}
	seen(long[:len(long)-1], time.Hour, true)

	// Expiry: a short record, waited out. Only "after" is asserted, so a
	// slow machine cannot fail it.
	seen("short", 50*time.Millisecond, true)
	time.Sleep(200 * time.Millisecond)
	seen("short", time.Hour, true)
	seen("short", time.Hour, false)

	if err := s.Unsee(ctx(t), "sms:SM1"); err != nil {
		t.Fatal(err)
	}
	seen("sms:SM1", time.Hour, true)
	seen("link:abc", time.Hour, false)
	if err := s.Unsee(ctx(t), "never-seen"); err != nil {
		t.Errorf("Unsee of an unknown key: %v", err)
	}
	if _, err := s.Seen(ctx(t), "", time.Hour); err == nil {
		t.Error("Seen of an empty key succeeded")
	}
	if _, err := s.Seen(ctx(t), "x", 0); err == nil {
		t.Error("Seen with ttl 0 succeeded")
	}
}

// testSeenConcurrentOneFirst: of many concurrent callers with one key,
// exactly one is first.
func testSeenConcurrentOneFirst(t *testing.T, s store.Replays) {
	const callers = 16
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		firsts int
		errs   []error
	)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first, err := s.Seen(ctx(t), "slack:U1:1700000000.000100", time.Hour)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			if first {
				firsts++
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if firsts != 1 {
		t.Fatalf("%d of %d concurrent callers were first, want 1", firsts, callers)
	}
}

// testSeenSweepsExpired: expired records are dropped as Seen is used, and
// the keys still valid among them are kept.
func testSeenSweepsExpired(t *testing.T, s store.Replays) {
	for i := range 150 {
		if _, err := s.Seen(ctx(t), fmt.Sprint("old", i), 20*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Seen(ctx(t), "kept", time.Hour); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	for i := range 150 {
		first, err := s.Seen(ctx(t), fmt.Sprint("old", i), time.Hour)
		if err != nil || !first {
			t.Fatalf("old%d after its expiry: first=%v, %v", i, first, err)
		}
	}
	if first, err := s.Seen(ctx(t), "kept", time.Hour); err != nil || first {
		t.Fatalf("kept: first=%v, %v; want its record kept", first, err)
	}
}

// testWasSeenReadsWithoutWriting: WasSeen is true exactly while Seen would
// answer "not first", and looking records nothing: a key only looked at is
// still first afterwards.
func testWasSeenReadsWithoutWriting(t *testing.T, s store.Replays) {
	was := func(key string, want bool) {
		t.Helper()
		got, err := s.WasSeen(ctx(t), key)
		if err != nil {
			t.Fatalf("WasSeen(%.40q): %v", key, err)
		}
		if got != want {
			t.Fatalf("WasSeen(%.40q) = %v, want %v", key, got, want)
		}
	}
	seen := func(key string, ttl time.Duration, want bool) {
		t.Helper()
		first, err := s.Seen(ctx(t), key, ttl)
		if err != nil {
			t.Fatalf("Seen(%.40q): %v", key, err)
		}
		if first != want {
			t.Fatalf("Seen(%.40q) first = %v, want %v", key, first, want)
		}
	}
	long := strings.Repeat("w", 40<<10) // longer than bbolt's key limit
	for _, key := range []string{"act:link:sig1", long} {
		was(key, false)
		was(key, false)
		seen(key, time.Hour, true) // looking twice recorded nothing
		was(key, true)
		seen(key, time.Hour, false)
		was(key, true)
	}
	was(long[:len(long)-1], false)
	was("act:link:other", false)

	if err := s.Unsee(ctx(t), "act:link:sig1"); err != nil {
		t.Fatal(err)
	}
	was("act:link:sig1", false)

	// An expired record is no record. Only "after" is asserted, so a slow
	// machine cannot fail it.
	seen("short", 50*time.Millisecond, true)
	time.Sleep(200 * time.Millisecond)
	was("short", false)
	seen("short", time.Hour, true)
}
