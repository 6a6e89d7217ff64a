package main

import (
	"log/slog"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/all"
)

// inboundRoutes are the channels' own endpoints on the public listener
// (channels.Inbound): Twilio's SMS replies, key presses and status
// callbacks, Slack's buttons. They are served whether or not a provider is
// configured, and refuse what its credential does not sign.
func inboundRoutes(r channels.Receiver, log *slog.Logger) []channels.Route {
	return all.Registry.Routes(r, log)
}
