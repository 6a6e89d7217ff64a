package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
)

// SignIn is how people sign in to the web console: OpenID Connect, a
// trusted authenticating proxy in front of hikyaku, or both. Either way the
// proven email address must be a configured user's contacts.email.
type SignIn struct {
	// SessionTTL is how long a console session lasts from sign-in.
	SessionTTL Duration `yaml:"session_ttl"`
	// ConsoleRefresh is how often the console's Now page, incident list
	// and incident page fetch themselves again in the browser.
	ConsoleRefresh Duration `yaml:"console_refresh"`
	// SessionKey signs the session cookies. Unset, serve generates one into
	// the embedded store's directory; with the Redis store it is required,
	// since every replica must accept the cookies the others issue.
	SessionKey   Secret        `yaml:"session_key"`
	OIDC         *OIDC         `yaml:"oidc"`
	TrustedProxy *TrustedProxy `yaml:"trusted_proxy"`
}

// OIDC is an OpenID Connect provider: hikyaku is its confidential client
// and uses the authorization code flow with PKCE.
type OIDC struct {
	// Issuer is the provider's issuer URL; its discovery document is at
	// Issuer + "/.well-known/openid-configuration".
	Issuer       string   `yaml:"issuer"`
	ClientID     string   `yaml:"client_id"`
	ClientSecret Secret   `yaml:"client_secret"`
	Scopes       []string `yaml:"scopes"`
}

// TrustedProxy is an authenticating proxy (oauth2-proxy and the like) that
// puts the signed-in person's email in X-Forwarded-Email or
// X-Auth-Request-Email. Only requests whose peer address is in Sources are
// believed; anyone else could send the header too.
type TrustedProxy struct {
	Sources  []string       `yaml:"sources"`
	Prefixes []netip.Prefix `yaml:"-"`
}

// Sign-in defaults and bounds.
const (
	DefaultSessionTTL = 12 * time.Hour
	MinSessionTTL     = 5 * time.Minute
	MaxSessionTTL     = 30 * 24 * time.Hour
	// The console's live refresh: a quarter of a minute shows an ack by
	// someone else while the page is read, at one small request per open tab.
	DefaultConsoleRefresh = 15 * time.Second
	MinConsoleRefresh     = time.Second
	MaxConsoleRefresh     = time.Hour
	// MinSessionKeyBytes is an HMAC-SHA256 key's own size.
	MinSessionKeyBytes = 32
)

// DefaultOIDCScopes are asked for when the file names none: the email
// claim is what maps a person to a user.
var DefaultOIDCScopes = []string{"openid", "email"}

// UserByEmail is the user whose contacts.email is email, compared without
// regard to case (providers differ in how they case addresses), or nil.
func (c *Config) UserByEmail(email string) *User {
	if email == "" {
		return nil
	}
	for _, u := range c.Users {
		if strings.EqualFold(u.Contacts.Get(ChannelEmail), email) {
			return u
		}
	}
	return nil
}

