package policies

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Sizes of the generated company: a large customer's config, the scale the
// benchmarks promise to handle.
const (
	GenUsers       = 1000
	GenDepartments = 20
	GenRotations   = 200 // GenDepartments × 10
	GenSchedules   = 50
	GenPolicies    = 100
	GenRoutes      = 300
)

// GenLargeConfig writes a valid hikyaku YAML file of the sizes above from
// seed: a mix of 1w, 1d and 12h rotations in several zones, some with active
// windows, overrides and roster changes, schedules layering them, policies
// and routes with matchers. Building it as text lets a benchmark include
// config.Parse. Rotation ids are rot-D-R, schedules sched-N, policies pol-N.
func GenLargeConfig(seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	zones := []string{"Asia/Tokyo", "America/New_York", "Europe/London", "UTC", "Australia/Sydney"}
	var b strings.Builder
	b.WriteString(`global:
  timezone: Asia/Tokyo
chat_channels:
  - {id: incidents, slack: C0INCIDENTS}
time_intervals:
  - name: business-hours
    time_intervals:
      - weekdays: ["monday:friday"]
        times: [{start_time: "09:00", end_time: "18:00"}]
        location: Asia/Tokyo
  - name: nights
    time_intervals:
      - weekdays: ["monday:friday"]
        times: [{start_time: "18:00", end_time: "24:00"}, {start_time: "00:00", end_time: "09:00"}]
        location: Asia/Tokyo
      - weekdays: ["saturday", "sunday"]
        location: Asia/Tokyo
  - name: us-daytime
    time_intervals:
      - weekdays: ["monday:friday"]
        times: [{start_time: "09:00", end_time: "17:00"}]
        location: America/New_York
users:
`)
	for i := range GenUsers {
		fmt.Fprintf(&b, "  - {id: u%d, name: User %d, timezone: %s, contacts: {sms: \"+8190%08d\", email: u%d@example.com}}\n", i, i, zones[i%len(zones)], i, i)
	}
	user := func() string { return fmt.Sprintf("u%d", rng.IntN(GenUsers)) }
	base := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	stamp := func(spread time.Duration) string {
		return base.Add(time.Duration(rng.Int64N(int64(spread))) / time.Hour * time.Hour).Format("2006-01-02 15:04")
	}
	b.WriteString("departments:\n")
	perDept := GenRotations / GenDepartments
	sched := 0
	for d := range GenDepartments {
		fmt.Fprintf(&b, "  - id: dept-%d\n    escalation_policy: pol-%d\n    business_hours: business-hours\n    rotations:\n", d, d)
		for r := range perDept {
			fmt.Fprintf(&b, "      - id: rot-%d-%d\n        timezone: %s\n        start: %q\n        shift: %s\n        members: [%s, %s, %s, %s]\n",
				d, r, zones[rng.IntN(len(zones))], stamp(30*24*time.Hour), []string{"1w", "1d", "12h"}[r%3], user(), user(), user(), user())
			switch r % 5 {
			case 1:
				b.WriteString("        active: [business-hours]\n")
			case 2:
				b.WriteString("        active: [nights, us-daytime]\n")
			}
			if r%4 == 0 {
				b.WriteString("        overrides:\n")
				for range 3 {
					fmt.Fprintf(&b, "          - {user: %s, start: %q, end: %q}\n", user(), stamp(300*24*time.Hour), "2027-01-01 00:00")
				}
			}
			if r%7 == 3 {
				fmt.Fprintf(&b, "        changes:\n          - {at: %q, members: [%s, %s]}\n", "2026-06-01 10:00", user(), user())
			}
		}
		b.WriteString("    schedules:\n")
		for sched < GenSchedules*(d+1)/GenDepartments {
			fmt.Fprintf(&b, "      - {id: sched-%d, layers: [rot-%d-%d, rot-%d-%d, rot-%d-0]}\n", sched, d, 1+rng.IntN(perDept-1), d, rng.IntN(perDept), d)
			sched++
		}
		fmt.Fprintf(&b, "    stakeholders: {chat_channels: [incidents]}\n")
	}
	b.WriteString("escalation_policies:\n")
	for p := range GenPolicies {
		d := p % GenDepartments
		fmt.Fprintf(&b, "  - id: pol-%d\n    repeat: 1\n    steps:\n", p)
		switch p % 4 {
		case 0:
			fmt.Fprintf(&b, "      - targets: {rotations: [rot-%d-%d, rot-%d-%d]}\n", d, rng.IntN(perDept), d, rng.IntN(perDept))
		case 1:
			fmt.Fprintf(&b, "      - targets: {schedules: [sched-%d]}\n", rng.IntN(GenSchedules))
		case 2:
			fmt.Fprintf(&b, "      - targets: {departments: [dept-%d]}\n", d)
		case 3:
			fmt.Fprintf(&b, "      - targets: {rotations: [rot-%d-1]}\n        fallback: %s\n", d, user())
		}
		fmt.Fprintf(&b, "        escalate_after: 5m\n      - targets: {users: [%s], chat_channels: [incidents]}\n        escalate_after: 10m\n", user())
	}
	b.WriteString("routes:\n")
	for r := range GenRoutes {
		fmt.Fprintf(&b, "  - name: route-%d\n    matchers: ['team=\"team-%d\"', 'severity=~\"critical|page|warning\"', 'env!=\"test\"']\n    department: dept-%d\n    escalation_policy: pol-%d\n",
			r, r, r%GenDepartments, rng.IntN(GenPolicies))
		if r%10 == 0 {
			b.WriteString("    active_time_intervals: [business-hours]\n    inactive: stakeholders\n")
		}
	}
	b.WriteString("default_route: {department: dept-0, escalation_policy: pol-0}\n")
	return []byte(b.String())
}
