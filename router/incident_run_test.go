package router

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/store"
)

// runConfig is a department in Berlin's zone, its users named, the
// comm role renamed, and one policy whose acknowledger does not become IC.
const runConfig = `
global:
  timezone: Asia/Tokyo
  api_token: {value: test-api-token}
  incident_roles: {comm: Spokesperson}
receivers:
  - name: hikyaku
    bearer_token: {value: hook-token}
users:
  - {id: alice, name: Alice Abe, contacts: {sms: "+819000000001"}}
  - {id: bob, name: Bob Berg, contacts: {sms: "+819000000002"}}
  - {id: carol, contacts: {sms: "+819000000003"}}
  - {id: boss, contacts: {email: boss@example.com}}
departments:
  - id: eng
    name: Engineering
    timezone: Europe/Berlin
    escalation_policy: eng
    rotations:
      - {id: primary, start: "2026-01-05 10:00", shift: 1w, members: [alice]}
      - {id: secondary, start: "2026-01-05 10:00", shift: 1w, members: [bob]}
    stakeholders:
      users: [boss]
      update_every: 30m
escalation_policies:
  - id: eng
    steps:
      - targets: {rotations: [primary]}
        escalate_after: 5m
      - targets: {rotations: [secondary]}
        escalate_after: 5m
  - id: no-ic
    acker_becomes_ic: false
    steps:
      - targets: {rotations: [primary]}
routes:
  - {name: quiet, matchers: ['team="quiet"'], department: eng, escalation_policy: no-ic}
default_route:
  department: eng
`

func newRunServer(t *testing.T) (*harness, string) {
	h, api, _ := newRunServerWithTokens(t)
	return h, api
}

// newRunServerWithTokens is newRunServer with tokenOf, which makes a
// person's API token on the admin listener: the actor is the token's user.
func newRunServerWithTokens(t *testing.T) (h *harness, api string, tokenOf func(user string) string) {
	t.Helper()
	h = newHarness(t, runConfig)
	s := &Server{Engine: h.engine}
	srv := httptest.NewServer(s.Handler())
	admin := httptest.NewServer(s.AdminHandler())
	t.Cleanup(srv.Close)
	t.Cleanup(admin.Close)
	made := map[string]string{}
	tokenOf = func(user string) string {
		if user == "" {
			return "test-api-token"
		}
		if tok, ok := made[user]; ok {
			return tok
		}
		made[user] = createToken(t, admin.URL, user).Token
		return made[user]
	}
	return h, srv.URL + "/api/v1/incidents", tokenOf
}

