package config

import (
	"strings"
	"testing"
	"time"
)

func TestIncidentRolesAndAckerOption(t *testing.T) {
	cfg, err := Parse([]byte(complete(`global:
  timezone: Asia/Tokyo
  incident_roles: {ic: 指揮者, comm: 広報}
departments: [{id: ops, timezone: Europe/Berlin, escalation_policy: page, rotations: [{id: primary, start: "2026-01-05 09:00", shift: 1w, members: [alice]}]},
              {id: web, escalation_policy: quiet}]
escalation_policies:
  - {id: page, steps: [{targets: {rotations: [primary]}}]}
  - {id: quiet, acker_becomes_ic: false, incident_commander: {rotation: primary}, steps: [{targets: {users: [alice]}}]}
`)), "hikyaku.yml")
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Global.IncidentRoles
	for role, want := range map[string]string{"ic": "指揮者", "ops": "", "comm": "広報", "rec": "", "boss": ""} {
		if got := r.Name(role); got != want {
			t.Errorf("role %s: name %q, want %q", role, got, want)
		}
	}
	if !cfg.Policy("page").AckerIsIC() || cfg.Policy("quiet").AckerIsIC() {
		t.Errorf("acker_becomes_ic: page %v (want true, unset), quiet %v (want false)", cfg.Policy("page").AckerIsIC(), cfg.Policy("quiet").AckerIsIC())
	}
	if ic := cfg.Policy("quiet").IncidentCommander; ic == nil || ic.Rotation != "primary" || cfg.Policy("page").IncidentCommander != nil {
		t.Errorf("incident_commander: quiet %+v (want rotation primary), page %+v (want none)", ic, cfg.Policy("page").IncidentCommander)
	}
	if got := cfg.Department("ops").Location.String(); got != "Europe/Berlin" {
		t.Errorf("ops zone %s, want Europe/Berlin", got)
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	if got := cfg.Department("web").Location; got.String() != tokyo.String() {
		t.Errorf("web zone %v, want global.timezone Asia/Tokyo", got)
	}
}

func TestIncidentRolesRefused(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"global:\n  incident_roles: {boss: X}\n", `hikyaku.yml:2:20: unknown key "boss"`},
		{"global:\n  incident_roles: {ic: \" IC\"}\n", `hikyaku.yml:2:24: role name " IC": no leading or trailing space`},
		{"global:\n  incident_roles: {rec: " + strings.Repeat("x", 41) + "}\n", "hikyaku.yml:2:25: role name \"" + strings.Repeat("x", 41) + "\" is longer than 40 characters"},
		{"departments: [{id: ops, timezone: Mars/Base, escalation_policy: page, rotations: [{id: primary, start: \"2026-01-05 09:00\", shift: 1w, members: [alice]}]}]\n",
			`hikyaku.yml:1:35: unknown time zone "Mars/Base"`},
		{"escalation_policies: [{id: page, acker_becomes_ic: maybe, steps: [{targets: {rotations: [primary]}}]}]\n", "hikyaku.yml:1:52"},
		{"escalation_policies:\n  - id: page\n    incident_commander: {rotation: nobody}\n    steps: [{targets: {rotations: [primary]}}]\n",
			`hikyaku.yml:3:36: unknown rotation "nobody"`},
		{"escalation_policies:\n  - id: page\n    incident_commander: {}\n    steps: [{targets: {rotations: [primary]}}]\n",
			`hikyaku.yml:3:25: incident_commander needs a rotation: {rotation: ID}`},
		{"escalation_policies:\n  - id: page\n    incident_commander: {rotation: primary, schedule: x}\n    steps: [{targets: {rotations: [primary]}}]\n",
			`hikyaku.yml:3:45: unknown key "schedule"`},
	} {
		_, err := Parse([]byte(complete(tc.yaml)), "hikyaku.yml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.yaml, err, tc.want)
		}
	}
}
