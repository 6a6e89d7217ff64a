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

// A test page follows alice's own rules, is acked by her, counts in no
// MTTA and tells no stakeholder; a real incident acked after it still does.
func TestTestPageFollowsRulesAndStaysOutOfMTTA(t *testing.T) {
	h := newHarness(t, testConfig)
	ctx := context.Background()
	inc, err := h.engine.TestPage(ctx, TestPageRequest{Actor: "alice", User: "alice", Via: "api"})
	if err != nil {
		t.Fatal(err)
	}
	if inc.Test == nil || inc.Test.User != "alice" || inc.Department != "eng" || inc.Severity != "test" {
		t.Fatalf("test page incident: %+v", inc)
	}
	h.advance(0)
	got, n := h.pages(0)
	eq(t, "alice's rules at once", got, []string{"slack:U0ALICE", "sms:+819000000001"})
	for _, m := range h.sent.Messages() {
		if !m.Incident.Test || !strings.Contains(m.Text, "TEST PAGE from hikyaku") {
			t.Errorf("%s message does not say it is a test:\n%s", m.Channel, m.Text)
		}
	}
	h.advance(time.Minute)
	if _, err := h.engine.Ack(ctx, inc.ID, "alice", "sms"); err != nil {
		t.Fatal(err)
	}
	h.advance(10 * time.Minute) // her voice rule (+3m) and the deadline (+30m) must not fire
	h.advance(30 * time.Minute)
	got, n = h.pages(n)
	eq(t, "nothing after the ack", got, nil)
	for _, m := range h.sent.Messages() {
		if m.UserID == "boss" {
			t.Errorf("stakeholder boss heard of a test page: %s", m.Kind)
		}
	}
	cur, _ := h.st.Get(ctx, inc.ID)
	if cur.Status != store.StatusResolved || cur.AckedBy != "alice" || !cur.AckedAt.Equal(time.Date(2026, 1, 7, 5, 1, 0, 0, time.UTC)) {
		t.Fatalf("want resolved, acked by alice at 05:01Z, got %s by %q at %s", cur.Status, cur.AckedBy, cur.AckedAt)
	}
	eq(t, "timeline", h.timeline(inc.ID), []string{"created", "notified", "notified", "acked", "resolved"})
	m := h.engine.metrics
	if got := series(m.timeToAck); got != 0 {
		t.Errorf("time_to_ack has %d series after a test page, want none", got)
	}
	if got := testutil.ToFloat64(m.testPages.WithLabelValues("eng", "acked")); got != 1 {
		t.Errorf("test pages acked = %v, want 1", got)
	}
	// A real incident still counts.
	id := h.post("firing", "g1", map[string]string{"alertname": "X"})[0].ID
	h.advance(0)
	h.advance(2 * time.Minute)
	if _, err := h.engine.Ack(ctx, id, "alice", "sms"); err != nil {
		t.Fatal(err)
	}
	if got := testutil.CollectAndCount(m.timeToAck); got != 1 {
		t.Errorf("time_to_ack has %d series after a real ack, want 1", got)
	}
}

// One channel is tested alone: its failure is not hidden by a failover,
// and nobody answering ends it at the deadline.
func TestTestPageOneChannelNoFailoverUnansweredAtDeadline(t *testing.T) {
	h := newHarness(t, testConfig)
	ctx := context.Background()
	h.sent.Fail = func(m *channels.Message) error {
		if m.Channel == "sms" {
			return channels.Permanent("21211", errors.New("invalid 'To' number"))
		}
		return nil
	}
	inc, err := h.engine.TestPage(ctx, TestPageRequest{Actor: "alice", User: "alice", Channel: "sms", Via: "api"})
	if err != nil {
		t.Fatal(err)
	}
	h.advance(0)
	got, _ := h.pages(0)
	eq(t, "no failover", got, nil)
	h.advance(30*time.Minute - time.Second)
	if cur, _ := h.st.Get(ctx, inc.ID); cur.Status != store.StatusOpen {
		t.Fatalf("resolved before its deadline: %s", cur.Status)
	}
	h.advance(time.Second)
	cur, _ := h.st.Get(ctx, inc.ID)
	if cur.Status != store.StatusResolved || !cur.ResolvedAt.Equal(time.Date(2026, 1, 7, 5, 30, 0, 0, time.UTC)) {
		t.Fatalf("want resolved at 05:30Z, got %s at %s", cur.Status, cur.ResolvedAt)
	}
	eq(t, "timeline", h.timeline(inc.ID), []string{"created", "notify_failed", "test_unanswered", "resolved"})
	if got := testutil.ToFloat64(h.engine.metrics.testPages.WithLabelValues("eng", "unanswered")); got != 1 {
		t.Errorf("test pages unanswered = %v, want 1", got)
	}
	if _, err := h.engine.Escalate(ctx, inc.ID, "alice", "api"); !errors.Is(err, ErrResolved) {
		t.Errorf("escalate a resolved test page: %v", err)
	}
}

