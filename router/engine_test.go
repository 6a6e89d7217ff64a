package router

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/record"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

// fakeClock is moved by the test only.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// t0 is a Wednesday 14:00 JST: inside business hours, rotation week 1.
var t0 = time.Date(2026, 1, 7, 14, 0, 0, 0, time.FixedZone("JST", 9*3600))

const testConfig = `
global:
  timezone: Asia/Tokyo
  api_token: {value: test-api-token}
receivers:
  - name: hikyaku
    bearer_token: {value: hook-token}
users:
  - id: alice
    contacts: {sms: "+819000000001", voice: "+819000000001", slack: U0ALICE}
    notify:
      - {after: 0s, channels: [sms, slack]}
      - {after: 3m, channels: [voice]}
  - id: bob
    contacts: {sms: "+819000000002", email: bob@example.com}
    notify:
      - {after: 0s, channels: [sms]}
  - id: carol
    language: ja
    contacts: {email: carol@example.com}
  - id: boss
    contacts: {email: boss@example.com}
chat_channels:
  - id: ops
    slack: C0OPS
departments:
  - id: eng
    escalation_policy: eng
    rotations:
      - id: primary
        start: "2026-01-05 10:00"
        shift: 1w
        members: [alice, bob]
      - id: secondary
        start: "2026-01-05 10:00"
        shift: 1w
        members: [bob, alice]
      - id: nights
        start: "2026-01-05 10:00"
        shift: 1w
        members: [carol]
        active: [never]
    stakeholders:
      users: [boss]
      update_every: 30m
time_intervals:
  - name: never
    time_intervals:
      - years: ["1999"]
escalation_policies:
  - id: eng
    ack_timeout: 1h
    steps:
      - targets: {rotations: [primary], chat_channels: [ops]}
        escalate_after: 5m
      - targets: {rotations: [secondary]}
        escalate_after: 10m
  - id: empty-first
    repeat: 1
    steps:
      - targets: {rotations: [nights]}
        escalate_after: 5m
      - targets: {users: [carol]}
        escalate_after: 5m
routes:
  - name: nights
    matchers: ['team="nights"']
    department: eng
    escalation_policy: empty-first
default_route:
  department: eng
`

type harness struct {
	t      *testing.T
	clock  *fakeClock
	st     store.Store
	sent   *record.Sender
	engine *Engine
	path   string
}

func newHarness(t *testing.T, cfgText string) *harness {
	t.Helper()
	cfg, err := config.Parse([]byte(cfgText), "test.yml")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	h := &harness{t: t, clock: &fakeClock{t: t0}, sent: &record.Sender{}, path: filepath.Join(t.TempDir(), "hikyaku.db")}
	h.open(policies.Compile(cfg))
	return h
}

func (h *harness) open(set *policies.Set) {
	st, err := store.OpenBolt(h.path)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { st.Close() })
	h.st = st
	senders := map[string]channels.Sender{}
	for _, ch := range []string{"sms", "voice", "email", "slack", "webhook", "ntfy"} {
		senders[ch] = h.sent
	}
	h.engine = New(set, Options{Store: st, Senders: senders, Clock: h.clock, Owner: "test"})
}

// post ingests a payload built from a fixture-like template.
func (h *harness) post(status, groupKey string, labels map[string]string) []*store.Incident {
	h.t.Helper()
	raw := webhookJSON(status, groupKey, h.clock.Now(), labels)
	msg, err := DecodeMessage(raw)
	if err != nil {
		h.t.Fatalf("decode: %v", err)
	}
	incs, err := h.engine.Ingest(context.Background(), msg, raw)
	if err != nil {
		h.t.Fatalf("ingest: %v", err)
	}
	return incs
}

func webhookJSON(status, groupKey string, at time.Time, labels map[string]string) []byte {
	var lb []string
	for k, v := range labels {
		lb = append(lb, fmt.Sprintf("%q:%q", k, v))
	}
	slices.Sort(lb)
	l := "{" + strings.Join(lb, ",") + "}"
	return []byte(fmt.Sprintf(`{"receiver":"hikyaku","status":%q,"alerts":[{"status":%q,"labels":%s,"annotations":{"summary":"disk full"},"startsAt":%q,"endsAt":"0001-01-01T00:00:00Z","fingerprint":"f1"}],"groupLabels":%s,"commonLabels":%s,"commonAnnotations":{"summary":"disk full"},"externalURL":"http://am","version":"4","groupKey":%q,"truncatedAlerts":0}`,
		status, status, l, at.UTC().Format(time.RFC3339), l, l, groupKey))
}

