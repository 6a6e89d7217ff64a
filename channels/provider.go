package channels

import (
	"context"
	"log/slog"

	"github.com/hikyaku/hikyaku/config"
)

// Provider is one channel hikyaku reaches people on: its name (the key of
// a person's contacts and of notification rules), the providers: section
// that carries it, and how it builds its Sender from a configuration. What
// more it can do it says by implementing the capability interfaces below;
// the Registry asks, so no list elsewhere names channels.
type Provider interface {
	// Name is the channel: sms, voice, email, slack, webhook, ntfy…
	Name() string
	// Account names the providers: section it needs (twilio for sms and
	// voice) and its label in hikyaku_provider_up.
	Account() string
	// NewSender builds the channel's sender from cfg; nil with a nil error
	// when cfg does not configure it (its contacts then fail over).
	NewSender(cfg *config.Config) (Sender, error)
}

// ContactChecker is a provider that validates its contact's format;
// config shows the error at the contact's FILE:LINE:COL.
type ContactChecker interface {
	CheckContact(address string) error
}

// OwnEndpoint is a provider whose contact may name the person's own server
// and access token (a self-hosted ntfy): EndpointKey is the key of the
// address in a contact written as a mapping ({topic: …, server: …, token:
// …}); config validates the rest and hands it over in User.Endpoints.
type OwnEndpoint interface {
	EndpointKey() string
}

// Written is a provider that delivers text, not a call: it may carry
// stakeholder reports, in ReportRank order (lowest first), and is paged at
// once by default. A provider that is not Written rings: it is paged last.
type Written interface {
	ReportRank() int
}

// Metered is a provider whose messages to a person count against the
// per-person limit (providers.twilio.per_person_per_minute): extra pages
// are bundled rather than sent.
type Metered interface {
	Metered() bool
}

// NoAccount is a provider that needs no providers: section (webhooks post
// to the contact's own URL).
type NoAccount interface {
	NoAccount() bool
}

// Inbound is a provider that serves endpoints on the public listener,
// reaching incidents only through the Receiver; log takes their lines.
type Inbound interface {
	Routes(r Receiver, log *slog.Logger) []Route
}

// AckHinter is a Sender that words its own acknowledgement hint for m (a
// button on the notification) in m.Language; "" leaves the built-in hint.
type AckHinter interface {
	AckHint(m *Message) string
}

// Updater is a Sender that can rewrite a message it posted, given the
// receipt's ProviderID (the Slack and ntfy senders): acked and resolved pages stop
// offering to acknowledge.
type Updater interface {
	Update(ctx context.Context, providerID string, m *Message) error
}
