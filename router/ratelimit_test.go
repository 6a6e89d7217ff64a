package router

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/store"
)

// twilioConfig is testConfig with a Twilio account whose extra settings are extra.
func twilioConfig(extra string) string {
	return testConfig + `
providers:
  twilio:
    account_sid: AC00000000000000000000000000000000
    auth_token: {value: test-token}
    from: "+815012345678"
` + extra
}

// smsTo are the SMS messages sent to number, in order.
func (h *harness) smsTo(number string) []channels.Message {
	var out []channels.Message
	for _, m := range h.sent.Messages() {
		if m.Channel == "sms" && m.To == number {
			out = append(out, m)
		}
	}
	return out
}

// events are the timeline events of incident id of type typ.
func (h *harness) events(id int64, typ string) []store.Event {
	h.t.Helper()
	evs, err := h.st.Timeline(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []store.Event
	for _, ev := range evs {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

const aliceSMS = "+819000000001"

func TestPerPersonLimitPostponesThenBundles(t *testing.T) {
	h := newHarness(t, twilioConfig("    per_person_per_minute: 1\n"))
	var ids []int64
	for i, g := range []string{"g1", "g2", "g3"} {
		ids = append(ids, h.post("firing", g, map[string]string{"alertname": "Disk" + g})[0].ID)
		h.advance(0)
		if i < 2 {
			h.advance(10 * time.Second)
		}
	}
	if got := h.smsTo(aliceSMS); len(got) != 1 || got[0].IncidentID != ids[0] {
		t.Fatalf("in the first 20 s alice got %d SMS, want only incident %d's", len(got), ids[0])
	}
	for _, id := range ids[1:] {
		rl := h.events(id, "rate_limited")
		if len(rl) == 0 {
			t.Fatalf("incident %d: no rate_limited event: %q", id, h.timeline(id))
		}
		// The first SMS leaves the window a minute after it was sent.
		if until, err := time.Parse(time.RFC3339Nano, rl[0].Detail["until"]); err != nil || !until.Equal(t0.Add(time.Minute)) {
			t.Errorf("incident %d postponed until %s (%v), want t0+1m", id, rl[0].Detail["until"], err)
		}
	}

	h.advance(time.Minute - 20*time.Second - time.Millisecond)
	if got := h.smsTo(aliceSMS); len(got) != 1 {
		t.Fatalf("alice got %d SMS before the window had room", len(got))
	}
	h.advance(time.Millisecond)
	got := h.smsTo(aliceSMS)
	if len(got) != 2 {
		t.Fatalf("at t0+1m alice got %d SMS in all, want 2 (the first, then one bundle)", len(got))
	}
	b := got[1]
	for _, want := range []string{"2 incidents", "\n#2 [unknown] eng: disk full\n", "\n#3 [unknown] eng: disk full\n", `"2 ack"`, `"3 ack"`} {
		if !strings.Contains(b.Text, want) {
			t.Errorf("bundle text lacks %q:\n%s", want, b.Text)
		}
	}
	if last := b.Text[strings.LastIndexByte(b.Text, '\n')+1:]; !strings.Contains(last, `"2 ack"`) || !strings.Contains(last, `"3 ack"`) {
		t.Errorf("the last line (never cut by the SMS channel) must carry every ack hint: %q", last)
	}
	for _, id := range ids[1:] {
		var sms []store.Event
		for _, ev := range h.events(id, "notified") {
			if ev.Detail["channel"] == "sms" {
				sms = append(sms, ev)
			}
		}
		if len(sms) != 1 || sms[0].Detail["bundle"] != "2,3" || sms[0].Detail["attempt"] != "1" {
			t.Errorf("incident %d sms notified = %+v, want one, bundled with 2,3, first attempt (postponing is no failed attempt)", id, sms)
		}
	}
	if pending := pendingKinds(t, h, "sms"); len(pending) != 0 {
		t.Errorf("SMS timers left: %v", pending)
	}
}

// pendingKinds lists the notify timers on channel still in the store.
func pendingKinds(t *testing.T, h *harness, channel string) []string {
	t.Helper()
	far := h.clock.Now().Add(24 * time.Hour)
	cs, err := h.st.ClaimDue(context.Background(), far, "inspect", time.Millisecond, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		if strings.Contains(c.ID, "/"+channel+"/") {
			out = append(out, c.ID)
		}
	}
	return out
}

func TestPerPersonLimitHoldsOverTime(t *testing.T) {
	h := newHarness(t, twilioConfig("    per_person_per_minute: 2\n"))
	var ids []int64
	// A page every 5 s for 2 minutes, each incident paging alice by SMS.
	for i := range 24 {
		ids = append(ids, h.post("firing", "g"+string(rune('a'+i)), map[string]string{"alertname": "A" + string(rune('a'+i))})[0].ID)
		h.advance(0)
		h.advance(5 * time.Second)
	}
	h.advance(10 * time.Minute)
	sent := h.smsTo(aliceSMS)
	// Sends are stamped by the fake clock through the timeline: check every minute-long window.
	var at []time.Time
	for _, id := range ids {
		for _, ev := range h.events(id, "notified") {
			if ev.Detail["channel"] == "sms" && ev.Detail["to"] == "alice" {
				at = append(at, ev.At)
			}
		}
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	at = slices.CompactFunc(at, func(a, b time.Time) bool { return a.Equal(b) }) // a bundle is one send
	if len(at) != len(sent) {
		t.Fatalf("%d distinct send times for %d SMS", len(at), len(sent))
	}
	for i := 2; i < len(at); i++ {
		if at[i].Sub(at[i-2]) < time.Minute {
			t.Fatalf("3 SMS to alice within a minute: %v, %v, %v", at[i-2], at[i-1], at[i])
		}
	}
	// Never dropped: every incident's SMS page is notified, alone or bundled.
	for _, id := range ids {
		n := 0
		for _, ev := range h.events(id, "notified") {
			if ev.Detail["channel"] == "sms" && ev.Detail["to"] == "alice" {
				n++
			}
		}
		if n == 0 {
			t.Errorf("incident %d: alice's SMS page never went out", id)
		}
	}
	if len(sent) >= len(ids) {
		t.Errorf("%d SMS for %d incidents: nothing was bundled", len(sent), len(ids))
	}
}

func TestBundleFailureFailsOverEveryPage(t *testing.T) {
	h := newHarness(t, twilioConfig("    per_person_per_minute: 1\n"))
	a := h.post("firing", "g1", map[string]string{"alertname": "A"})[0].ID
	h.advance(0)
	h.advance(10 * time.Second)
	b := h.post("firing", "g2", map[string]string{"alertname": "B"})[0].ID
	c := h.post("firing", "g3", map[string]string{"alertname": "C"})[0].ID
	h.advance(0)
	h.sent.Fail = func(m *channels.Message) error {
		if m.Channel == "sms" && m.UserID == "alice" {
			return channels.Permanent("21610", errors.New("attempt to send to unsubscribed recipient"))
		}
		return nil
	}
	h.advance(50 * time.Second)
	for _, id := range []int64{b, c} {
		f := h.events(id, "notify_failed")
		if len(f) != 1 || f[0].Detail["channel"] != "sms" || f[0].Detail["failover_to"] != "voice" {
			t.Errorf("incident %d notify_failed = %+v, want the SMS failed over to voice", id, f)
		}
	}
	if f := h.events(a, "notify_failed"); len(f) != 0 {
		t.Errorf("incident %d was not in the bundle but failed: %+v", a, f)
	}
}

func TestBundleDeliveryFailedLaterFailsOverEveryPage(t *testing.T) {
	h := newHarness(t, twilioConfig("    per_person_per_minute: 1\n"))
	h.post("firing", "g1", map[string]string{"alertname": "A"})
	h.advance(0)
	h.advance(10 * time.Second)
	b := h.post("firing", "g2", map[string]string{"alertname": "B"})[0].ID
	c := h.post("firing", "g3", map[string]string{"alertname": "C"})[0].ID
	h.advance(0)
	h.advance(50 * time.Second)
	sms := h.smsTo(aliceSMS)
	if len(sms) != 2 {
		t.Fatalf("alice got %d SMS, want 2", len(sms))
	}
	// Twilio reports the bundle undelivered: both pages move on.
	if err := h.engine.DeliveryFailed(context.Background(), sms[1].Callback, "undelivered (30003)"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{b, c} {
		if f := h.events(id, "notify_failed"); len(f) != 1 || f[0].Detail["error"] != "undelivered (30003)" {
			t.Errorf("incident %d notify_failed = %+v", id, f)
		}
	}
}

func TestAckedWhilePostponedIsNotSent(t *testing.T) {
	h := newHarness(t, twilioConfig("    per_person_per_minute: 1\n"))
	h.post("firing", "g1", map[string]string{"alertname": "A"})
	h.advance(0)
	b := h.post("firing", "g2", map[string]string{"alertname": "B"})[0].ID
	h.advance(0)
	if len(h.events(b, "rate_limited")) == 0 {
		t.Fatal("the second page was not postponed")
	}
	if _, err := h.engine.Ack(context.Background(), b, "alice", "test"); err != nil {
		t.Fatal(err)
	}
	h.advance(time.Minute)
	for _, m := range h.smsTo(aliceSMS) {
		if m.IncidentID == b || strings.Contains(m.Text, "#2") {
			t.Fatalf("an acked incident's postponed page went out: %q", m.Text)
		}
	}
}

func TestAccountRatePacesSends(t *testing.T) {
	h := newHarness(t, twilioConfig("    account_per_second: 1\n"))
	var ids []int64
	for _, g := range []string{"g1", "g2", "g3"} {
		ids = append(ids, h.post("firing", g, map[string]string{"alertname": g})[0].ID)
	}
	h.advance(0)
	if n := len(h.smsTo(aliceSMS)); n != 1 {
		t.Fatalf("at once: %d SMS, want 1 (one a second)", n)
	}
	queued := 0
	for _, id := range ids {
		queued += len(h.events(id, "queued"))
	}
	if queued != 2 {
		t.Fatalf("%d pages queued for the account rate, want 2", queued)
	}
	h.advance(time.Second)
	if n := len(h.smsTo(aliceSMS)); n != 2 {
		t.Fatalf("after 1 s: %d SMS, want 2", n)
	}
	h.advance(time.Second)
	if n := len(h.smsTo(aliceSMS)); n != 3 {
		t.Fatalf("after 2 s: %d SMS, want 3", n)
	}
	// Chat is not the Twilio account's: it went at once.
	slack := 0
	for _, m := range h.sent.Messages() {
		if m.Channel == "slack" && m.To == "U0ALICE" {
			slack++
		}
	}
	if slack != 3 {
		t.Errorf("%d Slack pages to alice, want all 3 at once", slack)
	}
}

func TestPacerSlots(t *testing.T) {
	tw := &config.Twilio{AccountSID: "AC1", AccountPerSecond: 4}
	var p pacing
	now := t0
	want := []time.Duration{0, 250 * time.Millisecond, 500 * time.Millisecond}
	for i, w := range want {
		if got := p.slot(tw, string(rune('a'+i)), now); !got.Equal(now.Add(w)) {
			t.Errorf("send %d: slot +%s, want +%s", i, got.Sub(now), w)
		}
	}
	// Coming back for its slot, a postponed send gets it, not a new one.
	if got := p.slot(tw, "c", now.Add(500*time.Millisecond)); !got.Equal(now.Add(500 * time.Millisecond)) {
		t.Errorf("c back at its slot: %s", got.Sub(now))
	}
	if got := p.slot(tw, "b", now.Add(100*time.Millisecond)); !got.Equal(now.Add(250 * time.Millisecond)) {
		t.Errorf("b back early keeps its slot +250ms, got +%s", got.Sub(now))
	}
	// Off by default, and a new account starts afresh.
	if got := p.slot(&config.Twilio{AccountSID: "AC1"}, "x", now); !got.Equal(now) {
		t.Errorf("rate 0 waited until +%s", got.Sub(now))
	}
	if got := p.slot(&config.Twilio{AccountSID: "AC2", AccountPerSecond: 4}, "y", now); !got.Equal(now) {
		t.Errorf("another account waited until +%s", got.Sub(now))
	}
	if got := p.slot(nil, "z", now); !got.Equal(now) {
		t.Errorf("no Twilio provider waited until +%s", got.Sub(now))
	}
}
