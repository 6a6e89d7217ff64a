package e2e

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"
	"github.com/slack-go/slack"

	"github.com/hikyaku/hikyaku/internal/fakeslack"
	"github.com/hikyaku/hikyaku/internal/fakesmtp"
	"github.com/hikyaku/hikyaku/internal/faketwilio"
	"github.com/hikyaku/hikyaku/internal/redistest"
	"github.com/hikyaku/hikyaku/store"
)

// ackEscalateAfter is each step's wait in the acknowledgement tests: long
// enough to answer a page first, short enough that "no further pages" is
// seen within seconds.
const ackEscalateAfter = 3 * time.Second

// The acknowledgement tests' people and secrets. alice reads Japanese while
// the global language is English, so an answer in her language is told
// apart from one to a stranger.
const (
	alicePhone    = "+15550000001"
	bobPhone      = "+15550000002"
	twilioFrom    = "+15550009999"
	aliceEmail    = "alice@example.com"
	aliceSlack    = "U0ALICE"
	bobSlack      = "U0BOB"
	replyDomain   = "reply.example.com"
	signingKey    = "e2e-signing-key-0123456789"
	slackSecret   = "e2e-slack-signing-secret"
	slackBotToken = "xoxb-e2e-bot-token"
)

var ackConfigTemplate = template.Must(template.New("hikyaku.yml").Parse(`# written by internal/e2e's acknowledgement tests: every provider is a local fake
global:
  external_url: {{.External}}
  timezone: UTC
  language: en
  api_token: {value: {{.APIToken}}}
  signing_key: {value: {{.SigningKey}}}
providers:
  twilio:
    account_sid: {{.TwilioSID}}
    auth_token: {value: {{.TwilioToken}}}
    from: "{{.TwilioFrom}}"
    api_url: {{.TwilioURL}}
  smtp:
    smarthost: {{.SMTPAddr}}
    from: hikyaku@example.com
    tls: none
    reply_domain: {{.ReplyDomain}}
  slack:
    bot_token: {value: {{.SlackToken}}}
    signing_secret: {value: {{.SlackSecret}}}
    api_url: {{.SlackURL}}
receivers:
  - name: hikyaku
    bearer_token: {value: {{.WebhookToken}}}
users:
  - id: alice
    name: Alice
    language: ja
    contacts: {sms: "{{.AlicePhone}}", voice: "{{.AlicePhone}}", email: {{.AliceEmail}}, slack: {{.AliceSlack}}}
    notify:
      - {after: 0s, channels: [sms, voice, email, slack]}
  - id: bob
    name: Bob
    contacts: {sms: "{{.BobPhone}}", email: bob@example.com, slack: {{.BobSlack}}}
    notify:
      - {after: 0s, channels: [sms, email, slack]}
departments:
  - id: ops
    name: Ops
    escalation_policy: ack
    rotations:
      - id: primary
        start: "2026-01-05 00:00"
        shift: 1d
        members: [alice]
      - id: secondary
        start: "2026-01-05 00:00"
        shift: 1w
        members: [bob]
{{- if .Roles}}
    roles: {{.Roles}}
{{- end}}
escalation_policies:
  - id: ack
    steps:
      - targets: {rotations: [primary]}
        escalate_after: {{.EscalateAfter}}
      - targets: {rotations: [secondary]}
        escalate_after: {{.EscalateAfter}}
routes:
  - name: payments
    matchers: ['team="payments"']
    department: ops
default_route:
  department: ops
`))

// ackEnv is one `hikyaku serve` whose providers are fakes: Twilio, an SMTP
// relay and a Slack workspace, all on loopback.
type ackEnv struct {
	*daemon
	External string // global.external_url: the URL the fakes call and sign
	SMTP     string // the reply listener (--smtp-listen)
	Config   string // the configuration file serve runs
	Twilio   *faketwilio.Server
	Mail     *fakesmtp.Server
	Slack    *fakeslack.Server
	// step is each escalation step's wait (ackEscalateAfter unless the
	// test chose another).
	step time.Duration
}

// startAckEnv starts the fakes and a daemon on ports chosen beforehand:
// Twilio signs the URL it calls, so external_url must name the daemon's
// port before it starts. serveArgs are added to serve's flags.
func startAckEnv(t *testing.T, serveArgs ...string) *ackEnv {
	t.Helper()
	return startAckEnvWith(t, "", serveArgs...)
}