func (h *harness) get(id int64) *store.Incident {
	h.t.Helper()
	inc, err := h.st.Get(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return inc
}

// events lists "type actor k=v…" of the timeline's events of these types.
func (h *harness) runEvents(id int64, types ...string) []string {
	h.t.Helper()
	evs, err := h.st.Timeline(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		if slices.Contains(types, ev.Type) {
			out = append(out, strings.TrimSpace(ev.Type+" "+ev.Actor+" "+labelLine(ev.Detail)))
		}
	}
	return out
}

func labelLine(m map[string]string) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

func TestAckerBecomesICUnlessThePolicySaysOtherwise(t *testing.T) {
	h := newHarness(t, runConfig)
	ctx := context.Background()
	id := h.post("firing", "g1", map[string]string{"alertname": "A"})[0].ID
	if _, err := h.engine.Ack(ctx, id, "alice", "sms"); err != nil {
		t.Fatal(err)
	}
	if got := h.get(id).Roles; !slices.Equal([]string{got["ic"]}, []string{"alice"}) || len(got) != 1 {
		t.Errorf("roles after alice's ack: %v, want ic alice", got)
	}
	eq(t, "timeline", h.runEvents(id, "acked", "role_assigned"), []string{"acked alice via=sms", "role_assigned alice role=ic user=alice via=ack"})

	quiet := h.post("firing", "g2", map[string]string{"alertname": "B", "team": "quiet"})[0].ID
	if _, err := h.engine.Ack(ctx, quiet, "alice", "sms"); err != nil {
		t.Fatal(err)
	}
	if got := h.get(quiet).Roles; got != nil {
		t.Errorf("acker_becomes_ic false: roles %v, want none", got)
	}

	// The anonymous API is nobody to lead; a held role is not taken over.
	anon := h.post("firing", "g3", map[string]string{"alertname": "C"})[0].ID
	if _, err := h.engine.Ack(ctx, anon, "api", "api"); err != nil {
		t.Fatal(err)
	}
	held := h.post("firing", "g4", map[string]string{"alertname": "D"})[0].ID
	if _, _, err := h.engine.SetRole(ctx, RoleChange{Incident: held, Role: "ic", User: "carol", Actor: "bob", Via: "api"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.engine.Ack(ctx, held, "alice", "sms"); err != nil {
		t.Fatal(err)
	}
	if got := h.get(anon).Roles; got != nil {
		t.Errorf("acked by the anonymous API: roles %v, want none", got)
	}
	if got := h.get(held).Roles["ic"]; got != "carol" {
		t.Errorf("ic held by carol before the ack: now %q", got)
	}
}

func TestRolesThroughTheAPI(t *testing.T) {
	h, api, tokenOf := newRunServerWithTokens(t)
	id := h.post("firing", "g1", map[string]string{"alertname": "A"})[0].ID
	for _, tc := range []struct {
		path, as, body string
		code           int
		want           string
	}{
		{"/1/roles", "bob", `{"role":"ops","user":"alice"}`, 200, `"ops": "alice"`},
		{"/1/roles", "bob", `{"role":"comm","user":"carol"}`, 200, `"comm": "carol"`},
		{"/1/roles", "alice", `{"role":"comm","user":"bob"}`, 200, `"comm": "bob"`},
		{"/1/roles", "alice", `{"role":"ops","unassign":true}`, 200, `"roles": {`},
		{"/1/roles", "", `{"role":"boss","user":"alice"}`, 400, `unknown role`},
		{"/1/roles", "", `{"role":"ic","user":"mallory"}`, 400, `user "mallory": not a configured user`},
		{"/1/roles", "", `{"role":"ic","user":"alice","unassign":true}`, 400, `not both`},
		{"/1/roles", "", `{"role":"ic"}`, 400, `no user`},
		{"/1/roles", "", `{"role":"ic","usr":"alice"}`, 400, `unknown field "usr"`},
		{"/1/roles", "", `{"role":"ic","user":"alice"} {}`, 400, `more than one JSON value`},
		{"/1/roles", "", `[`, 400, `request body`},
		{"/99/roles", "", `{"role":"ic","user":"alice"}`, 404, `no such incident`},
	} {
		code, body := do(t, "POST", api+tc.path, tokenOf(tc.as), []byte(tc.body))
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("POST %s as %q %s: %d %s, want %d with %q", tc.path, tc.as, tc.body, code, body, tc.code, tc.want)
		}
	}
	_, body := do(t, "GET", api+"/1", "test-api-token", nil)
	if got := decodeRoles(t, body); len(got) != 1 || got["comm"] != "bob" {
		t.Errorf("the incident JSON's roles %v, want comm bob alone", got)
	}
	eq(t, "timeline", h.runEvents(id, "role_assigned", "role_unassigned"), []string{
		"role_assigned bob role=ops user=alice via=api",
		"role_assigned bob role=comm user=carol via=api",
		"role_assigned alice previous=carol role=comm user=bob via=api",
		"role_unassigned alice previous=alice role=ops via=api",
	})
	// Assigning what already stands writes nothing.
	n := len(h.timeline(id))
	if code, _ := do(t, "POST", api+"/1/roles", "test-api-token", []byte(`{"role":"comm","user":"bob"}`)); code != 200 || len(h.timeline(id)) != n {
		t.Errorf("repeat assignment: %d, timeline %d → %d events", code, n, len(h.timeline(id)))
	}
	if code, _ := do(t, "POST", api+"/1/roles", "", []byte(`{"role":"ic","user":"alice"}`)); code != 401 {
		t.Errorf("no token: %d, want 401", code)
	}
}

func TestNotesSetTheLatestReportFields(t *testing.T) {
	h, api, tokenOf := newRunServerWithTokens(t)
	id := h.post("firing", "g1", map[string]string{"alertname": "A"})[0].ID
	for _, tc := range []struct {
		body string
		code int
		want string
	}{
		{`{"text":"checkout returns 500 for some users","impact":"checkout, 30% of requests"}`, 200, `"impact": "checkout, 30% of requests"`},
		{`{"text":"fail over to the replica","decision":true,"action_provisional":"failed over to db-2"}`, 200, `"action_provisional": "failed over to db-2"`},
		{`{"text":"impact is wider","impact":"checkout and login"}`, 200, `"impact": "checkout and login"`},
		{`{"text":"root cause found","cause":"disk full on db-1","action_permanent":"alert at 80%","prevention":"OPS-123"}`, 200, `"prevention": "OPS-123"`},
		{`{"text":"  "}`, 400, `the note has no text`},
		{`{"text":"x","impact":"two\nlines"}`, 400, `impact holds the control character U+000A`},
		{`{"text":"` + strings.Repeat("長", maxNoteText+1) + `"}`, 400, `text has 4001 characters, at most 4000`},
		{`{"text":"x","severity":"critical"}`, 400, `unknown field "severity"`},
	} {
		code, body := do(t, "POST", api+"/1/notes", tokenOf("alice"), []byte(tc.body))
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("POST notes %.60s: %d %.300s, want %d with %q", tc.body, code, body, tc.code, tc.want)
		}
	}
	want := store.ReportFields{Impact: "checkout and login", Cause: "disk full on db-1", ActionProvisional: "failed over to db-2",
		ActionPermanent: "alert at 80%", Prevention: "OPS-123"}
	if got := h.get(id).Report; got == nil || *got != want {
		t.Errorf("report fields %+v, want %+v", got, want)
	}
	eq(t, "timeline", h.runEvents(id, "note"), []string{
		"note alice impact=checkout, 30% of requests text=checkout returns 500 for some users via=api",
		"note alice action_provisional=failed over to db-2 decision=true text=fail over to the replica via=api",
		"note alice impact=checkout and login text=impact is wider via=api",
		"note alice action_permanent=alert at 80% cause=disk full on db-1 prevention=OPS-123 text=root cause found via=api",
	})
}

func TestSeverityChangesWithWhoAndWhy(t *testing.T) {
	h, api, tokenOf := newRunServerWithTokens(t)
	id := h.post("firing", "g1", map[string]string{"alertname": "A", "severity": "warning"})[0].ID
	routed := h.get(id).Severity
	for _, tc := range []struct {
		body string
		code int
		want string
	}{
		{`{"severity":"critical","reason":"payments fail"}`, 200, `"current_severity": "critical"`},
		{`{"severity":"critical","reason":"again"}`, 200, `"severity_reason": "payments fail"`},
		{`{"severity":"major","reason":"only retries fail now"}`, 200, `"current_severity": "major"`},
		{`{"severity":"major"}`, 400, `needs a reason`},
		{`{"severity":"very bad","reason":"x"}`, 400, `severity "very bad"`},
		{`{"severity":"","reason":"x"}`, 400, `severity ""`},
	} {
		code, body := do(t, "POST", api+"/1/severity", tokenOf("bob"), []byte(tc.body))
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("POST severity %s: %d %.300s, want %d with %q", tc.body, code, body, tc.code, tc.want)
		}
	}
	inc := h.get(id)
	if inc.Severity != routed || CurrentSeverity(inc) != "major" || inc.Report.SeverityReason != "only retries fail now" {
		t.Errorf("severity %q (routed %q), current %q, reason %q", inc.Severity, routed, CurrentSeverity(inc), inc.Report.SeverityReason)
	}
	eq(t, "timeline", h.runEvents(id, "severity_changed"), []string{
		"severity_changed bob from=" + routed + " reason=payments fail to=critical via=api",
		"severity_changed bob from=critical reason=only retries fail now to=major via=api",
	})
}

