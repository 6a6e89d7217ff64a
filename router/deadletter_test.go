package router

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

// deadLetterConfig pages alice by SMS only, once, and waits an hour before
// the policy runs out, so the only timers in play are the ones a test makes.
const deadLetterConfig = `
global:
  api_token: {value: test-api-token}
users:
  - id: alice
    contacts: {sms: "+819000000001"}
    notify:
      - {after: 0s, channels: [sms]}
departments:
  - id: eng
    escalation_policy: eng
    rotations:
      - id: primary
        start: "2026-01-05 10:00"
        shift: 1w
        members: [alice]
escalation_policies:
  - id: eng
    steps:
      - targets: {rotations: [primary]}
        escalate_after: 1h
default_route:
  department: eng
`

// faultStore fails Get while failGet is set: a store error in the middle of
// a notification's handler.
type faultStore struct {
	store.Store
	failGet atomic.Bool
}

func (f *faultStore) Get(ctx context.Context, id int64) (*store.Incident, error) {
	if f.failGet.Load() {
		return nil, errors.New("store unreachable: connection refused")
	}
	return f.Store.Get(ctx, id)
}

// panicSender panics on every send: a bug in a channel.
type panicSender struct{ calls atomic.Int32 }

func (p *panicSender) Send(context.Context, *channels.Message) (channels.Receipt, error) {
	p.calls.Add(1)
	panic("boom: nil map in the SMS channel")
}

