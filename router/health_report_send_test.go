package router

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/store"
)

// healthConfig gives eng an admin (boss) and a weekly health report on
// Thursdays at 09:00 Tokyo time to its admins, carol (ja) and the ops
// Slack channel. t0 is Wednesday 2026-01-07 14:00 JST.
func healthConfig(schedule string) string {
	return strings.Replace(testConfig, "      update_every: 30m\n",
		"      update_every: 30m\n    roles:\n      admins: [boss]\n"+schedule, 1)
}

const thursdays = "    health_report: {every: weekly, weekday: thursday, at: \"09:00\", to: {admins: true, users: [carol], chat_channels: [ops]}}\n"

func (h *harness) healthTimer() *store.Timer {
	h.t.Helper()
	tm, err := h.st.SetTimer(context.Background(), store.TimerGet, store.Timer{ID: "health_report/eng"})
	if err != nil {
		h.t.Fatal(err)
	}
	return tm
}

func (h *harness) healthReports(from int) ([]string, []channels.Message) {
	var out []string
	var msgs []channels.Message
	for _, m := range h.sent.Messages()[from:] {
		if m.Kind == KindHealthReport {
			out = append(out, m.Channel+":"+m.To+":"+m.Language)
			msgs = append(msgs, m)
		}
	}
	slices.Sort(out)
	return out, msgs
}

// restart is the daemon stopping and starting again on the same store file.
func (h *harness) restart() {
	h.t.Helper()
	set := h.engine.Policies()
	if err := h.st.Close(); err != nil {
		h.t.Fatal(err)
	}
	h.open(set)
}

func healthCount(e *Engine, result string) float64 {
	return testutil.ToFloat64(e.metrics.health.sent.WithLabelValues("eng", result))
}

