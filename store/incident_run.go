package store

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
