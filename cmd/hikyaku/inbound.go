package main

import (
	"log/slog"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/slack"
	"github.com/hikyaku/hikyaku/channels/twilio"
)

// inboundRoutes are the channels' own endpoints on the public listener:
// Twilio's SMS replies, key presses and status callbacks, Slack's buttons.
// They are served whether or not a provider is configured, and refuse
// what its credential does not sign.
func inboundRoutes(r channels.Receiver, log *slog.Logger) []channels.Route {
	routes := twilio.Routes(r, twilio.InboundOptions{Log: log})
	return append(routes, slack.Routes(r, slack.InboundOptions{Log: log})...)
}