// startAckEnvWith is startAckEnv with more top-level sections appended to the configuration.
func startAckEnvWith(t *testing.T, sections string, serveArgs ...string) *ackEnv {
	t.Helper()
	return startAckEnvRoles(t, "", sections, serveArgs...)
}

// startAckEnvRoles is startAckEnvWith with department ops's roles (a
// YAML flow mapping, "" for none).
func startAckEnvRoles(t *testing.T, roles, sections string, serveArgs ...string) *ackEnv {
	t.Helper()
	return startAckEnvStep(t, ackEscalateAfter, roles, sections, serveArgs...)
}

// startAckEnvStep is startAckEnvRoles with each escalation step waiting
// step: a browser needs longer than an HTTP client to answer a page.
func startAckEnvStep(t *testing.T, step time.Duration, roles, sections string, serveArgs ...string) *ackEnv {
	t.Helper()
	env := &ackEnv{Twilio: faketwilio.Start(t), Mail: fakesmtp.Start(t, fakesmtp.Options{}), Slack: fakeslack.New(slackBotToken), step: step}
	t.Cleanup(env.Slack.Close)
	listen := "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))
	env.SMTP = "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))
	env.External = "http://" + listen

	var b strings.Builder
	err := ackConfigTemplate.Execute(&b, map[string]any{
		"External": env.External, "APIToken": apiToken, "SigningKey": signingKey, "WebhookToken": webhookToken,
		"TwilioSID": env.Twilio.AccountSID, "TwilioToken": env.Twilio.AuthToken, "TwilioFrom": twilioFrom, "TwilioURL": env.Twilio.URL,
		"SMTPAddr": env.Mail.Addr, "ReplyDomain": replyDomain,
		"SlackToken": slackBotToken, "SlackSecret": slackSecret, "SlackURL": env.Slack.URL(),
		"AlicePhone": alicePhone, "AliceEmail": aliceEmail, "AliceSlack": aliceSlack, "BobPhone": bobPhone, "BobSlack": bobSlack,
		"EscalateAfter": fmt.Sprintf("%ds", int(step.Seconds())), "Roles": roles,
	})
	if err != nil {
		t.Fatalf("config template: %v", err)
	}
	b.WriteString(sections)
	cfg := filepath.Join(t.TempDir(), "hikyaku.yml")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o600); err != nil {
		t.Fatalf("write config: %v", err)
	}
	env.Config = cfg
	args := append([]string{"serve", "--config", cfg, "--listen", listen,
		"--smtp-listen", env.SMTP, "--data-dir", t.TempDir(), "--log-format", "json"}, serveArgs...)
	env.daemon = startProcess(t, "hikyaku", binary, args...)
	line, ok := env.WaitLog(func(l *logLine) bool { return l.Msg == "hikyaku serving" }, startTimeout)
	if !ok {
		t.Fatalf("hikyaku did not log \"hikyaku serving\" within %s (is port %s taken?)", startTimeout, listen)
	}
	env.Addr, env.Serving = line.Listen, line.Time
	return env
}

// alert posts a firing one-alert group as Alertmanager does and returns
// the incident it opened.
func (env *ackEnv) alert(t *testing.T, name string) int64 {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, env.External+"/api/v1/alertmanager", bytes.NewReader(groupMessage(t, name, true)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+webhookToken)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("post alert %s: %v", name, err)
	}
	defer resp.Body.Close()
	var out struct{ Incidents []int64 }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || len(out.Incidents) != 1 {
		t.Fatalf("post alert %s: %s, incidents %v, %v", name, resp.Status, out.Incidents, err)
	}
	return out.Incidents[0]
}

func (env *ackEnv) incident(t *testing.T, id int64) *incidentView {
	t.Helper()
	v, err := getIncident(env.Addr, id)
	if err != nil {
		t.Fatalf("incident %d: %v", id, err)
	}
	return v
}

// wantOpen fails when anything has acted on incident id: what a refused
// request must leave as it was.
func (env *ackEnv) wantOpen(t *testing.T, id int64, after string) {
	t.Helper()
	v := env.incident(t, id)
	acts := len(v.events("acked")) + len(v.events("resolved")) + len(v.events("escalated"))
	if v.Status != store.StatusOpen || v.AckedBy != "" || acts != 0 {
		t.Errorf("after %s: incident %d is %s (acked by %q, %d actions on the timeline), want open and untouched", after, id, v.Status, v.AckedBy, acts)
	}
}

