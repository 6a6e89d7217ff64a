package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestRolesRefuseBySMS: with roles, a viewer's SMS "ack" changes nothing
// and is answered with why, the timeline and the audit stream say so, and
// the responder's ack still works.
func TestRolesRefuseBySMS(t *testing.T) {
	t.Parallel()
	env := startAckEnvRoles(t, "{responders: [alice], viewers: [bob]}", "")
	id, control := env.alert(t, "RolesRefuseBySMS"), env.alert(t, "RolesRefuseBySMSControl")
	env.smsPage(t, alicePhone, id)
	smsURL := env.External + "/api/v1/twilio/sms"
	post := func(from, sid string) string {
		t.Helper()
		code, body := env.twilioPost(t, smsURL, url.Values{"From": {from}, "To": {twilioFrom}, "Body": {fmt.Sprintf("%d ack", id)},
			"MessageSid": {sid}, "AccountSid": {env.Twilio.AccountSID}, "NumMedia": {"0"}})
		msg, _, _, err := twiml(body)
		if code != http.StatusOK || err != nil {
			t.Fatalf("SMS from %s: %d %q (%v)", from, code, body, err)
		}
		return msg
	}
	const why = "You are a viewer in ops: viewers read, they do not act. Nothing was changed."
	if got := post(bobPhone, "SM"+strings.Repeat("c", 32)); got != why {
		t.Errorf("bob (viewer) was answered %q, want %q", got, why)
	}
	env.wantOpen(t, id, "a viewer's ack")
	// Alice's other pages may land after it: look for it, not at the end.
	if refusals := env.incident(t, id).events("refused"); len(refusals) != 1 || refusals[0].Actor != "bob" ||
		refusals[0].Detail["via"] != "sms" || refusals[0].Detail["reason"] != why {
		t.Errorf("refused events %+v, want bob's one refusal with its reason", refusals)
	}
	refused := false
	for _, a := range env.auditLines(t, 1, func(a map[string]any) bool {
		return a["action"] == "ack" && a["actor"] == "bob" && a["result"] == "refused"
	}) {
		if a["error"] == why {
			refused = true
		}
	}
	if !refused {
		t.Errorf("no audit line of bob's refused ack")
	}
	if got, want := post(alicePhone, "SM"+strings.Repeat("d", 32)), fmt.Sprintf("#%d 了解しました。エスカレーションを停止しました。", id); got != want {
		t.Errorf("alice (responder) was answered %q, want %q", got, want)
	}
	env.wantAcked(t, id, "alice", "sms")
	env.noFurtherPages(t, id, control)
}
