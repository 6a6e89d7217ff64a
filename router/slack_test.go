package router

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/hikyaku/hikyaku/channels"
	hslack "github.com/hikyaku/hikyaku/channels/slack"
	"github.com/hikyaku/hikyaku/internal/fakeslack"
	"github.com/hikyaku/hikyaku/store"
)

const slackSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// slackRig is the harness with the real Slack sender posting to a fake
// workspace, and hikyaku's HTTP API where Slack posts interactions.
type slackRig struct {
	*harness
	fake *fakeslack.Server
	url  string // the interactions endpoint
}

func newSlackRig(t *testing.T) *slackRig {
	t.Helper()
	fake := fakeslack.New("xoxb-test")
	t.Cleanup(fake.Close)
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	cfgText := withGlobal(testConfig, fmt.Sprintf("global:\n  external_url: %s\n", srv.URL)) + fmt.Sprintf(`
providers:
  slack:
    bot_token: {value: xoxb-test}
    signing_secret: {value: %s}
    api_url: %s
`, slackSecret, fake.URL())
	h := newHarness(t, cfgText)
	sl, err := hslack.New(h.engine.Policies().Config().Providers.Slack)
	if err != nil {
		t.Fatal(err)
	}
	senders := map[string]channels.Sender{"sms": h.sent, "voice": h.sent, "email": h.sent, "webhook": h.sent, "slack": sl}
	h.engine.senders.Store(&senders)
	handler = inboundServer(h.engine).Handler()
	return &slackRig{harness: h, fake: fake, url: srv.URL + "/api/v1/slack/interactions"}
}

// posted is the receipt (conversation, ts) of the last message posted to channel.
func (r *slackRig) posted(channel string) (string, string) {
	r.t.Helper()
	var conv, ts string
	for _, c := range r.fake.Calls() {
		if c.Method == "chat.postMessage" && c.Channel == channel && c.Error == "" {
			conv, ts = c.PostedIn, c.TS
		}
	}
	if ts == "" {
		r.t.Fatalf("nothing was posted to %s", channel)
	}
	return conv, ts
}