// wantAcked checks incident id was acknowledged once, by user, via via.
func (env *ackEnv) wantAcked(t *testing.T, id int64, user, via string) *incidentView {
	t.Helper()
	v := env.incident(t, id)
	acked := v.events("acked")
	if v.Status != store.StatusAcked || v.AckedBy != user || len(acked) != 1 || acked[0].Actor != user || acked[0].Detail["via"] != via {
		t.Errorf("incident %d: %s by %q, acked events %+v; want acked once by %s via %s", id, v.Status, v.AckedBy, acked, user, via)
	}
	return v
}

// noFurtherPages proves escalation stopped for id: control, an incident
// opened just after id and answered by nobody, pages bob at step 2, so the
// timers ran past the moment id's step 2 was due; id must have paged nobody
// after the ack, on any channel, by the daemon's timeline and by what the
// fakes received.
func (env *ackEnv) noFurtherPages(t *testing.T, id, control int64) {
	t.Helper()
	start := time.Now()
	deadline := start.Add(env.step + 10*time.Second)
	for !env.paged(t, control, "bob") {
		if time.Now().After(deadline) {
			t.Fatalf("control incident %d never paged bob at step 2: the escalation did not run, so its absence proves nothing", control)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Timers due together are claimed in one batch; a moment more lets a
	// step that wrongly fired alongside the control's reach the timeline.
	time.Sleep(500 * time.Millisecond)
	v := env.incident(t, id)
	if fired := v.events("step_fired"); len(fired) != 1 {
		t.Errorf("incident %d fired %d steps, want only step 1: %+v", id, len(fired), fired)
	}
	for _, ev := range v.events("notified") {
		if ev.Detail["to"] != "alice" || ev.Detail["kind"] != "page" {
			t.Errorf("incident %d notified %s (%s by %s) after the ack", id, ev.Detail["to"], ev.Detail["kind"], ev.Detail["channel"])
		}
	}
	tag := fmt.Sprintf("[hikyaku #%d]", id)
	for _, m := range env.Twilio.Messages() {
		if m.Form.Get("To") == bobPhone && strings.Contains(m.Form.Get("Body"), tag) {
			t.Errorf("Twilio got an SMS to bob about incident %d: %q", id, m.Form.Get("Body"))
		}
	}
	for _, m := range env.Mail.Messages() {
		if h, _, err := readMail(m.Data); err == nil && slicesHas(m.To, "bob@example.com") && strings.Contains(h.subject, tag) {
			t.Errorf("an email to bob about incident %d: %q", id, h.subject)
		}
	}
	for _, c := range env.Slack.Calls() {
		if c.Method == "chat.postMessage" && c.Channel == bobSlack && buttonValue(c, "hikyaku_ack") == strconv.FormatInt(id, 10) {
			t.Errorf("a Slack page to bob about incident %d", id)
		}
	}
	t.Logf("no page about incident %d after the ack; control incident %d paged bob %s after the check began", id, control, time.Since(start).Round(time.Millisecond))
}

// paged says whether the timeline of id shows a page sent to user.
func (env *ackEnv) paged(t *testing.T, id int64, user string) bool {
	t.Helper()
	for _, ev := range env.incident(t, id).events("notified") {
		if ev.Detail["to"] == user && ev.Detail["kind"] == "page" {
			return true
		}
	}
	return false
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// smsPage waits for the page SMS about id that Twilio accepted for number.
func (env *ackEnv) smsPage(t *testing.T, number string, id int64) faketwilio.Request {
	t.Helper()
	var got faketwilio.Request
	waitFor(t, fmt.Sprintf("the SMS page about incident %d to %s", id, number), 10*time.Second, func() bool {
		for _, m := range env.Twilio.Messages() {
			if m.Form.Get("To") == number && strings.Contains(m.Form.Get("Body"), fmt.Sprintf("[hikyaku #%d]", id)) {
				got = m
				return true
			}
		}
		return false
	})
	return got
}

// callPage waits for the page call about id to number and returns it with
// its keypad prompt's action URL, read from the call's TwiML.
func (env *ackEnv) callPage(t *testing.T, number string, id int64) (faketwilio.Request, string) {
	t.Helper()
	var call faketwilio.Request
	var action string
	waitFor(t, fmt.Sprintf("the page call about incident %d to %s", id, number), 10*time.Second, func() bool {
		for _, c := range env.Twilio.Calls() {
			a, err := gatherAction(c.Form.Get("Twiml"))
			if c.Form.Get("To") == number && err == nil && strings.Contains(a, fmt.Sprintf("incident=%d&", id)) {
				call, action = c, a
				return true
			}
		}
		return false
	})
	return call, action
}

// gatherAction is the action URL of the first <Gather> of a TwiML document.
func gatherAction(doc string) (string, error) {
	d := xml.NewDecoder(strings.NewReader(doc))
	for {
		tok, err := d.Token()
		if err != nil {
			return "", fmt.Errorf("no <Gather action> in the TwiML: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "Gather" {
			for _, a := range se.Attr {
				if a.Name.Local == "action" {
					return a.Value, nil
				}
			}
		}
	}
}

// twiml is the text of a TwiML answer's <Message> and <Say> verbs.
func twiml(body []byte) (message, say string, hangup bool, err error) {
	var doc struct {
		Message []string   `xml:"Message"`
		Say     []string   `xml:"Say"`
		Hangup  []struct{} `xml:"Hangup"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		return "", "", false, fmt.Errorf("TwiML %q: %w", body, err)
	}
	return strings.Join(doc.Message, "\n"), strings.Join(doc.Say, "\n"), len(doc.Hangup) > 0, nil
}

// mailHeader is what the tests read of a mail's header.
type mailHeader struct {
	subject, messageID, replyTo, inReplyTo, autoSubmitted string
}

// readMail decodes a captured message: its header and its text/plain part.
func readMail(raw []byte) (mailHeader, string, error) {
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		return mailHeader{}, "", fmt.Errorf("read mail: %w", err)
	}
	defer r.Close()
	var h mailHeader
	h.subject, _ = r.Header.Subject()
	h.messageID, _ = r.Header.MessageID()
	if list, err := r.Header.AddressList("Reply-To"); err == nil && len(list) == 1 {
		h.replyTo = list[0].Address
	}
	if ids, err := r.Header.MsgIDList("In-Reply-To"); err == nil && len(ids) > 0 {
		h.inReplyTo = ids[0]
	}
	h.autoSubmitted = r.Header.Get("Auto-Submitted")
	for {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			return h, "", errors.New("read mail: no text/plain part")
		}
		if err != nil {
			return h, "", fmt.Errorf("read mail part: %w", err)
		}
		if ih, ok := p.Header.(*mail.InlineHeader); ok {
			if ct, _, _ := ih.ContentType(); ct == "text/plain" {
				b, err := io.ReadAll(p.Body)
				return h, string(b), err
			}
		}
	}
}

// mailTo waits for a mail to addr that match accepts.
func (env *ackEnv) mailTo(t *testing.T, addr, what string, match func(h mailHeader, text string) bool) (mailHeader, string) {
	t.Helper()
	var h mailHeader
	var text string
	waitFor(t, what, 10*time.Second, func() bool {
		for _, m := range env.Mail.Messages() {
			if !slicesHas(m.To, addr) {
				continue
			}
			mh, mt, err := readMail(m.Data)
			if err == nil && match(mh, mt) {
				h, text = mh, mt
				return true
			}
		}
		return false
	})
	return h, text
}

// emailPage waits for the page email about id to alice.
// The relay has the mail before hikyaku hears its 250 and records the
// delivery, which a reply in the page's thread is checked against (who was
// emailed about the incident): it waits for that record too.
func (env *ackEnv) emailPage(t *testing.T, id int64) (mailHeader, string) {
	t.Helper()
	tag := fmt.Sprintf("[hikyaku #%d]", id)
	h, text := env.mailTo(t, aliceEmail, "the page email about incident "+strconv.FormatInt(id, 10), func(h mailHeader, _ string) bool {
		return strings.HasPrefix(h.subject, tag)
	})
	waitFor(t, fmt.Sprintf("incident %d's notified event of the page email to alice", id), 10*time.Second, func() bool {
		for _, ev := range env.incident(t, id).events("notified") {
			if ev.Detail["channel"] == "email" && ev.Detail["to"] == "alice" && ev.Detail["kind"] == "page" {
				return true
			}
		}
		return false
	})
	return h, text
}

// sendMail delivers a plain RFC 5322 message to the daemon's reply listener
// as a relay would: envelope sender envelope, recipient to; the From header
// is from, which a forger makes differ from the envelope.
func (env *ackEnv) sendMail(envelope, from, to, header, body string) error {
	msg := "From: " + from + "\r\nTo: " + to + "\r\nDate: " + time.Now().Format(time.RFC1123Z) +
		"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n" + header + "\r\n" +
		strings.ReplaceAll(body, "\n", "\r\n")
	// smtp.SendMail insists on STARTTLS; a relay falls back to plaintext
	// when it is not offered, as the listener does not.
	c, err := smtp.Dial(env.SMTP)
	if err != nil {
		return fmt.Errorf("dial the reply listener: %w", err)
	}
	defer c.Close()
	if err := c.Hello("relay.example.net"); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	if err := c.SendMail(envelope, []string{to}, strings.NewReader(msg)); err != nil {
		return err
	}
	return c.Quit()
}

// slackPage waits for the Slack page about id posted to user's DM, and for
// hikyaku's record of it, and returns where it landed. The fake has the
// message before hikyaku hears Slack's answer and records where it landed:
// until then a reply in its thread names no incident, and an ack may find no
// message to rewrite (a person cannot answer a message Slack has not shown).
func (env *ackEnv) slackPage(t *testing.T, user string, id int64) fakeslack.Call {
	t.Helper()
	var got fakeslack.Call
	waitFor(t, fmt.Sprintf("the Slack page about incident %d to %s", id, user), 10*time.Second, func() bool {
		for _, c := range env.Slack.Calls() {
			if c.Method == "chat.postMessage" && c.Error == "" && c.Channel == user && buttonValue(c, "hikyaku_ack") == strconv.FormatInt(id, 10) {
				got = c
				return true
			}
		}
		return false
	})
	waitFor(t, fmt.Sprintf("incident %d's notified event of the Slack page to %s", id, user), 10*time.Second, func() bool {
		for _, ev := range env.incident(t, id).events("notified") {
			if ev.Detail["channel"] == "slack" && ev.Detail["provider_id"] == got.PostedIn+"/"+got.TS {
				return true
			}
		}
		return false
	})
	return got
}

// buttonValue is the value of a message's button actionID, "" without one.
func buttonValue(c fakeslack.Call, actionID string) string {
	for _, b := range c.Blocks.BlockSet {
		ab, ok := b.(*slack.ActionBlock)
		if !ok || ab.Elements == nil {
			continue
		}
		for _, el := range ab.Elements.ElementSet {
			if bt, ok := el.(*slack.ButtonBlockElement); ok && bt.ActionID == actionID {
				return bt.Value
			}
		}
	}
	return ""
}

// signLinkToken makes an action link's token as the docs describe it
// (claims "incident|action|user|expiry|nonce", the nonce absent in links
// made before it existed, then 128 bits of HMAC-SHA256 under
// global.signing_key, both base64url): the tests check it against a link
// hikyaku sent before forging an expired one with it.
func signLinkToken(key string, incident int64, action, user string, expires time.Time, nonce string) string {
	claims := fmt.Sprintf("%d|%s|%s|%d", incident, action, user, expires.Unix())
	if nonce != "" {
		claims += "|" + nonce
	}
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(claims))
	return base64.RawURLEncoding.EncodeToString([]byte(claims)) + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:16])
}

// do sends one request and returns the status and body.
func do(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	return readResponse(t, resp)
}

func readResponse(t *testing.T, resp *http.Response) (int, []byte) {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	return resp.StatusCode, b
}

func slicesHas(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// actionLink is the link for action by user on incident id among a page
// email's links, with its claims.
func (env *ackEnv) actionLink(t *testing.T, text string, id int64, action, user string) (string, []string) {
	t.Helper()
	for _, l := range linkRE.FindAllString(text, -1) {
		claims, _, _ := strings.Cut(strings.TrimPrefix(l, env.External+"/act/"), ".")
		c, err := base64.RawURLEncoding.DecodeString(claims)
		if err == nil && strings.HasPrefix(string(c), fmt.Sprintf("%d|%s|%s|", id, action, user)) {
			return l, strings.Split(string(c), "|")
		}
	}
	t.Fatalf("no %s link for %s about incident %d in:\n%s", action, user, id, text)
	return "", nil
}