// syncBuffer is a log sink the engine's workers and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// faultHarness is a harness whose engine runs on st with sms sent by sms.
func faultHarness(t *testing.T, wrap func(store.Store) store.Store, sms channels.Sender) (*harness, *syncBuffer) {
	t.Helper()
	h := newHarness(t, deadLetterConfig)
	cfg, err := config.Parse([]byte(deadLetterConfig), "test.yml")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	st := h.st
	if wrap != nil {
		st = wrap(h.st)
	}
	senders := map[string]channels.Sender{"sms": h.sent}
	if sms != nil {
		senders["sms"] = sms
	}
	h.engine = New(policies.Compile(cfg), Options{Store: st, Senders: senders, Clock: h.clock, Owner: "test",
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	return h, logs
}

// process runs what is due now and says how many timers it handled.
func (h *harness) process() int {
	h.t.Helper()
	n, err := h.engine.ProcessDue(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

func (h *harness) dead() []store.DeadTimer {
	h.t.Helper()
	ds, err := h.st.DeadTimers(context.Background(), 0)
	if err != nil {
		h.t.Fatal(err)
	}
	return ds
}

// failEachAttemptWithBackoff drives a timer that fails on every attempt
// through attempts 2..10: each comes due only after a backoff between half
// its base and its base, never before; the base starts at 1 s and doubles
// (256 s before the 10th attempt, under the 5 minute cap).
func failEachAttemptWithBackoff(t *testing.T, h *harness) {
	t.Helper()
	for attempt := 2; attempt <= 10; attempt++ {
		base := time.Second << (attempt - 2)
		h.clock.Add(base/2 - time.Millisecond)
		if n := h.process(); n != 0 {
			t.Fatalf("attempt %d ran %d timers before its backoff (at least %s)", attempt, n, base/2)
		}
		if got := h.dead(); len(got) != 0 {
			t.Fatalf("dead-lettered after %d attempts, want 10: %+v", attempt-1, got)
		}
		h.clock.Add(base/2 + time.Millisecond)
		if n := h.process(); n != 1 {
			t.Fatalf("attempt %d: %d timers ran at the end of its backoff %s, want 1", attempt, n, base)
		}
	}
}

func wantDeadLettered(t *testing.T, h *harness, id int64, kind string, attempts int, errPart string) store.DeadTimer {
	t.Helper()
	ds := h.dead()
	if len(ds) != 1 || ds[0].Kind != kind || ds[0].Attempt != attempts || ds[0].IncidentID != id ||
		!strings.Contains(ds[0].Error, errPart) || !ds[0].At.Equal(h.clock.Now()) {
		t.Fatalf("dead timers = %+v, want one %s timer of incident %d after %d attempts, dead now, error containing %q",
			ds, kind, id, attempts, errPart)
	}
	evs, err := h.st.Timeline(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, ev := range evs {
		if ev.Type == "timer_dead_lettered" {
			found = true
			if ev.Detail["kind"] != kind || ev.Detail["attempts"] != strconv.Itoa(attempts) || !strings.Contains(ev.Detail["error"], errPart) ||
				ev.Detail["timer"] != ds[0].ID {
				t.Fatalf("timer_dead_lettered event = %+v", ev)
			}
		}
	}
	if !found {
		t.Fatalf("timeline %q has no timer_dead_lettered", h.timeline(id))
	}
	if got := counterValue(t, h.engine.metrics.faults.deadLettered.WithLabelValues(kind)); got != 1 {
		t.Fatalf("hikyaku_timers_dead_lettered_total{kind=%q} = %v, want 1", kind, got)
	}
	if n, _ := h.st.DeadCount(context.Background()); n != 1 {
		t.Fatalf("DeadCount = %d, want 1", n)
	}
	return ds[0]
}

func TestFailingTimerRetriesWithBackoffThenIsDeadLettered(t *testing.T) {
	var fs *faultStore
	h, logs := faultHarness(t, func(st store.Store) store.Store { fs = &faultStore{Store: st}; return fs }, nil)
	inc := h.post("firing", "g1", map[string]string{"alertname": "DiskFull"})[0]
	fs.failGet.Store(true)
	if n := h.process(); n != 2 { // the step fires (no Get), its SMS fails
		t.Fatalf("first run handled %d timers, want 2 (step, sms)", n)
	}
	failEachAttemptWithBackoff(t, h)
	wantDeadLettered(t, h, inc.ID, kindNotify, 10, "store unreachable")
	// Out of the due set: not once more, on this replica or any other.
	fs.failGet.Store(false)
	h.clock.Add(30 * time.Minute)
	if n := h.process(); n != 0 {
		t.Fatalf("%d timers ran after the dead letter, want 0", n)
	}
	if len(h.sent.Messages()) != 0 {
		t.Fatalf("sent %d messages, want none", len(h.sent.Messages()))
	}
	if l := logs.String(); !strings.Contains(l, `level=ERROR msg="timer dead-lettered`) || !strings.Contains(l, "attempts=10") {
		t.Fatalf("no ERROR log of the dead letter:\n%s", l)
	}
}

func TestPanickingTimerIsRecoveredCountedAndDeadLettered(t *testing.T) {
	ps := &panicSender{}
	h, logs := faultHarness(t, nil, ps)
	inc := h.post("firing", "g1", map[string]string{"alertname": "DiskFull"})[0]
	if n := h.process(); n != 2 {
		t.Fatalf("first run handled %d timers, want 2 (step, sms)", n)
	}
	if got := counterValue(t, h.engine.metrics.faults.panics.WithLabelValues(panicTimer)); got != 1 {
		t.Fatalf("hikyaku_panics_total{where=timer} = %v after one panic, want 1", got)
	}
	failEachAttemptWithBackoff(t, h)
	wantDeadLettered(t, h, inc.ID, kindNotify, 10, "panic: boom: nil map in the SMS channel")
	if ps.calls.Load() != 10 {
		t.Fatalf("sender called %d times, want 10", ps.calls.Load())
	}
	if got := counterValue(t, h.engine.metrics.faults.panics.WithLabelValues(panicTimer)); got != 10 {
		t.Fatalf("hikyaku_panics_total{where=timer} = %v, want 10", got)
	}
	l := logs.String()
	if !strings.Contains(l, `level=ERROR msg="panic recovered; hikyaku keeps running" where=timer`) ||
		!strings.Contains(l, "runtime/debug.Stack") || !strings.Contains(l, "(*panicSender).Send") {
		t.Fatalf("panic not logged at ERROR with its stack:\n%.3000s", l)
	}
}

// scheduleRaw adds a timer as some other code (or version) wrote it.
func scheduleRaw(t *testing.T, h *harness, id int64, tm store.Timer) {
	t.Helper()
	_, err := h.st.Update(context.Background(), id, func(cur *store.Incident) (*store.Change, error) {
		return &store.Change{Incident: cur, Schedule: []store.Timer{tm}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestUndecodablePayloadIsDeadLetteredAtOnce(t *testing.T) {
	for _, tc := range []struct {
		kind, payload, err string
	}{
		{kindStep, `{"gen":`, "decode step timer payload"},
		{kindNotify, `[1,2]`, "decode notify timer payload"},
		{kindExhaust, `"x"`, "decode exhaust timer payload"},
		{kindAckTimeout, `{"gen":"one"}`, "decode ack timeout timer payload"},
		{"from_a_newer_version", `{}`, `unknown timer kind "from_a_newer_version"`},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			h, _ := faultHarness(t, nil, nil)
			inc := h.post("firing", "g1", map[string]string{"alertname": "DiskFull"})[0]
			h.process() // the real step and its page
			scheduleRaw(t, h, inc.ID, store.Timer{ID: "poison", Kind: tc.kind, Due: h.clock.Now(), Payload: []byte(tc.payload)})
			if n := h.process(); n != 1 {
				t.Fatalf("handled %d timers, want the poison one", n)
			}
			d := wantDeadLettered(t, h, inc.ID, tc.kind, 1, tc.err)
			if d.ID != "poison" || string(d.Payload) != tc.payload {
				t.Fatalf("dead timer = %+v, want the poison timer with its payload kept", d)
			}
		})
	}
}

func TestExpiredLeasesCountUntilDeadLettered(t *testing.T) {
	h, logs := faultHarness(t, nil, nil)
	inc := h.post("firing", "g1", map[string]string{"alertname": "DiskFull"})[0]
	ctx := context.Background()
	// A replica that claims the step and dies (or hangs) each time, ten times.
	for i := range 10 {
		cs, err := h.st.ClaimDue(ctx, h.clock.Now(), "doomed", 4*time.Second, 10)
		if err != nil || len(cs) != 1 || cs[0].Attempt != i {
			t.Fatalf("doomed claim %d = %+v, %v; want the step at attempt %d", i+1, cs, err, i)
		}
		h.clock.Add(4 * time.Second)
	}
	if n := h.process(); n != 1 {
		t.Fatalf("handled %d timers, want the step", n)
	}
	wantDeadLettered(t, h, inc.ID, kindStep, 10, "lease expired")
	for _, ev := range h.timeline(inc.ID) {
		if ev == "step_fired" {
			t.Fatal("the step ran: a timer out of attempts must not run again")
		}
	}
	if !strings.Contains(logs.String(), "level=ERROR") {
		t.Fatal("no ERROR log")
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// A bundle of pages (per-person limit) whose leases kept expiring is
// dead-lettered page by page, and nothing is sent.
func TestBundledPagesOutOfAttemptsAreDeadLetteredUnsent(t *testing.T) {
	h, _ := faultHarness(t, nil, nil)
	ctx := context.Background()
	var ids []int64
	for _, g := range []string{"g1", "g2"} {
		inc := h.post("firing", g, map[string]string{"alertname": "DiskFull"})[0]
		ids = append(ids, inc.ID)
	}
	if _, err := h.st.ClaimDue(ctx, h.clock.Now(), "someone", time.Hour, 10); err != nil { // the steps: out of the way
		t.Fatal(err)
	}
	for _, id := range ids {
		scheduleRaw(t, h, id, store.Timer{ID: "page-" + strconv.FormatInt(id, 10), Kind: kindNotify, Due: h.clock.Now(),
			Payload: payload(notifyPayload{Kind: "page", User: "alice", Channel: "sms"})})
	}
	for range 10 {
		if cs, err := h.st.ClaimDue(ctx, h.clock.Now(), "doomed", 4*time.Second, 10); err != nil || len(cs) != 2 {
			t.Fatalf("doomed claim = %d, %v; want the 2 pages", len(cs), err)
		}
		h.clock.Add(4 * time.Second)
	}
	cs, err := h.st.ClaimDue(ctx, h.clock.Now(), "test", 4*time.Second, 10)
	if err != nil || len(cs) != 2 || cs[0].Attempt != 10 {
		t.Fatalf("claims = %+v, %v; want the 2 pages at attempt 10", cs, err)
	}
	h.engine.deliverBundle(ctx, cs)
	if n := len(h.dead()); n != 2 {
		t.Fatalf("%d dead timers, want the 2 pages", n)
	}
	if n := len(h.sent.Messages()); n != 0 {
		t.Fatalf("sent %d messages, want none", n)
	}
}

// downDeadCount is a store whose dead-letter count cannot be read.
type downDeadCount struct{ store.Store }

func (downDeadCount) DeadCount(context.Context) (int, error) {
	return 0, errors.New("connection refused")
}

func TestDeadLetterGaugeCountsAtScrape(t *testing.T) {
	h, _ := faultHarness(t, nil, nil)
	inc := h.post("firing", "g1", map[string]string{"alertname": "DiskFull"})[0]
	h.process()
	scheduleRaw(t, h, inc.ID, store.Timer{ID: "poison", Kind: kindStep, Due: h.clock.Now(), Payload: []byte("{")})
	h.process()
	gather := func(st store.Store) []*dto.MetricFamily {
		t.Helper()
		reg := prometheus.NewRegistry()
		reg.MustRegister(NewDeadLetterGauge(st))
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatalf("scrape failed: %v", err)
		}
		return mfs
	}
	mfs := gather(h.st)
	if len(mfs) != 1 || mfs[0].GetName() != "hikyaku_timers_dead_letter" || mfs[0].GetMetric()[0].GetGauge().GetValue() != 1 {
		t.Fatalf("gauge = %v, want hikyaku_timers_dead_letter 1", mfs)
	}
	// The store down: no sample, and no scrape error to take the other metrics with it.
	if mfs := gather(downDeadCount{h.st}); len(mfs) != 0 {
		t.Fatalf("gauge with the store down = %v, want no sample", mfs)
	}
}
