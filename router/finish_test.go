package router

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/store"
)

// blipStore fails the next Updates it is told to, as a Redis restart or a
// Sentinel failover does for a moment.
type blipStore struct {
	store.Store
	fail atomic.Int32
}

func (s *blipStore) Update(ctx context.Context, id int64, fn store.UpdateFunc) (store.Result, error) {
	if s.fail.Add(-1) >= 0 {
		return store.Result{}, errors.New("connection refused")
	}
	return s.Store.Update(ctx, id, fn)
}

// TestSentMessageSurvivesStoreBlip: the store fails for a moment right after
// a message went out. Recording it must be retried while the claim holds;
// giving up left the timer to come due again after its lease, and the person
// got the same page twice.
func TestSentMessageSurvivesStoreBlip(t *testing.T) {
	h := newHarness(t, testConfig)
	st := &blipStore{Store: h.st}
	h.sent.Fail = func(*channels.Message) error { st.fail.Store(2); return nil } // accepted, then the store blips
	senders := map[string]channels.Sender{}
	for _, ch := range []string{"sms", "voice", "email", "slack", "webhook"} {
		senders[ch] = h.sent
	}
	h.engine = New(h.engine.Policies(), Options{Store: st, Senders: senders, Clock: h.clock, Owner: "test"})

	h.post("firing", "{}:{alertname=\"Disk\"}", map[string]string{"alertname": "Disk"})
	h.advance(0)
	sent := len(h.sent.Messages())
	if sent == 0 {
		t.Fatal("step 1 sent nothing")
	}
	h.sent.Fail = nil
	st.fail.Store(0)
	h.advance(time.Minute) // well past the lease; nothing else is due yet

	seen := map[string]bool{}
	for _, m := range h.sent.Messages() {
		if seen[m.IdempotencyKey] {
			t.Errorf("%s to %s sent twice (key %s)", m.Kind, m.To, m.IdempotencyKey)
		}
		seen[m.IdempotencyKey] = true
	}
	notified := 0
	for _, ev := range h.timeline(1) {
		if ev == "notified" {
			notified++
		}
	}
	if notified != sent {
		t.Errorf("%d notified events for %d messages sent", notified, sent)
	}
}
