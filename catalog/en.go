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
}
