package slack

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/channelstest"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/internal/fakeslack"
)

const signingSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// pressRig is the interactions endpoint over a fake engine, and a fake
// Slack that takes the ephemeral answers at response_url.
type pressRig struct {
	t     *testing.T
	r     *channelstest.Receiver
	slack *fakeslack.Server
	url   string
	n     int
}

func newPressRig(t *testing.T) *pressRig {
	t.Helper()
	cfg, err := config.Parse([]byte(`
providers:
  slack:
    bot_token: {value: xoxb-test}
    signing_secret: {value: `+signingSecret+`}
users:
  - id: alice
    name: Alice
    contacts: {slack: U0ALICE}
  - id: kenji
    name: 健二
    language: ja
    contacts: {slack: U0KENJI}
departments:
  - id: eng
    escalation_policy: eng
escalation_policies:
  - id: eng
    steps:
      - targets: {users: [alice]}
default_route:
  department: eng
`), "inbound.yml")
	if err != nil {
		t.Fatal(err)
	}
	fake := fakeslack.New("xoxb-test")
	t.Cleanup(fake.Close)
	r := &channelstest.Receiver{Cfg: cfg}
	mux := http.NewServeMux()
	for _, rt := range Routes(r, InboundOptions{}) {
		mux.Handle(rt.Pattern, rt.Handler)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &pressRig{t: t, r: r, slack: fake, url: srv.URL + InteractionsPath}
}

// press is user pressing button action with value, as Slack posts it.
func (p *pressRig) press(user, action, value, actionTS string, opts ...fakeslack.InteractionOption) int {
	p.t.Helper()
	p.n++
	payload, err := json.Marshal(map[string]any{
		"type":         "block_actions",
		"user":         map[string]any{"id": user},
		"response_url": fmt.Sprintf("%sactions/T0FAKE/%d/fake", strings.TrimSuffix(p.slack.URL(), "api/"), p.n),
		"actions":      []map[string]any{{"type": "button", "block_id": "hikyaku_actions", "action_id": action, "value": value, "action_ts": actionTS}},
	})
	if err != nil {
		p.t.Fatal(err)
	}
	resp, err := fakeslack.Interaction(p.url, signingSecret, payload, opts...)
	if err != nil {
		p.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// answers are the ephemeral texts shown to pressers so far.
func (p *pressRig) answers() []string {
	var out []string
	for _, r := range p.slack.Responses() {
		if r.ResponseType != "ephemeral" || r.ReplaceOriginal {
			p.t.Errorf("answer %+v is not an ephemeral message beside the original", r)
		}
		out = append(out, r.Text)
	}
	return out
}

// TestPressActs: each button acts as the presser's user, via slack, named
// by the presser and the press's action_ts; an ack by the presser needs no
// answer, the message update says it.
func TestPressActs(t *testing.T) {
	p := newPressRig(t)
	for _, b := range []struct {
		action string
		verb   channels.Verb
	}{{ActionAck, channels.Ack}, {ActionResolve, channels.Resolve}, {ActionEscalate, channels.Escalate}} {
		if code := p.press("U0ALICE", b.action, "12", "1700000100.000001"+string(b.verb)); code != http.StatusOK {
			t.Errorf("%s: %d", b.action, code)
		}
	}
	want := []channels.Action{
		{Incident: 12, Verb: channels.Ack, User: "alice", Via: "slack", Dedup: "slack:U0ALICE:1700000100.000001ack"},
		{Incident: 12, Verb: channels.Resolve, User: "alice", Via: "slack", Dedup: "slack:U0ALICE:1700000100.000001resolve"},
		{Incident: 12, Verb: channels.Escalate, User: "alice", Via: "slack", Dedup: "slack:U0ALICE:1700000100.000001escalate"},
	}
	if got := p.r.Actions(); !slices.Equal(got, want) {
		t.Errorf("acted %+v, want %+v", got, want)
	}
	if got := p.answers(); len(got) != 0 {
		t.Errorf("answered %q, want nothing", got)
	}
}

// TestPressOutcomes: what the presser alone is told, in the presser's
// language: kenji's is ja, alice's the default en.
func TestPressOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		res    channels.Result
		err    error
		en, ja []string
	}{
		{"acked by another", channels.Result{Outcome: channels.AlreadyAcked, Incident: channels.Incident{AckedBy: "bob"}}, nil,
			[]string{"Incident #12 was already acknowledged by bob."}, []string{"インシデント #12 はbobさんが既に了解済みです。"}},
		{"resolved", channels.Result{Outcome: channels.AlreadyResolved}, nil,
			[]string{"Incident #12 is already resolved: nothing was changed."}, []string{"インシデント #12 は既に解決済みです。何も変更していません。"}},
		{"not found", channels.Result{Outcome: channels.NotFound}, nil,
			[]string{"There is no incident #12: nothing was changed."}, []string{"インシデント #12 はありません。何も変更していません。"}},
		{"forbidden", channels.Result{Outcome: channels.Forbidden, Reason: "the engine's reason"}, nil,
			[]string{"the engine's reason"}, []string{"the engine's reason"}},
		{"store down", channels.Result{}, errors.New("store down"),
			[]string{"Could not record that for incident #12, please try again."}, []string{"インシデント #12 への操作を記録できませんでした。もう一度押してください。"}},
		{"replayed", channels.Result{Outcome: channels.Replayed}, nil, nil, nil},
	} {
		for _, who := range []struct{ slackID, lang string }{{"U0ALICE", "en"}, {"U0KENJI", "ja"}} {
			t.Run(tc.name+"/"+who.lang, func(t *testing.T) {
				p := newPressRig(t)
				p.r.ActFunc = func(channels.Action) (channels.Result, error) { return tc.res, tc.err }
				if code := p.press(who.slackID, ActionAck, "12", "1700000100.000001"); code != http.StatusOK {
					t.Errorf("answered Slack %d, want 200", code)
				}
				want := tc.en
				if who.lang == "ja" {
					want = tc.ja
				}
				if got := p.answers(); !slices.Equal(got, want) {
					t.Errorf("told %q, want %q", got, want)
				}
				if held := p.r.WasSeen("slack:" + who.slackID + ":1700000100.000001"); held == (tc.err != nil) {
					t.Errorf("replay record held: %v", held)
				}
			})
		}
	}
}

// TestPressByAStrangerOrWithoutIncident changes nothing and says why.
func TestPressByAStrangerOrWithoutIncident(t *testing.T) {
	p := newPressRig(t)
	p.press("U0NOBODY", ActionAck, "12", "1.1")
	p.press("U0ALICE", ActionAck, "twelve", "1.2")
	p.press("U0ALICE", "runbook_link", "12", "1.3")
	want := []string{
		"You are not a hikyaku user: nothing was changed. Ask an admin to add your Slack id (U0NOBODY) to users[].contacts.slack.",
		"This button names no incident: nothing was changed.",
	}
	if got := p.answers(); !slices.Equal(got, want) {
		t.Errorf("told %q, want %q", got, want)
	}
	if len(p.r.Actions()) != 0 {
		t.Errorf("acted %+v", p.r.Actions())
	}
}

// TestPressWithoutActionTSActsUnprotected: Slack always sends action_ts;
// without one the press still acts, with nothing to know a repeat by.
func TestPressWithoutActionTSActsUnprotected(t *testing.T) {
	p := newPressRig(t)
	p.press("U0ALICE", ActionAck, "12", "")
	want := []channels.Action{{Incident: 12, Verb: channels.Ack, User: "alice", Via: "slack"}}
	if got := p.r.Actions(); !slices.Equal(got, want) {
		t.Errorf("acted %+v, want %+v", got, want)
	}
}

// TestPressRefusedUnlessSignedNow: a wrong secret, an old timestamp or no
// signing secret configured is 401, and nothing happens.
func TestPressRefusedUnlessSignedNow(t *testing.T) {
	p := newPressRig(t)
	if code := p.press("U0ALICE", ActionAck, "12", "1.1", fakeslack.SignedWith("not-the-secret")); code != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d", code)
	}
	if code := p.press("U0ALICE", ActionAck, "12", "1.2", fakeslack.At(time.Now().Add(-6*time.Minute))); code != http.StatusUnauthorized {
		t.Errorf("six minutes old: %d", code)
	}
	p.r.Cfg.Providers.Slack.SigningSecret = config.Secret{}
	if code := p.press("U0ALICE", ActionAck, "12", "1.3"); code != http.StatusUnauthorized {
		t.Errorf("no signing secret: %d", code)
	}
	if len(p.r.Actions()) != 0 || len(p.answers()) != 0 {
		t.Errorf("acted %+v", p.r.Actions())
	}
}

// TestRoutes: the interactivity Request URL, its body bounded by the
// message the button was on (a few kilobytes) with room to spare, and the
// Events API Request URL, bounded by a message event.
func TestRoutes(t *testing.T) {
	rs := Routes(&channelstest.Receiver{}, InboundOptions{})
	if len(rs) != 2 || rs[0].Pattern != "POST /api/v1/slack/interactions" || rs[0].MaxBody != 1<<20 ||
		rs[1].Pattern != "POST /api/v1/slack/events" || rs[1].MaxBody != 256<<10 {
		t.Errorf("routes %+v", rs)
	}
}
