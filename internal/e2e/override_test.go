package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestOverrideAndMuteThroughTheCLI: alice, an admin of ops, makes herself
// a token and, from a terminal, has bob cover her shifts: `hikyaku oncall`
// against the server says bob, and the next page goes to bob's phone at
// the fake Twilio, not hers. Then she mutes ops: an alert pages nobody;
// she ends the mute and it pages her at once.
func TestOverrideAndMuteThroughTheCLI(t *testing.T) {
	t.Parallel()
	env := startAckEnvRoles(t, "{admins: [alice], responders: [bob]}", "")
	created, err := exec.Command(binary, "token", "create", "--user", "alice", "--name", "cover", "--server", env.External).Output()
	if err != nil {
		t.Fatalf("hikyaku token create --user alice: %v", err)
	}
	alice := strings.TrimSpace(string(created))
	hikyaku := func(args ...string) (string, error) {
		cmd := exec.Command(binary, args...)
		cmd.Env = append(os.Environ(), "HIKYAKU_API_TOKEN="+alice, "HIKYAKU_SERVER="+env.External)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	primary := func() (string, bool) {
		t.Helper()
		out, err := hikyaku("oncall", "--config", env.Config, "--server", env.External, "--output", "json")
		var entries []struct {
			Rotation, User string
			Override       bool
		}
		if err != nil || json.Unmarshal([]byte(out), &entries) != nil {
			t.Fatalf("hikyaku oncall --server: %v\n%s", err, out)
		}
		for _, en := range entries {
			if en.Rotation == "primary" {
				return en.User, en.Override
			}
		}
		t.Fatalf("hikyaku oncall has no primary rotation:\n%s", out)
		return "", false
	}
	if u, _ := primary(); u != "alice" {
		t.Fatalf("primary before the override: %s, want alice", u)
	}

	if out, err := hikyaku("override", "add", "--covered-by", "bob", "--duration", "1h"); err == nil || !strings.Contains(out, "--for is required") {
		t.Errorf("override add without --for: %v %s, want refused", err, out)
	}
	out, err := hikyaku("override", "add", "--for", "alice", "--covered-by", "bob", "--duration", "1h", "--reason", "dentist")
	m := regexp.MustCompile(`^override ([0-9a-f]{8}): bob covers alice from `).FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("hikyaku override add: %v\n%s", err, out)
	}
	overrideID := m[1]
	if u, ov := primary(); u != "bob" || !ov {
		t.Fatalf("primary after the override: %s (override %v), want bob as an override", u, ov)
	}
	if out, _ := exec.Command(binary, "oncall", "--config", env.Config, "--output", "json").Output(); !strings.Contains(string(out), `"user": "alice"`) {
		t.Errorf("oncall without --server shows the file alone, want alice:\n%s", out)
	}

	covered := env.alert(t, "Covered")
	env.smsPage(t, bobPhone, covered)
	if fired := env.incident(t, covered).events("step_fired"); len(fired) != 1 {
		t.Fatalf("incident %d fired %d steps when bob's page arrived, want step 1 only", covered, len(fired))
	}
	for _, ev := range env.incident(t, covered).events("notified") {
		if ev.Detail["to"] == "alice" {
			t.Errorf("incident %d paged alice (%s) while bob covers her", covered, ev.Detail["channel"])
		}
	}
	if out, err := hikyaku("ack", fmt.Sprint(covered)); err != nil {
		t.Fatalf("ack %d: %v %s", covered, err, out)
	}
	if out, err := hikyaku("override", "list"); err != nil || !strings.Contains(out, overrideID) || !strings.Contains(out, "dentist") {
		t.Errorf("override list: %v\n%s", err, out)
	}
	if out, err := hikyaku("override", "remove", overrideID); err != nil || !strings.Contains(out, "removed") {
		t.Fatalf("override remove: %v %s", err, out)
	}
	if u, _ := primary(); u != "alice" {
		t.Fatalf("primary after removing the override: %s, want alice", u)
	}

	out, err = hikyaku("maintenance", "start", "--department", "ops", "--for", "30m", "--reason", "deploying payments")
	m = regexp.MustCompile(`^mute ([0-9a-f]{8}): department ops pages nobody until `).FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("hikyaku maintenance start: %v\n%s", err, out)
	}
	muteID := m[1]
	if _, metrics := scrape(t, env.Addr); !strings.Contains(metrics, "hikyaku_mutes_active 1") {
		t.Errorf("metrics during the mute:\n%s", grepLines(metrics, "mutes_active"))
	}
	muted := env.alert(t, "Muted")
	v := env.incident(t, muted)
	if v.Wait == nil || v.Wait.Reason != "maintenance" || v.Wait.Window != "mute:"+muteID {
		t.Fatalf("incident %d waits %+v, want maintenance under mute:%s", muted, v.Wait, muteID)
	}
	// Longer than step 1 and its escalate_after: a page would be out by now.
	time.Sleep(env.step + time.Second)
	tag := fmt.Sprintf("[hikyaku #%d]", muted)
	for _, msg := range env.Twilio.Messages() {
		if strings.Contains(msg.Form.Get("Body"), tag) {
			t.Fatalf("an SMS about the muted incident %d went out: %q", muted, msg.Form.Get("Body"))
		}
	}
	if out, err := hikyaku("maintenance", "end", muteID); err != nil || !strings.Contains(out, "ended") {
		t.Fatalf("maintenance end: %v %s", err, out)
	}
	env.smsPage(t, alicePhone, muted)
	if ended := env.incident(t, muted).events("maintenance_ended"); len(ended) != 1 || ended[0].Detail["window"] != "mute:"+muteID {
		t.Errorf("maintenance_ended events %+v, want one naming mute:%s", ended, muteID)
	}
	if _, metrics := scrape(t, env.Addr); !strings.Contains(metrics, "hikyaku_mutes_active 0") {
		t.Errorf("metrics after the mute:\n%s", grepLines(metrics, "mutes_active"))
	}
	var actions []string
	for _, a := range env.auditLines(t, 4, func(a map[string]any) bool {
		switch a["action"] {
		case "override_add", "override_remove", "mute_start", "mute_end":
			return true
		}
		return false
	}) {
		switch a["action"] {
		case "override_add", "override_remove", "mute_start", "mute_end":
			if a["actor"] != "alice" || a["result"] != "done" {
				t.Errorf("audit line %v: want alice, done", a)
			}
			actions = append(actions, fmt.Sprint(a["action"]))
		}
	}
	if fmt.Sprint(actions) != "[override_add override_remove mute_start mute_end]" {
		t.Errorf("audit actions %v, want override_add override_remove mute_start mute_end", actions)
	}
}
