package e2e

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/hikyaku/hikyaku/internal/fakeslack"
	"github.com/hikyaku/hikyaku/internal/faketwilio"
)

// The acknowledgement tests run each way of answering a page through a
// running `hikyaku serve` whose providers are fakes: the page goes out, the
// answer comes back signed as the real service signs it, the escalation
// stops, and the person hears so. Each opens its own daemon, so they run in
// parallel; each also opens a control incident nobody answers, whose
// step-2 page to bob proves the wait for "no further pages" was long enough.

// TestAckBySMS: a reply "1 ack" to the page SMS, posted as Twilio posts it.
func TestAckBySMS(t *testing.T) {
	t.Parallel()
	env := startAckEnv(t)
	id, control := env.alert(t, "AckBySMS"), env.alert(t, "AckBySMSControl")
	page := env.smsPage(t, alicePhone, id)
	if !strings.Contains(page.Form.Get("Body"), fmt.Sprintf("%d ack", id)) {
		t.Errorf("the page SMS does not say how to acknowledge: %q", page.Form.Get("Body"))
	}
	smsURL := env.External + "/api/v1/twilio/sms"
	reply := url.Values{"From": {alicePhone}, "To": {twilioFrom}, "Body": {fmt.Sprintf("%d ack", id)},
		"MessageSid": {"SM" + strings.Repeat("a", 32)}, "AccountSid": {env.Twilio.AccountSID}, "NumMedia": {"0"}}

	// Not from Twilio: a forged signature, and none at all.
	for name, sig := range map[string]string{
		"forged":  faketwilio.Sign("0123456789abcdef0123456789abcdef", smsURL, reply),
		"missing": "",
	} {
		req, _ := http.NewRequest(http.MethodPost, smsURL, strings.NewReader(reply.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if sig != "" {
			req.Header.Set("X-Twilio-Signature", sig)
		}
		if code, body := do(t, req); code != http.StatusForbidden {
			t.Errorf("%s signature: %d %s, want 403", name, code, body)
		}
		env.wantOpen(t, id, name+" signature")
	}

	// From a number nobody has: no reply at all (TwiML without a
	// <Message>, and nothing sent through the API), counted, nothing changes.
	stranger := url.Values{"From": {"+15557770000"}, "To": {twilioFrom}, "Body": {fmt.Sprintf("%d ack", id)},
		"MessageSid": {"SM" + strings.Repeat("b", 32)}, "AccountSid": {env.Twilio.AccountSID}}
	code, body := env.twilioPost(t, smsURL, stranger)
	if msg, _, _, err := twiml(body); code != http.StatusOK || err != nil || msg != "" {
		t.Errorf("unknown number: %d %q (%v), want 200 with no <Message>", code, body, err)
	}
	for _, m := range env.Twilio.Messages() {
		if m.Form.Get("To") == "+15557770000" {
			t.Errorf("an SMS was sent to the unknown number: %v", m.Form)
		}
	}
	if _, metrics := scrape(t, env.Addr); !strings.Contains(metrics, `hikyaku_inbound_unknown_senders_total{channel="sms"} 1`) {
		t.Errorf("the unknown sender is not counted once:\n%s", grepLines(metrics, "unknown_senders"))
	}
	env.wantOpen(t, id, "an SMS from an unknown number")

	// alice answers; Twilio delivers the same message twice (a retry).
	want := fmt.Sprintf("#%d 了解しました。エスカレーションを停止しました。", id)
	for try := range 2 {
		code, body := env.twilioPost(t, smsURL, reply)
		msg, _, _, err := twiml(body)
		if code != http.StatusOK || err != nil || msg != want {
			t.Errorf("alice's reply (delivery %d): %d %q (%v), want 200 with <Message>%s", try+1, code, body, err, want)
		}
	}
	env.wantAcked(t, id, "alice", "sms")
	// The audit stream: the ack, then Twilio's retry that changed nothing.
	var results []string
	for _, a := range env.auditLines(t, 2, func(a map[string]any) bool { return a["action"] == "ack" && a["incident"] == float64(id) }) {
		if a["actor"] != "alice" || a["channel"] != "sms" || a["source"] == "" {
			t.Errorf("audit line of the SMS ack: %v", a)
		}
		results = append(results, fmt.Sprint(a["result"]))
	}
	if fmt.Sprint(results) != "[done unchanged]" {
		t.Errorf("audit results of alice's two deliveries: %v, want [done unchanged]", results)
	}
	env.noFurtherPages(t, id, control)
}

// twilioPost posts params as Twilio does, signed with the fake's auth token.
func (env *ackEnv) twilioPost(t *testing.T, rawURL string, params url.Values) (int, []byte) {
	t.Helper()
	resp, err := env.Twilio.SignedPost(rawURL, params)
	if err != nil {
		t.Fatal(err)
	}
	return readResponse(t, resp)
}

// TestAckByVoice: alice presses 1 during the page call; Twilio posts the
// key to the call's own <Gather> action.
func TestAckByVoice(t *testing.T) {
	t.Parallel()
	env := startAckEnv(t)
	id, control := env.alert(t, "AckByVoice"), env.alert(t, "AckByVoiceControl")
	call, action := env.callPage(t, alicePhone, id)
	if !strings.HasPrefix(action, env.External+"/api/v1/twilio/voice/gather?") {
		t.Fatalf("the call's keypad action %q is not hikyaku's gather URL under external_url", action)
	}
	key := url.Values{"CallSid": {call.SID}, "AccountSid": {env.Twilio.AccountSID}, "From": {twilioFrom}, "To": {alicePhone},
		"Digits": {"1"}, "CallStatus": {"in-progress"}, "Direction": {"outbound-api"}}

	req, _ := http.NewRequest(http.MethodPost, action, strings.NewReader(key.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", faketwilio.Sign("0123456789abcdef0123456789abcdef", action, key))
	if code, body := do(t, req); code != http.StatusForbidden {
		t.Errorf("forged keypad post: %d %s, want 403", code, body)
	}
	// The incident id is in the signed URL: changing it breaks the signature.
	other := strings.Replace(action, fmt.Sprintf("incident=%d&", id), fmt.Sprintf("incident=%d&", control), 1)
	req, _ = http.NewRequest(http.MethodPost, other, strings.NewReader(key.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", faketwilio.Sign(env.Twilio.AuthToken, action, key))
	if code, body := do(t, req); code != http.StatusForbidden {
		t.Errorf("keypad post to another incident under the first one's signature: %d %s, want 403", code, body)
	}
	env.wantOpen(t, id, "forged keypad posts")
	env.wantOpen(t, control, "forged keypad posts")

	code, body := env.twilioPost(t, action, key)
	_, say, hangup, err := twiml(body)
	if code != http.StatusOK || err != nil || say != "了解しました。エスカレーションを停止しました。" || !hangup {
		t.Errorf("key 1: %d %q (%v), want 200 saying it is acknowledged, then hanging up", code, body, err)
	}
	env.wantAcked(t, id, "alice", "voice")
	env.noFurtherPages(t, id, control)
}

// TestAckByEmail: alice replies "ack" to the page email; the reply reaches
// the daemon's SMTP listener as a relay delivers it. Forged replies before
// it (a stranger on alice's reply address, alice's From under another
// envelope, a thread reply without DKIM) change nothing and are refused on
// the timeline; alice is told once. The relay's retry of her reply acts and
// confirms no more.
func TestAckByEmail(t *testing.T) {
	t.Parallel()
	env := startAckEnv(t)
	id, control := env.alert(t, "AckByEmail"), env.alert(t, "AckByEmailControl")
	page, _ := env.emailPage(t, id)
	if !strings.HasSuffix(page.replyTo, "@"+replyDomain) || page.messageID == "" {
		t.Fatalf("page email: Reply-To %q, Message-ID %q; want a reply address at %s and an id", page.replyTo, page.messageID, replyDomain)
	}
	thread := "In-Reply-To: <" + page.messageID + ">\r\nSubject: Re: " + page.subject + "\r\n"

	// A stranger answers the reply address, and one forges alice's From
	// under their own envelope: accepted, so they learn nothing, and ignored.
	strangers := []struct{ envelope, from string }{
		{"mallory@example.net", "mallory@example.net"},
		{"mallory@example.net", aliceEmail},
	}
	for i, s := range strangers {
		hdr := thread + fmt.Sprintf("Message-ID: <stranger-%d@example.net>\r\n", i)
		err := env.sendMail(s.envelope, s.from, page.replyTo, hdr, "ack\n")
		if err != nil {
			t.Errorf("mail from %s (From: %s): %v, want 250", s.envelope, s.from, err)
		}
		env.wantOpen(t, id, "a reply from "+s.envelope)
	}

	// The forgery of a thread reply: alice's address in the envelope and in
	// From, the page's Message-ID in In-Reply-To and References, sent to the
	// listener's plain address (no reply address), and no DKIM signature of
	// alice's domain. Accepted, refused, and alice told once, at her address.
	forged := "In-Reply-To: <" + page.messageID + ">\r\nReferences: <" + page.messageID + ">\r\n" +
		"Subject: Re: " + page.subject + "\r\nMessage-ID: <forged-thread@example.net>\r\n"
	if err := env.sendMail(aliceEmail, aliceEmail, "hikyaku@"+replyDomain, forged, "resolve\n"); err != nil {
		t.Errorf("forged thread reply: %v, want 250", err)
	}
	env.wantOpen(t, id, "a forged thread reply")
	refused := env.incident(t, id).events("reply_refused")
	wantReasons := []string{"reply_address_of_another_user", "envelope_from_mismatch", "dkim_none"}
	if len(refused) != len(wantReasons) {
		t.Fatalf("reply_refused events %+v, want %d (%v)", refused, len(wantReasons), wantReasons)
	}
	for i, ev := range refused {
		if ev.Detail["reason"] != wantReasons[i] {
			t.Errorf("refusal %d: reason %q, want %q (%+v)", i, ev.Detail["reason"], wantReasons[i], ev)
		}
	}
	notice := fmt.Sprintf("インシデント #%d へのあなたのアドレスからの返信は送信者を確認できなかった", id)
	env.mailTo(t, aliceEmail, "the refusal notice to alice", func(_ mailHeader, text string) bool {
		return strings.Contains(text, notice)
	})

	hdr := thread + "Message-ID: <alice-reply-1@example.com>\r\n"
	if err := env.sendMail(aliceEmail, aliceEmail, page.replyTo, hdr, "ack\n\n> "+page.subject+"\n"); err != nil {
		t.Fatalf("alice's reply: %v", err)
	}
	env.wantAcked(t, id, "alice", "email")
	want := fmt.Sprintf("インシデント #%d を Alice さんが了解しました（メール）", id)
	confirm, text := env.mailTo(t, aliceEmail, "the confirmation to alice", func(h mailHeader, text string) bool {
		return strings.Contains(text, want)
	})
	if !strings.HasPrefix(confirm.autoSubmitted, "auto-generated") {
		t.Errorf("the confirmation's Auto-Submitted is %q, want auto-generated (so it never loops)", confirm.autoSubmitted)
	}
	t.Logf("confirmation: %q: %q", confirm.subject, strings.TrimSpace(strings.SplitN(text, "\n", 2)[0]))
	env.noFurtherPages(t, id, control)

	// The relay did not see our 250 and delivers alice's reply again: it
	// acks nothing more and is not confirmed again (counted below).
	if err := env.sendMail(aliceEmail, aliceEmail, page.replyTo, hdr, "ack\n\n> "+page.subject+"\n"); err != nil {
		t.Fatalf("the relay's retry of alice's reply: %v", err)
	}
	if acked := env.incident(t, id).events("acked"); len(acked) != 1 {
		t.Errorf("acked events after the relay's retry: %+v, want 1", acked)
	}

	// Only one confirmation: strangers get none.
	n := 0
	for _, m := range env.Mail.Messages() {
		if h, text, err := readMail(m.Data); err == nil && strings.Contains(text, want) {
			n++
			if !slicesHas(m.To, aliceEmail) {
				t.Errorf("a confirmation went to %v (subject %q)", m.To, h.subject)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d confirmations, want 1", n)
	}
	// One refusal notice, only to alice's configured address: never to
	// mallory, whatever the forged mails said.
	n = 0
	for _, m := range env.Mail.Messages() {
		if _, text, err := readMail(m.Data); err == nil && strings.Contains(text, notice) {
			n++
			if !slicesHas(m.To, aliceEmail) {
				t.Errorf("a refusal notice went to %v", m.To)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d refusal notices, want 1", n)
	}
}

// TestAckBySlack: alice presses Ack on the Slack page; Slack posts the
// interaction, signed, to the interactivity URL.
func TestAckBySlack(t *testing.T) {
	t.Parallel()
	env := startAckEnv(t)
	id, control := env.alert(t, "AckBySlack"), env.alert(t, "AckBySlackControl")
	page := env.slackPage(t, aliceSlack, id)
	interactions := env.External + "/api/v1/slack/interactions"

	press := func(user string, opts ...fakeslack.InteractionOption) int {
		t.Helper()
		payload, err := env.Slack.Click(user, page.PostedIn, page.TS, "hikyaku_ack")
		if err != nil {
			t.Fatal(err)
		}
		resp, err := fakeslack.Interaction(interactions, slackSecret, payload, opts...)
		if err != nil {
			t.Fatal(err)
		}
		code, _ := readResponse(t, resp)
		return code
	}
	if code := press(aliceSlack, fakeslack.At(time.Now().Add(-6*time.Minute))); code != http.StatusUnauthorized {
		t.Errorf("press replayed six minutes later: %d, want 401", code)
	}
	if code := press(aliceSlack, fakeslack.SignedWith("not-the-signing-secret")); code != http.StatusUnauthorized {
		t.Errorf("press signed with another secret: %d, want 401", code)
	}
	env.wantOpen(t, id, "refused presses")
	if code := press("U0STRANGER"); code != http.StatusOK {
		t.Errorf("press by a stranger: %d, want 200 (answered to them alone)", code)
	}
	waitFor(t, "the stranger's ephemeral answer", 5*time.Second, func() bool {
		for _, r := range env.Slack.Responses() {
			if r.ResponseType == "ephemeral" && strings.Contains(r.Text, "not a hikyaku user") {
				return true
			}
		}
		return false
	})
	env.wantOpen(t, id, "a stranger's press")

	if code := press(aliceSlack); code != http.StatusOK {
		t.Fatalf("alice's press: %d, want 200", code)
	}
	env.wantAcked(t, id, "alice", "slack")
	// The page is rewritten: no buttons left, the status says who acted.
	waitFor(t, "chat.update of alice's page", 10*time.Second, func() bool {
		for _, c := range env.Slack.Calls() {
			if c.Method == "chat.update" && c.Error == "" && c.Form.Get("ts") == page.TS {
				return true
			}
		}
		return false
	})
	msg := env.Slack.Message(page.PostedIn, page.TS)
	if v := buttonValue(*msg, "hikyaku_ack"); v != "" {
		t.Errorf("alice's page still offers Ack after the ack: %+v", msg.Blocks)
	}
	if blocks, _ := json.Marshal(msg.Blocks); !strings.Contains(string(blocks), "対応中 (担当: alice)") {
		t.Errorf("the updated page does not say, in alice's language, that she acknowledged: %s", blocks)
	}
	env.noFurtherPages(t, id, control)
}

// linkRE finds an action link under external_url in a mail's text.
var linkRE = regexp.MustCompile(`http://127\.0\.0\.1:\d+/act/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+`)

// TestAckByLink: the ack link in the page email. A GET (a link scanner, a
// preview) only shows a page; the button's POST acts.
func TestAckByLink(t *testing.T) {
	t.Parallel()
	env := startAckEnv(t)
	id, control := env.alert(t, "AckByLink"), env.alert(t, "AckByLinkControl")
	_, text := env.emailPage(t, id)
	links := linkRE.FindAllString(text, -1)
	if len(links) != 3 {
		t.Fatalf("page email has %d action links, want 3 (ack, resolve, escalate):\n%s", len(links), text)
	}
	ack := ""
	for _, l := range links {
		if !strings.HasPrefix(l, env.External+"/act/") {
			t.Errorf("link %s is not under external_url %s", l, env.External)
		}
		claims, _, _ := strings.Cut(strings.TrimPrefix(l, env.External+"/act/"), ".")
		if c, err := base64.RawURLEncoding.DecodeString(claims); err == nil && strings.HasPrefix(string(c), fmt.Sprintf("%d|ack|alice|", id)) {
			ack = l
		}
	}
	if ack == "" {
		t.Fatalf("no ack link for alice among %v", links)
	}
	token := strings.TrimPrefix(ack, env.External+"/act/")

	for range 3 {
		req, _ := http.NewRequest(http.MethodGet, ack, nil)
		if code, body := do(t, req); code != http.StatusOK || !strings.Contains(string(body), `<form method="post">`) {
			t.Errorf("GET of the ack link: %d, want 200 with a confirmation form:\n%s", code, body)
		}
	}
	// Nor does a GET of any inbound endpoint: only the providers' POSTs act.
	for _, path := range []string{"/api/v1/twilio/sms", "/api/v1/twilio/voice/gather", "/api/v1/slack/interactions"} {
		req, _ := http.NewRequest(http.MethodGet, env.External+path+fmt.Sprintf("?incident=%d&From=%s&Body=ack&Digits=1", id, url.QueryEscape(alicePhone)), nil)
		if code, _ := do(t, req); code != http.StatusMethodNotAllowed {
			t.Errorf("GET %s: %d, want 405", path, code)
		}
	}
	env.wantOpen(t, id, "GETs of the ack link and the inbound endpoints")

	// The test's signer makes hikyaku's very token, so an expired one made
	// with it is expired, not merely malformed.
	claims, _, _ := strings.Cut(token, ".")
	c, _ := base64.RawURLEncoding.DecodeString(claims)
	parts := strings.Split(string(c), "|")
	if len(parts) != 5 {
		t.Fatalf("link claims %q: want incident|action|user|expiry|nonce", c)
	}
	exp, _ := strconv.ParseInt(parts[3], 10, 64)
	nonce := parts[4]
	if got := signLinkToken(signingKey, id, "ack", "alice", time.Unix(exp, 0), nonce); got != token {
		t.Fatalf("the test's signer makes %s for hikyaku's %s: it no longer signs as hikyaku does", got, token)
	}
	forged := map[string]string{
		"expired":            signLinkToken(signingKey, id, "ack", "alice", time.Now().Add(-time.Minute), nonce),
		"another key":        signLinkToken("another-signing-key-0123", id, "ack", "alice", time.Unix(exp, 0), nonce),
		"claims changed":     base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%d|ack|alice|%d|%s", control, exp, nonce))) + token[len(claims):],
		"signature tampered": token[:len(token)-2] + flip(token[len(token)-2:]),
	}
	for name, tok := range forged {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			req, _ := http.NewRequest(method, env.External+"/act/"+tok, nil)
			if code, _ := do(t, req); code != http.StatusForbidden {
				t.Errorf("%s link, %s: %d, want 403", name, method, code)
			}
		}
	}
	env.wantOpen(t, id, "forged links")
	env.wantOpen(t, control, "forged links")

	req, _ := http.NewRequest(http.MethodPost, ack, nil)
	if code, body := do(t, req); code != http.StatusOK {
		t.Errorf("POST of the ack link: %d, want 200:\n%s", code, body)
	}
	env.wantAcked(t, id, "alice", "link")
	env.noFurtherPages(t, id, control)
}

// usedLinkPage is the Japanese "already done: escalated at T by alice" page.
var usedLinkPage = regexp.MustCompile(`実行済みです: エスカレーション（\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Z]+、alice）`)

// TestEscalateLinkActsOnce: the escalate link of a page email POSTed three
// times escalates once; the later POSTs get a page saying it was already
// done, and when, and by whom.
func TestEscalateLinkActsOnce(t *testing.T) {
	t.Parallel()
	env := startAckEnv(t)
	id := env.alert(t, "EscalateLinkOnce")
	_, text := env.emailPage(t, id)
	esc, _ := env.actionLink(t, text, id, "escalate", "alice")
	for i := range 3 {
		req, _ := http.NewRequest(http.MethodPost, esc, nil)
		code, body := do(t, req)
		switch {
		case code != http.StatusOK:
			t.Fatalf("POST %d of the escalate link: %d\n%s", i+1, code, body)
		case i == 0 && usedLinkPage.Match(body):
			t.Fatalf("the first POST says already done:\n%s", body)
		case i > 0 && !usedLinkPage.Match(body):
			// alice reads Japanese: "Already done: Escalate (T, alice)".
			t.Errorf("POST %d of a used link: want a page matching %s, got\n%s", i+1, usedLinkPage, body)
		}
	}
	waitFor(t, "bob paged by the escalation", 10*time.Second, func() bool { return env.paged(t, id, "bob") })
	esc3 := env.incident(t, id).events("escalated")
	if len(esc3) != 1 || esc3[0].Actor != "alice" || esc3[0].Detail["via"] != "link" {
		t.Fatalf("escalated events after one link POSTed 3 times: %+v, want one by alice via link", esc3)
	}
}

// flip changes every character of s to another base64url character.
func flip(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
	}
	return string(b)
}

// TestAckByCLI: an admin makes alice a token on the admin listener
// (`hikyaku token create`), and alice acks with it from a terminal
// (`hikyaku ack ID`): the timeline names alice, whom the token proves. The
// shared api_token acts only as "api", --by is refused, and once revoked
// the token gets 401.
func TestAckByCLI(t *testing.T) {
	t.Parallel()
	env := startAckEnv(t)
	id, control := env.alert(t, "AckByCLI"), env.alert(t, "AckByCLIControl")
	env.smsPage(t, alicePhone, id)

	hikyaku := func(token string, args ...string) (string, error) {
		cmd := exec.Command(binary, args...)
		// --listen serves the admin paths on the same listener.
		cmd.Env = append(os.Environ(), "HIKYAKU_API_TOKEN="+token, "HIKYAKU_SERVER="+env.External, "HIKYAKU_ADMIN_SERVER="+env.External)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	ack := strconv.FormatInt(id, 10)
	if out, err := hikyaku("not-the-api-token", "ack", ack); err == nil || !strings.Contains(out, "401") {
		t.Errorf("ack with a wrong API token: %v %s, want 401", err, out)
	}
	if out, err := hikyaku(apiToken, "ack", ack, "--by", "alice"); err == nil || !strings.Contains(out, "--by is gone") {
		t.Errorf("ack --by alice: %v %s, want refused saying --by is gone", err, out)
	}
	env.wantOpen(t, id, "a wrong API token and --by")

	created, err := exec.Command(binary, "token", "create", "--user", "alice", "--name", "e2e", "--server", env.External).Output()
	if err != nil {
		t.Fatalf("hikyaku token create --user alice: %v", err)
	}
	alice := strings.TrimSpace(string(created))
	if !strings.HasPrefix(alice, "hky_") {
		t.Fatalf("token create printed %q, want the token", alice)
	}
	out, err := hikyaku(alice, "ack", ack)
	if err != nil || !strings.Contains(out, fmt.Sprintf("incident %d: acked", id)) {
		t.Errorf("hikyaku ack %d with alice's token: %v\n%s", id, err, out)
	}
	env.wantAcked(t, id, "alice", "api")
	env.noFurtherPages(t, id, control)

	list, err := hikyaku("", "token", "list", "--output", "json")
	var toks []struct{ ID, User, Token string }
	if err != nil || json.Unmarshal([]byte(list), &toks) != nil || len(toks) != 1 || toks[0].User != "alice" || toks[0].Token != "" {
		t.Fatalf("token list: %v %s", err, list)
	}
	if out, err := hikyaku("", "token", "revoke", toks[0].ID); err != nil {
		t.Fatalf("token revoke: %v %s", err, out)
	}
	if out, err := hikyaku(alice, "resolve", ack); err == nil || !strings.Contains(out, "401") || !strings.Contains(out, "revoked") {
		t.Errorf("resolve with the revoked token: %v %s, want 401 revoked", err, out)
	}
	if v := env.incident(t, id); v.Status != "acked" {
		t.Errorf("incident %d after a revoked token's resolve: %s, want acked", id, v.Status)
	}
}

// TestEmailListenerLimits runs serve with --smtp-max-sessions 1 and
// --smtp-max-message-bytes 4096: while one relay holds a session, another
// connection is answered 421 4.7.0; a mail over the limit is refused with
// 552 5.3.4 and acts on nothing; a short reply still acks.
func TestEmailListenerLimits(t *testing.T) {
	t.Parallel()
	env := startAckEnv(t, "--smtp-max-sessions", "1", "--smtp-max-message-bytes", "4096")
	id := env.alert(t, "EmailListenerLimits")
	page, _ := env.emailPage(t, id)

	held, err := net.Dial("tcp", env.SMTP)
	if err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(held)
	_ = held.SetReadDeadline(time.Now().Add(10 * time.Second))
	if line, err := rd.ReadString('\n'); err != nil || !strings.HasPrefix(line, "220 ") {
		t.Fatalf("first session: %q %v, want 220", line, err)
	}
	second, err := net.Dial("tcp", env.SMTP)
	if err != nil {
		t.Fatal(err)
	}
	_ = second.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(second).ReadString('\n')
	second.Close()
	if err != nil || !strings.HasPrefix(line, "421 4.7.0") {
		t.Fatalf("a second session while one is held: %q %v, want 421 4.7.0", line, err)
	}
	held.Close()

	hdr := "In-Reply-To: <" + page.messageID + ">\r\nSubject: Re: " + page.subject + "\r\nMessage-ID: <big@example.com>\r\n"
	var se *smtp.SMTPError
	// The listener notices the held session's close when its read returns.
	var bigErr error
	waitFor(t, "the held session's slot back", 10*time.Second, func() bool {
		bigErr = env.sendMail(aliceEmail, aliceEmail, page.replyTo, hdr, "ack\n"+strings.Repeat("> quoted page\n", 64<<10/14))
		return !errors.As(bigErr, &se) || se.Code != 421
	})
	if !errors.As(bigErr, &se) || se.Code != 552 || se.EnhancedCode != (smtp.EnhancedCode{5, 3, 4}) {
		t.Fatalf("a 64 KiB reply with a 4 KiB limit: %v, want 552 5.3.4", bigErr)
	}
	env.wantOpen(t, id, "an oversized reply")

	hdr = "In-Reply-To: <" + page.messageID + ">\r\nSubject: Re: " + page.subject + "\r\nMessage-ID: <small@example.com>\r\n"
	if err := env.sendMail(aliceEmail, aliceEmail, page.replyTo, hdr, "ack\n"); err != nil {
		t.Fatalf("a short reply: %v", err)
	}
	env.wantAcked(t, id, "alice", "email")
}
