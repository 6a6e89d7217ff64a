package channels

// RoleHolder is who holds one incident role, as messages show it.
type RoleHolder struct {
	Role  string `json:"role"`  // ic, ops, comm, rec
	Title string `json:"title"` // its display name in the message's language
	User  string `json:"user"`  // the configured user id
	Name  string `json:"name"`  // the user's name, else the id
}

// IncidentReport is what people said about the incident in notes and
// severity changes, the latest of each; "" is not known yet.
type IncidentReport struct {
	CurrentSeverity   string `json:"current_severity,omitempty"`
	SeverityReason    string `json:"severity_reason,omitempty"`
	Impact            string `json:"impact,omitempty"`
	Cause             string `json:"cause,omitempty"`
	ActionProvisional string `json:"action_provisional,omitempty"`
	ActionPermanent   string `json:"action_permanent,omitempty"`
	Prevention        string `json:"prevention,omitempty"`
}
