package ntfy

import (
	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
)

// Provider is the ntfy channel: a person's contacts.ntfy is their topic on
// the server of providers.ntfy (url, token).
type Provider struct {
	// Options adjust every sender it builds (tests).
	Options []Option
}

func (Provider) Name() string    { return "ntfy" }
func (Provider) Account() string { return "ntfy" }

// ReportRank: a push is read like a chat message, and costs nothing per
// message, so it comes before SMS for stakeholder reports.
func (Provider) ReportRank() int { return 35 }

// CheckContact reads a contact as the sender will: a topic (ntfy's rule
// for its names), or the topic's URL on a server of the person's own.
func (Provider) CheckContact(address string) error {
	_, _, err := parseAddress(address)
	return err
}

// NewSender is the sender of providers.ntfy, nil when it is absent or its
// token does not resolve (config reports either as a provider problem).
func (p Provider) NewSender(cfg *config.Config) (channels.Sender, error) {
	ps := cfg.Providers.Setting("ntfy")
	if ps == nil {
		return nil, nil
	}
	if _, ok := ps.Token.Reveal(); !ok && !ps.Token.IsZero() {
		return nil, nil
	}
	s, err := New(ps.URL, ps.Token, p.Options...)
	if err != nil {
		return nil, err
	}
	return s, nil
}