// The weekly report is armed at start, survives a restart, goes out at
// Thursday 09:00 JST to each recipient on their channel and in their
// language, covers the seven days before (with the incident of t0), and
// arms the next Thursday; a copy that fails for good is counted, logged
// and dead-lettered while the others go out.
func TestHealthReportScheduledSend(t *testing.T) {
	h := newHarness(t, healthConfig(thursdays))
	ctx := context.Background()
	if err := h.engine.SyncHealthReports(ctx); err != nil {
		t.Fatal(err)
	}
	if tm := h.healthTimer(); tm == nil || !tm.Due.Equal(time.Date(2026, 1, 8, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("health report timer = %+v, want due 2026-01-08T00:00:00Z (Thursday 09:00 JST)", tm)
	}
	incs := h.post("firing", "g-health", map[string]string{"alertname": "DiskFull"})
	h.advance(2 * time.Minute)
	if _, err := h.engine.Ack(ctx, incs[0].ID, "boss", "api"); err != nil {
		t.Fatal(err)
	}

	h.restart()
	if err := h.engine.SyncHealthReports(ctx); err != nil {
		t.Fatal(err)
	}
	if tm := h.healthTimer(); tm == nil || !tm.Due.Equal(time.Date(2026, 1, 8, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("after a restart the timer is %+v, want it kept at 2026-01-08T00:00:00Z", tm)
	}
	h.advanceTo("2026-01-07T23:59:59Z")
	if got, _ := h.healthReports(0); len(got) != 0 {
		t.Fatalf("sent before its time: %v", got)
	}
	before := len(h.sent.Messages())
	h.advance(time.Second)
	got, msgs := h.healthReports(before)
	eq(t, "recipients", got, []string{"email:boss@example.com:en", "email:carol@example.com:ja", "slack:C0OPS:en"})
	for _, m := range msgs {
		want := "On-call health report: eng, 2026-01-01 00:00 JST to 2026-01-08 00:00 JST"
		if m.Language == "ja" {
			want = "オンコール健全性レポート: eng (2026-01-01 00:00 JST から 2026-01-08 00:00 JST まで)"
		}
		if m.Subject != want {
			t.Errorf("%s subject %q, want %q", m.To, m.Subject, want)
		}
		wantText := "Incidents: 1 (acknowledged 1, resolved 0)"
		if m.Language == "ja" {
			wantText = "インシデント: 1 件 (確認済み 1、解決済み 0)"
		}
		if !strings.Contains(m.Text, wantText) {
			t.Errorf("%s text lacks %q:\n%s", m.To, wantText, m.Text)
		}
	}
	if got := healthCount(h.engine, "sent"); got != 3 {
		t.Errorf("sent = %v, want 3", got)
	}
	if tm := h.healthTimer(); tm == nil || !tm.Due.Equal(time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("next timer = %+v, want due 2026-01-15T00:00:00Z", tm)
	}

	h.sent.Fail = func(m *channels.Message) error {
		if m.Channel == "slack" {
			return channels.Permanent("channel_not_found", errors.New("channel_not_found"))
		}
		return nil
	}
	before = len(h.sent.Messages())
	h.advanceTo("2026-01-15T00:00:00Z")
	got, _ = h.healthReports(before)
	eq(t, "second week", got, []string{"email:boss@example.com:en", "email:carol@example.com:ja"})
	if s, f := healthCount(h.engine, "sent"), healthCount(h.engine, "failed"); s != 5 || f != 1 {
		t.Errorf("sent %v failed %v, want 5 and 1", s, f)
	}
	dead, err := h.engine.DeadTimers(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].Kind != kindHealthReportSend || !strings.Contains(dead[0].ID, "/c:ops/slack") {
		t.Errorf("dead letters = %+v, want the ops Slack copy", dead)
	}
}

// A reload arms a changed schedule and disarms a removed one; a monthly
// report covers the calendar month before.
func TestHealthReportReloadArmsAndDisarms(t *testing.T) {
	h := newHarness(t, healthConfig(thursdays))
	ctx := context.Background()
	if err := h.engine.SyncHealthReports(ctx); err != nil {
		t.Fatal(err)
	}
	h.reload(healthConfig("    health_report: {every: monthly, day: 2, at: \"08:30\", to: {admins: true}}\n"))
	if err := h.engine.SyncHealthReports(ctx); err != nil {
		t.Fatal(err)
	}
	// 2026-02-02 08:30 JST is 2026-02-01T23:30:00Z.
	if tm := h.healthTimer(); tm == nil || !tm.Due.Equal(time.Date(2026, 2, 1, 23, 30, 0, 0, time.UTC)) {
		t.Fatalf("after the reload the timer is %+v, want due 2026-02-01T23:30:00Z", tm)
	}
	before := len(h.sent.Messages())
	h.advanceTo("2026-02-01T23:30:00Z")
	_, msgs := h.healthReports(before)
	if len(msgs) != 1 || msgs[0].Subject != "On-call health report: eng, 2026-01-01 00:00 JST to 2026-02-01 00:00 JST" {
		t.Fatalf("monthly copies %+v, want one to boss covering January", msgs)
	}
	if tm := h.healthTimer(); tm == nil || !tm.Due.Equal(time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC)) {
		t.Fatalf("next monthly timer = %+v, want due 2026-03-01T23:30:00Z", tm)
	}
	h.reload(healthConfig(""))
	if tm := h.healthTimer(); tm != nil {
		t.Fatalf("a removed health report kept its timer: %+v", tm)
	}
}

// Down over two sendings: each week's report goes out in turn when the
// engine is back, then the next one in the future is armed.
func TestHealthReportCatchesUp(t *testing.T) {
	h := newHarness(t, healthConfig(thursdays))
	ctx := context.Background()
	if err := h.engine.SyncHealthReports(ctx); err != nil {
		t.Fatal(err)
	}
	h.clock.Add(8 * 24 * time.Hour) // 2026-01-15 14:00 JST: two Thursdays passed
	if _, err := h.engine.ProcessDue(ctx); err != nil {
		t.Fatal(err)
	}
	var periods []string
	for _, m := range h.sent.Messages() {
		if m.Kind == KindHealthReport && m.Channel == "email" && m.To == "boss@example.com" {
			periods = append(periods, m.Subject)
		}
	}
	eq(t, "boss's reports", periods, []string{
		"On-call health report: eng, 2026-01-01 00:00 JST to 2026-01-08 00:00 JST",
		"On-call health report: eng, 2026-01-08 00:00 JST to 2026-01-15 00:00 JST",
	})
	if tm := h.healthTimer(); tm == nil || !tm.Due.Equal(time.Date(2026, 1, 22, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("next timer = %+v, want due 2026-01-22T00:00:00Z", tm)
	}
}
