// Package email sends hikyaku's pages and reports as MIME mail through an SMTP
// smarthost, and runs the SMTP listener that acts on the replies to them.
package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
)

// DefaultTimeout bounds a send whose context has no deadline: a stuck
// smarthost must not hold an outbox worker forever.
const DefaultTimeout = 30 * time.Second

// The TLS modes of providers.smtp.tls.
const (
	TLSStartTLS = "starttls"
	TLSImplicit = "implicit"
	TLSNone     = "none"
)

// Sender delivers email. It opens one SMTP session per message, so it is safe
// for concurrent use and holds no connection between pages.
type Sender struct {
	addr     string // smarthost host:port
	host     string
	mode     string
	username string
	password string
	from     *mail.Address
	// fromLocal and the domains make the Message-ID and the Reply-To.
	fromLocal   string
	idDomain    string
	replyDomain string
	replyKey    []byte
	tlsConfig   *tls.Config
	helloName   string
	timeout     time.Duration
	now         func() time.Time
}

// Option adjusts a Sender.
type Option func(*Sender)

// WithTLSConfig sets the TLS client configuration (trusted roots, client
// certificates, ServerName); the smarthost's host is the ServerName by default.
func WithTLSConfig(c *tls.Config) Option {
	return func(s *Sender) { s.tlsConfig = c.Clone() }
}

// WithReplyKey turns on the Reply-To address with an HMAC token (see
// ReplyAddress); the acknowledgement side verifies replies with the same key
// and VerifyReplyAddress. Without a key, messages carry no Reply-To.
func WithReplyKey(key []byte) Option {
	return func(s *Sender) { s.replyKey = append([]byte(nil), key...) }
}

// WithHelloName is the name sent in EHLO after TLS is up ("localhost" by
// default, as Alertmanager does); some smarthosts want a real host name.
func WithHelloName(name string) Option {
	return func(s *Sender) { s.helloName = name }
}

// WithTimeout replaces DefaultTimeout for contexts without a deadline.
func WithTimeout(d time.Duration) Option {
	return func(s *Sender) { s.timeout = d }
}

// WithClock sets the clock of the Date header (tests).
func WithClock(now func() time.Time) Option {
	return func(s *Sender) { s.now = now }
}

// New makes the email Sender for providers.smtp. It reveals the password
// once, here; the Sender never writes it anywhere but to the AUTH exchange.
func New(cfg *config.SMTP, opts ...Option) (*Sender, error) {
	if cfg == nil {
		return nil, errors.New("email: no smtp provider configured")
	}
	host, _, err := net.SplitHostPort(cfg.Smarthost)
	if err != nil || host == "" {
		return nil, fmt.Errorf("email: smarthost %q: want host:port", cfg.Smarthost)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("email: from %q: %w", cfg.From, err)
	}
	local, domain, ok := strings.Cut(from.Address, "@")
	if !ok || local == "" || domain == "" {
		return nil, fmt.Errorf("email: from %q: want local@domain", cfg.From)
	}
	s := &Sender{
		addr: cfg.Smarthost, host: host, mode: cfg.TLS, username: cfg.Username,
		from: from, fromLocal: local, idDomain: domain, replyDomain: domain,
		helloName: "localhost", timeout: DefaultTimeout, now: time.Now,
	}
	if cfg.ReplyDomain != "" {
		s.idDomain, s.replyDomain = cfg.ReplyDomain, cfg.ReplyDomain
	}
	switch s.mode {
	case "":
		s.mode = TLSStartTLS
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		return nil, fmt.Errorf("email: tls %q: want starttls, implicit or none", cfg.TLS)
	}
	if cfg.Username != "" {
		pw, ok := cfg.Password.Reveal()
		if !ok {
			return nil, errors.New("email: username is set but the password is not")
		}
		s.password = pw
	}
	for _, o := range opts {
		o(s)
	}
	if s.tlsConfig == nil {
		s.tlsConfig = &tls.Config{}
	}
	if s.tlsConfig.ServerName == "" {
		s.tlsConfig.ServerName = host
	}
	if s.tlsConfig.MinVersion == 0 {
		s.tlsConfig.MinVersion = tls.VersionTLS12
	}
	if s.username != "" && s.mode == TLSNone && !isLoopback(host) {
		// Refused here so a bad configuration shows at start, not at 3 a.m.
		return nil, fmt.Errorf("email: tls none with a username would send the password in clear to %s: use starttls or implicit", host)
	}
	return s, nil
}

// Send delivers m to m.To. The receipt's ProviderID is the Message-ID, which
// replies carry back in In-Reply-To.
func (s *Sender) Send(ctx context.Context, m *channels.Message) (channels.Receipt, error) {
	to, err := mail.ParseAddress(m.To)
	if err != nil || strings.ContainsAny(m.To, "\r\n") {
		return channels.Receipt{}, channels.Permanent("invalid_address", fmt.Errorf("email: recipient %q is not an address", m.To))
	}
	msg, err := s.compose(m, to, s.now())
	if err != nil {
		return channels.Receipt{}, channels.Permanent("compose", fmt.Errorf("email: %w", err))
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	if err := s.deliver(ctx, s.from.Address, to.Address, msg.data); err != nil {
		return channels.Receipt{}, err
	}
	return channels.Receipt{ProviderID: "<" + msg.id + ">"}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
