package router

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/store"
)

// drillConfig gives eng an admin (boss, also its stakeholder) and a drill
// on the first Wednesday at 14:30 Tokyo time: 2026-01-07 is that Wednesday
// (January 1 is a Thursday), t0 is 14:00 JST on it.
func drillConfig(drill string) string {
	return strings.Replace(testConfig, "      update_every: 30m\n",
		"      update_every: 30m\n    roles:\n      admins: [boss]\n"+drill, 1)
}

const firstWednesday = "    drill: {week: first, weekday: wednesday, at: \"14:30\"}\n"

func (h *harness) drillTimer() *store.Timer {
	h.t.Helper()
	tm, err := h.st.SetTimer(context.Background(), store.TimerGet, store.Timer{ID: "drill/eng"})
	if err != nil {
		h.t.Fatal(err)
	}
	return tm
}

func (h *harness) drills() []DrillView {
	h.t.Helper()
	page, err := h.st.Query(context.Background(), store.ListOptions{Severity: TestSeverity, Limit: 100})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []DrillView
	for _, inc := range page.Incidents {
		if inc.Drill != nil {
			v, err := h.engine.ViewDrill(context.Background(), inc)
			if err != nil {
				h.t.Fatal(err)
			}
			out = append(out, v)
		}
	}
	return out
}

func targetOf(v DrillView, user, channel string) store.DrillTarget {
	for _, tg := range v.Targets {
		if tg.User == user && tg.Channel == channel {
			return tg
		}
	}
	return store.DrillTarget{}
}

