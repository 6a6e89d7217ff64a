package config

import "testing"

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
