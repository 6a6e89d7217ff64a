package e2e

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestTestPageBySMS: alice test-pages herself on SMS with her own token
// through the running binary, the fake Twilio carries the page, she
// answers by SMS reply; the result is on the test page's record and no
// incident metric (MTTA) moved.
func TestTestPageBySMS(t *testing.T) {
	t.Parallel()
	env := startAckEnv(t)
	hikyaku := func(token string, args ...string) (string, error) {
		cmd := exec.Command(binary, args...)
		cmd.Env = append(os.Environ(), "HIKYAKU_API_TOKEN="+token, "HIKYAKU_SERVER="+env.External, "HIKYAKU_ADMIN_SERVER="+env.External)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	created, err := exec.Command(binary, "token", "create", "--user", "alice", "--name", "e2e", "--server", env.External).Output()
	if err != nil {
		t.Fatalf("hikyaku token create --user alice: %v", err)
	}
	alice := strings.TrimSpace(string(created))

	if out, err := hikyaku(apiToken, "test-page", "alice"); err == nil || !strings.Contains(out, "403") {
		t.Errorf("test-page with the shared api_token: %v %s, want 403", err, out)
	}
	if out, err := hikyaku(alice, "test-page", "bob"); err == nil || !strings.Contains(out, "403") {
		t.Errorf("alice test-pages bob: %v %s, want 403", err, out)
	}
	_, before := scrape(t, env.Addr)

	out, err := hikyaku(alice, "test-page", "alice", "--channel", "sms")
	m := regexp.MustCompile(`^test page #(\d+) sent to alice on sms`).FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("hikyaku test-page alice --channel sms: %v\n%s", err, out)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	page := env.smsPage(t, alicePhone, id)
	if body := page.Form.Get("Body"); !strings.Contains(body, "hikyaku のテスト呼び出し") || !strings.Contains(body, fmt.Sprintf("%d ack", id)) {
		t.Errorf("the test SMS does not say it is a test, in alice's Japanese, with how to answer: %q", body)
	}
	for _, msg := range env.Twilio.Messages() {
		if msg.Form.Get("To") != alicePhone {
			t.Errorf("a one-channel test page reached someone else: %v", msg.Form)
		}
	}

	reply := url.Values{"From": {alicePhone}, "To": {twilioFrom}, "Body": {fmt.Sprintf("%d ack", id)},
		"MessageSid": {"SM" + strings.Repeat("c", 32)}, "AccountSid": {env.Twilio.AccountSID}, "NumMedia": {"0"}}
	code, body := env.twilioPost(t, env.External+"/api/v1/twilio/sms", reply)
	if msg, _, _, err := twiml(body); code != 200 || err != nil || msg != fmt.Sprintf("#%d 了解しました。エスカレーションを停止しました。", id) {
		t.Errorf("alice's reply: %d %q (%v)", code, body, err)
	}

	// The fake has the SMS before hikyaku hears its answer and records the
	// notified event: that write may land after the reply's ack.
	var v *incidentView
	waitFor(t, fmt.Sprintf("test page %d's notified event", id), 10*time.Second, func() bool {
		v = env.incident(t, id)
		return len(v.events("notified")) > 0
	})
	acked := v.events("acked")
	if v.Status != "resolved" || v.AckedBy != "alice" || len(acked) != 1 || acked[0].Detail["via"] != "sms" {
		t.Errorf("test page %d: %s by %q, acked %+v; want resolved, acked once by alice via sms", id, v.Status, v.AckedBy, acked)
	}
	if len(v.events("notified")) != 1 {
		t.Errorf("test page %d: notified events %+v, want one (the SMS)", id, v.events("notified"))
	}
	if tp := v.Test; tp == nil || tp.User != "alice" || tp.Channel != "sms" || tp.RequestedBy != "alice" {
		t.Errorf("test page %d: its record says %+v, want alice on sms asked by alice", id, tp)
	}
	if show, err := hikyaku(alice, "incidents", "show", m[1]); err != nil || !strings.Contains(show, "resolved") {
		t.Errorf("incidents show %d: %v\n%s", id, err, show)
	}

	_, after := scrape(t, env.Addr)
	for _, name := range []string{"hikyaku_time_to_ack_seconds", "hikyaku_time_to_resolve_seconds", "hikyaku_incidents_acked_total", "hikyaku_incidents_opened_total"} {
		if b, a := grepLines(before, name), grepLines(after, name); b != a {
			t.Errorf("%s moved with a test page:\nbefore %s\nafter  %s", name, b, a)
		}
	}
	if !strings.Contains(after, `hikyaku_test_pages_total{department="ops",result="acked"} 1`) {
		t.Errorf("the acked test page is not counted:\n%s", grepLines(after, "hikyaku_test_pages_total"))
	}

	list, err := hikyaku(alice, "incidents", "list", "--output", "json")
	if err != nil || strings.Contains(list, fmt.Sprintf(`"id": %d,`, id)) {
		t.Errorf("incidents list shows the test page by default: %v\n%s", err, list)
	}
	list, err = hikyaku(alice, "incidents", "list", "--severity", "test", "--output", "json")
	if err != nil || !strings.Contains(list, fmt.Sprintf(`"id": %d`, id)) {
		t.Errorf("incidents list --severity test does not show test page %d: %v\n%s", id, err, list)
	}
}
