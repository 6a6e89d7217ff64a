package config

import (
	"strings"
	"testing"
)

const rolesUsers = `users:
  - {id: alice, contacts: {sms: "+819011110001"}}
  - {id: bob, contacts: {sms: "+819011110002"}}
`

func TestRolesRefusedWithTheirPosition(t *testing.T) {
	for _, tt := range []struct {
		name, yaml string
		want       []want
	}{
		{"unknown user", rolesUsers + `departments:
  - id: ops
    escalation_policy: page
    rotations: [{id: primary, start: "2026-01-05 09:00", shift: 1w, members: [alice]}]
    roles:
      admins: [alice]
      viewers: [mallory]
`, []want{{10, 17, `unknown user "mallory"`}}},
		{"two roles in one department", rolesUsers + `departments:
  - id: ops
    escalation_policy: page
    rotations: [{id: primary, start: "2026-01-05 09:00", shift: 1w, members: [alice]}]
    roles:
      admins: [alice]
      responders: [bob, alice]
`, []want{{10, 25, `user "alice" is already admin of department "ops"`}}},
		{"roles asked, none given", "global:\n  authorization: roles\n" + rolesUsers, []want{{2, 18, "no department gives anyone a role"}}},
		{"unknown mode", "global:\n  authorization: everyone\n", []want{{2, 18, `authorization "everyone": want roles or any_user`}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(complete(tt.yaml)), "hikyaku.yml")
			checkErrors(t, err, tt.want)
		})
	}
}

func TestAuthorizationDefault(t *testing.T) {
	for _, tt := range []struct {
		name, yaml, want string
	}{
		{"no roles: as before roles existed", rolesUsers, AuthorizationAnyUser},
		{"roles given: enforced", rolesUsers + `departments:
  - id: ops
    escalation_policy: page
    rotations: [{id: primary, start: "2026-01-05 09:00", shift: 1w, members: [alice]}]
    roles: {responders: [alice]}
`, AuthorizationRoles},
		{"roles given, any_user kept", "global: {authorization: any_user}\n" + rolesUsers + `departments:
  - id: ops
    escalation_policy: page
    rotations: [{id: primary, start: "2026-01-05 09:00", shift: 1w, members: [alice]}]
    roles: {responders: [alice]}
`, AuthorizationAnyUser},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(complete(tt.yaml)), "hikyaku.yml")
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Global.Authorization != tt.want {
				t.Fatalf("authorization = %q, want %q", cfg.Global.Authorization, tt.want)
			}
		})
	}
}

// TestWarnPagedWithoutRole: under roles, each person a page can reach who
// could not then act on it is warned about once, where first named — a
// viewer as a step's user, a member with no role — and nobody else; under
// any_user nobody is.
func TestWarnPagedWithoutRole(t *testing.T) {
	const file = `users:
  - {id: alice, contacts: {sms: "+819011110001"}}
  - {id: bob, contacts: {sms: "+819011110002"}}
  - {id: carol, contacts: {sms: "+819011110003"}}
  - {id: dan, contacts: {sms: "+819011110004"}}
departments:
  - id: ops
    escalation_policy: page
    rotations: [{id: primary, start: "2026-01-05 09:00", shift: 1w, members: [alice, bob]}]
    roles: {responders: [alice], viewers: [carol]}
  - id: db
    roles: {responders: [dan]}
escalation_policies:
  - id: page
    steps:
      - targets: {rotations: [primary]}
      - targets: {users: [carol, dan]}
      - targets: {users: [bob]}
`
	cfg, err := Parse([]byte(complete(file)), "hikyaku.yml")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range cfg.Warnings {
		got = append(got, w.Error())
	}
	const tail = " can be paged but is no responder or admin of any department (departments[].roles): with authorization roles their ack, resolve and escalate would be refused"
	want := []string{`hikyaku.yml:9:86: user "bob"` + tail, `hikyaku.yml:17:27: user "carol"` + tail}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	cfg, err = Parse([]byte(complete("global: {authorization: any_user}\n"+file)), "hikyaku.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("any_user: warnings %v, want none", cfg.Warnings)
	}
}
