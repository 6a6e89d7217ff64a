package router

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/record"
	"github.com/hikyaku/hikyaku/store"
)

// stalling is a store whose next Get, once armed, waits until released:
// a handler held up after its claim (a starved or frozen process, a
// lane's wait) while its lease runs out.
type stalling struct {
	store.Store
	mu       sync.Mutex
	armed    bool
	entered  chan struct{}
	released chan struct{}
}

func (s *stalling) arm() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.armed, s.entered, s.released = true, make(chan struct{}), make(chan struct{})
}

func (s *stalling) Get(ctx context.Context, id int64) (*store.Incident, error) {
	s.mu.Lock()
	stall := s.armed
	s.armed = false
	s.mu.Unlock()
	if stall {
		close(s.entered)
		<-s.released
	}
	return s.Store.Get(ctx, id)
}

// TestHolderHeldUpPastItsLeaseDoesNotSend: replica a claims step 1's pages
// and is held up past the lease before sending them; replica b takes them
// over, asks the provider for the SMS, finds nothing and sends each. When
// a goes on, its claims are b's: it must send none of them. Before, a sent
// them all again, the SMS unmarked (b had asked before a sent it).
func TestHolderHeldUpPastItsLeaseDoesNotSend(t *testing.T) {
	h := newHarness(t, testConfig)
	sms, st, a, b := heldUpReplicas(h)
	h.post("firing", "g1", map[string]string{"alertname": "DiskFull"})
	st.arm()
	done := make(chan error, 1)
	go func() {
		_, err := a.ProcessDue(context.Background())
		done <- err
	}()
	<-st.entered                 // a fired the step, claimed its pages, and is held up
	h.clock.Add(5 * time.Second) // a's 4 s lease ran out
	if _, err := b.ProcessDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	taken := len(sms.Messages()) + len(h.sent.Messages())
	if smsTo(sms.Messages(), aliceSMS) != 1 || taken < 3 {
		t.Fatalf("b sent %d messages, %d SMS to alice; want alice's SMS and Slack and #ops' Slack, once each", taken, smsTo(sms.Messages(), aliceSMS))
	}
	close(st.released)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, m := range append(sms.Messages(), h.sent.Messages()...) {
		seen[m.Channel+" "+m.To+" "+m.IdempotencyKey]++
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s sent %d times, want once", k, n)
		}
	}
	if got := len(sms.Messages()) + len(h.sent.Messages()); got != taken {
		t.Errorf("a sent %d messages after b had taken them over, want 0", got-taken)
	}
	evs := notifiedSMS(t, h)
	if len(evs) != 1 || evs[0]["reconciled"] != "not_found" {
		t.Errorf("notified events for alice's SMS = %v, want b's alone, reconciled=not_found", evs)
	}
}

// TestBundleHeldUpPastItsLeaseIsNotSent: the same for a bundle
// (per_person_per_minute): replica a claims two pages to alice that go out
// as one SMS and is held up past the lease; replica b takes both over and
// sends the bundle. When a goes on, a minute later, the window has room
// again, but its claims are b's: it sends nothing. Before, alice got the
// bundle twice.
func TestBundleHeldUpPastItsLeaseIsNotSent(t *testing.T) {
	h := newHarness(t, twilioConfig("    per_person_per_minute: 1\n"))
	sms, st, a, b := heldUpReplicas(h)
	for i, g := range []string{"g1", "g2", "g3"} {
		h.post("firing", g, map[string]string{"alertname": "Disk" + g})
		h.advance(0)
		if i < 2 {
			h.advance(10 * time.Second)
		}
	}
	if n := smsTo(sms.Messages(), aliceSMS); n != 1 {
		t.Fatalf("alice got %d SMS before the bundle, want 1 (incident 1; 2 and 3 wait for the window)", n)
	}
	h.clock.Add(time.Minute - 20*time.Second) // 2 and 3 come due together: one bundle
	st.arm()
	done := make(chan error, 1)
	go func() {
		_, err := a.ProcessDue(context.Background())
		done <- err
	}()
	<-st.entered                 // a claimed both pages and is held up
	h.clock.Add(5 * time.Second) // a's 4 s lease ran out
	if _, err := b.ProcessDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if msgs := sms.Messages(); smsTo(msgs, aliceSMS) != 2 || !strings.HasPrefix(msgs[len(msgs)-1].IdempotencyKey, "bundle/") {
		t.Fatalf("after b's takeover alice got %d SMS, the last %q; want 2, the last a bundle", smsTo(msgs, aliceSMS), msgs[len(msgs)-1].IdempotencyKey)
	}
	h.clock.Add(time.Minute) // the window has room for a again
	close(st.released)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := smsTo(sms.Messages(), aliceSMS); n != 2 {
		t.Errorf("alice got %d SMS, want still 2: a sent the bundle b had sent", n)
	}
}

// heldUpReplicas are two engines on h's store sharing one SMS sender the
// provider can be asked about: a, whose store calls stall once armed
// (h.engine, so h.post goes to it), and b, which takes over.
func heldUpReplicas(h *harness) (*askable, *stalling, *Engine, *Engine) {
	sms := &askable{Sender: &record.Sender{}}
	senders := map[string]channels.Sender{"sms": sms}
	for _, ch := range []string{"voice", "email", "slack", "webhook"} {
		senders[ch] = h.sent
	}
	st := &stalling{Store: h.st}
	a := New(h.engine.Policies(), Options{Store: st, Senders: senders, Clock: h.clock, Owner: "a"})
	b := New(h.engine.Policies(), Options{Store: h.st, Senders: senders, Clock: h.clock, Owner: "b"})
	h.engine = a
	return sms, st, a, b
}