// advance moves the clock and handles everything that came due.
func (h *harness) advance(d time.Duration) {
	h.t.Helper()
	h.clock.Add(d)
	if _, err := h.engine.ProcessDue(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

// pages lists "channel:to" of page messages sent since the last call.
func (h *harness) pages(from int) ([]string, int) {
	msgs := h.sent.Messages()
	var out []string
	for _, m := range msgs[from:] {
		if m.Kind == channels.KindPage {
			out = append(out, m.Channel+":"+m.To)
		}
	}
	slices.Sort(out)
	return out, len(msgs)
}

func (h *harness) timeline(id int64) []string {
	h.t.Helper()
	evs, err := h.st.Timeline(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

func eq(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func TestEscalationPagesStepByStepUntilAck(t *testing.T) {
	h := newHarness(t, testConfig)
	incs := h.post("firing", "g1", map[string]string{"alertname": "DiskFull", "team": "infra"})
	if len(incs) != 1 || incs[0].ID != 1 || incs[0].Status != store.StatusOpen {
		t.Fatalf("want incident 1 open, got %+v", incs)
	}
	id := incs[0].ID

	h.advance(0)
	got, n := h.pages(0)
	// Week of 2026-01-05: primary is alice; her rules say sms and slack at once; #ops is a step target.
	eq(t, "step 1 at once", got, []string{"slack:C0OPS", "slack:U0ALICE", "sms:+819000000001"})

	h.advance(3 * time.Minute)
	got, n = h.pages(n)
	eq(t, "alice's voice rule at +3m", got, []string{"voice:+819000000001"})

	h.advance(2*time.Minute - time.Second)
	got, n = h.pages(n)
	eq(t, "nothing before escalate_after", got, nil)

	h.advance(time.Second)
	got, n = h.pages(n)
	eq(t, "step 2 (secondary: bob) at +5m", got, []string{"sms:+819000000002"})

	if _, err := h.engine.Ack(context.Background(), id, "bob", "test"); err != nil {
		t.Fatal(err)
	}
	h.advance(59 * time.Minute)
	got, _ = h.pages(n)
	eq(t, "no page after ack", got, nil)
	inc, _ := h.st.Get(context.Background(), id)
	if inc.Status != store.StatusAcked || inc.AckedBy != "bob" {
		t.Fatalf("want acked by bob, got %s by %q", inc.Status, inc.AckedBy)
	}
	tl := h.timeline(id)
	for _, want := range []string{"created", "routed", "step_fired", "notified", "acked"} {
		if !slices.Contains(tl, want) {
			t.Errorf("timeline lacks %q: %q", want, tl)
		}
	}
}

func TestAckTimeoutReescalates(t *testing.T) {
	h := newHarness(t, testConfig)
	id := h.post("firing", "g1", map[string]string{"alertname": "X"})[0].ID
	h.advance(0)
	if _, err := h.engine.Ack(context.Background(), id, "alice", "test"); err != nil {
		t.Fatal(err)
	}
	_, n := h.pages(0)
	h.advance(time.Hour)
	got, _ := h.pages(n)
	eq(t, "step 1 again after ack_timeout", got, []string{"slack:C0OPS", "slack:U0ALICE", "sms:+819000000001"})
	inc, _ := h.st.Get(context.Background(), id)
	if inc.Status != store.StatusOpen {
		t.Fatalf("want reopened, got %s", inc.Status)
	}
}

func TestDedupByGroupKey(t *testing.T) {
	h := newHarness(t, testConfig)
	a := h.post("firing", "g1", map[string]string{"alertname": "X"})[0]
	// The HA twin posts the same group: same incident, no new timeline line.
	b := h.post("firing", "g1", map[string]string{"alertname": "X"})[0]
	if a.ID != b.ID {
		t.Fatalf("same group made incidents %d and %d", a.ID, b.ID)
	}
	// Another group whose alerts share the summary stays its own incident.
	c := h.post("firing", "g2", map[string]string{"alertname": "X", "instance": "b"})[0]
	if c.ID == a.ID {
		t.Fatal("two groups collapsed into one incident")
	}
	if tl := h.timeline(a.ID); slices.Contains(tl, "alerts_changed") {
		t.Errorf("identical re-post wrote a timeline line: %q", tl)
	}
	// Resolved closes it; firing again afterwards opens a new one.
	r := h.post("resolved", "g1", map[string]string{"alertname": "X"})[0]
	if r.ID != a.ID || r.Status != store.StatusResolved {
		t.Fatalf("resolve: got %+v", r)
	}
	d := h.post("firing", "g1", map[string]string{"alertname": "X"})[0]
	if d.ID == a.ID || d.Status != store.StatusOpen {
		t.Fatalf("refire after resolve reused incident %d", d.ID)
	}
}

func TestResolveStopsPagesAndInformsStakeholders(t *testing.T) {
	h := newHarness(t, testConfig)
	id := h.post("firing", "g1", map[string]string{"alertname": "X"})[0].ID
	h.advance(0)
	_, n := h.pages(0)
	h.post("resolved", "g1", map[string]string{"alertname": "X"})
	h.advance(time.Hour)
	got, _ := h.pages(n)
	eq(t, "pages after resolve", got, nil)
	var kinds []string
	for _, m := range h.sent.Messages() {
		if m.To == "boss@example.com" {
			kinds = append(kinds, string(m.Kind))
		}
	}
	eq(t, "boss's reports", kinds, []string{"report", "resolved"})
	if pending, _ := h.st.Pending(context.Background()); pending != 0 {
		t.Errorf("%d timers left after resolve", pending)
	}
	_ = id
}

func TestEmptyStepMovesOnAndPolicyRepeatsThenExhausts(t *testing.T) {
	h := newHarness(t, testConfig)
	id := h.post("firing", "g1", map[string]string{"team": "nights"})[0].ID
	h.advance(0)
	got, n := h.pages(0)
	// nights has nobody on call (its window never matches): step 2 (carol) fires at once.
	eq(t, "empty step skipped", got, []string{"email:carol@example.com"})
	h.advance(5 * time.Minute) // round 2, empty step then carol again
	got, n = h.pages(n)
	eq(t, "round 2", got, []string{"email:carol@example.com"})
	h.advance(5 * time.Minute)
	got, _ = h.pages(n)
	eq(t, "nothing after the last round", got, nil)
	inc, _ := h.st.Get(context.Background(), id)
	if !inc.Escalation.Exhausted || inc.Status != store.StatusOpen {
		t.Fatalf("want open and exhausted, got %+v", inc.Escalation)
	}
	tl := h.timeline(id)
	if !slices.Contains(tl, "exhausted") {
		t.Errorf("timeline lacks exhausted: %q", tl)
	}
}

func TestFailoverOnPermanentFailureAndRetryOnTransient(t *testing.T) {
	h := newHarness(t, testConfig)
	var mu sync.Mutex
	smsCalls := 0
	h.sent.Fail = func(m *channels.Message) error {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case m.Channel == "sms" && m.UserID == "alice":
			return channels.Permanent("21211", errors.New("invalid 'To' number"))
		case m.Channel == "slack" && m.UserID == "alice":
			smsCalls++
			if smsCalls < 3 {
				return errors.New("503 from provider")
			}
		}
		return nil
	}
	id := h.post("firing", "g1", map[string]string{"alertname": "X"})[0].ID
	h.advance(0)
	got, n := h.pages(0)
	// sms failed for good → failover to her next method (slack, which is also a rule) and #ops.
	// slack itself fails twice transiently first, so only #ops is through.
	eq(t, "first pass", got, []string{"slack:C0OPS", "voice:+819000000001"})
	h.advance(time.Second)
	h.advance(2 * time.Second)
	h.advance(4 * time.Second)
	got, _ = h.pages(n)
	eq(t, "slack after retries", got, []string{"slack:U0ALICE"})
	tl := h.timeline(id)
	for _, want := range []string{"notify_failed", "notify_retry"} {
		if !slices.Contains(tl, want) {
			t.Errorf("timeline lacks %q: %q", want, tl)
		}
	}
}

func TestRestartResumesEscalation(t *testing.T) {
	h := newHarness(t, testConfig)
	id := h.post("firing", "g1", map[string]string{"alertname": "X"})[0].ID
	h.advance(0)
	_, n := h.pages(0)
	set := h.engine.Policies()
	if err := h.st.Close(); err != nil {
		t.Fatal(err)
	}
	// Down for an hour: step 2 came due meanwhile and must fire at once on start.
	h.clock.Add(time.Hour)
	h.open(set)
	h.advance(0)
	got, _ := h.pages(n)
	if !slices.Contains(got, "sms:+819000000002") {
		t.Fatalf("step 2 did not fire after restart: %q", got)
	}
	if _, err := os.Stat(h.path); err != nil {
		t.Fatal(err)
	}
	_ = id
}

func TestDeliveryFailedLaterFailsOver(t *testing.T) {
	h := newHarness(t, testConfig)
	id := h.post("firing", "g1", map[string]string{"alertname": "X"})[0].ID
	h.advance(0)
	var sms channels.Message
	for _, m := range h.sent.Messages() {
		if m.Channel == "sms" && m.UserID == "alice" {
			sms = m
		}
	}
	if sms.Callback == "" {
		t.Fatal("sms carries no callback token")
	}
	_, n := h.pages(0)
	// Twilio reports the SMS undelivered a few seconds later.
	h.clock.Add(10 * time.Second)
	if err := h.engine.DeliveryFailed(context.Background(), sms.Callback, "undelivered (30003)"); err != nil {
		t.Fatal(err)
	}
	h.advance(0)
	got, n := h.pages(n)
	// sms and slack were under way: the next method is her voice number, now rather than at +3m.
	eq(t, "failover after undelivered", got, []string{"voice:+819000000001"})
	if tl := h.timeline(id); !slices.Contains(tl, "notify_failed") {
		t.Errorf("timeline lacks notify_failed: %q", tl)
	}
	// After an ack, a late failure report pages nobody.
	h.engine.Ack(context.Background(), id, "alice", "test")
	if err := h.engine.DeliveryFailed(context.Background(), sms.Callback, "undelivered"); err != nil {
		t.Fatal(err)
	}
	h.advance(0)
	got, _ = h.pages(n)
	eq(t, "after ack", got, nil)
	if err := h.engine.DeliveryFailed(context.Background(), "!!not-a-token", "x"); err == nil {
		t.Error("a garbage token was accepted")
	}
}

func TestActIsIdempotentPerRequestAndChecksTheUser(t *testing.T) {
	h := newHarness(t, testConfig)
	id := h.post("firing", "g1", map[string]string{"alertname": "X"})[0].ID
	h.advance(0)
	ctx := context.Background()
	// Twilio retries the same inbound SMS: it escalates once.
	for range 3 {
		if _, _, err := h.engine.Act(ctx, Action{Incident: id, Verb: "escalate", User: "bob", Via: "sms", Dedup: "SM123"}); err != nil {
			t.Fatal(err)
		}
	}
	inc, _ := h.st.Get(ctx, id)
	if inc.Escalation.Step != 0 || inc.Escalation.Round != 0 {
		// Escalate schedules step 2 (index 1) at once; the state records index 0 until it fires.
		t.Fatalf("after one escalate: %+v", inc.Escalation)
	}
	h.advance(0)
	inc, _ = h.st.Get(ctx, id)
	if inc.Escalation.Step != 1 {
		t.Fatalf("escalated to step index %d, want 1", inc.Escalation.Step)
	}
	n := 0
	for _, ev := range h.timeline(id) {
		if ev == "escalated" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d escalations from one retried request", n)
	}
	if _, _, err := h.engine.Act(ctx, Action{Incident: id, Verb: "ack", User: "mallory", Via: "sms"}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("unknown user: %v", err)
	}
	if _, _, err := h.engine.Act(ctx, Action{Incident: id, Verb: "dance", User: "bob", Via: "sms"}); !errors.Is(err, ErrBadVerb) {
		t.Fatalf("bad verb: %v", err)
	}
	if _, _, err := h.engine.Act(ctx, Action{Incident: 999, Verb: "ack", User: "bob", Via: "sms"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown incident: %v", err)
	}
	_, done, err := h.engine.Act(ctx, Action{Incident: id, Verb: "ack", User: "bob", Via: "sms", Dedup: "SM124"})
	if err != nil || !done {
		t.Fatalf("ack: %v %v", done, err)
	}
	if _, done, _ := h.engine.Act(ctx, Action{Incident: id, Verb: "ack", User: "alice", Via: "sms", Dedup: "SM125"}); done {
		t.Fatal("a second ack changed something")
	}
}
