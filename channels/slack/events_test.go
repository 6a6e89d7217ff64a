package slack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/internal/fakeslack"
)

// eventRig is pressRig with a page posted to #eng in the fake workspace,
// which the fake engine knows as incident 12's.
type eventRig struct {
	*pressRig
	events  string // the Events API Request URL
	channel string
	ts      string
}

func newEventRig(t *testing.T) *eventRig {
	t.Helper()
	p := newPressRig(t)
	rc, err := newSender(t, p.slack, "xoxb-test").Send(context.Background(), page(t, "C0123ENG"))
	if err != nil {
		t.Fatal(err)
	}
	channel, ts, _ := strings.Cut(rc.ProviderID, "/")
	p.r.SendFunc = newSender(t, p.slack, "xoxb-test").Send // answers reach the fake workspace
	p.r.Delivered = map[int64][]channels.Delivery{12: {{Incident: 12, Kind: channels.KindPage, Channel: "slack", To: "C0123ENG",
		ProviderID: rc.ProviderID, Step: 1}}}
	return &eventRig{pressRig: p, events: strings.TrimSuffix(p.url, InteractionsPath) + EventsPath, channel: channel, ts: ts}
}

func (e *eventRig) post(body []byte, opts ...fakeslack.InteractionOption) (int, string) {
	e.t.Helper()
	resp, err := fakeslack.Event(e.events, signingSecret, body, opts...)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (e *eventRig) reply(user, text string) []byte {
	e.t.Helper()
	body, err := e.slack.ThreadReply(user, e.channel, e.ts, text)
	if err != nil {
		e.t.Fatal(err)
	}
	return body
}

// TestEventsURLVerification: Slack's handshake is answered with its
// challenge, when signed; unsigned, it is 401 as every other request.
func TestEventsURLVerification(t *testing.T) {
	e := newEventRig(t)
	if code, body := e.post(fakeslack.URLVerification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")); code != 200 ||
		body != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("url_verification: %d %q, want 200 and the challenge", code, body)
	}
	if code, _ := e.post(fakeslack.URLVerification("x"), fakeslack.SignedWith("another secret")); code != http.StatusUnauthorized {
		t.Errorf("forged url_verification: %d, want 401", code)
	}
}

// TestThreadReplyIsANote: a reply in the thread of a hikyaku page is a
// note on its incident by the writer's user, via slack, named by the
// event_id so Slack's retry notes once; "decision:" makes it a decision and
// Slack's escapes are undone.
func TestThreadReplyIsANote(t *testing.T) {
	e := newEventRig(t)
	body := e.reply("U0ALICE", "decision: fail over to db-2 & keep <db-1> read-only")
	for _, opt := range []fakeslack.InteractionOption{fakeslack.At(time.Now()), fakeslack.Retry(1)} {
		if code, _ := e.post(body, opt); code != http.StatusOK {
			t.Fatalf("event: %d", code)
		}
	}
	got := e.r.Actions()
	want := channels.Action{Incident: 12, Verb: channels.AddNote, User: "alice", Via: "slack", Dedup: "slack:event:Ev0FAKE000001",
		Note: channels.NoteText{Text: "fail over to db-2 & keep <db-1> read-only", Decision: true}}
	if len(got) != 2 || got[0] != want || !got[1].Replayed {
		t.Fatalf("actions %+v, want %+v then its replay", got, want)
	}
	if code, _ := e.post(e.reply("U0KENJI", "決定：切り戻す")); code != http.StatusOK {
		t.Fatal(code)
	}
	if got := e.r.Actions(); len(got) != 3 || got[2].User != "kenji" || got[2].Note != (channels.NoteText{Text: "切り戻す", Decision: true}) {
		t.Errorf("kenji's note: %+v", got[2:])
	}
	// Field lines set the report's fields, the text is the rest.
	if code, _ := e.post(e.reply("U0KENJI", "db-1 を切り離した\n影響範囲：決済 & 検索\n原因: ディスク満杯\n暫定対応: db-2 へ切替\n恒久対応: 容量監視\n再発防止: OPS-123")); code != http.StatusOK {
		t.Fatal(code)
	}
	want = channels.Action{Incident: 12, Verb: channels.AddNote, User: "kenji", Via: "slack", Dedup: "slack:event:Ev0FAKE000003",
		Note: channels.NoteText{Text: "db-1 を切り離した", Fields: channels.NoteFields{Impact: "決済 & 検索", Cause: "ディスク満杯",
			ActionProvisional: "db-2 へ切替", ActionPermanent: "容量監視", Prevention: "OPS-123"}}}
	if got := e.r.Actions(); len(got) != 4 || got[3] != want {
		t.Errorf("kenji's note with fields: %+v, want %+v", got[3:], want)
	}
	// He alone is told which fields it set, as read; notes without
	// fields are answered nothing.
	var told []fakeslack.Call
	for _, c := range e.slack.Calls() {
		if c.Method == "chat.postEphemeral" {
			told = append(told, c)
		}
	}
	wantText := "インシデント #12 のメモで次の報告項目を設定しました:\n影響範囲: 決済 &amp; 検索\n原因: ディスク満杯\n対応 (暫定): db-2 へ切替\n対応 (恒久): 容量監視\n再発防止 (チケット): OPS-123"
	if len(told) != 1 || told[0].Error != "" || told[0].User != "U0KENJI" || told[0].Form.Get("thread_ts") != e.ts || told[0].Text != wantText {
		t.Errorf("ephemeral answers %+v, want one to kenji saying %q", told, wantText)
	}
}

// TestThreadRepliesThatAreNoNotes: a stranger's reply is refused and
// counted (Unknown); a bot's message, a message outside a thread, a reply
// to a message hikyaku did not post, an edit and an empty reply write
// nothing; a bad signature or an old timestamp is 401; a body that is no
// Events API JSON is 400. A store that does not answer is 503, for
// Slack's retry.
func TestThreadRepliesThatAreNoNotes(t *testing.T) {
	e := newEventRig(t)
	if code, _ := e.post(e.reply("U0MALLORY", "I am in charge now")); code != http.StatusOK {
		t.Errorf("stranger: %d, want 200", code)
	}
	if got := e.r.Unknowns(); len(got) != 1 || got[0] != "slack U0MALLORY" {
		t.Errorf("unknowns %v, want the stranger", got)
	}
	edit := func(body []byte, f func(ev map[string]any)) []byte {
		var v map[string]any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		f(v["event"].(map[string]any))
		b, _ := json.Marshal(v)
		return b
	}
	for name, body := range map[string][]byte{
		"bot":             edit(e.reply("U0ALICE", "x"), func(ev map[string]any) { ev["bot_id"] = "B0FAKE" }),
		"not in a thread": edit(e.reply("U0ALICE", "x"), func(ev map[string]any) { delete(ev, "thread_ts") }),
		"thread parent":   edit(e.reply("U0ALICE", "x"), func(ev map[string]any) { ev["thread_ts"] = ev["ts"] }),
		"another thread":  edit(e.reply("U0ALICE", "x"), func(ev map[string]any) { ev["thread_ts"] = "1700000000.000001" }),
		"an edit":         edit(e.reply("U0ALICE", "x"), func(ev map[string]any) { ev["subtype"] = "message_changed" }),
		"a reaction":      edit(e.reply("U0ALICE", "x"), func(ev map[string]any) { ev["type"] = "reaction_added" }),
		"empty":           e.reply("U0ALICE", "  \n "),
		"decision only":   e.reply("U0ALICE", "decision:"),
	} {
		if code, _ := e.post(body); code != http.StatusOK {
			t.Errorf("%s: %d, want 200", name, code)
		}
	}
	for name, c := range map[string]struct {
		body []byte
		opt  fakeslack.InteractionOption
		code int
	}{
		"forged":        {e.reply("U0ALICE", "x"), fakeslack.SignedWith("another secret"), http.StatusUnauthorized},
		"six min old":   {e.reply("U0ALICE", "x"), fakeslack.At(time.Now().Add(-6 * time.Minute)), http.StatusUnauthorized},
		"no JSON":       {[]byte("payload=x"), fakeslack.At(time.Now()), http.StatusBadRequest},
		"no event_id":   {[]byte(`{"type":"event_callback","event":{}}`), fakeslack.At(time.Now()), http.StatusBadRequest},
		"no challenge":  {[]byte(`{"type":"url_verification"}`), fakeslack.At(time.Now()), http.StatusBadRequest},
		"another type":  {[]byte(`{"type":"app_rate_limited"}`), fakeslack.At(time.Now()), http.StatusBadRequest},
		"trailing data": {[]byte(`{"type":"url_verification","challenge":"x"}x`), fakeslack.At(time.Now()), http.StatusBadRequest},
	} {
		if code, _ := e.post(c.body, c.opt); code != c.code {
			t.Errorf("%s: %d, want %d", name, code, c.code)
		}
	}
	if got := e.r.Actions(); len(got) != 0 {
		t.Fatalf("acted %+v", got)
	}
	e.r.Err = errors.New("store down")
	if code, _ := e.post(e.reply("U0ALICE", "a note")); code != http.StatusServiceUnavailable {
		t.Errorf("store down: %d, want 503", code)
	}
}

// TestRoleButtonTakesTheRole: "I'm IC" gives the presser the role through
// the engine, named by the press, and tells them in their language.
func TestRoleButtonTakesTheRole(t *testing.T) {
	p := newPressRig(t)
	outcome := channels.Done
	p.r.ActFunc = func(a channels.Action) (channels.Result, error) {
		return channels.Result{Outcome: outcome, Incident: channels.Incident{ID: 12, Status: "acked",
			RoleTitles: map[string]string{"ic": "指揮者", "ops": "Ops", "comm": "Comm", "rec": "Rec"}}}, nil
	}
	p.press("U0KENJI", ActionRole+"ic", "12", "1700000100.000001")
	outcome = channels.Unchanged
	p.press("U0KENJI", ActionRole+"ic", "12", "1700000100.000002")
	p.press("U0ALICE", ActionRole+"boss", "12", "1700000100.000003") // no such button: nothing
	want := channels.Action{Incident: 12, Verb: channels.TakeRole, Role: "ic", User: "kenji", Via: "slack", Dedup: "slack:U0KENJI:1700000100.000001"}
	if got := p.r.Actions(); len(got) != 2 || got[0] != want {
		t.Errorf("actions %+v, want %+v and its repeat", got, want)
	}
	if got := p.answers(); len(got) != 2 || got[0] != "インシデント #12: あなたが 指揮者 になりました。" || got[1] != "インシデント #12: あなたはすでに 指揮者 です。" {
		t.Errorf("answers %q", got)
	}
	p.r.ActFunc = func(a channels.Action) (channels.Result, error) {
		return channels.Result{Outcome: channels.Forbidden, Reason: "あなたは eng の閲覧者です。"}, nil
	}
	p.press("U0KENJI", ActionRole+"comm", "12", "1700000100.000004")
	if got := p.answers(); len(got) != 3 || got[2] != "あなたは eng の閲覧者です。" {
		t.Errorf("refusal answered %q", got[2:])
	}
}

// FuzzParseEnvelope: whatever the body, parseEnvelope answers an error
// or an envelope of the two kinds, each with what it needs.
func FuzzParseEnvelope(f *testing.F) {
	for _, s := range []string{`{"type":"url_verification","challenge":"c"}`,
		`{"type":"event_callback","event_id":"Ev1","event":{"type":"message","user":"U1","channel":"C1","text":"x","ts":"2.0","thread_ts":"1.0"}}`,
		`{"type":"event_callback"}`, `[]`, `{"type":1}`, `{"type":"url_verification","challenge":"c"} {}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := parseEnvelope(body)
		if err != nil {
			if env != nil {
				t.Fatalf("an envelope with the error %v", err)
			}
			return
		}
		switch {
		case env.Type == "url_verification" && env.Challenge != "":
		case env.Type == "event_callback" && env.EventID != "":
		default:
			t.Fatalf("parseEnvelope(%q) = %+v", body, env)
		}
		env.Event.threadReply()
	})
}

// TestRefusedThreadReplyIsAnswered: a thread reply that writes no note is
// answered in the thread to its author alone (chat.postEphemeral), in
// their language: a stranger in global.language, once however often Slack
// delivers the event; a note the roles or the content refuse with why.
func TestRefusedThreadReplyIsAnswered(t *testing.T) {
	e := newEventRig(t)
	ephemerals := func() []fakeslack.Call {
		var out []fakeslack.Call
		for _, c := range e.slack.Calls() {
			if c.Method == "chat.postEphemeral" {
				out = append(out, c)
			}
		}
		return out
	}
	stranger := e.reply("U0MALLORY", "I am in charge now")
	for _, opt := range []fakeslack.InteractionOption{fakeslack.At(time.Now()), fakeslack.Retry(1)} {
		if code, _ := e.post(stranger, opt); code != http.StatusOK {
			t.Fatalf("stranger: %d", code)
		}
	}
	want := "Your reply is no note on incident #12: you are not a hikyaku user. Ask an admin to add your Slack id (U0MALLORY) to users[].contacts.slack."
	if got := ephemerals(); len(got) != 1 || got[0].Error != "" || got[0].Channel != e.channel || got[0].User != "U0MALLORY" ||
		got[0].Form.Get("thread_ts") != e.ts || got[0].Text != want {
		t.Fatalf("answers to the stranger %+v, want one ephemeral in the thread saying %q", got, want)
	}

	e.r.ActFunc = func(a channels.Action) (channels.Result, error) {
		if a.User == "kenji" {
			return channels.Result{Outcome: channels.Forbidden, Reason: "閲覧者は操作できません。"}, nil
		}
		return channels.Result{Outcome: channels.Invalid, Reason: "bad note: cause has 1001 characters, at most 1000"}, nil
	}
	if code, _ := e.post(e.reply("U0KENJI", "原因: 不明")); code != http.StatusOK {
		t.Fatal(code)
	}
	if code, _ := e.post(e.reply("U0ALICE", "cause: "+strings.Repeat("x", 1001))); code != http.StatusOK {
		t.Fatal(code)
	}
	got := ephemerals()
	if len(got) != 3 {
		t.Fatalf("answers %+v, want 3", got)
	}
	for i, w := range []struct{ user, text string }{
		{"U0KENJI", "インシデント #12 にメモを追加できませんでした: 閲覧者は操作できません。"},
		{"U0ALICE", "Your note was not added to incident #12: bad note: cause has 1001 characters, at most 1000"},
	} {
		if c := got[1+i]; c.Error != "" || c.User != w.user || c.Form.Get("thread_ts") != e.ts || c.Text != w.text {
			t.Errorf("answer to %s: %+v, want %q in the thread", w.user, c, w.text)
		}
	}

	// A note written is answered nothing: the thread shows it.
	e.r.ActFunc = nil
	if code, _ := e.post(e.reply("U0ALICE", "a note")); code != http.StatusOK {
		t.Fatal(code)
	}
	if n := len(ephemerals()); n != 3 {
		t.Errorf("%d answers after a note was written, want still 3", n)
	}
}

// TestSlackText: Slack's escapes are undone and its link markup is the
// URL again; a person's own angle brackets (escaped) stay as written.
func TestSlackText(t *testing.T) {
	for in, want := range map[string]string{
		"keep &lt;db-1&gt; read-only &amp; wait":                           "keep <db-1> read-only & wait",
		"再発防止: <https://jira.example.com/browse/OPS-1|OPS-1>":              "再発防止: https://jira.example.com/browse/OPS-1",
		"see <https://grafana.example.com/d/x?a=1&amp;b=2> now":            "see https://grafana.example.com/d/x?a=1&b=2 now",
		"<@U0ALICE> and <#C0OPS|ops>":                                      "<@U0ALICE> and <#C0OPS|ops>",
		"&lt;https://not.a.link|x&gt;":                                     "<https://not.a.link|x>",
		"<https://a.example.com|a.example.com> <http://b.example.com/p|b>": "https://a.example.com http://b.example.com/p",
	} {
		if got := slackText(in); got != want {
			t.Errorf("slackText(%q) = %q, want %q", in, got, want)
		}
	}
}
