package router

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/record"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

// rolesConfig gives department eng an admin (ada), a responder (rei) and
// a viewer (vic, who reads Japanese); db's responders are pat, whom eng's
// policy pages, and oto, whom nothing pages.
const rolesConfig = `
global:
  timezone: Asia/Tokyo
  api_token: {value: test-api-token}
receivers:
  - name: hikyaku
    bearer_token: {value: hook-token}
users:
  - {id: ada, contacts: {sms: "+819000000001"}}
  - {id: rei, contacts: {sms: "+819000000002"}}
  - {id: pat, contacts: {sms: "+819000000003"}}
  - {id: oto, contacts: {sms: "+819000000004"}}
  - {id: vic, language: ja, contacts: {sms: "+819000000005"}}
departments:
  - id: eng
    escalation_policy: eng
    rotations: [{id: primary, start: "2026-01-05 10:00", shift: 1w, members: [rei]}]
    roles: {admins: [ada], responders: [rei], viewers: [vic]}
  - id: db
    escalation_policy: eng
    rotations: [{id: dbs, start: "2026-01-05 10:00", shift: 1w, members: [oto]}]
    roles: {responders: [pat, oto]}
escalation_policies:
  - id: eng
    steps:
      - targets: {users: [pat]}
        escalate_after: 5m
      - targets: {users: [pat]}
        escalate_after: 5m
default_route:
  department: eng
`

// matrixRoles are the people of the matrix, for an incident of eng that
// paged pat, and what each is told when refused (literal texts).
var matrixRoles = []struct {
	role, user string
	refusal    string // "" when allowed
}{
	{"admin", "ada", ""},
	{"responder own department", "rei", ""},
	{"responder paged", "pat", ""},
	{"responder other department", "oto", "Incident #%d belongs to eng, where you have no role, and did not page you: nothing was changed."},
	{"viewer", "vic", "あなたは eng の閲覧者です。閲覧者は操作できません。何も変更していません。"},
	{"unknown", "mallory", "mallory is not a configured user: nothing was changed."},
}

func rolesHarness(t *testing.T, cfgText string) (*harness, *syncBuffer) {
	t.Helper()
	h := newHarness(t, cfgText)
	cfg, err := config.Parse([]byte(cfgText), "test.yml")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	h.sent = &record.Sender{}
	h.engine = New(policies.Compile(cfg), Options{Store: h.st, Senders: map[string]channels.Sender{"sms": h.sent}, Clock: h.clock,
		Owner: "test", Logger: slog.New(slog.NewTextHandler(logs, nil))})
	return h, logs
}

// pagedIncident opens an incident of eng and fires its first step, which
// pages pat.
func pagedIncident(t *testing.T, h *harness, name string) int64 {
	t.Helper()
	inc := h.post("firing", name, map[string]string{"alertname": name})[0]
	h.process()
	if paged, err := h.engine.pagedUser(t.Context(), inc.ID, "pat"); err != nil || !paged {
		t.Fatalf("incident %d did not page pat: %v %v", inc.ID, h.timeline(inc.ID), err)
	}
	return inc.ID
}

