package router

import (
	"time"

	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

// ReportPlan is what the stakeholders of an incident would hear, by the
// same rules the engine follows (open, sendReport, resolveChange), for
// simulate: nothing is stored or sent.
type ReportPlan struct {
	// Period is how often an update follows the last report; 0 when no
	// stakeholder department sets update_every.
	Period     time.Duration
	Location   *time.Location // the department's zone, the one reports are written in
	Recipients []ReportRecipient
	Reports    []PlannedReport
}

// ReportRecipient is one stakeholder and the channel the reports take to
// them. Channel is "" for a person with no written contact: the engine
// skips them, and so does a report.
type ReportRecipient struct {
	User        string
	ChatChannel string
	Channel     string
	Language    string
}

// PlannedReport is one report: Phase is initial, update or final; At is
// zero for a final report of an incident that does not resolve in the
// window ("when resolved").
type PlannedReport struct {
	Phase  string
	Number int
	At     time.Time
}

// Report phases as the plan names them.
const (
	PhaseInitial = phaseInitial
	PhaseUpdate  = phaseUpdate
	PhaseFinal   = phaseFinal
)

// PlanReports is the reports of the incident decision d opens at open:
// the initial one then, an update every period after it while the incident
// is open, before resolved and before until, and the final one at resolved
// (zero: it does not resolve, and the final report has no time). A drop or a maintenance window informs nobody
// (the reports of a maintenance incident start only if it pages when the
// window ends). An acknowledgement, which sends an update at once and
// counts the period from there, cannot be foreseen and is not in the plan.
func PlanReports(set *policies.Set, d policies.Decision, open, resolved, until time.Time) *ReportPlan {
	inc := &store.Incident{Department: d.Department, Severity: d.Severity}
	plan := &ReportPlan{Location: reportLoc(set.Config(), inc)}
	if d.Action == policies.ActionDrop || d.Action == policies.ActionMaintenance {
		return plan
	}
	cfg := set.Config()
	for _, s := range stakeholders(set, inc) {
		r := ReportRecipient{User: s.user, ChatChannel: s.chat, Channel: s.channel}
		if u := cfg.User(s.user); u != nil {
			r.Language = u.Language
		} else if cc := cfg.ChatChannel(s.chat); cc != nil {
			r.Language = cc.Language
		}
		plan.Recipients = append(plan.Recipients, r)
	}
	if !hasWritten(plan.Recipients) {
		return plan
	}
	plan.Period = updateEvery(set, inc)
	end := until
	if !resolved.IsZero() && resolved.Before(end) {
		end = resolved
	}
	plan.Reports = append(plan.Reports, PlannedReport{Phase: phaseInitial, Number: 1, At: open.In(plan.Location)})
	if plan.Period > 0 {
		for at, n := open.Add(plan.Period), 2; at.Before(end); at, n = at.Add(plan.Period), n+1 {
			plan.Reports = append(plan.Reports, PlannedReport{Phase: phaseUpdate, Number: n, At: at.In(plan.Location)})
		}
	}
	final := PlannedReport{Phase: phaseFinal}
	if !resolved.IsZero() {
		final.At = resolved.In(plan.Location)
	}
	plan.Reports = append(plan.Reports, final)
	return plan
}

// hasWritten says whether any recipient has a channel a report can take;
// stakeholderMessages sends nothing to the others.
func hasWritten(rs []ReportRecipient) bool {
	for _, r := range rs {
		if r.Channel != "" {
			return true
		}
	}
	return false
}
