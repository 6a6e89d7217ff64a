package slack

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/internal/fakeslack"
)

const token = "xoxb-1234-5678-abcdef"

func newSender(t *testing.T, fake *fakeslack.Server, tok string) *Sender {
	t.Helper()
	cfg := &config.Slack{APIURL: fake.URL(), BotToken: config.NewSecret(tok)}
	s, err := New(cfg, WithHTTPClient(&http.Client{}))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func page(t *testing.T, to string) *channels.Message {
	t.Helper()
	data, err := os.ReadFile("testdata/firing-two-alerts-ja.json")
	if err != nil {
		t.Fatal(err)
	}
	return &channels.Message{IdempotencyKey: "k1", Channel: "slack", Kind: channels.KindPage, IncidentID: 12, To: to,
		Language: "ja", Data: data,
		Subject: "[hikyaku #12] CRITICAL エンジニアリング: 決済APIのエラー率が5%を超えています",
		Text:    "*決済APIのエラー率が5%を超えています*\n・p99 > 5s & <rising>",
		Incident: channels.Incident{ID: 12, Status: "open", Severity: "critical", Department: "エンジニアリング", Step: 1,
			URL: "https://hikyaku.example.com/api/v1/incidents/12"}}
}

func TestSendPostsBlocksWithButtons(t *testing.T) {
	fake := fakeslack.New(token)
	defer fake.Close()
	s := newSender(t, fake, token)
	rc, err := s.Send(context.Background(), page(t, "C0123ENG"))
	if err != nil {
		t.Fatal(err)
	}
	calls := fake.Calls()
	if len(calls) != 1 || calls[0].Method != "chat.postMessage" || calls[0].Channel != "C0123ENG" {
		t.Fatalf("calls = %+v", calls)
	}
	c := calls[0]
	if rc.ProviderID != "C0123ENG/"+c.TS {
		t.Errorf("receipt %q, want channel/ts C0123ENG/%s", rc.ProviderID, c.TS)
	}
	if !strings.Contains(c.Text, "決済API") {
		t.Errorf("fallback text = %q, want the subject", c.Text)
	}
	var types []string
	for _, b := range c.Blocks.BlockSet {
		types = append(types, string(b.BlockType()))
	}
	if got := strings.Join(types, " "); got != "header section context actions actions actions" {
		t.Errorf("blocks = %s, want header section context actions(links) actions(buttons) actions(roles)", got)
	}
	sec := c.Blocks.BlockSet[1].(*slack.SectionBlock)
	if want := "*決済APIのエラー率が5%を超えています*\n・p99 &gt; 5s &amp; &lt;rising&gt;"; sec.Text.Text != want || sec.Text.Type != slack.MarkdownType {
		t.Errorf("section = %q (%s), want %q escaped as mrkdwn", sec.Text.Text, sec.Text.Type, want)
	}
	ctx := c.Blocks.BlockSet[2].(*slack.ContextBlock)
	var ctxText []string
	for _, e := range ctx.ContextElements.Elements {
		ctxText = append(ctxText, e.(*slack.TextBlockObject).Text)
	}
	if got := strings.Join(ctxText, " | "); !strings.Contains(got, "critical") || !strings.Contains(got, "エンジニアリング") ||
		!strings.Contains(got, "<https://hikyaku.example.com/api/v1/incidents/12|#12>") {
		t.Errorf("context = %s", got)
	}
	links := c.Blocks.BlockSet[3].(*slack.ActionBlock)
	var urls []string
	for _, e := range links.Elements.ElementSet {
		urls = append(urls, e.(*slack.ButtonBlockElement).URL)
	}
	if got := strings.Join(urls, " "); got != "https://runbooks.example.com/payments/high-error-rate https://grafana.example.com/d/checkout https://hikyaku.example.com/api/v1/incidents/12" {
		t.Errorf("link buttons = %s", got)
	}
	actions := c.Blocks.BlockSet[4].(*slack.ActionBlock)
	var got []string
	for _, e := range actions.Elements.ElementSet {
		b := e.(*slack.ButtonBlockElement)
		got = append(got, b.ActionID+"="+b.Value+":"+b.Text.Text)
	}
	if g := strings.Join(got, " "); g != "hikyaku_ack=12:了解 hikyaku_resolve=12:解決 hikyaku_escalate=12:エスカレート" {
		t.Errorf("buttons = %s", g)
	}
	// No role titles given (the engine gives them): the catalog's.
	got = nil
	for _, e := range c.Blocks.BlockSet[5].(*slack.ActionBlock).Elements.ElementSet {
		b := e.(*slack.ButtonBlockElement)
		got = append(got, b.ActionID+"="+b.Value+":"+b.Text.Text)
	}
	if g := strings.Join(got, " "); g != "hikyaku_role_ic=12:指揮 (IC)を担当 hikyaku_role_ops=12:復旧 (Ops)を担当 hikyaku_role_comm=12:連絡 (Comm)を担当 hikyaku_role_rec=12:記録 (Rec)を担当" {
		t.Errorf("role buttons = %s", g)
	}
}

// TestRoleButtonsFollowTheIncident: the role buttons carry the file's role
// names, stay after the ack (roles are taken while the incident runs) and
// go when it is resolved; a report has none.
func TestRoleButtonsFollowTheIncident(t *testing.T) {
	roleButtons := func(m *channels.Message) []string {
		var out []string
		for _, b := range Blocks(m) {
			if ab, ok := b.(*slack.ActionBlock); ok && ab.BlockID == "hikyaku_roles" {
				for _, e := range ab.Elements.ElementSet {
					out = append(out, e.(*slack.ButtonBlockElement).Text.Text)
				}
			}
		}
		return out
	}
	m := page(t, "C0123ENG")
	m.Language = "en"
	m.Incident.RoleTitles = map[string]string{"ic": "IC", "ops": "Ops", "comm": "Spokesperson", "rec": "Rec"}
	if got := strings.Join(roleButtons(m), ", "); got != "I'm IC, I'm Ops, I'm Spokesperson, I'm Rec" {
		t.Errorf("open: %s", got)
	}
	m.Incident.Status = "acked"
	if got := len(roleButtons(m)); got != 4 {
		t.Errorf("acked: %d role buttons, want 4", got)
	}
	m.Incident.Status = "resolved"
	if got := roleButtons(m); got != nil {
		t.Errorf("resolved: %v, want none", got)
	}
	m.Incident.Status, m.Kind = "open", channels.KindReport
	if got := roleButtons(m); got != nil {
		t.Errorf("report: %v, want none", got)
	}
}

func TestSendToAUserLandsInTheirDM(t *testing.T) {
	fake := fakeslack.New(token)
	defer fake.Close()
	rc, err := newSender(t, fake, token).Send(context.Background(), page(t, "U01TANAKA"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rc.ProviderID, "D01TANAKA/") {
		t.Errorf("receipt %q, want the DM channel", rc.ProviderID)
	}
}

func TestReportsHaveNoButtons(t *testing.T) {
	m := page(t, "C0123ENG")
	m.Kind = channels.KindReport
	for _, b := range Blocks(m) {
		if a, ok := b.(*slack.ActionBlock); ok && a.BlockID == "hikyaku_actions" {
			t.Errorf("a report carries the ack buttons")
		}
	}
}

func TestUpdateRemovesButtonsAndShowsWhoActed(t *testing.T) {
	fake := fakeslack.New(token)
	defer fake.Close()
	s := newSender(t, fake, token)
	m := page(t, "C0123ENG")
	rc, err := s.Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	m.Incident.Status, m.Incident.AckedBy = "acked", "tanaka"
	m.Incident.Roles = []channels.RoleHolder{{Role: "ic", Title: "指揮 (IC)", User: "tanaka", Name: "田中"}}
	if err := s.Update(context.Background(), rc.ProviderID, m); err != nil {
		t.Fatal(err)
	}
	channel, ts, _ := strings.Cut(rc.ProviderID, "/")
	msg := fake.Message(channel, ts)
	if msg == nil || msg.Method != "chat.update" {
		t.Fatalf("message = %+v, want it updated", msg)
	}
	raw, _ := json.Marshal(msg.Blocks)
	if strings.Contains(string(raw), ActionAck) {
		t.Errorf("the updated message still has the ack button: %s", raw)
	}
	if !strings.Contains(string(raw), "対応中 (担当: tanaka)") {
		t.Errorf("the updated message does not say who acked: %s", raw)
	}
	if !strings.Contains(string(raw), `"text":"*指揮 (IC):* 田中"`) {
		t.Errorf("the updated message does not say who leads: %s", raw)
	}
	if err := s.Update(context.Background(), "C0123ENG/1.2", m); !channels.IsPermanent(err) {
		t.Errorf("updating a message Slack does not have: %v, want permanent", err)
	}
	if err := s.Update(context.Background(), "nonsense", m); !channels.IsPermanent(err) {
		t.Errorf("a malformed receipt: %v, want permanent", err)
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name      string
		fail      fakeslack.Failure
		to, token string
		permanent bool
		code      string
		auth      bool // the token or workspace is refused: the provider is down
	}{
		{name: "500", fail: fakeslack.Failure{Status: 500}},
		{name: "503", fail: fakeslack.Failure{Status: 503}},
		{name: "429 ratelimited", fail: fakeslack.Failure{Status: 429, RetryAfter: 30}},
		{name: "internal_error", fail: fakeslack.Failure{Error: "internal_error"}},
		{name: "404", fail: fakeslack.Failure{Status: 404}, permanent: true, code: "404"},
		{name: "channel_not_found", fail: fakeslack.Failure{Error: "channel_not_found"}, permanent: true, code: "channel_not_found"},
		{name: "not_in_channel", fail: fakeslack.Failure{Error: "not_in_channel"}, permanent: true, code: "not_in_channel"},
		{name: "account_inactive", fail: fakeslack.Failure{Error: "account_inactive"}, permanent: true, code: "account_inactive", auth: true},
		{name: "token_revoked", fail: fakeslack.Failure{Error: "token_revoked"}, permanent: true, code: "token_revoked", auth: true},
		{name: "401", fail: fakeslack.Failure{Status: 401}, permanent: true, code: "401", auth: true},
		{name: "user_not_found", fail: fakeslack.Failure{Error: "user_not_found"}, permanent: true, code: "user_not_found"},
		{name: "wrong token", token: "xoxb-wrong", permanent: true, code: "invalid_auth", auth: true},
		{name: "malformed channel", to: "#general", permanent: true, code: "channel_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := fakeslack.New(token)
			defer fake.Close()
			if tt.fail != (fakeslack.Failure{}) {
				fake.Fail("chat.postMessage", tt.fail)
			}
			tok, to := token, "C0123ENG"
			if tt.token != "" {
				tok = tt.token
			}
			if tt.to != "" {
				to = tt.to
			}
			_, err := newSender(t, fake, tok).Send(context.Background(), page(t, to))
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if channels.IsPermanent(err) != tt.permanent {
				t.Fatalf("IsPermanent(%v) = %v, want %v", err, !tt.permanent, tt.permanent)
			}
			if channels.IsAuthFailure(err) != tt.auth {
				t.Errorf("IsAuthFailure(%v) = %v, want %v", err, !tt.auth, tt.auth)
			}
			var pe *channels.PermanentError
			if tt.permanent && (!errors.As(err, &pe) || pe.Code != tt.code) {
				t.Errorf("code of %v, want %s", err, tt.code)
			}
			if strings.Contains(err.Error(), tok) {
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}
}

func TestTimeoutIsTransient(t *testing.T) {
	fake := fakeslack.New(token)
	defer fake.Close()
	fake.Fail("chat.postMessage", fakeslack.Failure{Delay: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := newSender(t, fake, token).Send(ctx, page(t, "C0123ENG"))
	if err == nil || channels.IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a transient deadline error", err)
	}
}

func TestRefusedConnectionIsTransient(t *testing.T) {
	fake := fakeslack.New(token)
	s := newSender(t, fake, token)
	fake.Close()
	_, err := s.Send(context.Background(), page(t, "C0123ENG"))
	if err == nil || channels.IsPermanent(err) {
		t.Errorf("err = %v, want transient", err)
	}
}

func TestNewNeedsAToken(t *testing.T) {
	if _, err := New(&config.Slack{}); err == nil {
		t.Error("New without bot_token succeeded")
	}
	if _, err := New(nil); err == nil {
		t.Error("New without providers.slack succeeded")
	}
}

func TestCutKeepsRunesAndEscapes(t *testing.T) {
	if got := cut("あいうえお", 3); got != "あい…" {
		t.Errorf("cut = %q", got)
	}
	if got := cut("ab&amp;cd", 5); got != "ab…" {
		t.Errorf("cut = %q, want the escape dropped whole", got)
	}
}

// A message about no incident (a scheduled health report) is its header
// and text, with no "#0" incident line and no buttons.
func TestMessageWithoutIncidentNamesNone(t *testing.T) {
	m := &channels.Message{IdempotencyKey: "health_report/ops/1/c:status/slack", Channel: "slack", Kind: "health_report",
		To: "C0STATUS", Language: "en", Subject: "On-call health report: Ops", Text: "Incidents: 0"}
	blocks := Blocks(m)
	if len(blocks) != 2 {
		t.Fatalf("%d blocks, want the header and the text: %#v", len(blocks), blocks)
	}
	if _, ok := blocks[0].(*slack.HeaderBlock); !ok {
		t.Errorf("first block %T, want the header", blocks[0])
	}
	if s, ok := blocks[1].(*slack.SectionBlock); !ok || s.Text == nil || s.Text.Text != "Incidents: 0" {
		t.Errorf("second block %#v, want the text", blocks[1])
	}
}

// TestSendInThread: a message with Thread is posted in that thread
// (thread_ts); with Ephemeral too, it is shown to that user alone.
func TestSendInThread(t *testing.T) {
	fake := fakeslack.New("xoxb-test")
	defer fake.Close()
	s := newSender(t, fake, "xoxb-test")
	rc, err := s.Send(context.Background(), page(t, "C0123ENG"))
	if err != nil {
		t.Fatal(err)
	}
	_, ts, _ := strings.Cut(rc.ProviderID, "/")
	if _, err := s.Send(context.Background(), &channels.Message{Channel: "slack", To: "C0123ENG", Thread: ts, Text: "in the thread"}); err != nil {
		t.Fatal(err)
	}
	calls := fake.Calls()
	if c := calls[len(calls)-1]; c.Method != "chat.postMessage" || c.Form.Get("thread_ts") != ts || c.Form.Get("user") != "" {
		t.Errorf("thread reply %+v", c)
	}
	if _, err := fake.ThreadReply("U0ALICE", "C0123ENG", ts, "a note"); err != nil {
		t.Fatal(err)
	}
	erc, err := s.Send(context.Background(), &channels.Message{Channel: "slack", To: "C0123ENG", Thread: ts, Ephemeral: "U0ALICE",
		Text: "only <you> & me"})
	if err != nil {
		t.Fatal(err)
	}
	calls = fake.Calls()
	if c := calls[len(calls)-1]; c.Method != "chat.postEphemeral" || c.Form.Get("thread_ts") != ts || c.User != "U0ALICE" ||
		c.Text != "only &lt;you&gt; &amp; me" || erc.ProviderID != "C0123ENG/"+c.TS {
		t.Errorf("ephemeral %+v, receipt %+v", c, erc)
	}
	_, err = s.Send(context.Background(), &channels.Message{Channel: "slack", To: "C0123ENG", Ephemeral: "U0BOB", Text: "x"})
	if !channels.IsPermanent(err) || !strings.Contains(err.Error(), "user_not_in_channel") {
		t.Errorf("ephemeral to someone not in the channel: %v, want permanent user_not_in_channel", err)
	}
}