// TestRolesMatrix: every action by every role on every channel. The
// inbound channels reach the engine through channels.Receiver (what SMS,
// keypad, email, Slack and link handlers call); the API through HTTP with
// the person's own token. A refusal changes nothing, says why to the
// person in their language, and leaves a refused event on the timeline and
// an audit line.
func TestRolesMatrix(t *testing.T) {
	h, logs := rolesHarness(t, rolesConfig)
	s := &Server{Engine: h.engine}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	tokens := map[string]string{"mallory": "hky_0123456789abcdef_" + strings.Repeat("ab", 32)}
	for _, r := range matrixRoles[:5] {
		tokens[r.user] = createToken(t, srv.URL, r.user).Token
	}
	verbs := []channels.Verb{channels.Ack, channels.Resolve, channels.Escalate}
	for _, via := range []string{"sms", "voice", "email", "slack", "link", "api"} {
		for _, verb := range verbs {
			for _, r := range matrixRoles {
				name := fmt.Sprintf("%s/%s/%s", via, verb, r.user)
				id := pagedIncident(t, h, name)
				before, err := h.st.Get(t.Context(), id)
				if err != nil {
					t.Fatal(err)
				}
				want := r.refusal
				if strings.Contains(want, "%d") {
					want = fmt.Sprintf(want, id)
				}
				var allowed bool
				var said string
				if via == "api" {
					code, body := do(t, "POST", fmt.Sprintf("%s/api/v1/incidents/%d/%s", srv.URL, id, verb), tokens[r.user], nil)
					allowed, said = code == 200, strings.TrimSpace(body)
					if r.user == "mallory" {
						// No token can be made for a stranger: theirs is wrong.
						if code != 401 {
							t.Errorf("%s: %d %s, want 401", name, code, body)
						}
						continue
					}
					if want != "" && code != 403 {
						t.Errorf("%s: %d, want 403", name, code)
					}
					if want != "" {
						want = matrixEnglish(r.user, id) // the API answers in English
					}
				} else {
					res, err := h.engine.Receiver().Act(t.Context(), channels.Action{Incident: id, Verb: verb, User: r.user, Via: via, Dedup: name})
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					allowed, said = res.Outcome == channels.Done, res.Reason
					if want != "" && res.Outcome != channels.Forbidden {
						t.Errorf("%s: outcome %s, want forbidden", name, res.Outcome)
					}
				}
				if allowed != (want == "") {
					t.Errorf("%s by %s: allowed %v (%q), want allowed %v", name, r.role, allowed, said, want == "")
					continue
				}
				if want == "" {
					continue
				}
				if said != want {
					t.Errorf("%s: told %q, want %q", name, said, want)
				}
				after, _ := h.st.Get(t.Context(), id)
				if after.Status != before.Status || after.Escalation != before.Escalation {
					t.Errorf("%s: a refused action changed the incident: %+v -> %+v", name, before, after)
				}
				evs, _ := h.st.Timeline(t.Context(), id)
				last := evs[len(evs)-1]
				if last.Type != "refused" || last.Actor != r.user || last.Detail["via"] != via || last.Detail["verb"] != string(verb) ||
					last.Detail["reason"] != matrixEnglish(r.user, id) {
					t.Errorf("%s: timeline ends %+v, want refused by %s via %s saying why", name, last, r.user, via)
				}
				audit := fmt.Sprintf(`action=%s incident=%d actor=%s channel=%s source="" auth_user="" result=refused error=`, verb, id, r.user, via)
				if via == "api" {
					audit = fmt.Sprintf(`action=%s incident=%d actor=%s channel=api source=127.0.0.1:`, verb, id, r.user)
				}
				if !strings.Contains(logs.String(), audit) {
					t.Errorf("%s: no audit line %q", name, audit)
				}
			}
		}
	}
}

// matrixEnglish is a refusal's English text, as the timeline and the API say it.
func matrixEnglish(user string, id int64) string {
	switch user {
	case "oto":
		return fmt.Sprintf("Incident #%d belongs to eng, where you have no role, and did not page you: nothing was changed.", id)
	case "vic":
		return "You are a viewer in eng: viewers read, they do not act. Nothing was changed."
	case "mallory":
		return "mallory is not a configured user: nothing was changed."
	}
	return ""
}

// TestReloadByRole: POST /api/v1/reload is an admin's; everyone else, and
// the shared api_token, is refused with the reason and nothing reloads.
func TestReloadByRole(t *testing.T) {
	h, logs := rolesHarness(t, rolesConfig)
	reloads := 0
	srv := httptest.NewServer((&Server{Engine: h.engine, Reload: func(context.Context) error { reloads++; return nil }}).Handler())
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		user  string
		code  int
		reply string
	}{
		{"ada", 200, "configuration reloaded"},
		{"rei", 403, "Only a department admin may reload: nothing was changed."},
		{"pat", 403, "Only a department admin may reload: nothing was changed."},
		{"oto", 403, "Only a department admin may reload: nothing was changed."},
		{"vic", 403, "Only a department admin may reload: nothing was changed."},
		{"api", 403, "The shared api_token acts on incidents only; reload needs an admin's own token. Nothing was changed."},
	} {
		token := "test-api-token"
		if tc.user != "api" {
			token = createToken(t, srv.URL, tc.user).Token
		}
		n := reloads
		code, body := do(t, "POST", srv.URL+"/api/v1/reload", token, nil)
		if code != tc.code || !strings.Contains(body, tc.reply) {
			t.Errorf("reload by %s: %d %q, want %d %q", tc.user, code, body, tc.code, tc.reply)
		}
		if did := reloads > n; did != (code == 200) {
			t.Errorf("reload by %s: reloaded %v", tc.user, did)
		}
		if tc.code == 403 && !strings.Contains(logs.String(), fmt.Sprintf("action=reload actor=%s channel=api", tc.user)) {
			t.Errorf("reload by %s: no audit line", tc.user)
		}
	}
}

