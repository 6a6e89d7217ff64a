package router

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/record"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/internal/redistest"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

// In the week of 2026-01-05 primary is alice (sms +819000000001, slack
// U0ALICE); bob covering her is paged on his sms +819000000002.

func TestStoredCoverPagesTheCoveringPerson(t *testing.T) {
	h := newHarness(t, testConfig)
	ctx := context.Background()
	o, err := h.engine.AddOverride(ctx, "alice", CoverRequest{For: "alice", By: "bob", Start: t0, End: t0.Add(time.Hour), Reason: "dentist"})
	if err != nil {
		t.Fatal(err)
	}
	if o.CreatedBy != "alice" || !o.CreatedAt.Equal(t0) || len(o.ID) != 8 {
		t.Errorf("stored override %+v: want made by alice at t0 with an 8-character id", o)
	}
	h.post("firing", "g1", map[string]string{"alertname": "DiskFull"})
	h.advance(0)
	got, n := h.pages(0)
	eq(t, "step 1 while bob covers alice", got, []string{"slack:C0OPS", "sms:+819000000002"})

	if _, err := h.engine.RemoveOverride(ctx, "alice", o.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := h.engine.RemoveOverride(ctx, "alice", o.ID); !errors.Is(err, ErrStoredNotFound) {
		t.Fatalf("removing it twice: %v, want ErrStoredNotFound", err)
	}
	h.post("firing", "g2", map[string]string{"alertname": "CPU"})
	h.advance(0)
	got, _ = h.pages(n)
	eq(t, "step 1 once the cover is removed", got, []string{"slack:C0OPS", "slack:U0ALICE", "sms:+819000000001"})
}

func TestStoredCoverRefusals(t *testing.T) {
	h := newHarness(t, testConfig)
	ctx := context.Background()
	for _, q := range []CoverRequest{
		{For: "alice", By: "mallory", Start: t0, End: t0.Add(time.Hour)},
		{For: "alice", By: "alice", Start: t0, End: t0.Add(time.Hour)},
		{For: "alice", By: "bob", Rotation: "nope", Start: t0, End: t0.Add(time.Hour)},
		{For: "alice", By: "bob", Start: t0.Add(time.Hour), End: t0},
		{For: "alice", By: "bob", Start: t0.Add(-2 * time.Hour), End: t0.Add(-time.Hour)},
		{For: "alice", By: "bob"},
	} {
		if _, err := h.engine.AddOverride(ctx, "alice", q); !errors.Is(err, ErrBadOverride) {
			t.Errorf("AddOverride(%+v): %v, want ErrBadOverride", q, err)
		}
	}
	if _, err := h.engine.AddOverride(ctx, ServiceActor, CoverRequest{For: "alice", By: "bob", Start: t0, End: t0.Add(time.Hour)}); !errors.Is(err, ErrForbidden) {
		t.Errorf("the shared token making a cover: %v, want ErrForbidden", err)
	}
	if os, _ := h.st.ListOverrides(ctx); len(os) != 0 {
		t.Errorf("refused covers were stored: %+v", os)
	}
}

func TestMuteHoldsPagesUntilItRunsOut(t *testing.T) {
	h := newHarness(t, testConfig)
	ctx := context.Background()
	m, err := h.engine.StartMute(ctx, "alice", MuteRequest{Department: "eng", For: 30 * time.Minute, Reason: "deploying payments"})
	if err != nil {
		t.Fatal(err)
	}
	if !m.End.Equal(t0.Add(30 * time.Minute)) {
		t.Errorf("mute ends %s, want 30 minutes after t0", m.End)
	}
	incs := h.post("firing", "g1", map[string]string{"alertname": "DiskFull"})
	h.advance(0)
	h.advance(29 * time.Minute)
	got, n := h.pages(0)
	eq(t, "pages during the mute", got, nil)
	if w := incs[0].Wait; w == nil || w.Reason != "maintenance" || w.Window != "mute:"+m.ID || !w.Until.Equal(t0.Add(30*time.Minute)) {
		t.Fatalf("incident waits %+v, want maintenance under mute:%s until t0+30m", w, m.ID)
	}
	h.advance(time.Minute)
	got, _ = h.pages(n)
	eq(t, "pages when the mute ran out", got, []string{"slack:C0OPS", "slack:U0ALICE", "sms:+819000000001"})
	ev := h.onlyEvent(incs[0].ID, "maintenance_ended")
	if ev.Detail["window"] != "mute:"+m.ID {
		t.Errorf("maintenance_ended names window %q, want mute:%s", ev.Detail["window"], m.ID)
	}
}

func TestMuteEndedEarlyPagesAtOnce(t *testing.T) {
	h := newHarness(t, testConfig)
	ctx := context.Background()
	m, err := h.engine.StartMute(ctx, "alice", MuteRequest{Route: "nights", For: time.Hour, Reason: "db migration"})
	if err != nil {
		t.Fatal(err)
	}
	h.post("firing", "g1", map[string]string{"alertname": "DiskFull", "team": "nights"})
	h.post("firing", "g2", map[string]string{"alertname": "Other"}) // the default route: not muted
	h.advance(0)
	got, n := h.pages(0)
	eq(t, "only the unmuted route pages", got, []string{"slack:C0OPS", "slack:U0ALICE", "sms:+819000000001"})
	h.clock.Add(5 * time.Minute)
	ended, err := h.engine.EndMute(ctx, "alice", m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !ended.End.Equal(t0.Add(5*time.Minute)) || ended.EndedBy != "alice" {
		t.Errorf("ended mute %+v: want ended by alice at t0+5m", ended)
	}
	h.advance(0)
	got, _ = h.pages(n)
	// The muted incident: nights has nobody active, so its policy goes on to
	// carol (email) at once. The other incident, 5 minutes in: alice's voice
	// rule (+3m) and step 2, bob (+5m).
	eq(t, "pages once the mute ended early", got, []string{"email:carol@example.com", "sms:+819000000002", "voice:+819000000001"})
	inc, err := h.st.Get(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Wait != nil || inc.Escalation.Step < 0 {
		t.Fatalf("the muted incident after the mute ended: wait %+v, escalation %+v; want its escalation started", inc.Wait, inc.Escalation)
	}
	if _, err := h.engine.StartMute(ctx, "alice", MuteRequest{Route: "nights", Department: "eng", For: time.Hour, Reason: "x"}); !errors.Is(err, ErrBadOverride) {
		t.Errorf("a mute of a route and a department: %v, want ErrBadOverride", err)
	}
	for _, q := range []MuteRequest{{Route: "nope", For: time.Hour, Reason: "x"}, {Department: "eng", Reason: "x"},
		{Department: "eng", For: 8 * 24 * time.Hour, Reason: "x"}, {Department: "eng", For: time.Hour}} {
		if _, err := h.engine.StartMute(ctx, "alice", q); !errors.Is(err, ErrBadOverride) {
			t.Errorf("StartMute(%+v): %v, want ErrBadOverride", q, err)
		}
	}
}

// TestStoredOverridesSeenByEveryReplica: two engines on one Redis; what
// one stores decides the other's next page, with no restart. The engines'
// clocks stand at Redis's real time, since Redis judges dueness.
func TestStoredOverridesSeenByEveryReplica(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	cfg, err := config.Parse([]byte(testConfig), "test.yml")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	open := func(owner string, sender channels.Sender) *Engine {
		st, err := store.Open(t.Context(), srv.URL(), "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		senders := map[string]channels.Sender{}
		for _, ch := range []string{"sms", "voice", "email", "slack", "webhook"} {
			senders[ch] = sender
		}
		return New(policies.Compile(cfg), Options{Store: st, Senders: senders, Clock: &fakeClock{t: now}, Owner: owner})
	}
	sentA, sentB := &record.Sender{}, &record.Sender{}
	a, b := open("a", sentA), open("b", sentB)
	ctx := context.Background()
	ingest := func(e *Engine, group string, labels map[string]string) {
		t.Helper()
		raw := webhookJSON("firing", group, now, labels)
		msg, err := DecodeMessage(raw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Ingest(ctx, msg, raw); err != nil {
			t.Fatal(err)
		}
		if _, err := e.ProcessDue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	pagedOn := func(s *record.Sender, from int) ([]string, int) {
		var out []string
		msgs := s.Messages()
		for _, m := range msgs[from:] {
			if m.Kind == channels.KindPage && m.Channel == "sms" {
				out = append(out, m.To)
			}
		}
		return out, len(msgs)
	}
	// Whoever is primary now, the other member covers them on a.
	set := a.Policies()
	sh, ok := set.OnCall("primary", now)
	if !ok {
		t.Fatal("nobody on call in primary")
	}
	other, otherSMS := "bob", "+819000000002"
	if sh.User == "bob" {
		other, otherSMS = "alice", "+819000000001"
	}
	if _, err := a.AddOverride(ctx, sh.User, CoverRequest{For: sh.User, By: other, Start: now.Add(-time.Minute), End: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	ingest(b, "g1", map[string]string{"alertname": "DiskFull"})
	got, nb := pagedOn(sentB, 0)
	if len(got) != 1 || got[0] != otherSMS {
		t.Fatalf("b paged %q by sms, want only %s (%s covering %s, stored on a)", got, otherSMS, other, sh.User)
	}

	m, err := a.StartMute(ctx, "alice", MuteRequest{Department: "eng", For: time.Hour, Reason: "deploying payments"})
	if err != nil {
		t.Fatal(err)
	}
	ingest(b, "g2", map[string]string{"alertname": "CPU"})
	if got, _ := pagedOn(sentB, nb); len(got) != 0 {
		t.Fatalf("b paged %q during a's mute, want nobody", got)
	}
	if _, err := a.EndMute(ctx, "alice", m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ProcessDue(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ = pagedOn(sentB, nb)
	gotA, _ := pagedOn(sentA, 0)
	got = append(got, gotA...)
	if len(got) != 1 || got[0] != otherSMS {
		t.Fatalf("after a ended the mute, paged %q by sms, want only %s", got, otherSMS)
	}
}

func TestRetentionDeletesEndedOverrides(t *testing.T) {
	h := newHarness(t, testConfig)
	ctx := context.Background()
	if _, err := h.engine.AddOverride(ctx, "alice", CoverRequest{For: "alice", By: "bob", Start: t0, End: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	h.clock.Add(time.Hour + 30*24*time.Hour - time.Second)
	if _, err := h.engine.RetentionPass(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if os, _ := h.st.ListOverrides(ctx); len(os) != 1 {
		t.Fatalf("retention 1s before 30 days after the end left %d overrides, want 1", len(os))
	}
	h.clock.Add(2 * time.Second)
	if _, err := h.engine.RetentionPass(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if os, _ := h.st.ListOverrides(ctx); len(os) != 0 {
		t.Fatalf("retention 30 days after the end left %+v, want none", os)
	}
}