// press sends payload signed as Slack signs it and returns the HTTP status.
func (r *slackRig) press(payload []byte, opts ...fakeslack.InteractionOption) int {
	r.t.Helper()
	resp, err := fakeslack.Interaction(r.url, slackSecret, payload, opts...)
	if err != nil {
		r.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (r *slackRig) click(user, conv, ts, action string) []byte {
	r.t.Helper()
	p, err := r.fake.Click(user, conv, ts, action)
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

func (r *slackRig) count(id int64, typ string) int {
	n := 0
	for _, e := range r.timeline(id) {
		if e == typ {
			n++
		}
	}
	return n
}

// hasButtons tells whether a message still offers the Ack/Resolve/Escalate buttons.
func hasButtons(c *fakeslack.Call) bool {
	for _, b := range c.Blocks.BlockSet {
		if ab, ok := b.(*slack.ActionBlock); ok && ab.BlockID == "hikyaku_actions" {
			return true
		}
	}
	return false
}

func contextText(c *fakeslack.Call) string {
	var s []string
	for _, b := range c.Blocks.BlockSet {
		if cb, ok := b.(*slack.ContextBlock); ok {
			for _, el := range cb.ContextElements.Elements {
				if t, ok := el.(*slack.TextBlockObject); ok {
					s = append(s, t.Text)
				}
			}
		}
	}
	return strings.Join(s, " | ")
}

// TestSlackAckStopsEscalationAndUpdatesMessages pages through the real
// Slack sender, presses Ack in alice's DM as Slack would post it, and checks
// the incident is hers, nobody else is paged, and every Slack page of the
// incident lost its buttons and says who acknowledged (chat.update).
func TestSlackAckStopsEscalationAndUpdatesMessages(t *testing.T) {
	r := newSlackRig(t)
	id := r.post("firing", "g1", map[string]string{"alertname": "DiskFull"})[0].ID
	r.advance(0)
	dmConv, dmTS := r.posted("U0ALICE")
	opsConv, opsTS := r.posted("C0OPS")
	if m := r.fake.Message(dmConv, dmTS); m == nil || !hasButtons(m) {
		t.Fatalf("alice's page has no buttons: %+v", m)
	}
	_, n := r.pages(0)
	posts := len(r.fake.Calls())

	press := r.click("U0ALICE", dmConv, dmTS, hslack.ActionAck)
	if code := r.press(press); code != http.StatusOK {
		t.Fatalf("signed press: %d", code)
	}
	inc, _ := r.st.Get(context.Background(), id)
	if inc.Status != store.StatusAcked || inc.AckedBy != "alice" {
		t.Fatalf("want acked by alice, got %s by %q", inc.Status, inc.AckedBy)
	}
	evs, _ := r.st.Timeline(context.Background(), id)
	var acked *store.Event
	for i := range evs {
		if evs[i].Type == "acked" {
			acked = &evs[i]
		}
	}
	if acked == nil || acked.Actor != "alice" || acked.Detail["via"] != "slack" || !acked.At.Equal(r.clock.Now()) {
		t.Fatalf("timeline's ack: %+v", acked)
	}

	// The engine rewrites the incident's Slack pages once it runs what the ack scheduled.
	r.advance(0)

	for _, m := range []struct{ conv, ts string }{{dmConv, dmTS}, {opsConv, opsTS}} {
		got := r.fake.Message(m.conv, m.ts)
		if got == nil || got.Method != "chat.update" {
			t.Fatalf("%s/%s was not updated: %+v", m.conv, m.ts, got)
		}
		if hasButtons(got) {
			t.Errorf("%s/%s still offers the buttons", m.conv, m.ts)
		}
		if !strings.Contains(contextText(got), "Acknowledged by alice") {
			t.Errorf("%s/%s does not say who acked: %q", m.conv, m.ts, contextText(got))
		}
	}
	if _, err := r.fake.Click("U0ALICE", dmConv, dmTS, hslack.ActionAck); err == nil {
		t.Error("the Ack button can still be pressed")
	}

	// Slack resends the same press: it is acted on once.
	if code := r.press(press); code != http.StatusOK {
		t.Fatalf("repeated press: %d", code)
	}
	if got := r.count(id, "acked"); got != 1 {
		t.Errorf("%d acks from one press", got)
	}

	r.advance(30 * time.Minute)
	got, _ := r.pages(n)
	eq(t, "pages after the Slack ack", got, nil)
	for _, c := range r.fake.Calls()[posts:] {
		if c.Method == "chat.postMessage" {
			t.Errorf("posted after the ack: %+v", c)
		}
	}
	for _, resp := range r.fake.Responses() {
		t.Errorf("alice was told something although the message says it all: %q", resp.Text)
	}
}

// TestSlackEscalateOncePerPress escalates from the #ops message: a resent
// press (same action_ts) escalates once, a new press escalates again.
func TestSlackEscalateOncePerPress(t *testing.T) {
	r := newSlackRig(t)
	id := r.post("firing", "g1", map[string]string{"alertname": "DiskFull"})[0].ID
	r.advance(0)
	opsConv, opsTS := r.posted("C0OPS")
	_, n := r.pages(0)

	press := r.click("U0ALICE", opsConv, opsTS, hslack.ActionEscalate)
	for range 3 {
		if code := r.press(press); code != http.StatusOK {
			t.Fatalf("press: %d", code)
		}
	}
	if got := r.count(id, "escalated"); got != 1 {
		t.Fatalf("%d escalations from one press resent three times", got)
	}
	r.advance(0)
	got, _ := r.pages(n)
	eq(t, "step 2 at once", got, []string{"sms:+819000000002"})
}

// TestSlackRefusesForgedReplayedAndStrangers: a forged or missing signature
// and a press replayed after five minutes are 401; a Slack user who is not
// configured is told so; none of them changes the incident.
func TestSlackRefusesForgedReplayedAndStrangers(t *testing.T) {
	r := newSlackRig(t)
	id := r.post("firing", "g1", map[string]string{"alertname": "DiskFull"})[0].ID
	r.advance(0)
	dmConv, dmTS := r.posted("U0ALICE")
	opsConv, opsTS := r.posted("C0OPS")
	before, _ := r.st.Timeline(context.Background(), id)

	if code := r.press(r.click("U0ALICE", dmConv, dmTS, hslack.ActionAck), fakeslack.SignedWith("not-the-secret")); code != http.StatusUnauthorized {
		t.Errorf("forged signature: %d, want 401", code)
	}
	if code := r.press(r.click("U0ALICE", dmConv, dmTS, hslack.ActionAck), fakeslack.At(time.Now().Add(-6*time.Minute))); code != http.StatusUnauthorized {
		t.Errorf("replayed after 6 minutes: %d, want 401", code)
	}
	if code := r.press(r.click("U0ALICE", dmConv, dmTS, hslack.ActionAck), fakeslack.At(time.Now().Add(6*time.Minute))); code != http.StatusUnauthorized {
		t.Errorf("stamped 6 minutes ahead: %d, want 401", code)
	}
	unsigned := url.Values{"payload": {string(r.click("U0ALICE", dmConv, dmTS, hslack.ActionAck))}}
	resp, err := http.PostForm(r.url, unsigned)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned: %d, want 401", resp.StatusCode)
	}
	resp, err = http.Get(r.url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d, want 405", resp.StatusCode)
	}

	if code := r.press(r.click("U0MALLORY", opsConv, opsTS, hslack.ActionResolve)); code != http.StatusOK {
		t.Errorf("a stranger's press: %d, want 200 with an answer", code)
	}
	answers := r.fake.Responses()
	if len(answers) != 1 || answers[0].ResponseType != "ephemeral" || !strings.Contains(answers[0].Text, "not a hikyaku user") {
		t.Errorf("the stranger was told %+v", answers)
	}

	after, _ := r.st.Timeline(context.Background(), id)
	if len(after) != len(before) {
		t.Errorf("the refused presses wrote to the timeline: %q", r.timeline(id)[len(before):])
	}
	inc, _ := r.st.Get(context.Background(), id)
	if inc.Status != store.StatusOpen {
		t.Errorf("incident is %s after refused presses", inc.Status)
	}
	for _, c := range r.fake.Calls() {
		if c.Method == "chat.update" {
			t.Errorf("a refused press updated a message: %+v", c)
		}
	}
}

// TestSlackPressOnResolvedIncident answers that it is resolved and changes
// nothing; the message loses its stale buttons.
func TestSlackPressOnResolvedIncident(t *testing.T) {
	r := newSlackRig(t)
	id := r.post("firing", "g1", map[string]string{"alertname": "DiskFull"})[0].ID
	r.advance(0)
	dmConv, dmTS := r.posted("U0ALICE")
	press := r.click("U0ALICE", dmConv, dmTS, hslack.ActionAck)
	r.post("resolved", "g1", map[string]string{"alertname": "DiskFull"})

	if code := r.press(press); code != http.StatusOK {
		t.Fatalf("press: %d", code)
	}
	if got := r.count(id, "acked"); got != 0 {
		t.Errorf("a resolved incident was acked")
	}
	r.advance(0)
	answers := r.fake.Responses()
	if len(answers) != 1 || !strings.Contains(answers[0].Text, "already resolved") {
		t.Errorf("answer: %+v", answers)
	}
	if m := r.fake.Message(dmConv, dmTS); m == nil || hasButtons(m) || !strings.Contains(contextText(m), "Resolved") {
		t.Errorf("the resolved incident's message: %+v", m)
	}
}
