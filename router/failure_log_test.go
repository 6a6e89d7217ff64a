package router

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/hikyaku/hikyaku/channels"
)

// logBuffer collects JSON log lines for a test to read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines are the records logged with msg, decoded.
func (b *logBuffer) lines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, raw := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if raw == "" {
			continue
		}
		var l map[string]any
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			t.Fatalf("log line is not JSON: %s", raw)
		}
		if l["msg"] == msg {
			out = append(out, l)
		}
	}
	return out
}

// failingSender refuses every message with err.
type failingSender struct{ err error }

func (f failingSender) Send(context.Context, *channels.Message) (channels.Receipt, error) {
	return channels.Receipt{}, f.err
}

// observed is a harness whose engine logs to a buffer, counts into a
// registry of its own, and sends through senders.
func observed(t *testing.T, cfgText string, senders map[string]channels.Sender) (*harness, *logBuffer, *prometheus.Registry) {
	t.Helper()
	h := newHarness(t, cfgText)
	logs := &logBuffer{}
	reg := prometheus.NewRegistry()
	h.engine = New(h.engine.Policies(), Options{Store: h.st, Senders: senders, Clock: h.clock, Owner: "test",
		Logger: slog.New(slog.NewJSONHandler(logs, nil)), Metrics: NewMetrics(reg)})
	return h, logs, reg
}

// counter is the value of the series of name with exactly labels, and
// whether the registry has that series at all.
func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if sameLabels(m.GetLabel(), labels) {
				if m.GetCounter() != nil {
					return m.GetCounter().GetValue(), true
				}
				return m.GetGauge().GetValue(), true
			}
		}
	}
	return 0, false
}

func sameLabels(got []*dto.LabelPair, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for _, lp := range got {
		if v, ok := want[lp.GetName()]; !ok || v != lp.GetValue() {
			return false
		}
	}
	return true
}

// TestFailedAndGivenUpNotificationsAreLogged: a page refused on every
// channel (bad credentials) is a WARN per failover and an ERROR when no
// contact method is left, each naming incident, person, channel and
// reason; the counter says failed vs given_up, by reason.
func TestFailedAndGivenUpNotificationsAreLogged(t *testing.T) {
	refused := failingSender{channels.WithReason(channels.ReasonAuth, channels.Permanent("20003", errors.New("authenticate")))}
	senders := map[string]channels.Sender{}
	for _, ch := range []string{"sms", "voice", "email", "slack", "webhook"} {
		senders[ch] = refused
	}
	h, logs, reg := observed(t, testConfig, senders)
	inc := h.post("firing", "g1", map[string]string{"alertname": "X"})[0]
	h.advance(0) // step 1: alice (sms, slack) and #ops (slack)

	failed := logs.lines(t, "notification failed; failing over to the next contact method")
	var aliceSMS bool
	for _, l := range failed {
		if l["level"] != "WARN" || l["incident"] != float64(inc.ID) || l["reason"] != "auth" {
			t.Errorf("failover line: %v", l)
		}
		if l["person"] == "alice" && l["channel"] == "sms" && l["failover_to"] == "voice" {
			aliceSMS = true
		}
	}
	if !aliceSMS {
		t.Errorf("no WARN for alice's SMS failing over to voice; got %v", failed)
	}
	givenUp := logs.lines(t, "notification given up: no other contact method is left")
	var ops, alice bool
	for _, l := range givenUp {
		if l["level"] != "ERROR" || l["incident"] != float64(inc.ID) || l["reason"] != "auth" {
			t.Errorf("given-up line: %v", l)
		}
		ops = ops || l["chat_channel"] == "ops" && l["channel"] == "slack"
		alice = alice || l["person"] == "alice" && l["channel"] == "voice"
	}
	if !ops || !alice {
		t.Errorf("given up: want ERRORs for #ops on slack and alice on voice, got %v", givenUp)
	}
	for _, c := range []struct {
		channel, result string
		want            float64
	}{
		{"sms", "failed", 1},     // alice's SMS → voice
		{"slack", "failed", 1},   // alice's Slack → voice
		{"slack", "given_up", 1}, // #ops has nothing else
		{"voice", "given_up", 2}, // both failovers to voice, and then nothing is left
		{"voice", "failed", 0},
	} {
		got, ok := counter(t, reg, "hikyaku_notifications_total", map[string]string{"channel": c.channel, "result": c.result, "reason": "auth"})
		if !ok || got != c.want {
			t.Errorf("hikyaku_notifications_total{channel=%q,result=%q,reason=\"auth\"} = %v (present %v), want %v", c.channel, c.result, got, ok, c.want)
		}
	}
	if _, ok := counter(t, reg, "hikyaku_notifications_total", map[string]string{"channel": "sms", "result": "failed"}); ok {
		t.Error("a series without the reason label")
	}
}

