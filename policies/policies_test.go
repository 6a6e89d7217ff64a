package policies

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/config"
)

// ocUsers are the people every test config can name.
var ocUsers = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"}

var ocPolicyRe = regexp.MustCompile(`(?m)^escalation_policies:\s*\n\s*- id: (\S+)`)

// ocSet builds a config from YAML that names time_intervals, departments
// (one of them "ops") and optionally escalation_policies; users, a policy
// when none is given and the default route are added here.
func ocSet(t testing.TB, body string) *Set {
	t.Helper()
	var b strings.Builder
	b.WriteString("users:\n")
	for _, u := range ocUsers {
		fmt.Fprintf(&b, "  - {id: %s, contacts: {email: %s@example.com}}\n", u, u)
	}
	b.WriteString(body)
	policy := "p"
	if m := ocPolicyRe.FindStringSubmatch(body); m != nil {
		policy = m[1]
	} else {
		b.WriteString("\nescalation_policies:\n  - id: p\n    steps:\n      - targets: {users: [alice]}\n")
	}
	fmt.Fprintf(&b, "\ndefault_route: {department: ops, escalation_policy: %s}\n", policy)
	cfg, err := config.Parse([]byte(b.String()), "test.yml")
	if err != nil {
		t.Fatalf("config.Parse: %v\n%s", err, b.String())
	}
	return Compile(cfg)
}

func ocLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// ocAt reads "2026-03-08 09:00" in loc. It refuses a time within 2h of a
// change of offset, where a wall time can be skipped or repeated: reading it
// here would share the code under test's idea of which instant it is, so
// such expectations are written as literal UTC instants (utc, dst_test.go).
func ocAt(t testing.TB, loc *time.Location, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	start, end := v.ZoneBounds()
	if (!start.IsZero() && v.Sub(start) < 2*time.Hour) || (!end.IsZero() && end.Sub(v) < 2*time.Hour) {
		t.Fatalf("%s in %s is within 2h of a DST change: write the expected instant in UTC", s, loc)
	}
	return v
}

// ocWant is an expected shift written as wall-clock times of the test's zone.
type ocWant struct {
	user, start, end string
	override         bool
}

// ocCheck compares shifts with wall-clock expectations in loc.
func ocCheck(t *testing.T, loc *time.Location, got []Shift, wants []ocWant) {
	t.Helper()
	if len(got) != len(wants) {
		t.Errorf("got %d shifts, want %d:\n%s", len(got), len(wants), ocDump(got, loc))
		return
	}
	for i, w := range wants {
		g := got[i]
		if g.User != w.user || !g.Start.Equal(ocAt(t, loc, w.start)) || !g.End.Equal(ocAt(t, loc, w.end)) || g.Override != w.override {
			t.Errorf("shift %d = %s, want %s %s–%s override=%v\nall:\n%s", i, ocFmt(g, loc), w.user, w.start, w.end, w.override, ocDump(got, loc))
		}
	}
}

func ocFmt(s Shift, loc *time.Location) string {
	const f = "2006-01-02 15:04 MST"
	return fmt.Sprintf("%s %s–%s (%s, %s override=%v)", s.User, s.Start.In(loc).Format(f), s.End.In(loc).Format(f), s.End.Sub(s.Start), s.Rotation, s.Override)
}

func ocDump(shifts []Shift, loc *time.Location) string {
	var b strings.Builder
	for _, s := range shifts {
		b.WriteString("  " + ocFmt(s, loc) + "\n")
	}
	return b.String()
}

func TestShiftsUnknownID(t *testing.T) {
	s := ocSet(t, `
departments:
  - id: ops
    rotations:
      - {id: r, start: "2026-01-05 09:00", shift: 1d, members: [alice]}
`)
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := s.Shifts("nope", from, from.Add(oneDay)); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("Shifts(unknown) error = %v, want one naming the id", err)
	}
	if _, ok := s.OnCall("nope", from); ok {
		t.Error("OnCall(unknown) = true")
	}
	got, err := s.Shifts("r", from.Add(oneDay), from)
	if err != nil || len(got) != 0 {
		t.Errorf("Shifts(reversed range) = %v, %v; want nothing", got, err)
	}
}
