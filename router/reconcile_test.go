package router

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/record"
)

// askable is a provider that can be asked what it accepted (channels.Reconciler),
// answering from what it recorded, by ref and address, as Twilio's list does.
type askable struct {
	*record.Sender
	mu      sync.Mutex
	lookups []string // refs asked for
}

func (a *askable) Lookup(_ context.Context, m *channels.Message, _ time.Time) (channels.Receipt, bool, error) {
	a.mu.Lock()
	a.lookups = append(a.lookups, m.Ref)
	a.mu.Unlock()
	for _, s := range a.Messages() {
		if s.Ref == m.Ref && s.To == m.To {
			return channels.Receipt{ProviderID: s.IdempotencyKey}, true, nil
		}
	}
	return channels.Receipt{}, false, nil
}

// dying wraps a sender: the first send to aliceSMS ends the handler's
// goroutine like a kill -9 ends the process, after the provider accepted
// it (accepted) or before it got it: no deferred recover can see it, the
// claim stays held with its lease, and nothing is recorded.
type dying struct {
	channels.Sender
	accepted bool
	on       func(*channels.Message) bool // which send dies; nil: the first to aliceSMS
	mu       sync.Mutex
	died     bool
}

func (d *dying) Send(ctx context.Context, m *channels.Message) (channels.Receipt, error) {
	d.mu.Lock()
	die := !d.died && m.To == aliceSMS && (d.on == nil || d.on(m))
	d.died = d.died || die
	d.mu.Unlock()
	if die && !d.accepted {
		runtime.Goexit()
	}
	rc, err := d.Sender.Send(ctx, m)
	if die {
		runtime.Goexit()
	}
	return rc, err
}

// crashHarness pages alice (sms, slack) and #ops at step 1 through sms, a
// sender that dies on alice's SMS, then lets the lease run out and runs the
// timers again: the takeover.
func crashHarness(t *testing.T, sms channels.Sender, accepted bool) *harness {
	t.Helper()
	return crashHarnessThen(t, sms, accepted, nil)
}

// crashHarnessThen is crashHarness running then between the crash and the
// takeover: what reaches the other replicas meanwhile (a provider's callback).
func crashHarnessThen(t *testing.T, sms channels.Sender, accepted bool, then func(h *harness)) *harness {
	t.Helper()
	h := newHarness(t, testConfig)
	senders := map[string]channels.Sender{}
	for _, ch := range []string{"voice", "email", "slack", "webhook"} {
		senders[ch] = h.sent
	}
	d := &dying{Sender: sms, accepted: accepted}
	senders["sms"] = d
	if r, ok := sms.(channels.Reconciler); ok {
		senders["sms"] = struct {
			*dying
			channels.Reconciler
		}{d, r}
	}
	if pl, ok := sms.(channels.PlacedLister); ok {
		senders["sms"] = struct {
			*dying
			channels.PlacedLister
		}{d, pl}
	}
	h.engine = New(h.engine.Policies(), Options{Store: h.st, Senders: senders, Clock: h.clock, Owner: "test"})
	h.post("firing", "g1", map[string]string{"alertname": "DiskFull"})
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.engine.ProcessDue(context.Background()) // ends with the handler
	}()
	<-done
	if then != nil {
		then(h)
	}
	h.advance(5 * time.Second) // the 4 s lease ran out
	return h
}

func smsTo(msgs []channels.Message, to string) int {
	n := 0
	for _, m := range msgs {
		if m.Channel == "sms" && m.To == to {
			n++
		}
	}
	return n
}

