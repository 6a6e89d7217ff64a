package router

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// outageStore is away for its next calls of Get and Retry: a Redis killed
// or frozen after a page was claimed and before its handler read the
// incident, and still away when the handler puts the failed timer back.
type outageStore struct {
	store.Store
	away    atomic.Int32 // calls left to fail
	retries atomic.Int32 // Retry calls made
}

var errAway = errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")

func (s *outageStore) Get(ctx context.Context, id int64) (*store.Incident, error) {
	if s.away.Add(-1) >= 0 {
		return nil, errAway
	}
	return s.Store.Get(ctx, id)
}

func (s *outageStore) Retry(ctx context.Context, c store.Claim, due time.Time) error {
	s.retries.Add(1)
	if s.away.Add(-1) >= 0 {
		return errAway
	}
	return s.Store.Retry(ctx, c, due)
}

// A page whose handler failed because the store went away keeps its claim
// until the store takes it back: the handler puts it back once the store
// answers, and the page goes out later as a plain retry, not as a takeover.
// Old code: the first failed Retry ended the handler, the claim lapsed with
// nobody renewing it, and the timer was taken over one lease later as if
// its holder had died mid-send: "reconciled: unknown, possible_duplicate"
// for a page that had never gone out (the long fault suite's Redis kill -9
// and SIGSTOP rows).
func TestPageFailedByStoreOutageIsNotTakenOver(t *testing.T) {
	var st *outageStore
	h, logs := faultHarness(t, func(s store.Store) store.Store { o := &outageStore{Store: s}; st = o; return o }, nil)
	inc := h.post("firing", "g1", map[string]string{"alertname": "DiskFull"})[0]
	st.away.Store(3) // the SMS handler's Get, then its first two Retry calls
	if n := h.process(); n != 2 {
		t.Fatalf("first run handled %d timers, want 2 (step, sms)", n)
	}
	h.advance(5 * time.Second)  // past the retry's backoff (at most 1 s) and the 4 s lease
	h.advance(10 * time.Second) // and past the backoff of a second attempt
	if got := len(h.sent.Messages()); got != 1 {
		t.Fatalf("%d messages sent, want the one SMS", got)
	}
	ev := h.onlyEvent(inc.ID, "notified")
	if ev.Detail["possible_duplicate"] != "" || ev.Detail["reconciled"] != "" || ev.Detail["attempt"] != "2" {
		t.Fatalf("notified %v; want attempt 2, sent as a retry, not reconciled after a takeover", ev.Detail)
	}
	if got := st.retries.Load(); got != 3 {
		t.Fatalf("Retry called %d times, want 3: twice while the store was away, once when it answered", got)
	}
	if s := logs.String(); strings.Contains(s, "could not be put back") {
		t.Fatalf("logged a timer not put back:\n%s", s)
	}
}
