package router

import (
	"context"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/record"
)

// late wraps a sender: the first send to aliceSMS reaches the provider,
// which takes it, and then fails with err, as a client whose deadline ran
// out before the provider's answer came back (a busy provider, a starved
// replica) sees it.
type late struct {
	channels.Sender
	err  error
	mu   sync.Mutex
	done bool
}

func (l *late) Send(ctx context.Context, m *channels.Message) (channels.Receipt, error) {
	l.mu.Lock()
	first := !l.done && m.To == aliceSMS
	l.done = l.done || first
	l.mu.Unlock()
	if first && l.err == errDialRefused {
		return channels.Receipt{}, l.err // never reached the provider
	}
	rc, err := l.Sender.Send(ctx, m)
	if first {
		return channels.Receipt{}, l.err
	}
	return rc, err
}

// errDialRefused is a connection never made: nothing reached the provider.
var errDialRefused = &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}

// lateHarness pages alice through an SMS sender whose first send to her
// fails with err after the provider took it (unless err is a failed dial),
// and runs the retry.
func lateHarness(t *testing.T, sms channels.Sender, err error) *harness {
	t.Helper()
	h := newHarness(t, testConfig)
	senders := map[string]channels.Sender{}
	for _, ch := range []string{"voice", "email", "slack", "webhook"} {
		senders[ch] = h.sent
	}
	l := &late{Sender: sms, err: err}
	senders["sms"] = l
	if r, ok := sms.(channels.Reconciler); ok {
		senders["sms"] = struct {
			*late
			channels.Reconciler
		}{l, r}
	}
	h.engine = New(h.engine.Policies(), Options{Store: h.st, Senders: senders, Clock: h.clock, Owner: "test"})
	h.post("firing", "g1", map[string]string{"alertname": "DiskFull"})
	h.advance(0)           // the step, and the SMS that times out
	h.advance(time.Minute) // its retry (backoff: at most 1 s)
	return h
}

// TestUnansweredSendIsLookedUpBeforeItsRetry: the provider took alice's
// SMS but its answer came too late (the client's deadline). The retry asks
// the provider first, as a takeover does, finds it and records it instead
// of sending it again. Before, the retry sent it a second time, unmarked.
func TestUnansweredSendIsLookedUpBeforeItsRetry(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"deadline", context.DeadlineExceeded},
		{"cut connection", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sms := &askable{Sender: &record.Sender{}}
			h := lateHarness(t, sms, tc.err)
			if n := smsTo(sms.Messages(), aliceSMS); n != 1 {
				t.Fatalf("alice got %d SMS, want 1 (the provider had taken the first)", n)
			}
			evs := notifiedSMS(t, h)
			if len(evs) != 1 || evs[0]["reconciled"] != "found" || evs[0]["attempt"] != "2" || evs[0]["possible_duplicate"] != "" {
				t.Fatalf("notified events for alice's SMS = %v, want one, attempt 2, reconciled=found", evs)
			}
			if len(sms.lookups) != 1 {
				t.Fatalf("lookups = %q, want 1 (the retry's)", sms.lookups)
			}
		})
	}
}

// TestUnansweredSendUnaskableIsMarked: a channel that cannot be asked
// sends the retry of an unanswered send again, marked possible_duplicate
// on the timeline, as a takeover does.
func TestUnansweredSendUnaskableIsMarked(t *testing.T) {
	sms := &record.Sender{}
	h := lateHarness(t, sms, context.DeadlineExceeded)
	if n := smsTo(sms.Messages(), aliceSMS); n != 2 {
		t.Fatalf("alice got %d SMS, want 2 (the unanswered one and its retry)", n)
	}
	evs := notifiedSMS(t, h)
	if len(evs) != 1 || evs[0]["reconciled"] != "unknown" || evs[0]["possible_duplicate"] != "true" {
		t.Fatalf("notified events = %v, want one with reconciled=unknown possible_duplicate=true", evs)
	}
}

// TestRefusedDialIsRetriedUnasked: a connection never made sent nothing:
// the retry sends without asking, and the timeline marks nothing.
func TestRefusedDialIsRetriedUnasked(t *testing.T) {
	sms := &askable{Sender: &record.Sender{}}
	h := lateHarness(t, sms, errDialRefused)
	if n := smsTo(sms.Messages(), aliceSMS); n != 1 {
		t.Fatalf("alice got %d SMS, want 1", n)
	}
	evs := notifiedSMS(t, h)
	if len(evs) != 1 || evs[0]["reconciled"] != "" || evs[0]["attempt"] != "2" {
		t.Fatalf("notified events = %v, want one, attempt 2, not reconciled", evs)
	}
	if len(sms.lookups) != 0 {
		t.Fatalf("lookups = %q, want none", sms.lookups)
	}
}