// notifiedSMS is the detail of each notified event for alice's SMS.
func notifiedSMS(t *testing.T, h *harness) []map[string]string {
	t.Helper()
	evs, err := h.st.Timeline(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, ev := range evs {
		if ev.Type == "notified" && ev.Detail["channel"] == "sms" && ev.Detail["to"] == "alice" {
			out = append(out, ev.Detail)
		}
	}
	return out
}

// TestTakeoverFindsSentSMS: the handler died after the provider took the
// SMS and before recording it. The next holder asks the provider, finds
// it, and records it as notified (reconciled=found) without sending again.
// Before, the SMS went out twice.
func TestTakeoverFindsSentSMS(t *testing.T) {
	sms := &askable{Sender: &record.Sender{}}
	h := crashHarness(t, sms, true)
	if n := smsTo(sms.Messages(), aliceSMS); n != 1 {
		t.Fatalf("alice got %d SMS, want 1 (it had gone out before the crash)", n)
	}
	evs := notifiedSMS(t, h)
	if len(evs) != 1 || evs[0]["reconciled"] != "found" || evs[0]["possible_duplicate"] != "" || evs[0]["provider_id"] == "" {
		t.Fatalf("notified events for alice's SMS = %v, want one with reconciled=found and the provider's id", evs)
	}
	if len(sms.lookups) != 1 || sms.lookups[0] != sms.Messages()[0].Ref || sms.lookups[0] == "" {
		t.Fatalf("lookups = %q, want one for the sent SMS's ref %q", sms.lookups, sms.Messages()[0].Ref)
	}
	if got := testutil.ToFloat64(h.engine.metrics.reconciled.WithLabelValues("sms", "found")); got != 1 {
		t.Fatalf("reconciled{sms,found} = %v, want 1", got)
	}
	// Nothing else taken over is sent twice either: slack went through h.sent.
	seen := map[string]bool{}
	for _, m := range h.sent.Messages() {
		if seen[m.IdempotencyKey] {
			t.Errorf("%s to %s sent twice", m.Channel, m.To)
		}
		seen[m.IdempotencyKey] = true
	}
}

// TestTakeoverNotFoundSendsOnce: the handler died before the provider got
// the SMS. Asked, the provider says it has none: sent once, and the event
// says it was checked (reconciled=not_found).
func TestTakeoverNotFoundSendsOnce(t *testing.T) {
	sms := &askable{Sender: &record.Sender{}}
	h := crashHarness(t, sms, false)
	if n := smsTo(sms.Messages(), aliceSMS); n != 1 {
		t.Fatalf("alice got %d SMS, want 1", n)
	}
	evs := notifiedSMS(t, h)
	if len(evs) != 1 || evs[0]["reconciled"] != "not_found" || evs[0]["possible_duplicate"] != "" {
		t.Fatalf("notified events = %v, want one with reconciled=not_found", evs)
	}
	if got := testutil.ToFloat64(h.engine.metrics.reconciled.WithLabelValues("sms", "not_found")); got != 1 {
		t.Fatalf("reconciled{sms,not_found} = %v, want 1", got)
	}
}

// TestTakeoverUnaskableResendsOnceMarked: a channel that cannot be asked
// (SMTP, webhooks) is sent again, once, and the timeline and metric say it
// may be a duplicate.
func TestTakeoverUnaskableResendsOnceMarked(t *testing.T) {
	sms := &record.Sender{}
	h := crashHarness(t, sms, true)
	if n := smsTo(sms.Messages(), aliceSMS); n != 2 {
		t.Fatalf("alice got %d SMS, want 2 (the one before the crash, and the re-send)", n)
	}
	h.advance(time.Minute)
	if n := smsTo(sms.Messages(), aliceSMS); n != 2 {
		t.Fatalf("alice got %d SMS a minute later, want still 2", n)
	}
	evs := notifiedSMS(t, h)
	if len(evs) != 1 || evs[0]["reconciled"] != "unknown" || evs[0]["possible_duplicate"] != "true" {
		t.Fatalf("notified events = %v, want one with reconciled=unknown possible_duplicate=true", evs)
	}
	if got := testutil.ToFloat64(h.engine.metrics.reconciled.WithLabelValues("sms", "unknown")); got != 1 {
		t.Fatalf("reconciled{sms,unknown} = %v, want 1", got)
	}
}

// TestOrdinarySendAsksNothing: a timer nobody took over is sent without a
// lookup and its event carries no reconciled detail (the hot path).
func TestOrdinarySendAsksNothing(t *testing.T) {
	h := newHarness(t, testConfig)
	sms := &askable{Sender: &record.Sender{}}
	senders := map[string]channels.Sender{"sms": sms, "slack": h.sent, "voice": h.sent, "email": h.sent, "webhook": h.sent}
	h.engine = New(h.engine.Policies(), Options{Store: h.st, Senders: senders, Clock: h.clock, Owner: "test"})
	h.post("firing", "g1", map[string]string{"alertname": "DiskFull"})
	h.advance(0)
	if len(sms.lookups) != 0 || smsTo(sms.Messages(), aliceSMS) != 1 {
		t.Fatalf("lookups %q, %d SMS; want none and 1", sms.lookups, smsTo(sms.Messages(), aliceSMS))
	}
	if evs := notifiedSMS(t, h); len(evs) != 1 || evs[0]["reconciled"] != "" {
		t.Fatalf("notified = %v, want one without reconciled", evs)
	}
}

// TestTakeoverFindsSentBundle: a bundle of two pages (per_person_per_minute)
// was accepted, then its handler died. Taken over, the same pages bundle
// again under the same key and ref; the provider has it, so neither page
// is sent again and both are notified reconciled=found.
func TestTakeoverFindsSentBundle(t *testing.T) {
	h := newHarness(t, twilioConfig("    per_person_per_minute: 1\n"))
	sms := &askable{Sender: &record.Sender{}}
	d := &dying{Sender: sms, accepted: true, on: func(m *channels.Message) bool { return strings.HasPrefix(m.IdempotencyKey, "bundle/") }}
	senders := map[string]channels.Sender{"sms": struct {
		*dying
		channels.Reconciler
	}{d, sms}}
	for _, ch := range []string{"voice", "email", "slack", "webhook"} {
		senders[ch] = h.sent
	}
	h.engine = New(h.engine.Policies(), Options{Store: h.st, Senders: senders, Clock: h.clock, Owner: "test"})
	var ids []int64
	for i, g := range []string{"g1", "g2", "g3"} {
		ids = append(ids, h.post("firing", g, map[string]string{"alertname": "Disk" + g})[0].ID)
		h.advance(0)
		if i < 2 {
			h.advance(10 * time.Second)
		}
	}
	h.clock.Add(time.Minute - 20*time.Second) // the window has room: the bundle goes out, and its handler dies
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.engine.ProcessDue(context.Background())
	}()
	<-done
	if n := smsTo(sms.Messages(), aliceSMS); n != 2 {
		t.Fatalf("alice got %d SMS before the crash, want 2 (incident 1, then the bundle)", n)
	}
	h.advance(5 * time.Second) // the lease ran out: taken over, and postponed: the bundle took the window's slot
	h.advance(time.Minute)
	if n := smsTo(sms.Messages(), aliceSMS); n != 2 {
		t.Fatalf("alice got %d SMS, want still 2: the bundle was sent again", n)
	}
	for _, id := range ids[1:] {
		var got []map[string]string
		for _, ev := range h.events(id, "notified") {
			if ev.Detail["channel"] == "sms" {
				got = append(got, ev.Detail)
			}
		}
		if len(got) != 1 || got[0]["reconciled"] != "found" || got[0]["bundle"] != "2,3" {
			t.Errorf("incident %d sms notified = %v, want one, bundled with 2,3, reconciled=found", id, got)
		}
	}
}

