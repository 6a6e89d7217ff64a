package storetest

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// RunVerifications tests store.Verifications alone.
func RunVerifications(t *testing.T, open func(t *testing.T) store.Verifications) {
	runPart(t, open, []test[store.Verifications]{
		{"LatestPerUserAndChannel", testVerifiedLatest},
		{"ConcurrentKeepsTheLatest", testVerifiedConcurrent},
	})
}

func verified(t *testing.T, s store.Verifications) string {
	t.Helper()
	vs, err := s.Verified(ctx(t))
	if err != nil {
		t.Fatalf("Verified: %v", err)
	}
	lines := make([]string, len(vs))
	for i, v := range vs {
		lines[i] = v.User + " " + v.Channel + " " + v.At.UTC().Format(time.RFC3339Nano)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// testVerifiedLatest: each user and channel keeps its latest time, an
// earlier one changes nothing, times keep their nanoseconds.
func testVerifiedLatest(t *testing.T, s store.Verifications) {
	if got := verified(t, s); got != "" {
		t.Fatalf("empty store has verifications:\n%s", got)
	}
	set := func(user, channel string, at time.Time) {
		t.Helper()
		if err := s.SetVerified(ctx(t), user, channel, at); err != nil {
			t.Fatalf("SetVerified(%s, %s): %v", user, channel, err)
		}
	}
	set("alice", "sms", t0)
	set("alice", "email", t0.Add(time.Hour))
	set("bob", "sms", t0.Add(time.Nanosecond))
	set("alice", "sms", t0.Add(-time.Minute)) // an older ack recorded late
	want := "alice email 2030-01-02T04:04:05Z\nalice sms 2030-01-02T03:04:05Z\nbob sms 2030-01-02T03:04:05.000000001Z"
	if got := verified(t, s); got != want {
		t.Fatalf("verified =\n%s\nwant\n%s", got, want)
	}
	set("alice", "sms", t0.Add(48*time.Hour))
	want = "alice email 2030-01-02T04:04:05Z\nalice sms 2030-01-04T03:04:05Z\nbob sms 2030-01-02T03:04:05.000000001Z"
	if got := verified(t, s); got != want {
		t.Fatalf("after a later one, verified =\n%s\nwant\n%s", got, want)
	}
	if err := s.SetVerified(ctx(t), "", "sms", t0); err == nil {
		t.Error("SetVerified with no user succeeded")
	}
	if err := s.SetVerified(ctx(t), "alice", "", t0); err == nil {
		t.Error("SetVerified with no channel succeeded")
	}
}

// testVerifiedConcurrent: replicas recording acks at once keep the latest,
// whatever order their writes land in.
func testVerifiedConcurrent(t *testing.T, s store.Verifications) {
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Go(func() {
			errs <- s.SetVerified(ctx(t), "carol", "voice", t0.Add(time.Duration(i)*time.Second))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got, want := verified(t, s), "carol voice 2030-01-02T03:04:24Z"; got != want {
		t.Errorf("verified = %s, want %s", got, want)
	}
}
