package router

import (
	hslack "github.com/hikyaku/hikyaku/channels/slack"
	"github.com/hikyaku/hikyaku/channels/twilio"
	"github.com/hikyaku/hikyaku/config"
)

// inboundServer is e's HTTP server with the Twilio and Slack inbound
// endpoints mounted on the real engine, as serve mounts them: the tests
// that need the store's replay windows, takeover marks and timelines
// behind an SMS, a key press or a button run through it.
func inboundServer(e *Engine) *Server {
	routes := twilio.Routes(e.Receiver(), twilio.InboundOptions{Log: e.log})
	return &Server{Engine: e, Inbound: append(routes, hslack.Routes(e.Receiver(), hslack.InboundOptions{Log: e.log})...)}
}

// keypadReprompts is how often a call asks again for a key (docs/acknowledge.md).
const keypadReprompts = 2

// phoneUser is the user whose SMS, else voice, number is number.
func phoneUser(cfg *config.Config, number string) *config.User {
	for _, u := range cfg.Users {
		if number != "" && u.Contacts.SMS == number {
			return u
		}
	}
	for _, u := range cfg.Users {
		if number != "" && u.Contacts.Voice == number {
			return u
		}
	}
	return nil
}
