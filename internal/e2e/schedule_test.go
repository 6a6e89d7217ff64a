package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/router"
)

// TestScheduledDrillAndHealthReport: ops schedules its drill and its weekly
// health report for the same minute, 15 to 75 seconds ahead, and nobody
// asks for either. At that minute the running daemon's own timers page
// every responder on each contact method (the drill marked as scheduled
// for that minute), mail bob the report of the seven days before that day and
// post it to #drills; when the answer window closes, the drill report
// follows in #drills. The schedule's fields are written from the target
// minute itself, independently of hikyaku's schedule code.
func TestScheduledDrillAndHealthReport(t *testing.T) {
	t.Parallel()
	const window = 15 * time.Second
	target := time.Now().UTC().Add(75 * time.Second).Truncate(time.Minute) // 15 s to 75 s ahead
	weekday := strings.ToLower(target.Weekday().String())
	week := [...]string{"first", "second", "third", "fourth", "last"}[(target.Day()-1)/7]
	at := target.Format("15:04")
	roles := fmt.Sprintf("{admins: [alice]}\n    stakeholders: {chat_channels: [drills]}\n"+
		"    drill: {week: %s, weekday: %s, at: %q, answer_within: %ds}\n"+
		"    health_report: {every: weekly, weekday: %s, at: %q, to: {users: [bob], chat_channels: [drills]}}",
		week, weekday, at, int(window.Seconds()), weekday, at)
	env := startAckEnvRoles(t, roles, "chat_channels:\n  - {id: drills, name: Drills, slack: C0DRILLS}\n")
	t.Logf("drill and health report scheduled for %s (%s %s of the month)", target.Format(time.RFC3339), week, weekday)

	// Nothing before the minute: no test page has gone out.
	time.Sleep(time.Until(target.Add(-5 * time.Second)))
	for _, m := range env.Twilio.Messages() {
		if strings.Contains(m.Form.Get("Body"), "TEST PAGE") || strings.Contains(m.Form.Get("Body"), "テスト呼び出し") {
			t.Fatalf("a test page went out before the drill's minute %s: %q", target, m.Form.Get("Body"))
		}
	}

	// The report covers the seven whole days (in ops's zone, UTC) before the sending day.
	const layout = "2006-01-02 15:04 UTC"
	to := target.Truncate(24 * time.Hour)
	from := to.Add(-7 * 24 * time.Hour)
	subject := fmt.Sprintf("On-call health report: Ops (ops), %s to %s", from.Format(layout), to.Format(layout))
	var text string
	waitFor(t, "bob's weekly health report mail", time.Until(target)+30*time.Second, func() bool {
		for _, m := range env.Mail.Messages() {
			if !slicesHas(m.To, "bob@example.com") {
				continue
			}
			if h, body, err := readMail(m.Data); err == nil && h.subject == subject {
				if m.At.Before(target) {
					t.Errorf("the health report was mailed at %s, before its time %s", m.At, target)
				}
				text = body
				return true
			}
		}
		return false
	})
	for _, want := range []string{"Period: " + from.Format(layout) + " to " + to.Format(layout)} {
		if !strings.Contains(text, want) {
			t.Errorf("the health report mail lacks %q:\n%s", want, text)
		}
	}
	waitFor(t, "the health report in #drills", 10*time.Second, func() bool {
		for _, c := range env.Slack.Calls() {
			if c.Method == "chat.postMessage" && c.Error == "" && c.Channel == "C0DRILLS" && strings.Contains(c.Text+blocksText(c), "On-call health report") {
				return true
			}
		}
		return false
	})

	// The drill: every contact method paged, scheduled for the minute, by nobody.
	token, err := exec.Command(binary, "token", "create", "--user", "alice", "--name", "e2e", "--server", env.External).Output()
	if err != nil {
		t.Fatalf("hikyaku token create --user alice: %v", err)
	}
	var drills router.DrillList
	waitFor(t, "the scheduled drill with all 7 test pages open", 20*time.Second, func() bool {
		cmd := exec.Command(binary, "drills", "list", "--output", "json")
		cmd.Env = append(os.Environ(), "HIKYAKU_API_TOKEN="+strings.TrimSpace(string(token)), "HIKYAKU_SERVER="+env.External)
		out, err := cmd.Output()
		if err != nil || json.Unmarshal(out, &drills) != nil || len(drills.Items) != 1 || len(drills.Items[0].Targets) != 7 {
			return false
		}
		for _, tg := range drills.Items[0].Targets {
			if tg.Incident == 0 {
				return false
			}
		}
		return true
	})
	d := drills.Items[0]
	if !d.Scheduled.Equal(target) || d.RequestedBy != "" || d.Department != "ops" {
		t.Errorf("the drill: scheduled %s, requested by %q, department %s; want %s, nobody, ops", d.Scheduled, d.RequestedBy, d.Department, target)
	}
	env.smsPage(t, alicePhone, targetPage(d, "alice", "sms"))
	env.smsPage(t, bobPhone, targetPage(d, "bob", "sms"))

	var report string
	waitFor(t, "the drill report in #drills", window+20*time.Second, func() bool {
		for _, c := range env.Slack.Calls() {
			if c.Method == "chat.postMessage" && c.Error == "" && c.Channel == "C0DRILLS" && strings.Contains(c.Text+blocksText(c), "Drill report") {
				report = c.Text + "\n" + blocksText(c)
				return true
			}
		}
		return false
	})
	if !strings.Contains(report, "0 of 7 contact methods acknowledged; 0 of 2 people reached") {
		t.Errorf("the scheduled drill's report:\n%s", report)
	}
}
