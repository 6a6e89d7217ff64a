// Package all is the list of every channel hikyaku has: adding a channel is
// one line here. Importing it hands config the channels it validates with.
package all

import (
	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/email"
	"github.com/hikyaku/hikyaku/channels/ntfy"
	"github.com/hikyaku/hikyaku/channels/slack"
	"github.com/hikyaku/hikyaku/channels/twilio"
	"github.com/hikyaku/hikyaku/channels/webhook"
	"github.com/hikyaku/hikyaku/config"
)

// Registry holds the providers in the order failover tries a person's
// contacts: SMS first (fast, read on a lock screen), a call next.
var Registry = channels.NewRegistry(
	twilio.SMSProvider{},
	twilio.VoiceProvider{},
	slack.Provider{},
	email.Provider{},
	webhook.Provider{},
	ntfy.Provider{},
)

func init() { config.UseChannels(Registry.Specs()...) }
