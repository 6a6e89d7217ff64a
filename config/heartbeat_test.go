package config

import (
	"testing"
	"time"
)

func TestHeartbeatDefaultsAndMatchers(t *testing.T) {
	cfg, err := Parse([]byte(complete(`heartbeats:
  - name: prod
    matchers: ['alertname="Watchdog"', 'cluster="prod"']
    timeout: 5m
    department: ops
  - name: staging
    matchers: ['alertname="Watchdog"', 'cluster=~"stg-.*"']
    timeout: 90s
    department: ops
    escalation_policy: page
    severity: warning
`)), "hikyaku.yml")
	if err != nil {
		t.Fatal(err)
	}
	prod, stg := cfg.Heartbeat("prod"), cfg.Heartbeat("staging")
	if prod == nil || stg == nil || cfg.Heartbeat("nope") != nil {
		t.Fatalf("Heartbeat lookups: prod %v staging %v", prod, stg)
	}
	if prod.Timeout.D() != 5*time.Minute || prod.Severity != "critical" || stg.Severity != "warning" || stg.Timeout.D() != 90*time.Second {
		t.Errorf("prod = %+v, staging = %+v", prod, stg)
	}
	if p := cfg.HeartbeatPolicy(prod); p == nil || p.ID != "page" {
		t.Errorf("prod's policy = %v, want the department's (page)", p)
	}
	lbls := map[string]string{"alertname": "Watchdog", "cluster": "prod"}
	if !prod.Matches(lbls) || stg.Matches(lbls) {
		t.Errorf("matchers: prod %v staging %v on %v", prod.ParsedMatchers, stg.ParsedMatchers, lbls)
	}
	if !stg.Matches(map[string]string{"alertname": "Watchdog", "cluster": "stg-eu"}) {
		t.Error("staging's regex matcher does not match cluster stg-eu")
	}
}

// brokenHeartbeats are the mistakes in a heartbeats section, each reported
// at the key or entry to fix.
var brokenHeartbeats = []struct {
	name string
	yaml string
	want []want
}{
	{name: "everything missing", yaml: "heartbeats:\n  - severity: page\n", want: []want{
		{2, 5, "heartbeat needs a name"},
		{2, 5, "heartbeat needs matchers"},
		{2, 5, "heartbeat needs a timeout"},
		{2, 5, "heartbeat needs a department"},
	}},
	{name: "bad values", yaml: `heartbeats:
  - name: "prod watchdog"
    matchers: ['alertname=~"(Watchdog"']
    timeout: 500ms
    department: opz
`, want: []want{
		{2, 11, `heartbeat name "prod watchdog"`},
		{3, 16, `invalid matcher "alertname=~\"(Watchdog\""`},
		{4, 14, "timeout 500ms is too short: at least 1s"},
		{5, 17, `unknown department "opz"`},
	}},
	{name: "duplicate name and unknown policy", yaml: `heartbeats:
  - {name: prod, matchers: ['alertname="Watchdog"'], timeout: 5m, department: ops}
  - name: prod
    matchers: ['alertname="Watchdog"']
    timeout: 5m
    department: ops
    escalation_policy: nobody
`, want: []want{
		{3, 11, `duplicate heartbeat name "prod"`},
		{7, 24, `unknown escalation policy "nobody"`},
	}},
	{name: "matchers that do not name the alert", yaml: `heartbeats:
  - name: prod
    matchers: ['cluster="prod"', 'alertname=~"Watch.*"']
    timeout: 5m
    department: ops
`, want: []want{{3, 15, `heartbeat matchers must name the alert with alertname="…"`}}},
	{name: "timeout not a duration", yaml: `heartbeats:
  - {name: prod, matchers: ['alertname="Watchdog"'], timeout: soon, department: ops}
`, want: []want{{2, 63, `invalid duration "soon"`}}},
	{name: "unknown key", yaml: `heartbeats:
  - {name: prod, matchers: ['alertname="Watchdog"'], interval: 5m, timeout: 5m, department: ops}
`, want: []want{{2, 54, `unknown key "interval"`}}},
	{name: "department without a policy", yaml: `departments: [{id: ops, rotations: [{id: primary, start: "2026-01-05 09:00", shift: 1w, members: [alice]}]}]
default_route: {department: ops, escalation_policy: page}
heartbeats:
  - {name: prod, matchers: ['alertname="Watchdog"'], timeout: 5m, department: ops}
`, want: []want{{4, 6, `heartbeat names no escalation_policy and department "ops" has none`}}},
}

func TestHeartbeatMistakesArePositioned(t *testing.T) {
	for _, tt := range brokenHeartbeats {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(complete(tt.yaml)), "hikyaku.yml")
			checkErrors(t, err, tt.want)
		})
	}
}
