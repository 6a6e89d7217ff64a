package catalog

func init() { Add("en", en) }

// en is hikyaku's English.
var en = Messages{
	// sms. and voice. (channels/twilio)

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

	// slack. (channels/slack)

	// link. (router/links.go)

	// template. and report. (channels/template, router/bundle.go)

	// ntfy. (channels/ntfy)
}
