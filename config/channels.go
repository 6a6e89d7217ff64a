package config

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
)

// ChannelSpec is what the configuration knows of one channel a person can
// be reached on. config knows no channel by itself: each comes from its
// provider in the channels registry (channels/all), which hands the specs
// over once at start with UseChannels, because config sits below channels
// in the import graph and cannot ask them.
type ChannelSpec struct {
	Name Channel
	// Provider names the providers: section that carries the channel
	// (twilio for sms and voice) and its health metric label.
	Provider string
	// NoAccount says the channel needs no providers: section (webhooks).
	NoAccount bool
	// ReportRank orders the written channels for stakeholder reports, the
	// lowest first; 0 is a call: it rings, so it is paged last by default
	// and never carries a report.
	ReportRank int
	// Metered says messages to a person count against the per-person limit.
	Metered bool
	// Check validates a contact address; its error is shown at the contact's FILE:LINE:COL.
	Check func(address string) error
	// Endpoint, when set, lets a contact name the person's own server and
	// token: as a mapping, the address under this key with server: and
	// token: ({topic: alice, server: https://ntfy.example.com, token:
	// {env: …}}), or as the address's URL on that server. Contacts then
	// holds the address (the URL when a server is named) and
	// User.Endpoints the server and token.
	Endpoint string
}

// Written tells whether the channel delivers text rather than a call.
func (s ChannelSpec) Written() bool { return s.ReportRank > 0 }

var (
	channelsMu sync.RWMutex
	channelSet []ChannelSpec
)

// UseChannels sets the channels every later Load and Parse knows, in the
// order failover tries them. Called once, from the registry's init.
func UseChannels(specs ...ChannelSpec) {
	channelsMu.Lock()
	defer channelsMu.Unlock()
	channelSet = slices.Clone(specs)
}

func knownChannels() []ChannelSpec {
	channelsMu.RLock()
	defer channelsMu.RUnlock()
	return channelSet
}

// Channels are the channels this configuration was validated with, in
// failover order.
func (c *Config) Channels() []ChannelSpec { return c.channels }

// ChannelSpec returns the spec of channel ch, and whether it is known.
func (c *Config) ChannelSpec(ch Channel) (ChannelSpec, bool) {
	for _, s := range c.channels {
		if s.Name == ch {
			return s, true
		}
	}
	return ChannelSpec{}, false
}

// ReportChannels are the written channels in the order stakeholder reports prefer them.
func (c *Config) ReportChannels() []Channel {
	var written []ChannelSpec
	for _, s := range c.channels {
		if s.Written() {
			written = append(written, s)
		}
	}
	sort.SliceStable(written, func(i, j int) bool { return written[i].ReportRank < written[j].ReportRank })
	out := make([]Channel, len(written))
	for i, s := range written {
		out[i] = s.Name
	}
	return out
}

// ProviderSettings are the settings of a provider config has no section of
// its own for: a server URL and a bearer token, which is what a push
// service (ntfy) needs. Its channel's provider reads them.
type ProviderSettings struct {
	URL   string `yaml:"url"`
	Token Secret `yaml:"token"`
}

// Setting returns the open provider section named name, nil when absent.
func (p Providers) Setting(name string) *ProviderSettings { return p.Others[name] }

// Configured tells whether the providers: section name is present.
func (p Providers) Configured(name string) bool {
	switch name {
	case "twilio":
		return p.Twilio != nil
	case "smtp":
		return p.SMTP != nil
	case "slack":
		return p.Slack != nil
	}
	return p.Others[name] != nil
}

// openProvider tells whether providers.name is an open section: some
// known channel needs it and Providers has no field of its own for it.
func openProvider(name string) bool {
	switch name {
	case "twilio", "smtp", "slack":
		return false
	}
	for _, s := range knownChannels() {
		if s.Provider == name && !s.NoAccount {
			return true
		}
	}
	return false
}

// Endpoint is u's own server and token for channel ch; false when the
// contact has neither and the provider's section applies.
func (u *User) Endpoint(ch Channel) (Endpoint, bool) {
	ep, ok := u.Endpoints[ch]
	return ep, ok
}

// Get is the contact address for ch, "" when there is none.
func (ct Contacts) Get(ch Channel) string { return ct[string(ch)] }

// Has tells whether the contact point for ch is set.
func (ct Contacts) Has(ch Channel) bool { return ct[string(ch)] != "" }

// CheckE164 validates a phone number in E.164.
func CheckE164(number string) error {
	if !e164Re.MatchString(number) {
		return fmt.Errorf("invalid phone number %q: use E.164, e.g. +819012345678", number)
	}
	return nil
}

// CheckEmail validates a bare email address (no display name).
func CheckEmail(addr string) error {
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Address != addr {
		return fmt.Errorf("invalid email address %q", addr)
	}
	return nil
}

// CheckHTTPURL validates an http:// or https:// URL with a host.
func CheckHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("invalid URL %q: want http:// or https:// with a host", raw)
	}
	return nil
}

// errNoChannels is the configuration loaded by a program that registered
// no channel: every contact would be refused, so say why once.
var errNoChannels = errors.New("no channels are registered: the program must import github.com/hikyaku/hikyaku/channels/all (a bug in hikyaku)")

func channelNames(specs []ChannelSpec) string {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = string(s.Name)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
