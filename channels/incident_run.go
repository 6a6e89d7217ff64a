package channels

import "github.com/hikyaku/hikyaku/catalog"

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

// Report is one stakeholder report as hikyaku writes it: its phase and
// number, and every field of that phase in order, labelled in the
// message's language. A field hikyaku does not know is there with Known
// false and the word for unknown as its Value, never left out.
type Report struct {
	Phase  string        `json:"phase"`  // initial, update, final
	Number int           `json:"number"` // 1 for the initial report; the final report's is 0
	Extra  bool          `json:"extra,omitempty"`
	Title  string        `json:"title"` // 初報, 第2報 (定時報), 完了報…
	Fields []ReportField `json:"fields"`
}

// ReportField is one line of a report.
type ReportField struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	Value string `json:"value"`
	Known bool   `json:"known"`
}

// Field is the field named key, for templates: {{ (.Report.Field "impact").Value }}.
func (r *Report) Field(key string) ReportField {
	for _, f := range r.Fields {
		if f.Key == key {
			return f
		}
	}
	return ReportField{Key: key}
}

// Labelled are the fields n sets, each "label: value" with the label the
// reports give it in lang (incident.field.*), in report order, the current
// severity first with its reason: what a channel tells the person their
// note set.
func (n NoteText) Labelled(lang string) []string {
	var out []string
	t := catalog.For(lang)
	if n.Severity != "" {
		out = append(out, t.T("incident.field.current_severity")+": "+n.Severity+" ("+n.SeverityReason+")")
	}
	f := n.Fields
	for _, p := range [][2]string{{"impact", f.Impact}, {"cause", f.Cause}, {"action_provisional", f.ActionProvisional},
		{"action_permanent", f.ActionPermanent}, {"prevention", f.Prevention}} {
		if p[1] != "" {
			out = append(out, t.T(catalog.Key("incident.field."+p[0]))+": "+p[1])
		}
	}
	return out
}
