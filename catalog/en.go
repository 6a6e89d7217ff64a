package catalog

func init() { Add("en", en) }

// en is hikyaku's English.
var en = Messages{
	// sms. and voice. (channels/twilio)

	// email. (channels/email)

	// slack. (channels/slack)

	// link. (router/links.go)

	// template. and report. (channels/template, router/bundle.go)

	// incident. and timeline. (router/incident_roles.go, router/timeline_export.go)
	"incident.role.ic":                  "IC",
	"incident.role.ops":                 "Ops",
	"incident.role.comm":                "Comm",
	"incident.role.rec":                 "Rec",
	"incident.unknown":                  "unknown",
	"incident.field.impact":             "Impact",
	"incident.field.severity":           "Provisional severity",
	"incident.field.current_severity":   "Current severity",
	"incident.field.cause":              "Cause",
	"incident.field.action_provisional": "Action taken (provisional)",
	"incident.field.action_permanent":   "Action taken (permanent)",
	"incident.field.prevention":         "Prevention ticket",
	"timeline.title":                    "Incident #%d: %s",
	"timeline.department":               "Department",
	"timeline.status":                   "Status",
	"timeline.opened":                   "Opened",
	"timeline.acked":                    "Acknowledged",
	"timeline.resolved":                 "Resolved",
	"timeline.figures":                  "Key figures",
	"timeline.time_to_ack":              "Time to acknowledge",
	"timeline.time_to_resolve":          "Time to resolve",
	"timeline.people_paged":             "People paged",
	"timeline.steps_fired":              "Steps fired",
	"timeline.reports_sent":             "Reports sent",
	"timeline.not_yet":                  "not yet",
	"timeline.roles":                    "Roles",
	"timeline.fields":                   "Report fields",
	"timeline.decisions":                "Decisions",
	"timeline.no_decisions":             "none recorded",
	"timeline.events":                   "Timeline (%s)",
	"timeline.col.time":                 "Time",
	"timeline.col.event":                "Event",
	"timeline.col.actor":                "Actor",
	"timeline.col.channel":              "Channel",
	"timeline.col.result":               "Result",
	"timeline.decision":                 "Decision",
	"timeline.role_released":            "%s: nobody (was %s)",

	// ntfy. (channels/ntfy)
}
