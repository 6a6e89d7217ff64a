package e2e

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/hikyaku/hikyaku/internal/fakeslack"
)

// TestStakeholderReportsThroughDaemon: ops's stakeholders are bob (email,
// English) and the #status Slack channel (Japanese), every minute. The
// alert opens the incident and the initial report (初報) reaches both with
// every field, the impact nobody set yet written as unknown / 未確定, and the
// next report's time; alice records a note that sets the impact, cause,
// provisional action and prevention ticket, and a severity change; the
// update a minute later (定時報) says what changed and when the next comes;
// the resolved post brings the final report (完了報) with the note's fields,
// the permanent action nobody set as unknown / 未確定, and no further report.
func TestStakeholderReportsThroughDaemon(t *testing.T) {
	t.Parallel()
	const status = "C0STATUS"
	env := startAckEnvRoles(t, "{admins: [alice]}\n    stakeholders: {users: [bob], chat_channels: [status], update_every: 1m}",
		"chat_channels:\n  - {id: status, name: \"#status\", slack: "+status+", language: ja}\n")
	const name = "StakeholderReports"
	id := env.alert(t, name)
	tag := "[hikyaku #" + strconv.FormatInt(id, 10) + "] "
	layout := "2006-01-02 15:04 MST"
	jaLayout := "2006年1月2日 15:04 (MST)"

	// The report's mail to bob and its Slack post in #status, by title.
	// A minute between reports, on a machine shared with other tests.
	const wait = 90 * time.Second
	mailReport := func(title string) string {
		var text string
		waitFor(t, "bob's "+title, wait, func() bool {
			for _, m := range env.Mail.Messages() {
				if h, mt, err := readMail(m.Data); err == nil && slicesHas(m.To, "bob@example.com") && strings.HasPrefix(h.subject, tag+title+":") {
					text = strings.ReplaceAll(mt, "\r\n", "\n") // the mail's CRLF lines
					return true
				}
			}
			return false
		})
		return text
	}
	slackReport := func(title string) string {
		var text string
		waitFor(t, "the "+title+" in #status", wait, func() bool {
			for _, c := range env.Slack.Calls() {
				if c.Method == "chat.postMessage" && c.Error == "" && c.Channel == status && strings.HasPrefix(c.Text, tag+title+":") {
					text = sectionText(c)
					return true
				}
			}
			return false
		})
		return text
	}
	wantLines := func(where, text string, lines ...string) {
		t.Helper()
		for _, l := range lines {
			if !strings.Contains(text, "\n"+l+"\n") && !strings.HasPrefix(text, l+"\n") && !strings.HasSuffix(text, "\n"+l) {
				t.Errorf("%s lacks the line %q:\n%s", where, l, text)
			}
		}
	}
	nextAt := func() time.Time {
		t.Helper()
		v := env.incident(t, id)
		if v.Reports == nil || v.Reports.NextAt.IsZero() {
			t.Fatalf("incident %d has no next report: %+v", id, v.Reports)
		}
		return v.Reports.NextAt.UTC()
	}

	mail := mailReport("Initial report")
	next := nextAt() // after the report went: until then next_at names the initial one
	wantLines(t.Name()+": bob's initial report", mail,
		"Impact: unknown", "Symptom: end-to-end test alert "+name, "Provisional severity: critical",
		"Response status: not acknowledged yet, paging the on-call", "Next report: "+next.Format(layout))
	if !strings.Contains(mail, "\nStarted: ") {
		t.Errorf("bob's initial report has no start time:\n%s", mail)
	}
	post := slackReport("初報")
	wantLines("the 初報 in #status", post,
		"影響範囲: 未確定", "現象: end-to-end test alert "+name, "暫定Severity: critical",
		"対応状況: 未了解 (担当者を呼び出し中)", "次報予定: "+next.Format(jaLayout))
	if !strings.Contains(post, "発生時刻: ") {
		t.Errorf("the 初報 has no 発生時刻:\n%s", post)
	}

	created, err := exec.Command(binary, "token", "create", "--user", "alice", "--name", "reports", "--server", env.External).Output()
	if err != nil {
		t.Fatalf("hikyaku token create --user alice: %v", err)
	}
	cli := func(args ...string) {
		t.Helper()
		cmd := exec.Command(binary, append(args, "--server", env.External)...)
		cmd.Env = append(os.Environ(), "HIKYAKU_API_TOKEN="+strings.TrimSpace(string(created)), "HIKYAKU_SERVER=")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("hikyaku %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	n := strconv.FormatInt(id, 10)
	cli("incidents", "note", n, "db-1 is out of disk; failing over", "--decision", "--impact", "checkout fails for 5% of users",
		"--cause", "disk full on db-1", "--action-provisional", "failed over to db-2", "--prevention", "OPS-123")
	cli("incidents", "severity", n, "major", "--reason", "only retries fail")

	mail = mailReport("Update 2")
	next = nextAt()
	wantLines("bob's update", mail,
		"Changes since the last report: Current severity: critical → major", "Current severity: major (only retries fail)",
		"Additional impact: checkout fails for 5% of users", "Next report: "+next.Format(layout))
	post = slackReport("第2報 (定時報)")
	wantLines("the 定時報 in #status", post,
		"前回からの変化: 現在のSeverity: critical → major", "現在のSeverity: major (only retries fail)",
		"追加の影響: checkout fails for 5% of users", "次報予定: "+next.Format(jaLayout))

	req, err := http.NewRequest(http.MethodPost, env.External+"/api/v1/alertmanager", bytes.NewReader(groupMessage(t, name, false)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+webhookToken)
	resp, err := client.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("post the resolved group: %v %v", resp, err)
	}
	resp.Body.Close()
	v := env.incident(t, id)
	if v.ResolvedAt.IsZero() {
		t.Fatalf("incident %d not resolved by the resolved post: %s", id, v.Status)
	}
	resolved := v.ResolvedAt.UTC()
	mail = mailReport("Final report")
	wantLines("bob's final report", mail,
		"Recovered: "+resolved.Format(layout), "Cause: disk full on db-1", "Action taken (provisional): failed over to db-2",
		"Action taken (permanent): unknown", "Prevention ticket: OPS-123", "Next report: no further reports")
	post = slackReport("完了報")
	wantLines("the 完了報 in #status", post,
		"復旧時刻: "+resolved.Format(jaLayout), "原因: disk full on db-1", "対応 (暫定): failed over to db-2",
		"対応 (恒久): 未確定", "再発防止 (チケット): OPS-123", "次報予定: 以後の報告はありません")
}

// sectionText is the text of a Slack message's first section block: the
// message's body (the header block holds its subject).
func sectionText(c fakeslack.Call) string {
	for _, b := range c.Blocks.BlockSet {
		if s, ok := b.(*slack.SectionBlock); ok && s.Text != nil {
			return s.Text.Text
		}
	}
	return ""
}