func TestTestPageRefusals(t *testing.T) {
	h := newHarness(t, strings.Replace(testConfig, "      update_every: 30m\n", "      update_every: 30m\n    roles:\n      admins: [boss]\n", 1))
	ctx := context.Background()
	for _, c := range []struct {
		req  TestPageRequest
		want error
	}{
		{TestPageRequest{Actor: "bob", User: "alice"}, ErrForbidden},
		{TestPageRequest{Actor: "api", User: "alice"}, ErrForbidden},
		{TestPageRequest{Actor: "alice", User: "alice", Channel: "email"}, ErrBadTestPage},
		{TestPageRequest{Actor: "alice", User: "alice", Channel: "pigeon"}, ErrBadTestPage},
		{TestPageRequest{Actor: "alice", User: "nobody"}, ErrBadTestPage},
		{TestPageRequest{Actor: "alice", Rotation: "nights"}, ErrBadTestPage}, // nobody on call
		{TestPageRequest{Actor: "alice"}, ErrBadTestPage},
	} {
		if _, err := h.engine.TestPage(ctx, c.req); !errors.Is(err, c.want) {
			t.Errorf("%+v: got %v, want %v", c.req, err, c.want)
		}
	}
	// An admin of eng may test anyone of eng; the rotation's on-call now is alice.
	inc, err := h.engine.TestPage(ctx, TestPageRequest{Actor: "boss", Rotation: "primary", Channel: "sms"})
	if err != nil {
		t.Fatal(err)
	}
	if inc.Test.User != "alice" || inc.Test.RequestedBy != "boss" {
		t.Fatalf("rotation test page: %+v", inc.Test)
	}
	h.advance(0)
	if _, err := h.engine.Escalate(ctx, inc.ID, "alice", "api"); !errors.Is(err, ErrTestNoEscalate) {
		t.Errorf("escalate a test page: %v, want ErrTestNoEscalate", err)
	}
	got, _ := h.pages(0)
	eq(t, "pages", got, []string{"sms:+819000000001"})
	if slices.Contains(h.timeline(inc.ID), "escalated") {
		t.Error("a test page escalated")
	}
}

func TestTestPageTextJaEn(t *testing.T) {
	h := newHarness(t, testConfig)
	ctx := context.Background()
	for _, u := range []string{"alice", "carol"} {
		if _, err := h.engine.TestPage(ctx, TestPageRequest{Actor: u, User: u, Channel: "email", Via: "api"}); err != nil && u == "carol" {
			t.Fatal(err)
		}
	}
	h.advance(0)
	msgs := h.sent.Messages()
	if len(msgs) != 1 {
		t.Fatalf("want carol's mail only (alice has no email), got %d messages", len(msgs))
	}
	m := msgs[0]
	for _, want := range []string{"[hikyaku #1] TEST", "hikyaku のテスト呼び出し: 連絡手段の点検で、インシデントではありません", "email で呼び出しが届くかを確認しています"} {
		if !strings.Contains(m.Subject+"\n"+m.Text, want) {
			t.Errorf("carol's mail lacks %q:\n%s\n%s", want, m.Subject, m.Text)
		}
	}
}

// A test page counts in no health report.
func TestTestPageNotInHealthReport(t *testing.T) {
	h := newHarness(t, testConfig)
	ctx := context.Background()
	if _, err := h.engine.TestPage(ctx, TestPageRequest{Actor: "alice", User: "alice", Via: "api"}); err != nil {
		t.Fatal(err)
	}
	h.advance(0)
	r, err := h.engine.HealthReport(ctx, "eng", time.Date(2026, 1, 7, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 8, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if r.Incidents != 0 {
		t.Errorf("health report counts %d incidents, want 0: a test page is none", r.Incidents)
	}
}