// TestRetriedNotificationsAreLoggedWithTheirReason: a transient failure is
// retried, logged at WARN and counted with its reason.
func TestRetriedNotificationsAreLoggedWithTheirReason(t *testing.T) {
	timeout := failingSender{context.DeadlineExceeded}
	senders := map[string]channels.Sender{"sms": timeout, "voice": timeout, "email": timeout, "slack": timeout, "webhook": timeout}
	h, logs, reg := observed(t, testConfig, senders)
	inc := h.post("firing", "g1", map[string]string{"alertname": "X"})[0]
	h.advance(0)
	retried := logs.lines(t, "notification failed; retrying")
	if len(retried) == 0 {
		t.Fatal("no WARN for a retried notification")
	}
	for _, l := range retried {
		if l["level"] != "WARN" || l["incident"] != float64(inc.ID) || l["reason"] != "timeout" || l["channel"] == nil {
			t.Errorf("retry line: %v", l)
		}
	}
	if got, _ := counter(t, reg, "hikyaku_notifications_total", map[string]string{"channel": "sms", "result": "retried", "reason": "timeout"}); got != 1 {
		t.Errorf("sms retried/timeout = %v, want 1", got)
	}
}

// TestEmptyStepAndExhaustionAreLogged: a step with nobody on call and no
// fallback is a WARN; a policy running out without an ack is an ERROR.
func TestEmptyStepAndExhaustionAreLogged(t *testing.T) {
	h, logs, reg := observed(t, testConfig, map[string]channels.Sender{"email": h0Sender{}})
	inc := h.post("firing", "g1", map[string]string{"alertname": "X", "team": "nights"})[0]
	for range 6 {
		h.advance(5 * 60e9)
	}
	empty := logs.lines(t, "escalation step found nobody on call and has no fallback; moving on to the next step")
	if len(empty) != 2 { // step 1 of both rounds (repeat: 1)
		t.Errorf("%d WARNs for the empty step, want 2: %v", len(empty), empty)
	}
	for _, l := range empty {
		if l["level"] != "WARN" || l["incident"] != float64(inc.ID) || l["policy"] != "empty-first" || l["step"] != float64(1) {
			t.Errorf("empty step line: %v", l)
		}
	}
	ex := logs.lines(t, "escalation exhausted: nobody acknowledged")
	if len(ex) != 1 || ex[0]["level"] != "ERROR" || ex[0]["incident"] != float64(inc.ID) || ex[0]["department"] != "eng" {
		t.Errorf("exhaustion lines: %v", ex)
	}
	if got, _ := counter(t, reg, "hikyaku_escalations_exhausted_total", map[string]string{"department": "eng"}); got != 1 {
		t.Errorf("exhausted{eng} = %v, want 1", got)
	}
}

// h0Sender accepts everything.
type h0Sender struct{}

func (h0Sender) Send(context.Context, *channels.Message) (channels.Receipt, error) {
	return channels.Receipt{ProviderID: "ok"}, nil
}
