package router

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

// HealthReport is a department's on-call health over [From, To): how its
// incidents were answered, whom they woke, and who carried the pager
// (docs/reports.md). The incidents counted are those opened in the period;
// their acks, resolves and pages count as the store has them when the
// report is made, wherever in time they fell.
type HealthReport struct {
	Department     string    `json:"department"`
	DepartmentName string    `json:"department_name"`
	From           time.Time `json:"from"`
	To             time.Time `json:"to"`
	TimeZone       string    `json:"time_zone"`
	// BusinessHours is the department's business_hours time interval, or
	// "" for the default, Monday to Friday 09:00–18:00 in TimeZone.
	BusinessHours string `json:"business_hours"`

	Incidents int `json:"incidents"`
	Acked     int `json:"acknowledged"`
	Resolved  int `json:"resolved"`
	// MTTA and MTTR are the times from opening to the acknowledgement and
	// to the resolve, over the incidents that have one.
	MTTA Percentiles `json:"time_to_acknowledge"`
	MTTR Percentiles `json:"time_to_resolve"`

	Pages                     int `json:"pages"`
	PagesOutsideBusinessHours int `json:"pages_outside_business_hours"`
	PagesAtNight              int `json:"pages_at_night"`
	// ReachedStep2 counts incidents whose escalation fired a second step
	// or later; Exhausted those whose every step and repeat went unanswered.
	ReachedStep2 int `json:"escalations_step2_or_later"`
	Exhausted    int `json:"escalations_exhausted"`

	People []PersonHealth `json:"people"`
	// Gaps are the windows of the period where a policy the department
	// uses would page nobody at its first step (policies.CoverageGaps).
	Gaps       []policies.Gap `json:"coverage_gaps"`
	GapSeconds float64        `json:"coverage_gap_seconds"`
}

// Percentiles of a set of durations, by nearest rank: the p-th percentile
// of n sorted values is the value at rank ceil(p*n/100). Nil when Count is 0.
type Percentiles struct {
	Count int      `json:"count"`
	P50   *float64 `json:"p50_seconds"`
	P90   *float64 `json:"p90_seconds"`
	Max   *float64 `json:"max_seconds"`
}

// PersonHealth is one person's share: pages that reached them (each message
// counts: an SMS and a call of one step are two) and hours on call in the
// department's rotations and schedules over the period.
type PersonHealth struct {
	User                 string  `json:"user"`
	Name                 string  `json:"name,omitempty"`
	Pages                int     `json:"pages"`
	OutsideBusinessHours int     `json:"pages_outside_business_hours"`
	AtNight              int     `json:"pages_at_night"`
	OnCallSeconds        float64 `json:"on_call_seconds"`
}

// ErrUnknownDepartment is a report asked for a department the configuration lacks.
var ErrUnknownDepartment = errors.New("router: no such department")

// night is the sleep window, in the paged person's own zone: a page in
// [22:00, 07:00) is a sleep interruption.
const nightFrom, nightTo = 22 * 60, 7 * 60

// reportCounts says whether inc counts in health reports: a test page
// (testpage.go) is a contact check, not an incident.
func reportCounts(inc *store.Incident) bool { return inc != nil && inc.Test == nil && inc.Drill == nil }

