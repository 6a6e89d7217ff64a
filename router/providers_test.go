package router

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
)

// value reads one counter or gauge.
func value(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var pb dto.Metric
	if err := m.Write(&pb); err != nil {
		t.Fatal(err)
	}
	if pb.Counter != nil {
		return pb.Counter.GetValue()
	}
	return pb.Gauge.GetValue()
}

// series counts what c exports now.
func series(c prometheus.Collector) int {
	ch := make(chan prometheus.Metric, 100)
	c.Collect(ch)
	close(ch)
	return len(ch)
}

// recordOnly answers as the dry-run sender does (nothing sent, Recorded),
// while keeping the messages for the test to read.
type recordOnly struct{ inner channels.Sender }

func (r recordOnly) Send(ctx context.Context, m *channels.Message) (channels.Receipt, error) {
	rc, err := r.inner.Send(ctx, m)
	rc.Recorded = true
	return rc, err
}

// reopen replaces the harness's engine by one with opts and sender s on every channel.
func (h *harness) reopen(cfgText string, s channels.Sender, opts Options) {
	h.t.Helper()
	cfg, err := config.Parse([]byte(cfgText), "test.yml")
	if err != nil {
		h.t.Fatalf("config: %v", err)
	}
	opts.Senders = map[string]channels.Sender{}
	for _, ch := range []string{"sms", "voice", "email", "slack", "webhook"} {
		opts.Senders[ch] = s
	}
	opts.Store, opts.Clock, opts.Owner = h.st, h.clock, "test"
	h.engine = New(policies.Compile(cfg), opts)
}

