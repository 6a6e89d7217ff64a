package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/internal/fakentfy"
	"github.com/hikyaku/hikyaku/internal/redistest"
)

const (
	ntfyToken    = "tk_e2e0ntfy0access0token0000000"
	bobNtfyToken = "tk_e2e0bob0own0server0token0000"
)

// ntfyConfig pages alice at step 1 and bob at step 2, both by ntfy alone;
// the access token is read from a file, as a secret should be. Bob's topic
// is on a server of his own, with his own token, from a file of his own.
const ntfyConfig = `# written by internal/e2e's ntfy test: the ntfy server is a local fake
global:
  external_url: %[1]s
  timezone: UTC
  language: en
  api_token: {value: %[2]s}
  signing_key: {value: %[3]s}
providers:
  ntfy:
    url: %[4]s
    token: {file: %[5]s}
receivers:
  - name: hikyaku
    bearer_token: {value: %[6]s}
users:
  - {id: alice, name: Alice, contacts: {ntfy: alice-pager}}
  - {id: bob, name: Bob, contacts: {ntfy: {topic: bob-pager, server: %[8]s, token: {file: %[9]s}}}}
departments:
  - id: ops
    name: Ops
    escalation_policy: ack
    rotations:
      - {id: primary, start: "2026-01-05 00:00", shift: 1d, members: [alice]}
      - {id: secondary, start: "2026-01-05 00:00", shift: 1w, members: [bob]}
escalation_policies:
  - id: ack
    steps:
      - {targets: {rotations: [primary]}, escalate_after: %[7]ds}
      - {targets: {rotations: [secondary]}, escalate_after: %[7]ds}
default_route:
  department: ops
`

