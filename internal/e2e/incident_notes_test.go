package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/internal/fakeslack"
)

// TestRolesAndNotesFromSlackAndEmail runs an incident from a running
// daemon's Slack page and email: alice takes Comm with the page's button,
// writes a decision in the page's thread (the Events API, signed, with
// Slack's retry), a stranger's thread reply writes nothing and is answered
// in the thread to them alone (chat.postEphemeral), the page is rewritten
// to name her Comm (chat.update), and her reply
// to the page email that is no command is a note, confirmed by mail. Her
// ack by email still acknowledges and makes her IC.
func TestRolesAndNotesFromSlackAndEmail(t *testing.T) {
	t.Parallel()
	env := startAckEnv(t)
	id := env.alert(t, "RolesAndNotes")
	page := env.slackPage(t, aliceSlack, id)
	events := env.External + "/api/v1/slack/events"
	post := func(body []byte, opts ...fakeslack.InteractionOption) (int, string) {
		t.Helper()
		resp, err := fakeslack.Event(events, slackSecret, body, opts...)
		if err != nil {
			t.Fatal(err)
		}
		code, body := readResponse(t, resp)
		return code, string(body)
	}
	if code, body := post(fakeslack.URLVerification("challenge-0123")); code != http.StatusOK || body != "challenge-0123" {
		t.Errorf("url_verification: %d %q, want 200 with the challenge", code, body)
	}

	payload, err := env.Slack.Click(aliceSlack, page.PostedIn, page.TS, "hikyaku_role_comm")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := fakeslack.Interaction(env.External+"/api/v1/slack/interactions", slackSecret, payload)
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := readResponse(t, resp); code != http.StatusOK {
		t.Fatalf("alice's Comm button: %d", code)
	}
	told := fmt.Sprintf("インシデント #%d: あなたが 連絡 (Comm) になりました。", id)
	waitFor(t, "alice's ephemeral answer", 5*time.Second, func() bool {
		for _, r := range env.Slack.Responses() {
			if r.ResponseType == "ephemeral" && r.Text == told {
				return true
			}
		}
		return false
	})
	if got := env.incident(t, id).Roles; got["comm"] != "alice" {
		t.Errorf("roles %v after alice's button, want comm alice", got)
	}
	// The page itself is rewritten to name her in its context line.
	waitFor(t, "the page rewritten with alice as Comm", 10*time.Second, func() bool {
		m := env.Slack.Message(page.PostedIn, page.TS)
		return m != nil && m.Method == "chat.update" && strings.Contains(blocksJSON(t, m), `*連絡 (Comm):* Alice`)
	})

	reply, err := env.Slack.ThreadReply(aliceSlack, page.PostedIn, page.TS, "決定: db-2 に切り替える & <db-1> は読み取り専用")
	if err != nil {
		t.Fatal(err)
	}
	for _, opt := range []fakeslack.InteractionOption{fakeslack.At(time.Now()), fakeslack.Retry(1)} {
		if code, _ := post(reply, opt); code != http.StatusOK {
			t.Fatalf("alice's thread reply: %d", code)
		}
	}
	stranger, err := env.Slack.ThreadReply("U0STRANGER", page.PostedIn, page.TS, "I decide now")
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := post(stranger); code != http.StatusOK {
		t.Errorf("the stranger's thread reply: %d, want 200", code)
	}
	if _, ok := env.WaitLog(func(l *logLine) bool {
		return l.Msg == "slack thread reply by someone who is no hikyaku user: no note written"
	}, 5*time.Second); !ok {
		t.Errorf("no WARN line for the stranger's thread reply")
	}
	// The stranger is told why, in the thread, and only they see it.
	toldStranger := fmt.Sprintf("Your reply is no note on incident #%d: you are not a hikyaku user. Ask an admin to add your Slack id (U0STRANGER) to users[].contacts.slack.", id)
	waitFor(t, "the stranger's ephemeral answer", 5*time.Second, func() bool {
		for _, c := range env.Slack.Calls() {
			if c.Method == "chat.postEphemeral" && c.Error == "" && c.User == "U0STRANGER" && c.Channel == page.PostedIn &&
				c.Form.Get("thread_ts") == page.TS && c.Text == toldStranger {
				return true
			}
		}
		return false
	})

	mail, _ := env.emailPage(t, id)
	hdr := "In-Reply-To: <" + mail.messageID + ">\r\nSubject: Re: " + mail.subject + "\r\nMessage-ID: <alice-note-1@example.com>\r\n"
	body := "原因は db-1 のディスク満杯\n\n2026年1月7日(水) 6:00 hikyaku <hikyaku@example.com>:\n> " + mail.subject + "\n"
	if err := env.sendMail(aliceEmail, aliceEmail, mail.replyTo, hdr, body); err != nil {
		t.Fatalf("alice's note by email: %v", err)
	}
	env.mailTo(t, aliceEmail, "the note's confirmation", func(_ mailHeader, text string) bool {
		return strings.Contains(text, fmt.Sprintf("インシデント #%d のタイムラインにメモを記録しました（Alice さん、メール）。", id))
	})

	var notes []string
	waitFor(t, "the two notes", 10*time.Second, func() bool {
		notes = nil
		for _, ev := range env.incident(t, id).events("note") {
			notes = append(notes, fmt.Sprintf("%s %s decision=%s %s", ev.Actor, ev.Detail["via"], ev.Detail["decision"], ev.Detail["text"]))
		}
		return len(notes) >= 2
	})
	want := []string{"alice slack decision=true db-2 に切り替える & <db-1> は読み取り専用", "alice email decision= 原因は db-1 のディスク満杯"}
	if strings.Join(notes, "\n") != strings.Join(want, "\n") {
		t.Errorf("notes:\n%s\nwant:\n%s", strings.Join(notes, "\n"), strings.Join(want, "\n"))
	}

	ack := "In-Reply-To: <" + mail.messageID + ">\r\nSubject: Re: " + mail.subject + "\r\nMessage-ID: <alice-ack-1@example.com>\r\n"
	if err := env.sendMail(aliceEmail, aliceEmail, mail.replyTo, ack, "ack\n"); err != nil {
		t.Fatal(err)
	}
	inc := env.wantAcked(t, id, "alice", "email")
	if inc.Roles["ic"] != "alice" || inc.Roles["comm"] != "alice" {
		t.Errorf("roles after the ack %v, want ic and comm alice", inc.Roles)
	}
}

