package router

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/record"
)

// placer is a provider that lists what it took for an address, each with
// its own ID, but nothing naming the page (channels.PlacedLister), as
// Twilio lists calls: placed calls are in progress unless ended is set.
// Which of them are since is the channel's to tell (channels/twilio).
type placer struct {
	*record.Sender
	mu    sync.Mutex
	took  []channels.Placed
	to    []string
	ended bool
	lists int
}

func (p *placer) Send(ctx context.Context, m *channels.Message) (channels.Receipt, error) {
	rc, err := p.Sender.Send(ctx, m)
	if err != nil {
		return rc, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	rc.ProviderID = fmt.Sprintf("CA%04d", len(p.took)+1)
	p.took = append(p.took, channels.Placed{ProviderID: rc.ProviderID})
	p.to = append(p.to, m.To)
	return rc, nil
}

func (p *placer) Placed(_ context.Context, m *channels.Message, _ time.Time) ([]channels.Placed, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lists++
	var out []channels.Placed
	for i, pl := range p.took {
		if p.to[i] == m.To {
			pl.Ended = p.ended
			out = append(out, pl)
		}
	}
	return out, true, nil
}

// TestTakeoverWaitsForCallbackOfPlacedCall: the holder died after the
// provider placed alice's call and before any callback named it (the only
// daemon died in that instant). The takeover finds a call in progress that
// no callback named, so it waits instead of calling again; the call's next
// callback (it rings) names alice's page, and the next attempt records it
// reconciled=found. The old code called her again, marked as a possible
// duplicate.
func TestTakeoverWaitsForCallbackOfPlacedCall(t *testing.T) {
	pl := &placer{Sender: &record.Sender{}}
	h := crashHarness(t, pl, true)
	if n := smsTo(pl.Messages(), aliceSMS); n != 1 {
		t.Fatalf("after the takeover's first look: alice got %d messages, want 1 (her call is in progress)", n)
	}
	if pl.lists == 0 {
		t.Fatal("the takeover never listed what the provider placed")
	}
	if evs := notifiedSMS(t, h); len(evs) != 0 {
		t.Fatalf("notified events = %v before any callback named the call, want none", evs)
	}
	if err := h.engine.DeliveryAccepted(context.Background(), pl.Messages()[0].Callback, "CA0001"); err != nil {
		t.Fatalf("DeliveryAccepted: %v", err)
	}
	h.advance(10 * time.Second) // past the backoff of the attempt that waited
	if n := smsTo(pl.Messages(), aliceSMS); n != 1 {
		t.Fatalf("alice got %d messages, want 1: the callback named her page", n)
	}
	evs := notifiedSMS(t, h)
	if len(evs) != 1 || evs[0]["reconciled"] != "found" || evs[0]["possible_duplicate"] != "" {
		t.Fatalf("notified events = %v, want one with reconciled=found and no possible_duplicate", evs)
	}
}

// TestTakeoverSendsWhenEveryPlacedCallIsAnothers: the holder died before
// the provider got alice's page; meanwhile another incident's page reached
// her, and its callback named it. Every call the provider placed to her is
// another page's, so the takeover sends hers once, not marked as a
// possible duplicate (reconciled=not_found). The old code sent it marked.
func TestTakeoverSendsWhenEveryPlacedCallIsAnothers(t *testing.T) {
	pl := &placer{Sender: &record.Sender{}}
	h := crashHarnessThen(t, pl, false, func(h *harness) {
		h.post("firing", "g2", map[string]string{"alertname": "CPUHigh"})
		if _, err := h.engine.ProcessDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		sent := pl.Messages()
		if len(sent) != 1 || sent[0].To != aliceSMS || sent[0].IncidentID == 1 {
			t.Fatalf("before the takeover: %+v, want incident 2's page to alice", sent)
		}
		if err := h.engine.DeliveryAccepted(context.Background(), sent[0].Callback, "CA0001"); err != nil {
			t.Fatalf("DeliveryAccepted: %v", err)
		}
	})
	if n := smsTo(pl.Messages(), aliceSMS); n != 2 {
		t.Fatalf("alice got %d messages, want 2: incident 2's and, once, incident 1's", n)
	}
	evs := notifiedSMS(t, h)
	if len(evs) != 1 || evs[0]["reconciled"] != "not_found" || evs[0]["possible_duplicate"] != "" {
		t.Fatalf("incident 1's notified events = %v, want one with reconciled=not_found and no possible_duplicate", evs)
	}
	if got := testutil.ToFloat64(h.engine.metrics.reconciled.WithLabelValues("sms", "not_found")); got != 1 {
		t.Fatalf("reconciled{sms,not_found} = %v, want 1", got)
	}
}

// TestTakeoverUnnamedEndedCallResendsMarked: the provider placed alice's
// call and it ended, but every callback of it was lost: nothing can say
// whether it was her page's, so the page is sent again, marked as a
// possible duplicate, as for a channel that cannot be asked.
func TestTakeoverUnnamedEndedCallResendsMarked(t *testing.T) {
	pl := &placer{Sender: &record.Sender{}, ended: true}
	h := crashHarness(t, pl, true)
	if n := smsTo(pl.Messages(), aliceSMS); n != 2 {
		t.Fatalf("alice got %d messages, want 2", n)
	}
	if evs := notifiedSMS(t, h); len(evs) != 1 || evs[0]["possible_duplicate"] != "true" {
		t.Fatalf("notified events = %v, want one marked possible_duplicate", evs)
	}
}