// The scheduled drill pages every responder on each contact method, one
// test page each; alice acks her SMS, bob's SMS fails; the report to the
// admin (and stakeholder) boss lists both, and nothing counts in MTTA/MTTR.
func TestDrillScheduledPagesEveryMethodAndReports(t *testing.T) {
	h := newHarness(t, strings.Replace(drillConfig(firstWednesday), "      users: [boss]\n", "      users: [boss, carol]\n", 1))
	ctx := context.Background()
	h.sent.Fail = func(m *channels.Message) error {
		if m.Channel == "sms" && m.To == "+819000000002" {
			return channels.Permanent("21211", errors.New("invalid 'To' number"))
		}
		return nil
	}
	if err := h.engine.SyncDrills(ctx); err != nil {
		t.Fatal(err)
	}
	if tm := h.drillTimer(); tm == nil || !tm.Due.Equal(time.Date(2026, 1, 7, 5, 30, 0, 0, time.UTC)) {
		t.Fatalf("drill timer = %+v, want due 2026-01-07T05:30:00Z", tm)
	}
	h.advance(29 * time.Minute)
	if got := h.drills(); len(got) != 0 {
		t.Fatalf("a drill ran before its time: %+v", got)
	}
	h.advance(time.Minute)
	got, n := h.pages(0)
	eq(t, "one test page per contact method", got, []string{"email:bob@example.com", "email:boss@example.com",
		"email:carol@example.com", "slack:U0ALICE", "sms:+819000000001", "voice:+819000000001"})
	for _, m := range h.sent.Messages() {
		if !m.Incident.Test {
			t.Errorf("%s to %s is not marked a test", m.Channel, m.To)
		}
	}
	ds := h.drills()
	if len(ds) != 1 || ds[0].Status != "running" || len(ds[0].Targets) != 7 {
		t.Fatalf("drills = %+v", ds)
	}
	d := ds[0]
	if !d.Until.Equal(time.Date(2026, 1, 7, 6, 0, 0, 0, time.UTC)) || !d.Scheduled.Equal(time.Date(2026, 1, 7, 5, 30, 0, 0, time.UTC)) {
		t.Errorf("drill window: scheduled %s until %s", d.Scheduled, d.Until)
	}
	if tm := h.drillTimer(); tm == nil || !tm.Due.Equal(time.Date(2026, 2, 4, 5, 30, 0, 0, time.UTC)) {
		t.Errorf("next drill timer = %+v, want due 2026-02-04T05:30:00Z (February's first Wednesday)", tm)
	}
	aliceSMS := targetOf(d, "alice", "sms").Incident
	if aliceSMS == 0 {
		t.Fatalf("alice's sms target has no test page: %+v", d.Targets)
	}
	h.advance(2 * time.Minute)
	if _, err := h.engine.Ack(ctx, aliceSMS, "alice", "sms"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.engine.Ack(ctx, d.ID, "boss", "api"); !errors.Is(err, ErrDrillNoAction) {
		t.Errorf("ack of the drill itself: %v, want ErrDrillNoAction", err)
	}
	h.advance(28*time.Minute - time.Second)
	if ds := h.drills(); ds[0].Status != "running" {
		t.Fatalf("reported before the window closed: %+v", ds[0])
	}
	h.advance(time.Second)
	ds = h.drills()
	d = ds[0]
	if d.Status != "reported" || !d.ReportedAt.Equal(time.Date(2026, 1, 7, 6, 0, 0, 0, time.UTC)) {
		t.Fatalf("drill = %s reported at %s, want reported at 06:00Z", d.Status, d.ReportedAt)
	}
	results := map[string]string{}
	for _, tg := range d.Targets {
		results[tg.User+"/"+tg.Channel] = tg.Result
	}
	want := map[string]string{"alice/sms": "acked", "alice/voice": "unanswered", "alice/slack": "unanswered",
		"bob/sms": "failed", "bob/email": "unanswered", "carol/email": "unanswered", "boss/email": "unanswered"}
	if fmt.Sprint(results) != fmt.Sprint(want) {
		t.Errorf("results = %v\nwant %v", results, want)
	}
	if tg := targetOf(d, "alice", "sms"); tg.AckSeconds != 120 || tg.AckVia != "sms" || tg.AckedBy != "alice" {
		t.Errorf("alice's sms: %+v, want acked after 120s via sms", tg)
	}
	if tg := targetOf(d, "bob", "sms"); !strings.Contains(tg.Error, "invalid 'To' number") {
		t.Errorf("bob's sms error = %q", tg.Error)
	}
	eq(t, "no working contact", d.NoWorkingContact, []string{"boss", "bob", "carol"})
	// The report went to boss alone (admin and stakeholder: once), by mail.
	var reports []channels.Message
	for _, m := range h.sent.Messages()[n:] {
		if m.Kind == channels.KindReport {
			reports = append(reports, m)
		}
	}
	if len(reports) != 2 || reports[0].To != "boss@example.com" || reports[1].To != "carol@example.com" {
		t.Fatalf("drill reports: %d, want one to boss@example.com (admin and stakeholder), one to carol@example.com", len(reports))
	}
	ja := reports[1].Subject + "\n" + reports[1].Text
	for _, want := range []string{"連絡手段の点検 結果報告", "連絡手段 1/7 件で確認応答、1/4 人に到達", "確認応答あり: alice: sms で 2m0s 後に確認応答",
		"失敗した連絡手段: bob: sms が失敗", "応答なし: boss: email に応答なし", "届く連絡手段がない人: boss\nbob\ncarol"} {
		if !strings.Contains(ja, want) {
			t.Errorf("carol's (ja) drill report lacks %q:\n%s", want, ja)
		}
	}
	text := reports[0].Subject + "\n" + reports[0].Text
	for _, want := range []string{"Drill report", "1 of 7 contact methods acknowledged; 1 of 4 people reached",
		"Acknowledged: alice on sms, after 2m0s", "Failed contact methods: bob on sms: permanent failure (21211): invalid 'To' number",
		"alice on voice", "carol on email", "No contact method that works: boss\nbob\ncarol", "0 alerts firing"} {
		if !strings.Contains(text, want) {
			t.Errorf("drill report lacks %q:\n%s", want, text)
		}
	}
	eq(t, "drill timeline", h.timeline(d.ID), []string{"drill_started", "drill_page", "drill_page", "drill_page",
		"drill_page", "drill_page", "drill_page", "drill_page", "drill_reported", "resolved", "notified", "notified"})
	// Nothing counts as an incident: MTTA, MTTR, opened, acked, resolved, health.
	m := h.engine.metrics
	if series(m.timeToAck)+series(m.timeToResolve)+series(m.opened) != 0 {
		t.Errorf("incident metrics moved: time_to_ack %d, time_to_resolve %d, opened %d series",
			series(m.timeToAck), series(m.timeToResolve), series(m.opened))
	}
	if a, r := testutil.ToFloat64(m.acked.WithLabelValues("eng")), testutil.ToFloat64(m.resolved.WithLabelValues("eng")); a+r != 0 {
		t.Errorf("incidents acked %v, resolved %v: want 0", a, r)
	}
	if got := testutil.ToFloat64(m.testPages.WithLabelValues("eng", "sent")); got != 7 {
		t.Errorf("test pages sent = %v, want 7", got)
	}
	if got := testutil.ToFloat64(m.drill.drills.WithLabelValues("eng", "run")); got != 1 {
		t.Errorf("drills run = %v, want 1", got)
	}
	r, err := h.engine.HealthReport(ctx, "eng", time.Date(2026, 1, 7, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 8, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if r.Incidents != 0 {
		t.Errorf("health report counts %d incidents, want 0", r.Incidents)
	}
	// alice's sms is verified; the six others are not.
	vs, err := h.st.Verified(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || vs[0].User != "alice" || vs[0].Channel != "sms" || !vs[0].At.Equal(time.Date(2026, 1, 7, 5, 32, 0, 0, time.UTC)) {
		t.Errorf("verified = %+v, want alice sms at 05:32Z", vs)
	}
	if err := h.engine.CountUnverified(ctx); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(m.drill.unverified.WithLabelValues("eng")); got != 6 {
		t.Errorf("contacts unverified = %v, want 6", got)
	}
	// 35 days on (the default), alice's sms is stale again.
	h.clock.Add(35*24*time.Hour + time.Minute)
	if err := h.engine.CountUnverified(ctx); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(m.drill.unverified.WithLabelValues("eng")); got != 7 {
		t.Errorf("contacts unverified after 35d = %v, want 7", got)
	}
}

// A manual test page that follows the person's rules verifies the channel
// the ack came in on; one on a channel verifies that channel.
func TestTestPageAckVerifiesItsChannel(t *testing.T) {
	h := newHarness(t, testConfig)
	ctx := context.Background()
	rules, err := h.engine.TestPage(ctx, TestPageRequest{Actor: "alice", User: "alice", Via: "api"})
	if err != nil {
		t.Fatal(err)
	}
	mail, err := h.engine.TestPage(ctx, TestPageRequest{Actor: "bob", User: "bob", Channel: "email", Via: "api"})
	if err != nil {
		t.Fatal(err)
	}
	h.advance(time.Minute)
	if _, err := h.engine.Ack(ctx, rules.ID, "alice", "slack"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.engine.Ack(ctx, mail.ID, "bob", "cli"); err != nil {
		t.Fatal(err)
	}
	vs, err := h.st.Verified(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vs {
		got = append(got, v.User+"/"+v.Channel+"@"+v.At.UTC().Format(time.RFC3339))
	}
	slices.Sort(got)
	eq(t, "verified", got, []string{"alice/slack@2026-01-07T05:01:00Z", "bob/email@2026-01-07T05:01:00Z"})
}

func TestDrillRunByHandIsForAdmins(t *testing.T) {
	h := newHarness(t, drillConfig(""))
	ctx := context.Background()
	for _, c := range []struct {
		req  DrillRequest
		want error
	}{
		{DrillRequest{Actor: "alice", Department: "eng"}, ErrForbidden},
		{DrillRequest{Actor: "api", Department: "eng"}, ErrForbidden},
		{DrillRequest{Actor: "boss", Department: "nope"}, ErrBadDrill},
	} {
		if _, err := h.engine.RunDrill(ctx, c.req); !errors.Is(err, c.want) {
			t.Errorf("%+v: got %v, want %v", c.req, err, c.want)
		}
	}
	inc, err := h.engine.RunDrill(ctx, DrillRequest{Actor: "boss", Department: "eng", Via: "api"})
	if err != nil {
		t.Fatal(err)
	}
	if inc.Drill == nil || inc.Drill.RequestedBy != "boss" || !inc.Drill.Until.Equal(time.Date(2026, 1, 7, 5, 30, 0, 0, time.UTC)) {
		t.Fatalf("drill = %+v, want boss's, until 05:30Z (the default 30m)", inc.Drill)
	}
	h.advance(0)
	if got, _ := h.pages(0); len(got) != 7 {
		t.Errorf("pages = %q, want one per contact method: 7", got)
	}
	if tm := h.drillTimer(); tm != nil {
		t.Errorf("a department with no drill schedule got a timer: %+v", tm)
	}
}

// A reload that changes the schedule moves the timer; one that removes
// it disarms it.
func TestDrillReloadArmsAndDisarms(t *testing.T) {
	h := newHarness(t, drillConfig(firstWednesday))
	ctx := context.Background()
	if err := h.engine.SyncDrills(ctx); err != nil {
		t.Fatal(err)
	}
	h.reload(drillConfig("    drill: {week: last, weekday: friday, at: \"09:00\", answer_within: 1h}\n"))
	if err := h.engine.SyncDrills(ctx); err != nil {
		t.Fatal(err)
	}
	// January 2026's last Friday is the 30th: 09:00 JST is 00:00Z.
	if tm := h.drillTimer(); tm == nil || !tm.Due.Equal(time.Date(2026, 1, 30, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("after the reload the timer is %+v, want due 2026-01-30T00:00:00Z", tm)
	}
	h.reload(drillConfig(""))
	if tm := h.drillTimer(); tm != nil {
		t.Fatalf("a removed drill kept its timer: %+v", tm)
	}
}

// A drill whose time passed while no replica ran is not run late past its
// answer window: it is counted missed and the next one armed.
func TestDrillMissedWhileDown(t *testing.T) {
	h := newHarness(t, drillConfig(firstWednesday))
	ctx := context.Background()
	if err := h.engine.SyncDrills(ctx); err != nil {
		t.Fatal(err)
	}
	h.advance(2 * time.Hour)
	if got := h.drills(); len(got) != 0 {
		t.Fatalf("a missed drill ran: %+v", got)
	}
	if got := testutil.ToFloat64(h.engine.metrics.drill.drills.WithLabelValues("eng", "missed")); got != 1 {
		t.Errorf("drills missed = %v, want 1", got)
	}
	if tm := h.drillTimer(); tm == nil || !tm.Due.Equal(time.Date(2026, 2, 4, 5, 30, 0, 0, time.UTC)) {
		t.Errorf("next drill timer = %+v, want due 2026-02-04T05:30:00Z", tm)
	}
}

// A restart in the middle of a drill loses none of it: the new process
// sends the report at the window's end, and keeps the next drill's timer.
func TestDrillSurvivesRestart(t *testing.T) {
	h := newHarness(t, drillConfig(firstWednesday))
	ctx := context.Background()
	if err := h.engine.SyncDrills(ctx); err != nil {
		t.Fatal(err)
	}
	h.advance(30 * time.Minute)
	_, n := h.pages(0)
	if n != 7 {
		t.Fatalf("%d test pages before the restart, want 7", n)
	}
	if err := h.st.Close(); err != nil {
		t.Fatal(err)
	}
	h.open(h.engine.Policies())
	if err := h.engine.SyncDrills(ctx); err != nil {
		t.Fatal(err)
	}
	if tm := h.drillTimer(); tm == nil || !tm.Due.Equal(time.Date(2026, 2, 4, 5, 30, 0, 0, time.UTC)) {
		t.Errorf("after the restart the drill timer is %+v, want due 2026-02-04T05:30:00Z", tm)
	}
	h.advance(30 * time.Minute)
	ds := h.drills()
	if len(ds) != 1 || ds[0].Status != "reported" || !ds[0].ReportedAt.Equal(time.Date(2026, 1, 7, 6, 0, 0, 0, time.UTC)) {
		t.Fatalf("after the restart: drills %+v, want one reported at 06:00Z", ds)
	}
	var reports []string
	for _, m := range h.sent.Messages()[n:] {
		if m.Kind == channels.KindReport {
			reports = append(reports, m.To)
		}
	}
	eq(t, "drill reports after the restart", reports, []string{"boss@example.com"})
	if got := len(h.sent.Messages()) - n; got != 1 {
		t.Errorf("%d messages after the restart, want the report alone (no test page again)", got)
	}
}