// TestReportFieldsFromSlackAndEmail: alice's reply in the Slack page's
// thread sets the impact, the permanent action, the prevention ticket and
// the current severity with Japanese field lines, her reply to the page email sets the cause and
// the provisional action with English ones; both notes keep the rest as
// their text and say the fields on the timeline, and the final report
// (完了報) bob gets when she resolves by email shows every one of them.
func TestReportFieldsFromSlackAndEmail(t *testing.T) {
	t.Parallel()
	env := startAckEnvRoles(t, "{admins: [alice]}\n    stakeholders: {users: [bob]}", "")
	id := env.alert(t, "ReportFields")
	tag := fmt.Sprintf("[hikyaku #%d] ", id)
	page := env.slackPage(t, aliceSlack, id) // recorded by the daemon too, as a person replies later

	reply, err := env.Slack.ThreadReply(aliceSlack, page.PostedIn, page.TS,
		"db-1 を切り離した\n影響範囲：決済の 5%\n恒久対応: ディスク容量の監視\n再発防止 (チケット): OPS-77\n現在のSeverity: major（リトライのみ失敗）")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := fakeslack.Event(env.External+"/api/v1/slack/events", slackSecret, reply)
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := readResponse(t, resp); code != http.StatusOK {
		t.Fatalf("alice's thread reply: %d", code)
	}
	waitFor(t, "alice told in the thread which fields she set", 5*time.Second, func() bool {
		for _, c := range env.Slack.Calls() {
			if c.Method == "chat.postEphemeral" && c.Error == "" && c.User == aliceSlack && c.Form.Get("thread_ts") == page.TS &&
				strings.Contains(c.Text, "影響範囲: 決済の 5%") && strings.Contains(c.Text, "再発防止 (チケット): OPS-77") &&
				strings.Contains(c.Text, "現在のSeverity: major (リトライのみ失敗)") {
				return true
			}
		}
		return false
	})

	mail, _ := env.emailPage(t, id)
	hdr := "In-Reply-To: <" + mail.messageID + ">\r\nSubject: Re: " + mail.subject + "\r\nMessage-ID: <alice-fields-1@example.com>\r\n"
	body := "Failed over to db-2.\r\nCause: db-1 ran out of disk\r\naction: failed over to db-2\r\n\r\nOn Tue, 7 Jan 2026, hikyaku wrote:\r\n> " + mail.subject + "\r\n"
	if err := env.sendMail(aliceEmail, aliceEmail, mail.replyTo, hdr, body); err != nil {
		t.Fatalf("alice's note by email: %v", err)
	}
	env.mailTo(t, aliceEmail, "the note's confirmation with its fields", func(_ mailHeader, text string) bool {
		return strings.Contains(text, "次の報告項目を設定しました:") && strings.Contains(text, "原因: db-1 ran out of disk") &&
			strings.Contains(text, "対応 (暫定): failed over to db-2")
	})

	var notes []string
	waitFor(t, "the two notes", 10*time.Second, func() bool {
		notes = nil
		for _, ev := range env.incident(t, id).events("note") {
			notes = append(notes, fmt.Sprintf("%s %s text=%s impact=%s cause=%s action_provisional=%s action_permanent=%s prevention=%s",
				ev.Actor, ev.Detail["via"], ev.Detail["text"], ev.Detail["impact"], ev.Detail["cause"], ev.Detail["action_provisional"],
				ev.Detail["action_permanent"], ev.Detail["prevention"]))
		}
		return len(notes) >= 2
	})
	want := []string{
		"alice slack text=db-1 を切り離した impact=決済の 5% cause= action_provisional= action_permanent=ディスク容量の監視 prevention=OPS-77",
		"alice email text=Failed over to db-2. impact= cause=db-1 ran out of disk action_provisional=failed over to db-2 action_permanent= prevention=",
	}
	if strings.Join(notes, "\n") != strings.Join(want, "\n") {
		t.Errorf("notes:\n%s\nwant:\n%s", strings.Join(notes, "\n"), strings.Join(want, "\n"))
	}
	v := env.incident(t, id)
	if rep := v.Report; rep == nil || rep.Impact != "決済の 5%" || rep.Cause != "db-1 ran out of disk" ||
		rep.CurrentSeverity != "major" || rep.SeverityReason != "リトライのみ失敗" {
		t.Errorf("the incident's report %+v", rep)
	}
	if evs := v.events("severity_changed"); len(evs) != 1 || evs[0].Actor != "alice" || evs[0].Detail["via"] != "slack" || evs[0].Detail["to"] != "major" {
		t.Errorf("severity_changed events %+v, want alice's by slack", evs)
	}

	res := "In-Reply-To: <" + mail.messageID + ">\r\nSubject: Re: " + mail.subject + "\r\nMessage-ID: <alice-resolve-1@example.com>\r\n"
	if err := env.sendMail(aliceEmail, aliceEmail, mail.replyTo, res, "resolve\n"); err != nil {
		t.Fatal(err)
	}
	var final string
	waitFor(t, "bob's final report", 30*time.Second, func() bool {
		for _, m := range env.Mail.Messages() {
			if h, text, err := readMail(m.Data); err == nil && slicesHas(m.To, "bob@example.com") && strings.HasPrefix(h.subject, tag+"Final report:") {
				final = strings.ReplaceAll(text, "\r\n", "\n")
				return true
			}
		}
		return false
	})
	for _, l := range []string{"Cause: db-1 ran out of disk", "Action taken (provisional): failed over to db-2",
		"Action taken (permanent): ディスク容量の監視", "Prevention ticket: OPS-77"} {
		if !strings.Contains(final, "\n"+l+"\n") {
			t.Errorf("bob's final report lacks the line %q:\n%s", l, final)
		}
	}
}

// blocksJSON is a Slack message's blocks as JSON, to look for a text in.
func blocksJSON(t *testing.T, c *fakeslack.Call) string {
	t.Helper()
	b, err := json.Marshal(c.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