// TestTakeoverAfterProviderCallbackIsNotSentAgain: the handler died after
// the provider took the message, and the provider's callback saying so
// (Twilio's "initiated" call progress) reached a replica before the
// takeover. The channel cannot be asked, yet the message is not sent
// again: it is recorded reconciled=found, no possible duplicate.
func TestTakeoverAfterProviderCallbackIsNotSentAgain(t *testing.T) {
	sms := &record.Sender{}
	h := crashHarnessThen(t, sms, true, func(h *harness) {
		sent := sms.Messages()
		if len(sent) != 1 || sent[0].Callback == "" {
			t.Fatalf("before the takeover: %d messages, want 1 with a callback token", len(sent))
		}
		if err := h.engine.DeliveryAccepted(context.Background(), sent[0].Callback, "CA0001"); err != nil {
			t.Fatalf("DeliveryAccepted: %v", err)
		}
	})
	if n := smsTo(sms.Messages(), aliceSMS); n != 1 {
		t.Fatalf("alice got %d messages, want 1: the provider had said it took the first", n)
	}
	evs := notifiedSMS(t, h)
	if len(evs) != 1 || evs[0]["reconciled"] != "found" || evs[0]["possible_duplicate"] != "" {
		t.Fatalf("notified events = %v, want one with reconciled=found and no possible_duplicate", evs)
	}
	if got := testutil.ToFloat64(h.engine.metrics.reconciled.WithLabelValues("sms", "found")); got != 1 {
		t.Fatalf("reconciled{sms,found} = %v, want 1", got)
	}
}

// TestProviderCallbackMarksOnlyItsMessage: a callback for another message
// (the same incident's Slack page) marks nothing of alice's SMS, which is
// sent again marked as a possible duplicate, as before.
func TestProviderCallbackMarksOnlyItsMessage(t *testing.T) {
	sms := &record.Sender{}
	h := crashHarnessThen(t, sms, true, func(h *harness) {
		var other string
		for _, m := range h.sent.Messages() {
			if m.Callback != "" && m.IncidentID == 1 {
				other = m.Callback
			}
		}
		if other == "" {
			t.Fatal("no other message of incident 1 with a callback token")
		}
		if err := h.engine.DeliveryAccepted(context.Background(), other, "X1"); err != nil {
			t.Fatalf("DeliveryAccepted: %v", err)
		}
	})
	if n := smsTo(sms.Messages(), aliceSMS); n != 2 {
		t.Fatalf("alice got %d SMS, want 2 (nothing said the first went out)", n)
	}
	if evs := notifiedSMS(t, h); len(evs) != 1 || evs[0]["possible_duplicate"] != "true" {
		t.Fatalf("notified events = %v, want one marked possible_duplicate", evs)
	}
}

// TestDeliveryAcceptedTokens: an unreadable token is ErrBadCallback; one
// handed out before marks were kept (no "s") is accepted and marks nothing.
func TestDeliveryAcceptedTokens(t *testing.T) {
	h := newHarness(t, testConfig)
	if err := h.engine.DeliveryAccepted(context.Background(), "not base64!", "X"); err != ErrBadCallback {
		t.Fatalf("garbage token: %v, want ErrBadCallback", err)
	}
	old := "eyJpIjoxLCJwIjp7fX0" // {"i":1,"p":{}}: no sent key
	if err := h.engine.DeliveryAccepted(context.Background(), old, "X"); err != nil {
		t.Fatalf("old token: %v, want nil", err)
	}
}
