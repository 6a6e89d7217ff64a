package config

import (
	"fmt"
	"slices"
	"strings"
)

// unsetCredential is a provider's credential that did not resolve: where it
// is written and what went wrong reading it.
type unsetCredential struct {
	path, msg string
}

// ProviderOf names the provider that carries ch (twilio for sms and
// voice), as its registered channel says; "" for an unknown channel.
func (c *Config) ProviderOf(ch Channel) string {
	spec, _ := c.ChannelSpec(ch)
	return spec.Provider
}

// providerUse is where the file first asks for a provider, and how often.
type providerUse struct {
	path, what string
	n          int
}

// checkProviders finds every contact point and chat channel whose provider
// is not configured, or whose credential did not resolve. Any of them is a
// person or a channel hikyaku could not reach while believing it could:
// serve refuses to start with them unless --dry-run says nothing is sent.
// Every contact counts, not only those in notification rules: failover and
// stakeholder reports use any contact a person has.
func (l *loader) checkProviders(c *Config) {
	uses := map[string]*providerUse{}
	use := func(provider, path, what string) {
		if u := uses[provider]; u != nil {
			u.n++
			return
		}
		uses[provider] = &providerUse{path: path, what: what, n: 1}
	}
	var providers []string
	for _, spec := range c.channels {
		if !spec.NoAccount && !slices.Contains(providers, spec.Provider) {
			providers = append(providers, spec.Provider)
		}
	}
	for i, u := range c.Users {
		for _, spec := range c.channels {
			if ep, own := u.Endpoint(spec.Name); own && ep.Server != "" {
				continue // the contact names its own server: the provider's section is not needed
			}
			if !spec.NoAccount && u.Contacts.Has(spec.Name) {
				use(spec.Provider, fmt.Sprintf("users[%d].contacts.%s", i, spec.Name), fmt.Sprintf("user %q has contacts.%s", u.ID, spec.Name))
			}
		}
	}
	for i, ch := range c.ChatChannels {
		if ch.Slack != "" {
			use("slack", fmt.Sprintf("chat_channels[%d].slack", i), fmt.Sprintf("chat channel %q posts to Slack", ch.ID))
		}
	}
	if !slices.Contains(providers, "slack") && uses["slack"] != nil {
		providers = append(providers, "slack") // chat channels post to Slack whoever registered it
	}
	for _, provider := range providers {
		u := uses[provider]
		if u == nil {
			continue
		}
		more := ""
		if u.n > 1 {
			more = fmt.Sprintf(" (and %d more contacts or channels)", u.n-1)
		}
		const refuse = "hikyaku serve refuses to start unless --dry-run (nothing is sent, every message is recorded)"
		switch {
		case !c.Providers.Configured(provider):
			l.providerProblems = append(l.providerProblems, l.at(u.path,
				fmt.Sprintf("%s%s but providers.%s is not configured: %s", u.what, more, provider, refuse)))
		case l.unsetCredential[provider].path != "":
			cred := l.unsetCredential[provider]
			where := l.at(u.path, "")
			l.providerProblems = append(l.providerProblems, l.at(cred.path,
				fmt.Sprintf("providers.%s.%s, and %s at line %d%s: %s", provider, cred.msg, strings.TrimSpace(u.what), where.Line, more, refuse)))
		}
	}
}
