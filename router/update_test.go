package router

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/hikyaku/hikyaku/channels"
	hslack "github.com/hikyaku/hikyaku/channels/slack"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/internal/fakeslack"
)

const slackToken = "xoxb-1234-5678-updatetest"

// withSlack points the harness's slack channel at a fake workspace.
func withSlack(t *testing.T, h *harness) *fakeslack.Server {
	t.Helper()
	fake := fakeslack.New(slackToken)
	t.Cleanup(fake.Close)
	sl, err := hslack.New(&config.Slack{APIURL: fake.URL(), BotToken: config.NewSecret(slackToken)}, hslack.WithHTTPClient(&http.Client{}))
	if err != nil {
		t.Fatal(err)
	}
	senders := map[string]channels.Sender{}
	for _, ch := range []string{"sms", "voice", "email", "webhook"} {
		senders[ch] = h.sent
	}
	senders["slack"] = sl
	h.engine = New(h.engine.Policies(), Options{Store: h.st, Senders: senders, Clock: h.clock, Owner: "test"})
	return fake
}

// slackCalls are the successful calls of method, in order.
func slackCalls(fake *fakeslack.Server, method string) []fakeslack.Call {
	var out []fakeslack.Call
	for _, c := range fake.Calls() {
		if c.Method == method && c.Error == "" {
			out = append(out, c)
		}
	}
	return out
}

func hasAckButton(t *testing.T, c *fakeslack.Call) bool {
	t.Helper()
	raw, err := json.Marshal(c.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(raw), hslack.ActionAck)
}

func TestSlackPagesUpdatedOnAckThenResolve(t *testing.T) {
	h := newHarness(t, testConfig)
	fake := withSlack(t, h)
	id := h.post("firing", "g1", map[string]string{"alertname": "X"})[0].ID
	h.advance(0)
	posts := slackCalls(fake, "chat.postMessage")
	if len(posts) != 2 {
		t.Fatalf("%d Slack pages posted, want alice's DM and #ops", len(posts))
	}
	for _, p := range posts {
		if !hasAckButton(t, fake.Message(p.PostedIn, p.TS)) {
			t.Fatalf("the page in %s has no Ack button to begin with", p.PostedIn)
		}
	}

	// Acked by SMS: the Slack pages must stop offering to acknowledge.
	if _, err := h.engine.Ack(context.Background(), id, "bob", "sms"); err != nil {
		t.Fatal(err)
	}
	h.advance(0)
	if n := len(slackCalls(fake, "chat.update")); n != 2 {
		t.Fatalf("%d chat.update after the ack, want 2", n)
	}
	for _, p := range posts {
		m := fake.Message(p.PostedIn, p.TS)
		if m.Method != "chat.update" || hasAckButton(t, m) || !strings.Contains(m.Text+blocksText(t, m), "bob") {
			t.Errorf("page in %s after the ack: %s, buttons %v; want updated, no Ack, saying bob", p.PostedIn, m.Method, hasAckButton(t, m))
		}
	}
	if ev := h.events(id, "messages_updated"); len(ev) != 1 || ev[0].Detail["count"] != "2" || ev[0].Detail["status"] != "acked" {
		t.Errorf("messages_updated after the ack = %+v", ev)
	}

	// Resolved by Alertmanager while Slack has a moment of trouble: retried.
	fake.Fail("chat.update", fakeslack.Failure{Status: http.StatusInternalServerError})
	h.post("resolved", "g1", map[string]string{"alertname": "X"})
	h.advance(0)
	if n := len(slackCalls(fake, "chat.update")); n >= 4 {
		t.Fatalf("all %d updates went through although Slack answered 500", n)
	}
	h.advance(time.Second) // backoff of a first retry is at most 1 s
	if n := len(slackCalls(fake, "chat.update")); n < 4 {
		t.Fatalf("%d chat.update in all, want the resolve's 2 after the retry", n)
	}
	ev := h.events(id, "messages_updated")
	if len(ev) != 2 || ev[1].Detail["status"] != "resolved" {
		t.Errorf("messages_updated = %+v, want a second for the resolve", ev)
	}
	if pending, _ := h.st.Pending(context.Background()); pending != 0 {
		t.Errorf("%d timers left", pending)
	}
}