func (l *loader) validateSignIn(c *Config) {
	s := c.SignIn
	if s == nil {
		return
	}
	if s.OIDC == nil && s.TrustedProxy == nil && !l.undecoded("sign_in") {
		l.errAt("sign_in", "sign_in needs oidc, trusted_proxy or both: there is no other way to sign in")
	}
	switch {
	case s.SessionTTL == 0:
		s.SessionTTL = Duration(DefaultSessionTTL)
	case s.SessionTTL.D() < MinSessionTTL || s.SessionTTL.D() > MaxSessionTTL:
		l.errAt("sign_in.session_ttl", fmt.Sprintf("session_ttl %s: want between %s and %s", s.SessionTTL, Duration(MinSessionTTL), Duration(MaxSessionTTL)))
	}
	switch {
	case s.ConsoleRefresh == 0:
		s.ConsoleRefresh = Duration(DefaultConsoleRefresh)
	case s.ConsoleRefresh.D() < MinConsoleRefresh || s.ConsoleRefresh.D() > MaxConsoleRefresh:
		l.errAt("sign_in.console_refresh", fmt.Sprintf("console_refresh %s: want between %s and %s", s.ConsoleRefresh, Duration(MinConsoleRefresh), Duration(MaxConsoleRefresh)))
	case s.ConsoleRefresh.D()%time.Second != 0:
		// The browser refreshes in whole seconds; 1.5s would silently be 1s.
		l.errAt("sign_in.console_refresh", fmt.Sprintf("console_refresh %s: want whole seconds", s.ConsoleRefresh))
	}
	l.secret("sign_in.session_key", &s.SessionKey, false, "session_key")
	if k, ok := s.SessionKey.Reveal(); ok && len(k) < MinSessionKeyBytes {
		l.errAt("sign_in.session_key", fmt.Sprintf("session_key must be at least %d characters: it is what makes session cookies unforgeable", MinSessionKeyBytes))
	}
	if o := s.OIDC; o != nil {
		l.issuerURL("sign_in.oidc.issuer", o.Issuer)
		if o.ClientID == "" && !l.undecoded("sign_in.oidc.client_id") {
			l.errAt("sign_in.oidc", "client_id is required: the id the provider gave hikyaku")
		}
		l.secret("sign_in.oidc.client_secret", &o.ClientSecret, true, "client_secret")
		if len(o.Scopes) == 0 {
			o.Scopes = slices.Clone(DefaultOIDCScopes)
		}
		for _, want := range DefaultOIDCScopes {
			if !slices.Contains(o.Scopes, want) {
				l.errAt("sign_in.oidc.scopes", fmt.Sprintf("scopes must include %q: without it the provider sends no verified email to map to a user", want))
			}
		}
	}
	if p := s.TrustedProxy; p != nil {
		if len(p.Sources) == 0 && !l.undecoded("sign_in.trusted_proxy.sources") {
			l.errAt("sign_in.trusted_proxy", "sources is required: the addresses (CIDRs) the proxy connects from")
		}
		for i, src := range p.Sources {
			path := fmt.Sprintf("sign_in.trusted_proxy.sources[%d]", i)
			pfx, err := parseSource(src)
			if err != nil {
				l.errAt(path, err.Error())
				continue
			}
			if pfx.Bits() == 0 {
				l.errAt(path, fmt.Sprintf("source %q trusts every address: anyone could then sign in as anyone by sending the header", src))
				continue
			}
			p.Prefixes = append(p.Prefixes, pfx)
		}
	}
	seen := map[string]int{}
	for i, u := range c.Users {
		e := strings.ToLower(u.Contacts.Get(ChannelEmail))
		if e == "" {
			continue
		}
		if j, dup := seen[e]; dup {
			l.errAt(fmt.Sprintf("users[%d].contacts.email", i), fmt.Sprintf("email %q is also users[%d]'s: sign-in maps an email to exactly one user", u.Contacts.Get(ChannelEmail), j))
			continue
		}
		seen[e] = i
	}
}

// parseSource reads a CIDR, or a bare address as the one-address prefix.
func parseSource(s string) (netip.Prefix, error) {
	if pfx, err := netip.ParsePrefix(s); err == nil {
		return pfx.Masked(), nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	return netip.Prefix{}, fmt.Errorf("invalid source %q: want a CIDR such as 10.0.0.0/8 or an address such as 127.0.0.1", s)
}

// issuerURL wants https, except on loopback where a provider for tests or
// a sidecar runs without TLS.
func (l *loader) issuerURL(path, raw string) {
	if raw == "" {
		if !l.undecoded(path) {
			l.errAt(path, "issuer is required: the provider's issuer URL, e.g. https://accounts.google.com")
		}
		return
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		l.errAt(path, fmt.Sprintf("invalid issuer %q: want https:// with a host", raw))
		return
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		l.errAt(path, fmt.Sprintf("issuer %q is plain http: the ID token's keys would travel unprotected; use https (http only on loopback)", raw))
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
