package policies

import (
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/config"
)

const businessHoursYAML = `time_intervals:
  - name: business-hours
    time_intervals:
      - weekdays: ["monday:friday"]
        times: [{start_time: "09:00", end_time: "18:00"}]
        location: Asia/Tokyo
departments:
  - id: ops
    rotations:
      - {id: support-day, timezone: Asia/Tokyo, start: "2026-01-05 09:00", shift: 1d, members: [alice, bob], active: [business-hours]}
      - {id: always, timezone: Asia/Tokyo, start: "2026-01-05 09:00", shift: 1w, members: [carol]}
escalation_policies:
  - id: support
    steps:
      - targets: {rotations: [support-day]}
      - targets: {users: [carol]}
  - id: support-fallback
    steps:
      - targets: {rotations: [support-day]}
        fallback: carol
  - id: support-with-always
    steps:
      - targets: {departments: [ops]}
`

func TestCoverageGaps(t *testing.T) {
	jst := ocLoc(t, "Asia/Tokyo")
	s := ocSet(t, businessHoursYAML)
	gaps := s.CoverageGaps(ocAt(t, jst, "2026-01-05 00:00"), ocAt(t, jst, "2026-01-12 00:00"))
	want := [][2]string{
		{"2026-01-05 00:00", "2026-01-05 09:00"},
		{"2026-01-05 18:00", "2026-01-06 09:00"},
		{"2026-01-06 18:00", "2026-01-07 09:00"},
		{"2026-01-07 18:00", "2026-01-08 09:00"},
		{"2026-01-08 18:00", "2026-01-09 09:00"},
		{"2026-01-09 18:00", "2026-01-12 00:00"}, // the whole weekend, merged
	}
	if len(gaps) != len(want) {
		t.Fatalf("got %d gaps, want %d: %+v", len(gaps), len(want), gaps)
	}
	for i, w := range want {
		g := gaps[i]
		if g.Policy != "support" || !g.Start.Equal(ocAt(t, jst, w[0])) || !g.End.Equal(ocAt(t, jst, w[1])) {
			t.Errorf("gap %d = %s %s–%s, want support %s–%s", i, g.Policy, g.Start.In(jst), g.End.In(jst), w[0], w[1])
		}
	}
}

func TestCoverageGapsClosedByARotation(t *testing.T) {
	// Without the always-on rotation, the department target leaves the same gaps.
	s := ocSet(t, businessHoursYAML)
	jst := ocLoc(t, "Asia/Tokyo")
	for _, g := range s.CoverageGaps(ocAt(t, jst, "2026-01-05 00:00"), ocAt(t, jst, "2026-02-05 00:00")) {
		if g.Policy != "support" {
			t.Errorf("policy %s has a gap %s–%s; its first step is covered", g.Policy, g.Start, g.End)
		}
	}
}

// TestGenLargeConfig keeps the benchmark's generator honest: it must
// produce the promised sizes and a config every rotation of which pages someone.
func TestGenLargeConfig(t *testing.T) {
	cfg, err := config.Parse(GenLargeConfig(1), "large.yml")
	if err != nil {
		t.Fatal(err)
	}
	rotations, schedules := 0, 0
	for _, d := range cfg.Departments {
		rotations += len(d.Rotations)
		schedules += len(d.Schedules)
	}
	if len(cfg.Users) != GenUsers || len(cfg.Departments) != GenDepartments || rotations != GenRotations ||
		schedules != GenSchedules || len(cfg.Policies) != GenPolicies || len(cfg.Routes) != GenRoutes {
		t.Fatalf("sizes: %d users, %d departments, %d rotations, %d schedules, %d policies, %d routes",
			len(cfg.Users), len(cfg.Departments), rotations, schedules, len(cfg.Policies), len(cfg.Routes))
	}
	s := Compile(cfg)
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, d := range cfg.Departments {
		for _, r := range d.Rotations {
			shifts, err := s.Shifts(r.ID, from, from.Add(28*24*time.Hour))
			if err != nil || len(shifts) == 0 {
				t.Errorf("%s: %d shifts, %v", r.ID, len(shifts), err)
			}
		}
	}
}
