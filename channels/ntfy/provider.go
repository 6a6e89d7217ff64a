package ntfy

import (
	"fmt"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
)

// Provider is the ntfy channel: a person's contacts.ntfy is their topic on
// the server of providers.ntfy (url, token), or on a server of their own,
// with their own token ({topic, server, token}).
type Provider struct {
	// Options adjust every sender it builds (tests).
	Options []Option
}

func (Provider) Name() string    { return "ntfy" }
func (Provider) Account() string { return "ntfy" }

// ReportRank: a push is read like a chat message, and costs nothing per
// message, so it comes before SMS for stakeholder reports.
func (Provider) ReportRank() int { return 35 }

// EndpointKey lets a contact be {topic: …, server: …, token: …}.
func (Provider) EndpointKey() string { return "topic" }

// CheckContact reads a contact as the sender will: a topic (ntfy's rule
// for its names), or the topic's URL on a server of the person's own.
func (Provider) CheckContact(address string) error {
	_, _, err := parseAddress(address)
	return err
}

// NewSender is the sender of providers.ntfy and of the contacts that name
// their own server or token; nil when there are none, or when the token of
// providers.ntfy does not resolve (config reports either as a provider
// problem, and serve refuses to start).
func (p Provider) NewSender(cfg *config.Config) (channels.Sender, error) {
	ps := cfg.Providers.Setting("ntfy")
	var own []*config.User
	for _, u := range cfg.Users {
		if _, ok := u.Endpoint("ntfy"); ok {
			own = append(own, u)
		}
	}
	if ps == nil && len(own) == 0 {
		return nil, nil
	}
	if ps != nil {
		if _, ok := ps.Token.Reveal(); !ok && !ps.Token.IsZero() {
			return nil, nil
		}
	}
	var (
		s   *Sender
		err error
	)
	if ps != nil {
		s, err = New(ps.URL, ps.Token, p.Options...)
	} else {
		s, err = New(DefaultServer, config.Secret{}, p.Options...)
		if err == nil {
			s.def = endpoint{} // no providers.ntfy: a bare topic has no server
		}
	}
	if err != nil {
		return nil, err
	}
	for _, u := range own {
		ep, _ := u.Endpoint("ntfy")
		e := endpoint{server: s.def.server, token: ep.Token}
		if ep.Server != "" {
			if e.server, err = parseServer(ep.Server); err != nil {
				return nil, fmt.Errorf("ntfy: user %q: server %q: %w", u.ID, ep.Server, err)
			}
		}
		if e.server != nil {
			s.own[u.ID] = e
		}
	}
	return s, nil
}