func detailsOf(h *harness, id int64, typ string) []map[string]string {
	h.t.Helper()
	evs, err := h.st.Timeline(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []map[string]string
	for _, e := range evs {
		if e.Type == typ {
			out = append(out, e.Detail)
		}
	}
	return out
}

// TestDryRunRecordsAndEscalationGoesOn: a message the sender only recorded
// is "recorded" on the timeline and in hikyaku_notifications_total, never
// notified or sent; nobody was reached, so the incident stays open and the
// next step pages at its time. On the old code it was "notified" and "sent".
func TestDryRunRecordsAndEscalationGoesOn(t *testing.T) {
	h := newHarness(t, testConfig)
	m := NewMetrics(nil)
	h.reopen(testConfig, recordOnly{h.sent}, Options{DryRun: true, Metrics: m})
	id := h.post("firing", "g1", map[string]string{"alertname": "X"})[0].ID
	h.advance(0)
	got, n := h.pages(0)
	eq(t, "step 1", got, []string{"slack:C0OPS", "slack:U0ALICE", "sms:+819000000001"})
	h.advance(5 * time.Minute)
	got, _ = h.pages(n)
	// alice's voice rule at +3m, then step 2 (bob) at +5m: no ack came, so escalation went on.
	eq(t, "after 5m", got, []string{"sms:+819000000002", "voice:+819000000001"})

	tl := h.timeline(id)
	if slices.Contains(tl, "notified") {
		t.Errorf("timeline says notified in dry run: %q", tl)
	}
	rec := detailsOf(h, id, "recorded")
	if len(rec) != 6 {
		t.Errorf("recorded events = %d, want 6 (3 at step 1, the stakeholder report, voice, step 2): %q", len(rec), tl)
	}
	for _, d := range rec {
		if d["channel"] == "" || d["to"] == "" {
			t.Errorf("recorded event without channel or recipient: %v", d)
		}
	}
	if got := value(t, m.notifications.WithLabelValues("sms", "recorded", "")); got != 2 {
		t.Errorf(`notifications{sms,recorded} = %v, want 2`, got)
	}
	if got := value(t, m.notifications.WithLabelValues("sms", "sent", "")); got != 0 {
		t.Errorf(`notifications{sms,sent} = %v, want 0`, got)
	}
	if got := value(t, m.dryRun); got != 1 {
		t.Errorf("hikyaku_dry_run = %v, want 1", got)
	}
	if got := series(m.providerUp); got != 0 {
		t.Errorf("hikyaku_provider_up has %d series in dry run, want none: no provider is used", got)
	}
	if got := series(m.timeToAck); got != 0 {
		t.Errorf("time_to_ack has %d series, want none: nobody acked", got)
	}
	inc, err := h.st.Get(context.Background(), id)
	if err != nil || inc.Status != "open" {
		t.Errorf("incident = %+v, %v; want still open", inc, err)
	}
}

const twilioProvider = `
providers:
  twilio: {account_sid: AC0123, auth_token: {value: tw-token}, from: "+815012345678"}
`

// TestAuthFailureFailsOverAndMarksTheProviderDown: Twilio refusing the
// account (20003) fails the page over at once, without retries, logs at
// ERROR, sets hikyaku_provider_up{provider="twilio"} to 0 and names it in
// /-/ready's body (still 200); the next success sets it to 1 again. On the
// old code there was no gauge, and /-/ready said only OK.
func TestAuthFailureFailsOverAndMarksTheProviderDown(t *testing.T) {
	cfgText := testConfig + twilioProvider
	h := newHarness(t, cfgText)
	m := NewMetrics(nil)
	h.reopen(cfgText, h.sent, Options{Metrics: m})
	if got := value(t, m.providerUp.WithLabelValues("twilio")); got != 1 {
		t.Fatalf("provider_up{twilio} at start = %v, want 1", got)
	}
	if got := value(t, m.dryRun); got != 0 {
		t.Errorf("hikyaku_dry_run = %v, want 0", got)
	}
	refused := true
	h.sent.Fail = func(msg *channels.Message) error {
		if refused && (msg.Channel == "sms" || msg.Channel == "voice") {
			return channels.AuthFailure("20003", errors.New("twilio: Authenticate"))
		}
		return nil
	}
	id := h.post("firing", "g1", map[string]string{"alertname": "X"})[0].ID
	h.advance(0)
	got, n := h.pages(0)
	// sms refused → voice at once (her next method not yet fired) → refused too; slack went out.
	eq(t, "step 1", got, []string{"slack:C0OPS", "slack:U0ALICE"})
	failed := detailsOf(h, id, "notify_failed")
	if len(failed) != 2 || failed[0]["channel"] != "sms" || failed[0]["failover_to"] != "voice" || failed[0]["attempts"] != "1" ||
		failed[1]["channel"] != "voice" || failed[1]["attempts"] != "1" {
		t.Errorf("notify_failed = %v, want sms (1 attempt, failover to voice) then voice (1 attempt)", failed)
	}
	if retries := detailsOf(h, id, "notify_retry"); len(retries) != 0 {
		t.Errorf("an auth failure was retried: %v", retries)
	}
	if got := value(t, m.providerUp.WithLabelValues("twilio")); got != 0 {
		t.Errorf("provider_up{twilio} = %v, want 0", got)
	}
	if got := value(t, m.providerUp.WithLabelValues("webhook")); got != 1 {
		t.Errorf("provider_up{webhook} = %v, want 1", got)
	}
	srv := httptest.NewServer((&Server{Engine: h.engine}).Handler())
	defer srv.Close()
	code, body := do(t, "GET", srv.URL+"/-/ready", "", nil)
	if code != 200 || !strings.Contains(body, "provider twilio down: ") || !strings.Contains(body, "20003") {
		t.Errorf("/-/ready = %d %q, want 200 naming twilio down with its code", code, body)
	}

	refused = false
	h.advance(5 * time.Minute) // alice's voice rule at +3m and step 2 (bob) at +5m, which Twilio takes again
	got, _ = h.pages(n)
	eq(t, "step 2", got, []string{"sms:+819000000002", "voice:+819000000001"})
	if got := value(t, m.providerUp.WithLabelValues("twilio")); got != 1 {
		t.Errorf("provider_up{twilio} after a success = %v, want 1", got)
	}
	if _, body := do(t, "GET", srv.URL+"/-/ready", "", nil); strings.Contains(body, "twilio") {
		t.Errorf("/-/ready = %q after twilio took a message, want it not named", body)
	}
}
