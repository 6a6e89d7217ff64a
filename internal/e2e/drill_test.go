package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/hikyaku/hikyaku/internal/fakeslack"
	"github.com/hikyaku/hikyaku/router"
)

// TestDrillBySMS: alice, ops's admin, runs a drill with `hikyaku drills
// run ops` against the running daemon. Every responder (alice and bob) gets
// one test page on each contact method through the fake providers; alice
// answers hers by SMS reply, bob answers nothing. When the answer window
// closes, the report reaches the stakeholders' Slack channel through the
// fake Slack and lists alice's SMS as acknowledged and bob as reached on
// nothing; no incident metric (MTTA, MTTR) moves, and
// hikyaku_contacts_unverified counts the six methods left unverified.
func TestDrillBySMS(t *testing.T) {
	t.Parallel()
	const window = 15 * time.Second
	roles := "{admins: [alice]}\n    stakeholders: {chat_channels: [drills]}\n    drill: {week: first, weekday: monday, at: \"03:00\", answer_within: " +
		fmt.Sprintf("%ds", int(window.Seconds())) + "}"
	env := startAckEnvRoles(t, roles, "chat_channels:\n  - {id: drills, name: Drills, slack: C0DRILLS}\n")
	hikyaku := func(token string, args ...string) (string, error) {
		cmd := exec.Command(binary, args...)
		cmd.Env = append(os.Environ(), "HIKYAKU_API_TOKEN="+token, "HIKYAKU_SERVER="+env.External)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	token := func(user string) string {
		created, err := exec.Command(binary, "token", "create", "--user", user, "--name", "e2e", "--server", env.External).Output()
		if err != nil {
			t.Fatalf("hikyaku token create --user %s: %v", user, err)
		}
		return strings.TrimSpace(string(created))
	}
	alice, bob := token("alice"), token("bob")
	if out, err := hikyaku(bob, "drills", "run", "ops"); err == nil || !strings.Contains(out, "403") {
		t.Errorf("bob (no admin) runs a drill: %v %s, want 403", err, out)
	}
	if out, err := hikyaku(apiToken, "drills", "run", "ops"); err == nil || !strings.Contains(out, "403") {
		t.Errorf("the shared api_token runs a drill: %v %s, want 403", err, out)
	}
	_, before := scrape(t, env.Addr)

	out, err := hikyaku(alice, "drills", "run", "ops", "--output", "json")
	if err != nil {
		t.Fatalf("hikyaku drills run ops: %v\n%s", err, out)
	}
	var d router.DrillView
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("drills run --output json: %v\n%s", err, out)
	}
	if d.Department != "ops" || d.RequestedBy != "alice" || len(d.Targets) != 7 {
		t.Fatalf("drill = %+v, want ops's by alice, 7 contact methods (alice 4, bob 3)", d)
	}
	// Every test page opens; alice's SMS one reaches her phone.
	var smsPage int64
	waitFor(t, "every test page of the drill opened", 10*time.Second, func() bool {
		out, err := hikyaku(alice, "drills", "show", fmt.Sprint(d.ID), "--output", "json")
		if err != nil || json.Unmarshal([]byte(out), &d) != nil {
			return false
		}
		for _, tg := range d.Targets {
			if tg.Incident == 0 {
				return false
			}
			if tg.User == "alice" && tg.Channel == "sms" {
				smsPage = tg.Incident
			}
		}
		return true
	})
	page := env.smsPage(t, alicePhone, smsPage)
	if body := page.Form.Get("Body"); !strings.Contains(body, "hikyaku のテスト呼び出し") {
		t.Errorf("the drill's SMS does not say it is a test: %q", body)
	}
	env.smsPage(t, bobPhone, targetPage(d, "bob", "sms"))
	reply := url.Values{"From": {alicePhone}, "To": {twilioFrom}, "Body": {fmt.Sprintf("%d ack", smsPage)},
		"MessageSid": {"SM" + strings.Repeat("d", 32)}, "AccountSid": {env.Twilio.AccountSID}, "NumMedia": {"0"}}
	if code, body := env.twilioPost(t, env.External+"/api/v1/twilio/sms", reply); code != 200 {
		t.Fatalf("alice's SMS reply: %d %s", code, body)
	}

	// The report, at the window's end, in the stakeholders' channel.
	var report string
	waitFor(t, "the drill report in #drills", window+15*time.Second, func() bool {
		for _, c := range env.Slack.Calls() {
			if c.Method == "chat.postMessage" && c.Error == "" && c.Channel == "C0DRILLS" {
				report = c.Text + "\n" + blocksText(c)
				return true
			}
		}
		return false
	})
	for _, want := range []string{"Drill report", "1 of 7 contact methods acknowledged; 1 of 2 people reached",
		"Alice (alice) on sms, after", "Bob (bob) on sms", "Bob (bob) on email", "Bob (bob) on slack", "Alice (alice) on voice"} {
		if !strings.Contains(report, want) {
			t.Errorf("the drill report lacks %q:\n%s", want, report)
		}
	}
	if i := strings.Index(report, "No contact method that works"); i < 0 || !strings.Contains(report[i:], "Bob (bob)") || strings.Contains(report[i:], "Alice") {
		t.Errorf("the report's people with no working contact method are not bob alone:\n%s", report)
	}
	out, err = hikyaku(alice, "drills", "show", fmt.Sprint(d.ID), "--output", "json")
	if err != nil || json.Unmarshal([]byte(out), &d) != nil {
		t.Fatalf("drills show %d: %v\n%s", d.ID, err, out)
	}
	for _, tg := range d.Targets {
		want := router.DrillUnanswered
		if tg.User == "alice" && tg.Channel == "sms" {
			want = router.DrillAcked
		}
		if tg.Result != want {
			t.Errorf("%s on %s: %s, want %s", tg.User, tg.Channel, tg.Result, want)
		}
		if tg.Result == router.DrillAcked && (tg.AckSeconds <= 0 || tg.AckSeconds > window.Seconds() || tg.AckVia != "sms") {
			t.Errorf("alice's sms: acked after %vs via %q, want within the window via sms", tg.AckSeconds, tg.AckVia)
		}
	}
	if d.Status != "reported" || len(d.NoWorkingContact) != 1 || d.NoWorkingContact[0] != "bob" {
		t.Errorf("drill %d: %s, no working contact %v; want reported, [bob]", d.ID, d.Status, d.NoWorkingContact)
	}
	if text, err := hikyaku(alice, "drills", "list"); err != nil || !strings.Contains(text, fmt.Sprintf("%d  ", d.ID)) || !strings.Contains(text, "1/7") {
		t.Errorf("drills list: %v\n%s", err, text)
	}

	var after string
	waitFor(t, "hikyaku_contacts_unverified counting alice's sms as verified", 10*time.Second, func() bool {
		_, after = scrape(t, env.Addr)
		return strings.Contains(after, `hikyaku_contacts_unverified{department="ops"} 6`)
	})
	for _, name := range []string{"hikyaku_time_to_ack_seconds", "hikyaku_time_to_resolve_seconds", "hikyaku_incidents_acked_total",
		"hikyaku_incidents_resolved_total", "hikyaku_incidents_opened_total"} {
		if b, a := grepLines(before, name), grepLines(after, name); b != a {
			t.Errorf("%s moved with a drill:\nbefore %s\nafter  %s", name, b, a)
		}
	}
	for _, want := range []string{`hikyaku_test_pages_total{department="ops",result="sent"} 7`,
		`hikyaku_test_pages_total{department="ops",result="acked"} 1`, `hikyaku_drills_total{department="ops",result="run"} 1`} {
		if !strings.Contains(after, want) {
			t.Errorf("metrics lack %s:\n%s\n%s", want, grepLines(after, "hikyaku_test_pages_total"), grepLines(after, "hikyaku_drills_total"))
		}
	}
}

func targetPage(d router.DrillView, user, channel string) int64 {
	for _, tg := range d.Targets {
		if tg.User == user && tg.Channel == channel {
			return tg.Incident
		}
	}
	return 0
}

// blocksText is the text of a Slack message's section blocks, where the
// rendered report is.
func blocksText(c fakeslack.Call) string {
	var b strings.Builder
	for _, bl := range c.Blocks.BlockSet {
		if s, ok := bl.(*slack.SectionBlock); ok && s.Text != nil {
			b.WriteString(s.Text.Text + "\n")
		}
	}
	return b.String()
}
