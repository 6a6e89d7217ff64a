package catalog

func init() { Add("en", en) }

// en is hikyaku's English.
var en = Messages{
	// sms. and voice. (channels/twilio)

	// email. (channels/email)

	// slack. (channels/slack)

	// link. (router/links.go)

	// template. and report. (channels/template, router/bundle.go)

	// ntfy. (channels/ntfy)

	// access. (access/roles.go): why an action was refused, said to the
	// person on whatever channel they used.
	"access.unknown":       "%s is not a configured user: nothing was changed.",
	"access.viewer":        "You are a viewer in %s: viewers read, they do not act. Nothing was changed.",
	"access.no_role":       "Incident #%d belongs to %s, where you have no role, and did not page you: nothing was changed.",
	"access.admin_only":    "Only a department admin may %s: nothing was changed.",
	"access.service_admin": "The shared api_token acts on incidents only; %s needs an admin's own token. Nothing was changed.",
}
