package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestIncidentRunThroughDaemon: alice acknowledges by SMS and becomes IC;
// bob is given Ops, a decision and a severity change are recorded with the
// CLI, and the Markdown timeline of the running daemon tells it all, with
// the key figures, in the department's zone.
func TestIncidentRunThroughDaemon(t *testing.T) {
	t.Parallel()
	env := startAckEnv(t)
	id := env.alert(t, "IncidentRun")
	env.smsPage(t, alicePhone, id)
	reply := url.Values{"From": {alicePhone}, "To": {twilioFrom}, "Body": {fmt.Sprintf("%d ack", id)},
		"MessageSid": {"SM" + strings.Repeat("r", 32)}, "AccountSid": {env.Twilio.AccountSID}, "NumMedia": {"0"}}
	if code, body := env.twilioPost(t, env.External+"/api/v1/twilio/sms", reply); code != http.StatusOK {
		t.Fatalf("alice's ack by SMS: %d %s", code, body)
	}
	env.wantAcked(t, id, "alice", "sms")
	if got := env.incident(t, id).Roles["ic"]; got != "alice" {
		t.Fatalf("after alice's ack the IC is %q, want alice", got)
	}

	// The shared api_token acts as the service "api"; alice acts with her own.
	created, err := exec.Command(binary, "token", "create", "--user", "alice", "--name", "run", "--server", env.External).Output()
	if err != nil {
		t.Fatalf("hikyaku token create --user alice: %v", err)
	}
	aliceToken := strings.TrimSpace(string(created))
	cli := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(binary, append(args, "--server", env.External)...)
		cmd.Env = append(os.Environ(), "HIKYAKU_API_TOKEN="+aliceToken, "HIKYAKU_SERVER=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("hikyaku %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	n := strconv.FormatInt(id, 10)
	cli("incidents", "assign", n, "--role", "ops", "--user", "bob")
	cli("incidents", "note", n, "fail over to the replica", "--decision", "--action-provisional", "failed over")
	cli("incidents", "severity", n, "major", "--reason", "only retries fail")
	md := cli("incidents", "timeline", n, "--format", "markdown")
	for _, want := range []string{
		fmt.Sprintf("# Incident #%d: ", id),
		"- IC: Alice (alice)", "- Ops: Bob (bob)", "- Comm: unknown",
		"- Provisional severity: ", "- Current severity: major (only retries fail)",
		"- People paged: 1", "- Steps fired: 1", "- Action taken (provisional): failed over", "- Cause: unknown",
		"## Timeline (UTC)", "| acked | alice | sms |", "| role\\_assigned | alice | ack | IC: alice |",
		"| role\\_assigned | alice | api | Ops: bob |", "| note | alice | api | **Decision:** fail over to the replica",
		"| severity\\_changed | alice | api |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the Markdown timeline lacks %q:\n%s", want, md)
		}
	}
	var assigns []string
	for _, a := range env.auditLines(t, 3, func(a map[string]any) bool {
		return a["incident"] == float64(id) && (a["action"] == "assign" || a["action"] == "note" || a["action"] == "severity")
	}) {
		assigns = append(assigns, fmt.Sprint(a["action"], " ", a["actor"], " ", a["result"]))
	}
	if fmt.Sprint(assigns) != "[assign alice done note alice done severity alice done]" {
		t.Errorf("audit lines: %v", assigns)
	}
}
