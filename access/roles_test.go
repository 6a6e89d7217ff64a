package access

import (
	"strings"
	"testing"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/config"
)

const rolesConfig = `
global: {authorization: %s}
users:
  - {id: ada, contacts: {sms: "+819000000001"}}
  - {id: rei, contacts: {sms: "+819000000002"}}
  - {id: pat, contacts: {sms: "+819000000003"}}
  - {id: oto, contacts: {sms: "+819000000004"}}
  - {id: vic, contacts: {sms: "+819000000005"}}
departments:
  - id: ops
    escalation_policy: page
    rotations: [{id: primary, start: "2026-01-05 09:00", shift: 1w, members: [rei]}]
    roles: {admins: [ada], responders: [rei], viewers: [vic]}
  - id: db
    escalation_policy: page
    rotations: [{id: dbs, start: "2026-01-05 09:00", shift: 1w, members: [pat]}]
    roles: {responders: [pat, oto]}
escalation_policies: [{id: page, steps: [{targets: {rotations: [primary]}}]}]
default_route: {department: ops}
`

func load(t *testing.T, mode string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(strings.Replace(rolesConfig, "%s", mode, 1)), "roles.yml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// who is each role of the matrix, for an incident of department ops.
var who = []struct {
	role, user string
	paged      bool
}{
	{"admin", "ada", false},
	{"responder own department", "rei", false},
	{"responder paged", "pat", true},
	{"responder other department", "oto", false},
	{"viewer", "vic", false},
	{"unknown", "mallory", false},
	{"service", "api", false},
}

func TestDecideMatrix(t *testing.T) {
	// want[mode][action][role]: "" allowed, else the reason's key.
	want := map[string]map[Action][]catalog.Key{
		"roles": {
			Ack:      {"", "", "", "access.no_role", "access.viewer", "access.unknown", ""},
			Resolve:  {"", "", "", "access.no_role", "access.viewer", "access.unknown", ""},
			Escalate: {"", "", "", "access.no_role", "access.viewer", "access.unknown", ""},
			View:     {"", "", "", "access.no_view", "", "access.unknown", ""},
			Run:      {"", "", "", "access.no_role", "access.viewer", "access.unknown", ""},
			Reload:   {"", "access.admin_only", "access.admin_only", "access.admin_only", "access.admin_only", "access.unknown", "access.service_admin"},
			Report:   {"", "", "access.no_report", "access.no_report", "", "access.unknown", ""},
		},
		"any_user": {
			Ack:      {"", "", "", "", "", "access.unknown", ""},
			Resolve:  {"", "", "", "", "", "access.unknown", ""},
			Escalate: {"", "", "", "", "", "access.unknown", ""},
			View:     {"", "", "", "", "", "access.unknown", ""},
			Run:      {"", "", "", "", "", "access.unknown", ""},
			Reload:   {"", "access.admin_only", "access.admin_only", "access.admin_only", "access.admin_only", "access.unknown", "access.service_admin"},
			Report:   {"", "", "", "", "", "access.unknown", ""},
		},
	}
	for mode, actions := range want {
		cfg := load(t, mode)
		for action, keys := range actions {
			for i, w := range who {
				req := Request{User: w.user, Action: action}
				if action.OnIncident() || action == Report {
					req.Incident, req.Department = 7, "ops"
				}
				d := Decide(cfg, req)
				if d.PagedWouldAllow {
					req.Paged = w.paged
					d = Decide(cfg, req)
				}
				if got := d.Reason.Key; d.Allowed != (keys[i] == "") || got != keys[i] {
					t.Errorf("%s: %s by %s (%s): allowed %v reason %q, want reason %q", mode, action, w.role, w.user, d.Allowed, got, keys[i])
				}
			}
		}
	}
}

// Paging alone is not enough: a viewer who holds no responder role
// anywhere is asked nothing by a page.
func TestPagedViewerStillRefused(t *testing.T) {
	cfg := load(t, "roles")
	d := Decide(cfg, Request{User: "vic", Action: Ack, Incident: 7, Department: "ops", Paged: true})
	if d.Allowed || d.Reason.Key != "access.viewer" || d.PagedWouldAllow {
		t.Fatalf("paged viewer: %+v, want refused as a viewer", d)
	}
}

// Being paged lets anyone configured see the incident, role or not: the
// page asked them to look.
func TestPagedSeesWithoutRole(t *testing.T) {
	cfg := load(t, "roles")
	d := Decide(cfg, Request{User: "oto", Action: View, Incident: 7, Department: "ops"})
	if d.Allowed || d.Reason.Key != "access.no_view" || !d.PagedWouldAllow {
		t.Fatalf("oto, not paged: %+v, want refused, a page would allow", d)
	}
	if d := Decide(cfg, Request{User: "oto", Action: View, Incident: 7, Department: "ops", Paged: true}); !d.Allowed {
		t.Fatalf("oto, paged: %+v, want allowed", d)
	}
	if got := d.Reason.Text("en"); got != "Incident #7 belongs to ops, where you have no role, and did not page you: you may not see it." {
		t.Errorf("en: %q", got)
	}
}

func TestReasonsInEveryLanguage(t *testing.T) {
	cfg := load(t, "roles")
	d := Decide(cfg, Request{User: "oto", Action: Ack, Incident: 7, Department: "ops"})
	if got := d.Reason.Text("en"); got != "Incident #7 belongs to ops, where you have no role, and did not page you: nothing was changed." {
		t.Errorf("en: %q", got)
	}
	if got := d.Reason.Text("ja"); got != "インシデント #7 は ops のもので、あなたはそこで役割がなく、呼び出されてもいません。何も変更していません。" {
		t.Errorf("ja: %q", got)
	}
}

// A responder covers their own shifts, an admin anyone's; a mute is an
// admin's of the department muted. Under any_user every configured user
// does both; the shared token never.
func TestDecideCoverAndMute(t *testing.T) {
	for _, mode := range []string{"roles", "any_user"} {
		cfg := load(t, mode)
		for _, tc := range []struct {
			req  Request
			want catalog.Key
		}{
			{Request{User: "rei", Action: Cover, For: "rei"}, ""},
			{Request{User: "pat", Action: Cover, For: "pat"}, ""},
			{Request{User: "rei", Action: Cover, For: "pat"}, "access.cover_own"},
			{Request{User: "vic", Action: Cover, For: "vic"}, "access.cover_own"},
			{Request{User: "ada", Action: Cover, For: "pat"}, ""},
			{Request{User: "api", Action: Cover, For: "rei"}, "access.service_admin"},
			{Request{User: "mallory", Action: Cover, For: "mallory"}, "access.unknown"},
			{Request{User: "ada", Action: Mute, Department: "ops"}, ""},
			{Request{User: "ada", Action: Mute, Department: "db"}, "access.mute_admin"},
			{Request{User: "rei", Action: Mute, Department: "ops"}, "access.mute_admin"},
			{Request{User: "api", Action: Mute, Department: "ops"}, "access.service_admin"},
		} {
			if mode == "any_user" && tc.want != "access.service_admin" && tc.want != "access.unknown" {
				tc.want = ""
			}
			d := Decide(cfg, tc.req)
			if d.Allowed != (tc.want == "") || d.Reason.Key != tc.want {
				t.Errorf("%s: %+v: allowed %v reason %q, want %q", mode, tc.req, d.Allowed, d.Reason.Key, tc.want)
			}
		}
	}
	d := Decide(load(t, "roles"), Request{User: "rei", Action: Cover, For: "pat"})
	if got := d.Reason.Text("en"); got != "Only a department admin may change who covers pat's shifts; a responder covers their own. Nothing was changed." {
		t.Errorf("en: %q", got)
	}
}
