package policies

import (
	"time"

	"github.com/hikyaku/hikyaku/config"
)

// Action is what the router does with an alert group a route matched.
type Action string

// The actions a Decision may carry.
const (
	// ActionPage starts the escalation policy now.
	ActionPage Action = "page"
	// ActionStakeholders informs the department's stakeholders and pages nobody.
	ActionStakeholders Action = "stakeholders"
	// ActionHold records the incident and pages at HoldUntil, when the route's
	// next active interval starts.
	ActionHold Action = "hold"
	// ActionDrop records nothing and pages nobody.
	ActionDrop Action = "drop"
	// ActionMaintenance records the incident and pages nobody: a maintenance
	// window muted it.
	ActionMaintenance Action = "maintenance"
)

// UnknownSeverity is the severity of alerts whose route fixes none and whose
// severity label is missing, so reports never show an empty severity.
const UnknownSeverity = "unknown"

// HoldSearch is how far ahead a held alert looks for its route's next active
// interval. Eight days covers any weekly pattern plus a long weekend's edge;
// an interval that never starts within it is treated as a mistake, and the
// alert pages at once rather than waiting forever.
const HoldSearch = 8 * 24 * time.Hour

// Decision is what one matching route decided for an alert group.
type Decision struct {
	Route      string `json:"route"`
	Department string `json:"department,omitempty"`
	Policy     string `json:"policy,omitempty"`
	Severity   string `json:"severity,omitempty"`
	Action     Action `json:"action"`
	// HoldUntil is when a held alert pages: the start of the route's next active interval.
	HoldUntil time.Time `json:"hold_until,omitzero"`
	// Maintenance names the window that muted the alert.
	Maintenance string `json:"maintenance,omitempty"`
	// Note explains a decision the configuration alone does not predict,
	// such as a hold that pages at once because no active interval comes.
	Note string `json:"note,omitempty"`
}

// Route decides what happens to an alert group with labels lbls (the group's
// commonLabels) at at. Routes are tried in file order; the first match wins
// unless it says continue, in which case every later match decides too. When
// no route matched, the default route decides, so the result is never empty.
func (s *Set) Route(lbls map[string]string, at time.Time) []Decision {
	var out []Decision
	for _, r := range s.cfg.Routes {
		if !matches(r, lbls) {
			continue
		}
		d, ok := s.decide(r, lbls, at, false)
		if !ok {
			continue
		}
		out = append(out, d)
		// A drop is final even with continue: the alert was declared noise,
		// and paging for it on a later route would contradict that.
		if !r.Continue || d.Action == ActionDrop {
			return out
		}
	}
	if len(out) > 0 {
		return out
	}
	d, _ := s.decide(s.cfg.DefaultRoute, lbls, at, true)
	return []Decision{d}
}

// matches applies Alertmanager's rule: every matcher must match, and a label
// the alert lacks is matched as the empty string.
func matches(r *config.Route, lbls map[string]string) bool {
	for _, m := range r.ParsedMatchers {
		if !m.Matches(lbls[m.Name]) {
			return false
		}
	}
	return true
}

// decide is what route r does at at; false means r skips itself (inactive:
// skip outside its intervals). The default route cannot skip: nothing comes
// after it, so it holds instead, which still pages eventually.
func (s *Set) decide(r *config.Route, lbls map[string]string, at time.Time, isDefault bool) (Decision, bool) {
	d := Decision{Route: r.Name, Action: ActionPage}
	if r.Drop {
		d.Action = ActionDrop
		return d, true
	}
	d.Department = r.Department
	if p := s.cfg.RoutePolicy(r); p != nil {
		d.Policy = p.ID
	}
	d.Severity = severity(r, lbls)
	if len(r.ActiveTimeIntervals) > 0 && !s.active(r.ActiveTimeIntervals, at) {
		inactive := r.Inactive
		if inactive == "skip" && isDefault {
			inactive = "hold"
		}
		switch inactive {
		case "skip":
			return Decision{}, false
		case "stakeholders":
			d.Action = ActionStakeholders
		default:
			if next, ok := s.nextActive(r.ActiveTimeIntervals, at, HoldSearch); ok {
				d.Action, d.HoldUntil = ActionHold, next
			} else {
				d.Note = "held, but none of the route's active_time_intervals starts within 8 days: paging now"
			}
		}
	}
	if name, ok := s.InMaintenance(d.Department, d.Route, at); ok {
		d.Action, d.Maintenance, d.HoldUntil = ActionMaintenance, name, time.Time{}
	}
	return d, true
}

// severity is the route's fixed severity, else the severity label's value
// through the route's map. Values the map does not list pass through as they
// are: a new severity someone adds to an alert should reach a human under its
// own name rather than vanish into "unknown".
func severity(r *config.Route, lbls map[string]string) string {
	sev := r.Severity
	if sev == "" {
		sev = lbls[r.SeverityLabel]
		if mapped, ok := r.SeverityMap[sev]; ok {
			sev = mapped
		}
	}
	if sev == "" {
		return UnknownSeverity
	}
	return sev
}

// active tells whether at falls in any of the named time intervals. It goes
// through windows, as rotations do, so a time interval means the same thing
// wherever the file uses it (one without a location is read in UTC, as
// Alertmanager reads it).
func (s *Set) active(names []string, at time.Time) bool {
	if len(names) == 0 {
		return false
	}
	return compileWindows(s.cfg, names).contains(at)
}

// nextActive is the first instant in (at, at+within) when any of the named
// intervals is active; at itself must be outside them.
func (s *Set) nextActive(names []string, at time.Time, within time.Duration) (time.Time, bool) {
	for _, sp := range compileWindows(s.cfg, names).spans(at, at.Add(within)) {
		if sp.start.After(at) {
			return sp.start.In(s.cfg.Global.Location), true
		}
	}
	return time.Time{}, false
}
