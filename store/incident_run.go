package store

import "time"

// Incident.Roles maps a role (ic, ops, comm, rec) to the configured user who
// holds it; a role nobody holds is absent. Who changed which, and when, is
// on the timeline, so the record keeps only the holders of now.

// ReportFields are what people said about an incident for its reports and
// its review: each is the latest value set by a note or a severity change,
// "" while nobody said it (reports write it as unknown). Their history is on
// the timeline.
type ReportFields struct {
	Impact string `json:"impact,omitempty"`
	// CurrentSeverity is the severity people set during the incident; the
	// routed Incident.Severity stays the provisional one.
	CurrentSeverity   string `json:"current_severity,omitempty"`
	SeverityReason    string `json:"severity_reason,omitempty"`
	Cause             string `json:"cause,omitempty"`
	ActionProvisional string `json:"action_provisional,omitempty"`
	ActionPermanent   string `json:"action_permanent,omitempty"`
	Prevention        string `json:"prevention,omitempty"` // the ticket that tracks it
}

// ReportState is the schedule and memory of an incident's stakeholder
// reports. NextAt is the due time of the one pending periodic report timer
// (router/reports.go names the timer by it), so moving the next report is
// cancelling that timer and scheduling another.
type ReportState struct {
	Sent   int       `json:"sent,omitempty"`     // initial and update reports sent; the next is number Sent+1
	LastAt time.Time `json:"last_at,omitzero"`   // when the last one went out
	NextAt time.Time `json:"next_at,omitzero"`   // the next periodic one; zero when none is scheduled
	Period int64     `json:"period_s,omitempty"` // seconds, set by Comm; 0 is the departments' update_every
	// Draft is Comm's text for the next report's status / changes part;
	// DraftReplace puts it in place of what hikyaku writes there.
	Draft        string `json:"draft,omitempty"`
	DraftReplace bool   `json:"draft_replace,omitempty"`
	// Last is what the last report said, for the next one's changes.
	Last *ReportSnapshot `json:"last,omitempty"`
	// Severities are the current severities people set, besides the routed
	// one, first set first: stakeholders who asked for any of them are
	// informed until the final report.
	Severities []string `json:"severities,omitempty"`
}

// ReportSnapshot is what a report said of the incident's state.
type ReportSnapshot struct {
	Status   string   `json:"status,omitempty"`
	AckedBy  string   `json:"acked_by,omitempty"`
	Severity string   `json:"severity,omitempty"`
	Impact   string   `json:"impact,omitempty"`
	Firing   []string `json:"firing,omitempty"` // the firing alerts' names
}