func TestSlackUpdateThatCannotSucceedIsRecorded(t *testing.T) {
	h := newHarness(t, testConfig)
	fake := withSlack(t, h)
	id := h.post("firing", "g1", map[string]string{"alertname": "X"})[0].ID
	h.advance(0)
	fake.Fail("chat.update", fakeslack.Failure{Error: "channel_not_found"})
	if _, err := h.engine.Resolve(context.Background(), id, "alice", "api"); err != nil {
		t.Fatal(err)
	}
	h.advance(0)
	if f := h.events(id, "update_failed"); len(f) != 1 || !strings.Contains(f[0].Detail["error"], "channel_not_found") {
		t.Errorf("update_failed = %+v, want one saying channel_not_found", f)
	}
	if ev := h.events(id, "messages_updated"); len(ev) != 1 || ev[0].Detail["count"] != "1" {
		t.Errorf("messages_updated = %+v, want the other page updated", ev)
	}
	u := h.engine.metrics.updates
	if failed, done := counterValue(t, u.WithLabelValues("slack", "failed", "client")), counterValue(t, u.WithLabelValues("slack", "updated", "")); failed != 1 || done != 1 {
		t.Errorf("hikyaku_message_updates_total: failed/client %v, updated %v; want 1 and 1", failed, done)
	}
}

func TestNoUpdateTimerWithoutAnUpdatingSender(t *testing.T) {
	h := newHarness(t, testConfig) // the recording sender cannot rewrite
	id := h.post("firing", "g1", map[string]string{"alertname": "X"})[0].ID
	h.advance(0)
	inc, err := h.engine.Ack(context.Background(), id, "alice", "sms")
	if err != nil {
		t.Fatal(err)
	}
	if ts := h.engine.updateTimers(inc); len(ts) != 0 {
		t.Errorf("update timers %v with no sender able to update", ts)
	}
}

