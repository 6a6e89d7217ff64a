package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestHealthReportThroughDaemon: alice is paged and acknowledges by SMS;
// `hikyaku report` on the running daemon counts the incident, its ack, her
// pages and two hours on call for each of alice and bob (both rotations
// always have someone on call), in JSON and in Japanese text.
func TestHealthReportThroughDaemon(t *testing.T) {
	t.Parallel()
	env := startAckEnv(t)
	from := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	to := from.Add(2 * time.Hour)
	id := env.alert(t, "HealthReport")
	env.smsPage(t, alicePhone, id)
	reply := url.Values{"From": {alicePhone}, "To": {twilioFrom}, "Body": {fmt.Sprintf("%d ack", id)},
		"MessageSid": {"SM" + strings.Repeat("h", 32)}, "AccountSid": {env.Twilio.AccountSID}, "NumMedia": {"0"}}
	if code, body := env.twilioPost(t, env.External+"/api/v1/twilio/sms", reply); code != http.StatusOK {
		t.Fatalf("alice's ack by SMS: %d %s", code, body)
	}
	env.wantAcked(t, id, "alice", "sms")

	cli := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(binary, append(args, "--server", env.External)...)
		cmd.Env = append(os.Environ(), "HIKYAKU_API_TOKEN="+apiToken, "HIKYAKU_SERVER=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("hikyaku %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	period := []string{"--department", "ops", "--from", from.Format(time.RFC3339), "--to", to.Format(time.RFC3339)}
	var r struct {
		Incidents int `json:"incidents"`
		Acked     int `json:"acknowledged"`
		MTTA      struct {
			Count int      `json:"count"`
			P50   *float64 `json:"p50_seconds"`
		} `json:"time_to_acknowledge"`
		Pages  int `json:"pages"`
		People []struct {
			User   string  `json:"user"`
			Pages  int     `json:"pages"`
			OnCall float64 `json:"on_call_seconds"`
		} `json:"people"`
		Gaps []any `json:"coverage_gaps"`
	}
	out := cli(append([]string{"report", "--output", "json"}, period...)...)
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("report json: %v\n%s", err, out)
	}
	if r.Incidents != 1 || r.Acked != 1 || r.MTTA.Count != 1 || r.MTTA.P50 == nil || *r.MTTA.P50 <= 0 || len(r.Gaps) != 0 {
		t.Errorf("report: %s", out)
	}
	if len(r.People) != 2 || r.People[0].User != "alice" || r.People[0].Pages < 1 || r.People[0].Pages != r.Pages ||
		r.People[0].OnCall != 7200 || r.People[1].User != "bob" || r.People[1].Pages != 0 || r.People[1].OnCall != 7200 {
		t.Errorf("people: %s", out)
	}
	text := cli(append([]string{"report", "--lang", "ja"}, period...)...)
	for _, want := range []string{"オンコール健全性レポート: Ops (ops)", "インシデント: 1 件 (確認済み 1、解決済み 0)",
		"カバレッジの空白: 0 件 (合計 0s)", "Alice (alice)"} {
		if !strings.Contains(text, want) {
			t.Errorf("report text lacks %q:\n%s", want, text)
		}
	}
}
