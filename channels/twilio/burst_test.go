package twilio

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/internal/faketwilio"
)

// burst pages n different people at once, as the engine's workers do when
// n incidents open together, and returns the first error.
func burst(ctx context.Context, s *SMS, msgs []*channels.Message) error {
	errs := make([]error, len(msgs))
	var wg sync.WaitGroup
	for i, m := range msgs {
		wg.Go(func() { _, errs[i] = s.Send(ctx, m) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func burstMessages(t testing.TB, n int) []*channels.Message {
	msgs := make([]*channels.Message, n)
	for i := range msgs {
		m := page(t)
		m.IncidentID = int64(100 + i)
		m.IdempotencyKey = fmt.Sprintf("n/%d/0/u%d", m.IncidentID, i)
		m.To = fmt.Sprintf("+8190%08d", i)
		msgs[i] = m
	}
	return msgs
}

// TestBurst20 checks that 20 concurrent sends each reach Twilio once, with
// their own number and callback: the sender shares nothing between sends
// that could mix them up. How fast is BenchmarkBurst20's business.
func TestBurst20(t *testing.T) {
	fake := faketwilio.Start(t)
	s := senders(t, fake, public)
	msgs := burstMessages(t, 20)
	if err := burst(context.Background(), s.SMS, msgs); err != nil {
		t.Fatal(err)
	}
	got := fake.Messages()
	if len(got) != len(msgs) {
		t.Fatalf("%d messages reached Twilio, want %d", len(got), len(msgs))
	}
	byTo := map[string]string{}
	for _, r := range got {
		byTo[r.Form.Get("To")] = r.Form.Get("StatusCallback")
	}
	for _, m := range msgs {
		want := fmt.Sprintf("%s%s?key=%s&incident=%d", public, StatusPath, url.QueryEscape(m.IdempotencyKey), m.IncidentID)
		if byTo[m.To] != want {
			t.Errorf("%s got callback %q, want %q", m.To, byTo[m.To], want)
		}
	}
}

// BenchmarkBurst20 measures one burst of 20 SMS pages to 20 people handed to
// Twilio concurrently (the fake on loopback). The goal is all 20 within 1 s
// of the incidents opening; one op is one burst.
func BenchmarkBurst20(b *testing.B) {
	fake := faketwilio.Start(b)
	s := senders(b, fake, public)
	msgs := burstMessages(b, 20)
	ctx := context.Background()
	for b.Loop() {
		if err := burst(ctx, s.SMS, msgs); err != nil {
			b.Fatal(err)
		}
	}
}