// TestStakeholderReportsNameTheRoleHolders: the report sent after the ack
// says who leads, in the stakeholder's language, with the file's role names.
func TestStakeholderReportsNameTheRoleHolders(t *testing.T) {
	h := newHarness(t, runConfig)
	ctx := context.Background()
	id := h.post("firing", "g1", map[string]string{"alertname": "A"})[0].ID
	h.advance(0)
	if _, _, err := h.engine.SetRole(ctx, RoleChange{Incident: id, Role: "comm", User: "carol", Actor: "bob", Via: "api"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.engine.Ack(ctx, id, "bob", "sms"); err != nil {
		t.Fatal(err)
	}
	h.advance(0)
	var reports []string
	for _, m := range h.sent.Messages() {
		if m.Kind == channels.KindReport && m.To == "boss@example.com" {
			reports = append(reports, m.Text)
		}
	}
	if len(reports) != 2 {
		t.Fatalf("want the report on open and after the ack, got %d", len(reports))
	}
	if strings.Contains(reports[0], "IC:") {
		t.Errorf("the first report names roles nobody held yet:\n%s", reports[0])
	}
	if !strings.Contains(reports[1], "\nIC: Bob Berg | Spokesperson: carol\n") {
		t.Errorf("the report after the ack does not name the role holders:\n%s", reports[1])
	}
}

// decodeRoles is what the incident JSON says of roles, for the API tests.
func decodeRoles(t *testing.T, body string) map[string]string {
	t.Helper()
	var v struct {
		Roles map[string]string `json:"roles"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatal(err)
	}
	return v.Roles
}