func blocksText(t *testing.T, c *fakeslack.Call) string {
	t.Helper()
	raw, err := json.Marshal(c.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// rewriteCounter is an Updater that shows no roles (as ntfy): it counts
// the rewrites it is asked for.
type rewriteCounter struct {
	channels.Sender
	n int
}

func (r *rewriteCounter) Update(context.Context, string, *channels.Message) error {
	r.n++
	return nil
}

// TestSlackPagesUpdatedOnRoleChange: giving or freeing a role rewrites the
// Slack pages, whose context line names the holders, to say who holds
// what now; each change its own rewrite, even two in a row before either
// ran. A change that changes nothing rewrites nothing, and a channel whose
// pages show no roles is rewritten on an ack only.
func TestSlackPagesUpdatedOnRoleChange(t *testing.T) {
	h := newHarness(t, testConfig)
	fake := withSlack(t, h)
	senders := *h.engine.senders.Load()
	counter := &rewriteCounter{Sender: senders["sms"]}
	senders["sms"] = counter
	h.engine = New(h.engine.Policies(), Options{Store: h.st, Senders: senders, Clock: h.clock, Owner: "test"})
	id := h.post("firing", "g1", map[string]string{"alertname": "X"})[0].ID
	h.advance(0)
	posts := slackCalls(fake, "chat.postMessage")
	if len(posts) != 2 {
		t.Fatalf("%d Slack pages posted, want alice's DM and #ops", len(posts))
	}
	contextLine := func(p fakeslack.Call) string {
		m := fake.Message(p.PostedIn, p.TS)
		for _, b := range m.Blocks.BlockSet {
			if c, ok := b.(*slack.ContextBlock); ok {
				var parts []string
				for _, e := range c.ContextElements.Elements {
					if tx, ok := e.(*slack.TextBlockObject); ok {
						parts = append(parts, tx.Text)
					}
				}
				return strings.Join(parts, " | ")
			}
		}
		return ""
	}
	set := func(role, user string) {
		t.Helper()
		if _, _, err := h.engine.SetRole(context.Background(), RoleChange{Incident: id, Role: role, User: user, Actor: "alice", Via: "api"}); err != nil {
			t.Fatal(err)
		}
	}

	before, _ := h.st.Pending(context.Background())
	set("ops", "bob")
	h.advance(0)
	if n := len(slackCalls(fake, "chat.update")); n != 2 {
		t.Fatalf("%d chat.update after bob took Ops, want 2", n)
	}
	for _, p := range posts {
		if got := contextLine(p); !strings.Contains(got, "*Ops:* bob") || !hasAckButton(t, fake.Message(p.PostedIn, p.TS)) {
			t.Errorf("page in %s after the role: context %q; want Ops bob and the Ack button still there", p.PostedIn, got)
		}
	}
	if ev := h.events(id, "messages_updated"); len(ev) != 1 || ev[0].Detail["channel"] != "slack" || ev[0].Detail["count"] != "2" {
		t.Errorf("messages_updated = %+v", ev)
	}

	set("ops", "bob") // stands so already
	h.advance(0)
	if n := len(slackCalls(fake, "chat.update")); n != 2 {
		t.Errorf("%d chat.update after a change that changed nothing, want still 2", n)
	}

	set("comm", "carol")
	set("ops", "")
	h.advance(0)
	if n := len(slackCalls(fake, "chat.update")); n != 6 {
		t.Errorf("%d chat.update after two more changes, want 6", n)
	}
	for _, p := range posts {
		if got := contextLine(p); !strings.Contains(got, "carol") || strings.Contains(got, "Ops") {
			t.Errorf("page in %s after Comm carol and Ops freed: context %q", p.PostedIn, got)
		}
	}
	if counter.n != 0 {
		t.Errorf("the channel that shows no roles was rewritten %d times for role changes", counter.n)
	}
	if pending, _ := h.st.Pending(context.Background()); pending != before {
		t.Errorf("%d timers after the role changes ran, want the %d from before", pending, before)
	}
	if _, err := h.engine.Ack(context.Background(), id, "bob", "sms"); err != nil {
		t.Fatal(err)
	}
	h.advance(0)
	if counter.n != 1 {
		t.Errorf("the channel that shows no roles was rewritten %d times after the ack, want 1", counter.n)
	}
}

// TestPostedFindsAnyKeptIncidentsMessage: a Slack thread's message is found
// by its provider id through the store's index, also for an incident
// resolved behind many newer ones (a scan of the newest 50 missed it); a
// message hikyaku did not post is no incident's.
func TestPostedFindsAnyKeptIncidentsMessage(t *testing.T) {
	h := newHarness(t, testConfig)
	fake := withSlack(t, h)
	id := h.post("firing", "old", map[string]string{"alertname": "X"})[0].ID
	h.advance(0)
	posts := slackCalls(fake, "chat.postMessage")
	if len(posts) == 0 {
		t.Fatal("no Slack page posted")
	}
	thread := posts[0].PostedIn + "/" + posts[0].TS
	if _, err := h.engine.Resolve(context.Background(), id, "alice", "api"); err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		g := "newer-" + strconv.Itoa(i)
		n := h.post("firing", g, map[string]string{"alertname": "X"})[0].ID
		if _, err := h.engine.Resolve(context.Background(), n, "alice", "api"); err != nil {
			t.Fatal(err)
		}
	}
	r := h.engine.Receiver()
	d, err := r.Posted(context.Background(), "slack", thread)
	if err != nil || d.Incident != id || d.Kind != channels.KindPage {
		t.Errorf("Posted(slack, %s) = %+v, %v; want incident %d's page", thread, d, err, id)
	}
	if _, err := r.Posted(context.Background(), "slack", posts[0].PostedIn+"/1.000001"); !errors.Is(err, channels.ErrNoIncident) {
		t.Errorf("Posted of a message hikyaku did not post: %v, want ErrNoIncident", err)
	}
}