// HealthReport computes department's report over [from, to). It reads the
// department's created-time index over the period (store.Query, a page of
// store.MaxPage at a time) and each incident's deliveries: its cost grows
// with the department's incidents in the period, not with the store.
func (e *Engine) HealthReport(ctx context.Context, department string, from, to time.Time) (*HealthReport, error) {
	set := e.Policies()
	cfg := set.Config()
	d := cfg.Department(department)
	if d == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownDepartment, department)
	}
	if !from.Before(to) {
		return nil, fmt.Errorf("router: health report: from %s is not before to %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	b := newReportBuilder(set, d, from, to)
	opt := store.ListOptions{Department: department, OpenedAfter: from, OpenedBefore: to, Oldest: true, Limit: store.MaxPage}
	for {
		page, err := e.Store().Query(ctx, opt)
		if err != nil {
			return nil, fmt.Errorf("router: health report of %s: incidents: %w", department, err)
		}
		for _, inc := range page.Incidents {
			if !reportCounts(inc) {
				continue
			}
			ds, err := e.Store().Deliveries(ctx, inc.ID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, fmt.Errorf("router: health report of %s: deliveries of incident %d: %w", department, inc.ID, err)
			}
			b.add(inc, ds)
		}
		if page.Next == "" {
			break
		}
		opt.Cursor = page.Next
	}
	return b.finish(), nil
}

// reportBuilder gathers a report incident by incident.
type reportBuilder struct {
	set     *policies.Set
	cfg     *config.Config
	dept    *config.Department
	r       *HealthReport
	inHours func(time.Time) bool
	people  map[string]*PersonHealth
	ack     []time.Duration
	res     []time.Duration
}

func newReportBuilder(set *policies.Set, d *config.Department, from, to time.Time) *reportBuilder {
	b := &reportBuilder{set: set, cfg: set.Config(), dept: d, people: map[string]*PersonHealth{},
		r: &HealthReport{Department: d.ID, DepartmentName: d.Name, From: from, To: to,
			TimeZone: d.Location.String(), BusinessHours: d.BusinessHours}}
	if d.BusinessHours != "" {
		b.inHours = set.Within([]string{d.BusinessHours})
	} else {
		b.inHours = func(t time.Time) bool { return defaultBusinessHours(t, d.Location) }
	}
	return b
}

// defaultBusinessHours is Monday to Friday, 09:00 to 18:00 in loc.
func defaultBusinessHours(t time.Time, loc *time.Location) bool {
	l := t.In(loc)
	if l.Weekday() == time.Saturday || l.Weekday() == time.Sunday {
		return false
	}
	m := l.Hour()*60 + l.Minute()
	return m >= 9*60 && m < 18*60
}

// atNight says whether t is in the sleep window in loc.
func atNight(t time.Time, loc *time.Location) bool {
	l := t.In(loc)
	m := l.Hour()*60 + l.Minute()
	return m >= nightFrom || m < nightTo
}

func (b *reportBuilder) person(user string) *PersonHealth {
	p := b.people[user]
	if p == nil {
		p = &PersonHealth{User: user}
		if u := b.cfg.User(user); u != nil {
			p.Name = u.Name
		}
		b.people[user] = p
	}
	return p
}

func (b *reportBuilder) add(inc *store.Incident, ds []store.Delivery) {
	r := b.r
	r.Incidents++
	if !inc.AckedAt.IsZero() {
		r.Acked++
		b.ack = append(b.ack, inc.AckedAt.Sub(inc.CreatedAt))
	}
	if inc.Status == store.StatusResolved && !inc.ResolvedAt.IsZero() {
		r.Resolved++
		b.res = append(b.res, inc.ResolvedAt.Sub(inc.CreatedAt))
	}
	if inc.Escalation.Exhausted {
		r.Exhausted++
	}
	step2 := inc.Escalation.Step >= 1
	for _, dl := range ds {
		if dl.Kind != store.DeliveryPage || dl.User == "" {
			continue
		}
		step2 = step2 || dl.Step >= 2
		p := b.person(dl.User)
		p.Pages++
		r.Pages++
		if !b.inHours(dl.At) {
			p.OutsideBusinessHours++
			r.PagesOutsideBusinessHours++
		}
		loc := b.dept.Location
		if u := b.cfg.User(dl.User); u != nil && u.Location != nil {
			loc = u.Location
		}
		if atNight(dl.At, loc) {
			p.AtNight++
			r.PagesAtNight++
		}
	}
	if step2 {
		r.ReachedStep2++
	}
}

func (b *reportBuilder) finish() *HealthReport {
	r := b.r
	r.MTTA, r.MTTR = percentiles(b.ack), percentiles(b.res)
	for user, secs := range onCallSeconds(b.set, b.dept.ID, r.From, r.To) {
		b.person(user).OnCallSeconds = secs
	}
	for _, p := range b.people {
		r.People = append(r.People, *p)
	}
	slices.SortFunc(r.People, func(a, b PersonHealth) int { return cmp.Compare(a.User, b.User) })
	r.Gaps = departmentGaps(b.set, b.dept, r.From, r.To)
	for _, g := range r.Gaps {
		r.GapSeconds += g.End.Sub(g.Start).Seconds()
	}
	if r.Gaps == nil {
		r.Gaps = []policies.Gap{}
	}
	if r.People == nil {
		r.People = []PersonHealth{}
	}
	return r
}

// percentiles by nearest rank (see Percentiles).
func percentiles(ds []time.Duration) Percentiles {
	p := Percentiles{Count: len(ds)}
	if len(ds) == 0 {
		return p
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(pct int) *float64 {
		k := (pct*len(s) + 99) / 100 // ceil(pct*n/100), 1-based
		v := s[max(k, 1)-1].Seconds()
		return &v
	}
	p.P50, p.P90 = rank(50), rank(90)
	top := s[len(s)-1].Seconds()
	p.Max = &top
	return p
}

// onCallSeconds is, per person, the time in [from, to) they were on call
// in any of the department's rotations and schedules: the union of their
// shifts, so a schedule built on a rotation does not count twice.
func onCallSeconds(set *policies.Set, dept string, from, to time.Time) map[string]float64 {
	byUser := map[string][]policies.Shift{}
	for _, id := range set.DepartmentSources(dept) {
		shifts, err := set.Shifts(id, from, to)
		if err != nil {
			continue // DepartmentSources names only compiled sources
		}
		for _, sh := range shifts {
			byUser[sh.User] = append(byUser[sh.User], sh)
		}
	}
	out := map[string]float64{}
	for user, shs := range byUser {
		slices.SortFunc(shs, func(a, b policies.Shift) int { return a.Start.Compare(b.Start) })
		var total time.Duration
		var curStart, curEnd time.Time
		for i, sh := range shs {
			if i > 0 && !sh.Start.After(curEnd) {
				if sh.End.After(curEnd) {
					curEnd = sh.End
				}
				continue
			}
			total += curEnd.Sub(curStart)
			curStart, curEnd = sh.Start, sh.End
		}
		total += curEnd.Sub(curStart)
		out[user] = total.Seconds()
	}
	return out
}

// departmentGaps are the coverage gaps of the policies dept uses: its own
// escalation_policy and those of the routes to it.
func departmentGaps(set *policies.Set, d *config.Department, from, to time.Time) []policies.Gap {
	cfg := set.Config()
	uses := map[string]bool{d.EscalationPolicy: d.EscalationPolicy != ""}
	routes := slices.Clone(cfg.Routes)
	if cfg.DefaultRoute != nil {
		routes = append(routes, cfg.DefaultRoute)
	}
	for _, rt := range routes {
		if rt.Department != d.ID {
			continue
		}
		if p := cfg.RoutePolicy(rt); p != nil {
			uses[p.ID] = true
		}
	}
	var out []policies.Gap
	for _, g := range set.CoverageGaps(from, to) {
		if uses[g.Policy] {
			g.Start, g.End = g.Start.UTC(), g.End.UTC()
			out = append(out, g)
		}
	}
	return out
}