// With global.authorization: any_user the roles are kept but everyone
// configured acts on every incident, as before roles existed.
func TestAnyUserLetsEveryConfiguredUserAct(t *testing.T) {
	h, _ := rolesHarness(t, strings.Replace(rolesConfig, "  timezone: Asia/Tokyo\n", "  timezone: Asia/Tokyo\n  authorization: any_user\n", 1))
	for _, r := range matrixRoles {
		id := pagedIncident(t, h, "any/"+r.user)
		res, err := h.engine.Receiver().Act(t.Context(), channels.Action{Incident: id, Verb: channels.Ack, User: r.user, Via: "sms"})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]channels.Outcome{true: channels.Forbidden, false: channels.Done}[r.user == "mallory"]; res.Outcome != want {
			t.Errorf("any_user: ack by %s = %s %q, want %s", r.user, res.Outcome, res.Reason, want)
		}
	}
}

// The service name is the shared token's alone: an inbound side naming
// "api" as its user acts on nothing.
func TestServiceNameOnlyOnTheAPI(t *testing.T) {
	h, _ := rolesHarness(t, rolesConfig)
	id := pagedIncident(t, h, "svc")
	res, err := h.engine.Receiver().Act(t.Context(), channels.Action{Incident: id, Verb: channels.Ack, User: "api", Via: "sms"})
	if err != nil || res.Outcome != channels.Forbidden {
		t.Fatalf("ack by \"api\" over sms = %+v, %v; want forbidden", res, err)
	}
	var tl []store.Event
	tl, _ = h.st.Timeline(t.Context(), id)
	if b, _ := json.Marshal(tl[len(tl)-1]); !strings.Contains(string(b), `"refused"`) {
		t.Fatalf("timeline ends %s, want refused", b)
	}
}

// TestRunActionsByRole: assigning a role, adding a note and changing the
// severity are acting on the incident, refused as an ack is: to a responder
// of another department it did not page and to a viewer, with the reason, a
// refused event, and nothing written.
func TestRunActionsByRole(t *testing.T) {
	h, _ := rolesHarness(t, rolesConfig)
	s := &Server{Engine: h.engine}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	tokens := map[string]string{}
	for _, r := range matrixRoles[:5] {
		tokens[r.user] = createToken(t, srv.URL, r.user).Token
	}
	actions := []struct{ path, verb, body string }{
		{"roles", "assign", `{"role":"ic","user":"ada"}`},
		{"notes", "note", `{"text":"db-1 is failing over"}`},
		{"severity", "severity", `{"severity":"minor","reason":"retries succeed"}`},
	}
	for _, a := range actions {
		for _, r := range matrixRoles[:5] {
			name := a.verb + "/" + r.user
			id := pagedIncident(t, h, name)
			code, body := do(t, "POST", fmt.Sprintf("%s/api/v1/incidents/%d/%s", srv.URL, id, a.path), tokens[r.user], []byte(a.body))
			after, _ := h.st.Get(t.Context(), id)
			written := after.Roles["ic"] != "" || after.Report != nil
			if r.refusal == "" {
				if code != 200 || !written {
					t.Errorf("%s: %d %s (written %v), want it done", name, code, body, written)
				}
				continue
			}
			if want := matrixEnglish(r.user, id); code != 403 || strings.TrimSpace(body) != want {
				t.Errorf("%s: %d %q, want 403 %q", name, code, body, want)
			}
			if written {
				t.Errorf("%s: a refused %s wrote %+v", name, a.verb, after)
			}
			evs, _ := h.st.Timeline(t.Context(), id)
			if last := evs[len(evs)-1]; last.Type != "refused" || last.Actor != r.user || last.Detail["verb"] != a.verb {
				t.Errorf("%s: timeline ends %+v, want refused %s by %s", name, last, a.verb, r.user)
			}
		}
	}
}
