package ntfy

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/hikyaku/hikyaku/config"
)

// target is where one message goes: a topic on a server, with the token
// for that server. Own says the server or token is the contact's own, not
// providers.ntfy's: a refusal there is that person's, not hikyaku's.
type target struct {
	server *url.URL
	topic  string
	token  config.Secret
	own    bool
}

// parseServer reads an ntfy server's base URL: http(s), a host, maybe a
// path prefix, and no credentials, query or fragment (a token goes in token:).
func parseServer(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return nil, errors.New("want an http(s) URL with a host")
	case u.User != nil:
		return nil, errors.New("a URL with a user or password: give the access token as token: instead")
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return nil, errors.New("a server URL has no query or fragment")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// parseAddress reads a contact: a topic on the default server, or the
// topic's URL on another (https://ntfy.example.com/alice-pager), whose last
// path segment is the topic. server is nil for a bare topic.
func parseAddress(a string) (server *url.URL, topic string, err error) {
	if !strings.HasPrefix(a, "http://") && !strings.HasPrefix(a, "https://") {
		return nil, a, checkTopic(a)
	}
	u, err := parseServer(a)
	if err != nil {
		return nil, "", fmt.Errorf("ntfy contact %q: %w", a, err)
	}
	i := strings.LastIndex(u.Path, "/")
	topic = u.Path[i+1:]
	if topic == "" {
		return nil, "", fmt.Errorf("ntfy contact %q: the URL names no topic (https://ntfy.example.com/TOPIC)", a)
	}
	if err := checkTopic(topic); err != nil {
		return nil, "", fmt.Errorf("ntfy contact %q: %w", a, err)
	}
	u.Path = u.Path[:i]
	return u, topic, nil
}

// sameServer compares base URLs as ntfy serves them: scheme and host
// case-insensitively, the path prefix exactly.
func sameServer(a, b *url.URL) bool {
	return a != nil && b != nil && strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host) && a.Path == b.Path
}

// target is where address goes for user, and with which token: the
// person's own on their own server (or on providers.ntfy's when they name
// none), else providers.ntfy's on its server, and none on any other.
// providers.ntfy's token never leaves its server.
func (s *Sender) target(user, address string) (target, error) {
	server, topic, err := parseAddress(address)
	if err != nil {
		return target{}, err
	}
	if server == nil {
		server = s.def.server
	}
	if server == nil {
		return target{}, fmt.Errorf("contact %q names no server and providers.ntfy is not configured", address)
	}
	if e, ok := s.own[user]; ok && sameServer(e.server, server) && given(e.token) {
		return target{server: server, topic: topic, token: e.token, own: true}, nil
	}
	if sameServer(s.def.server, server) {
		return target{server: server, topic: topic, token: s.def.token}, nil
	}
	return target{server: server, topic: topic, own: true}, nil
}

// given tells whether a contact gave a token of its own, resolved or not:
// one that did not resolve must not fall back to providers.ntfy's.
func given(tok config.Secret) bool {
	_, ok := tok.Reveal()
	return ok || !tok.IsZero()
}
