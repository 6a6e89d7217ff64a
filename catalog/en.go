package catalog

func init() { Add("en", en) }

// en is hikyaku's English.
var en = Messages{
	// sms. and voice. (channels/twilio). SMS answers stay short: one longer
	// than a segment costs more and may arrive in pieces.
	"sms.done.ack":       "#%d acknowledged. Escalation stopped.",
	"sms.done.resolve":   "#%d resolved.",
	"sms.done.escalate":  "#%d escalated to the next step.",
	"sms.verb.ack":       "ack",
	"sms.verb.resolve":   "resolve",
	"sms.verb.escalate":  "escalate",
	"sms.already_acked":  "#%d was already acknowledged by %s. Nothing changed.",
	"sms.resolved":       "#%d is already resolved. Nothing changed.",
	"sms.not_found":      "There is no incident #%d. Nothing changed.",
	"sms.none_open":      "You have no open page. Reply with its id, e.g. 'ack 12'.",
	"sms.several":        "Open: %s. Reply with the id, e.g. '%d %s'.",
	"sms.more":           " (+%d more)",
	"sms.help":           "Reply 'ack 12' or '12a' to acknowledge, '12r' to resolve, '12e' to escalate; 'ack' alone acts on your only open page. STOP ends SMS pages, START resumes them.",
	"sms.not_understood": "Not understood.",
	"sms.unknown":        "This number is not registered with hikyaku. Nothing changed.",
	"sms.stop":           "SMS pages stopped: you will be paged by your other contact methods. Reply START to resume.",
	"sms.start":          "SMS pages resumed.",
	"sms.failed":         "That could not be recorded. Please try again.",

	"voice.done.ack":      "Acknowledged. Escalation stopped.",
	"voice.done.escalate": "Escalated to the next step.",
	"voice.done.resolve":  "Resolved.",
	"voice.already_acked": "This incident was already acknowledged by %s. Nothing changed.",
	"voice.resolved":      "This incident is already resolved. Nothing changed.",
	"voice.not_found":     "This incident was not found. Nothing changed.",
	"voice.unknown":       "This number is not registered with hikyaku. Nothing changed.",
	"voice.failed":        "Sorry, that could not be recorded.",

	// email. (channels/email)
	"email.reply.already_resolved": "Incident #%d is already resolved: nothing was changed.",
	"email.reply.no_incident":      "There is no incident #%d: nothing was changed.",
	"email.reply.already_acked":    "Incident #%d was already acknowledged by %s.",
	"email.reply.acked":            "Incident #%d acknowledged by %s (email): escalation stopped.",
	"email.reply.resolved":         "Incident #%d resolved by %s (email).",
	"email.reply.escalated":        "Incident #%d escalated by %s (email): the next step is being paged.",
	// The refusal notice takes the incident, the reason in English words
	// and the reason's code.
	"email.refused.subject": "[hikyaku #%d] Your email reply could not be verified",
	"email.refused.text": "A reply from your address about incident #%[1]d could not be verified (%[2]s), so nothing was changed.\n\n" +
		"To act by email, reply to this message: its reply address proves it is you. " +
		"Or use the links in the page, Slack, SMS or the hikyaku CLI.\n",

	// slack. (channels/slack): the ephemeral answers to a button press.
	"slack.not_user":      "You are not a hikyaku user: nothing was changed. Ask an admin to add your Slack id (%s) to users[].contacts.slack.",
	"slack.no_incident":   "This button names no incident: nothing was changed.",
	"slack.not_found":     "There is no incident #%d: nothing was changed.",
	"slack.resolved":      "Incident #%d is already resolved: nothing was changed.",
	"slack.failed":        "Could not record that for incident #%d, please try again.",
	"slack.already_acked": "Incident #%d was already acknowledged by %s.",

	// link. (router/links.go)

	// template. and report. (channels/template, router/bundle.go)

	// ntfy. (channels/ntfy)

	// console. (access/, router/console.go: sign-in and the console)
	"console.sign_in":            "Sign in",
	"console.sign_out":           "Sign out",
	"console.signed_in_as":       "Signed in as %s (%s)",
	"console.open_incidents":     "Open incidents",
	"console.no_incidents":       "No open incidents.",
	"console.ack":                "Acknowledge",
	"console.acked":              "Incident #%d acknowledged by %s.",
	"console.ack_failed":         "Incident #%d was not acknowledged: %s",
	"console.back":               "Back to the incidents",
	"console.not_signed_in":      "You are not signed in.",
	"console.signed_out":         "You are signed out.",
	"console.no_oidc":            "Sign-in by OpenID Connect is not configured here.",
	"console.provider_down":      "The identity provider cannot be reached right now. Paging is not affected; try again in a minute.",
	"console.refused_flow":       "This sign-in started too long ago or in another browser. Start again.",
	"console.refused_provider":   "The identity provider refused the sign-in (%s).",
	"console.refused_token":      "The identity provider's answer could not be verified (%s). Sign in again; if it keeps happening, tell an admin.",
	"console.refused_unverified": "Your identity provider does not say that the email address %s is verified, so hikyaku cannot tell that it is yours.",
	"console.refused_unknown":    "No user in hikyaku's configuration has the email address %s. Ask an admin to set it as your user's contacts.email.",
	"console.refused_csrf":       "This form was refused: %s. Reload the page and try again.",
}