// TestProviderNtfyAckButton: an incident pages alice by ntfy, with the
// priority of a critical page and Ack and Resolve buttons; pressing Ack as
// the ntfy app does (an http action: POST to the signed link) acknowledges
// it, and escalation stops: bob's topic never hears of it, while a control
// incident nobody answers reaches him at step 2. The page is then rewritten
// in place (same sequence id) to say alice acknowledged it, quietly, with
// only a Resolve button; pressing that resolves the incident, and the
// notification is rewritten as resolved and cleared from the phone. Bob's
// contact names a server of his own with his own token: his page goes
// there, and neither server sees the other's token.
func TestProviderNtfyAckButton(t *testing.T) {
	t.Parallel()
	fake, bobs := fakentfy.New(ntfyToken), fakentfy.New(bobNtfyToken)
	t.Cleanup(fake.Close)
	t.Cleanup(bobs.Close)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "ntfy-token")
	if err := os.WriteFile(tokenFile, []byte(ntfyToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bobTokenFile := filepath.Join(dir, "bob-ntfy-token")
	if err := os.WriteFile(bobTokenFile, []byte(bobNtfyToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	listen := "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))
	env := &ackEnv{External: "http://" + listen, step: ackEscalateAfter}
	cfg := filepath.Join(dir, "hikyaku.yml")
	text := fmt.Sprintf(ntfyConfig, env.External, apiToken, signingKey, fake.URL(), tokenFile, webhookToken, int(ackEscalateAfter.Seconds()), bobs.URL(), bobTokenFile)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	env.daemon = startProcess(t, "hikyaku", binary, "serve", "--config", cfg, "--listen", listen,
		"--data-dir", t.TempDir(), "--log-format", "json")
	line, ok := env.WaitLog(func(l *logLine) bool { return l.Msg == "hikyaku serving" }, startTimeout)
	if !ok {
		t.Fatalf("hikyaku did not log \"hikyaku serving\" within %s", startTimeout)
	}
	env.Addr, env.Serving = line.Listen, line.Time

	id, control := env.alert(t, "AckByNtfy"), env.alert(t, "AckByNtfyControl")
	about := func(topic string, id int64) []fakentfy.Message {
		var out []fakentfy.Message
		server := fake
		if topic == "bob-pager" {
			server = bobs
		}
		for _, m := range server.Messages(topic) {
			if strings.HasPrefix(m.Title, fmt.Sprintf("[hikyaku #%d]", id)) {
				out = append(out, m)
			}
		}
		return out
	}
	waitFor(t, "alice's ntfy page", 10*time.Second, func() bool { return len(about("alice-pager", id)) > 0 })
	page := about("alice-pager", id)[0]
	// The fake has the page before hikyaku hears ntfy's answer and records
	// it: the rewrite after an ack before that may find no message to change.
	waitFor(t, "incident's notified event of alice's ntfy page", 10*time.Second, func() bool {
		for _, ev := range env.incident(t, id).events("notified") {
			if ev.Detail["channel"] == "ntfy" && ev.Detail["to"] == "alice" {
				return true
			}
		}
		return false
	})
	if page.Priority != 5 || !strings.Contains(page.Message, "Press Ack on this notification to acknowledge") {
		t.Errorf("page: priority %d, message %q; want 5 (critical) and the button's hint", page.Priority, page.Message)
	}
	var labels []string
	for _, a := range page.Actions {
		labels = append(labels, a.Label)
		if a.Action != "http" || a.Method != http.MethodPost || !strings.HasPrefix(a.URL, env.External+"/act/") || !a.Clear {
			t.Errorf("button %q: %+v, want an http POST to a signed link that clears the notification", a.Label, a)
		}
	}
	if strings.Join(labels, ",") != "Ack,Resolve" {
		t.Errorf("buttons %v, want Ack and Resolve", labels)
	}
	if n := len(fake.Refused()); n != 0 {
		t.Errorf("the fake refused %d requests: %+v", n, fake.Refused())
	}

	status, err := fakentfy.Press(t.Context(), page, "Ack")
	if err != nil || status != http.StatusOK {
		t.Fatalf("pressing Ack: %d, %v", status, err)
	}
	env.wantAcked(t, id, "alice", "link")

	revision := func(n int) fakentfy.Notification {
		t.Helper()
		var got fakentfy.Notification
		waitFor(t, fmt.Sprintf("revision %d of alice's page", n), 10*time.Second, func() bool {
			got, _ = fake.Notification("alice-pager", page.ID)
			return got.Revisions >= n
		})
		return got
	}
	acked := revision(2)
	if m := acked.Message; m.Message != "Acknowledged by alice" || m.Priority != 2 || m.Title != page.Title || acked.Cleared ||
		len(m.Actions) != 1 || m.Actions[0].Label != "Resolve" || !strings.HasPrefix(m.Actions[0].URL, env.External+"/act/") {
		t.Errorf("after the ack: %+v, want the page rewritten as acknowledged by alice, quiet, with Resolve alone", acked)
	}
	status, err = fakentfy.Press(t.Context(), acked.Message, "Resolve")
	if err != nil || status != http.StatusOK {
		t.Fatalf("pressing Resolve: %d, %v", status, err)
	}
	resolved := revision(3)
	waitFor(t, "alice's page cleared", 10*time.Second, func() bool {
		resolved, _ = fake.Notification("alice-pager", page.ID)
		return resolved.Cleared
	})
	if m := resolved.Message; m.Message != "Resolved" || m.Priority != 1 || len(m.Actions) != 0 || resolved.Deleted {
		t.Errorf("after the resolve: %+v, want the page rewritten as resolved, without buttons, and cleared", resolved)
	}
	waitFor(t, "two messages_updated events", 10*time.Second, func() bool { return len(env.incident(t, id).events("messages_updated")) == 2 })
	for _, ev := range env.incident(t, id).events("messages_updated") {
		if ev.Detail["channel"] != "ntfy" || ev.Detail["count"] != "1" {
			t.Errorf("event %+v, want one ntfy message updated", ev)
		}
	}
	if failed := env.incident(t, id).events("update_failed"); len(failed) != 0 {
		t.Errorf("update_failed: %+v", failed)
	}

	waitFor(t, "the control incident's page to bob at step 2", ackEscalateAfter+10*time.Second,
		func() bool { return len(about("bob-pager", control)) > 0 })
	time.Sleep(500 * time.Millisecond) // a step wrongly due alongside the control's reaches the fake too
	if got := about("bob-pager", id); len(got) != 0 {
		t.Errorf("bob was paged by ntfy about incident %d after alice's ack: %+v", id, got)
	}
	if fired := env.incident(t, id).events("step_fired"); len(fired) != 1 {
		t.Errorf("incident %d fired %d steps, want only step 1", id, len(fired))
	}
	if n := len(fake.Refused()) + len(bobs.Refused()); n != 0 {
		t.Errorf("the fakes refused %d requests: %+v %+v", n, fake.Refused(), bobs.Refused())
	}
	// Each server got its own token and no other.
	for _, tc := range []struct {
		server *fakentfy.Server
		want   string
	}{{fake, "Bearer " + ntfyToken}, {bobs, "Bearer " + bobNtfyToken}} {
		auths := tc.server.Authorizations()
		if len(auths) == 0 {
			t.Errorf("a server got no request")
		}
		for _, a := range auths {
			if a != tc.want {
				t.Errorf("a server got Authorization %q, want %q", a, tc.want)
			}
		}
	}
	if got := fake.Messages("bob-pager"); len(got) != 0 {
		t.Errorf("bob's page went to the global server: %+v", got)
	}
}
