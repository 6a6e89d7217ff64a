package router

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/record"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/internal/redistest"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

// TestSkewedReplicaNeverDoublesAPage: two engines share one Redis; one's
// clock runs an hour ahead. While the other is mid-send, the skewed one
// takes nothing: leases and dueness are judged on Redis's clock. Old code:
// the skewed engine judged the lease expired and the pages due, and sent
// every page (and the next steps) a second time.
func TestSkewedReplicaNeverDoublesAPage(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	cfg, err := config.Parse([]byte(testConfig), "test.yml")
	if err != nil {
		t.Fatal(err)
	}
	open := func(owner string, clock Clock, sender channels.Sender) *Engine {
		st, err := store.Open(t.Context(), srv.URL(), "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		senders := map[string]channels.Sender{}
		for _, ch := range []string{"sms", "voice", "email", "slack", "webhook"} {
			senders[ch] = sender
		}
		return New(policies.Compile(cfg), Options{Store: st, Senders: senders, Clock: clock, Owner: owner})
	}
	// The engines' clocks are fake and stand still; Redis's runs (the
	// test takes well under the 4 s lease in real time).
	now := time.Now().Truncate(time.Second)
	sentA, sentB := &record.Sender{}, &record.Sender{}
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	sentA.Fail = func(*channels.Message) error {
		once.Do(func() { close(started); <-release })
		return nil
	}
	a := open("a", &fakeClock{t: now}, sentA)
	b := open("b-ahead", &fakeClock{t: now.Add(time.Hour)}, sentB)

	raw := webhookJSON("firing", "g-skew", now, map[string]string{"alertname": "DiskFull", "team": "infra"})
	msg, err := DecodeMessage(raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Ingest(context.Background(), msg, raw); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := a.ProcessDue(context.Background()); done <- err }()
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("engine a sent nothing")
	}
	n, err := b.ProcessDue(context.Background())
	close(release)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n != 0 || len(sentB.Messages()) != 0 {
		t.Fatalf("the engine an hour ahead handled %d timers and sent %d messages, want none", n, len(sentB.Messages()))
	}
	if len(sentA.Messages()) == 0 {
		t.Fatal("engine a recorded no message")
	}
	seen := map[string]bool{}
	for _, m := range sentA.Messages() {
		if seen[m.IdempotencyKey] {
			t.Errorf("%s to %s sent twice", m.Kind, m.To)
		}
		seen[m.IdempotencyKey] = true
	}
}
