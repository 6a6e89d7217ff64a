package email

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hikyaku/hikyaku/channels"
)

// Defaults of the reply listener's limits (serve's --smtp-max-message-bytes
// and --smtp-max-sessions). Replies are short: a quoted page and a phone's
// signature fit in 256 KiB; a photo does not need to.
const (
	DefaultMaxReplyBytes   = 256 << 10
	DefaultMaxMailSessions = 20
)

// ServerOptions are the reply listener's limits, its DNS, its metrics and
// what it does with a panic. The zero value is the defaults with the host's
// resolver and private metrics.
type ServerOptions struct {
	MaxMessageBytes int64 // larger mail is refused with 552 (0: DefaultMaxReplyBytes)
	MaxSessions     int   // connections beyond it are refused with 421 (0: DefaultMaxMailSessions)
	// LookupTXT finds DKIM keys (nil: net.DefaultResolver, so the listener
	// needs DNS); tests give a table of their own keys.
	LookupTXT LookupTXT
	// Metrics are where the listener counts (nil: unregistered ones).
	Metrics *Metrics
	// Recovered logs and counts a panic recovered in a session, kv saying
	// what ran (serve's counts hikyaku_panics_total{where="smtp"}); nil
	// logs it at ERROR with its stack only.
	Recovered func(v any, kv ...any)
}

// MailServer is the SMTP listener for replies to hikyaku's emails (see
// docs/acknowledge.md): it takes mail for the reply domain only, so it is
// no open relay, and acts through the Receiver on the answers of the people
// who were paged, when the mail proves who sent it. What a flood can hold
// is bounded: MaxSessions connections, each with at most MaxMessageBytes read.
type MailServer struct {
	srv         *smtp.Server
	maxSessions int
	metrics     *Metrics
	log         *slog.Logger
}

// NewMailServer makes the listener over r; the caller runs Serve and Close.
func NewMailServer(r channels.Receiver, log *slog.Logger, opts ServerOptions) *MailServer {
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = DefaultMaxReplyBytes
	}
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = DefaultMaxMailSessions
	}
	if opts.LookupTXT == nil {
		opts.LookupTXT = systemLookupTXT
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(prometheus.NewRegistry())
	}
	if opts.Recovered == nil {
		opts.Recovered = func(v any, kv ...any) {
			attrs := append([]any{"where", "smtp", "panic", fmt.Sprint(v), "stack", string(debug.Stack())}, kv...)
			log.Error("panic recovered; hikyaku keeps running", attrs...)
		}
	}
	in := &inbox{r: r, log: log, lookup: opts.LookupTXT, metrics: opts.Metrics}
	srv := smtp.NewServer(recoverSMTP{&mailBackend{in: in}, opts.Recovered})
	srv.Domain, _ = os.Hostname()
	if srv.Domain == "" {
		srv.Domain = "hikyaku"
	}
	srv.MaxMessageBytes = opts.MaxMessageBytes
	srv.MaxRecipients = 10
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	return &MailServer{srv: srv, maxSessions: opts.MaxSessions, metrics: opts.Metrics, log: log}
}

// Serve takes connections from l until Close, at most MaxSessions at once.
func (m *MailServer) Serve(l net.Listener) error {
	return m.srv.Serve(newSessionLimit(l, m.maxSessions, m.srv.Domain, m.metrics, m.log))
}

// Close closes the listeners and every open connection.
func (m *MailServer) Close() error { return m.srv.Close() }

// MaxMessageBytes is the size limit in force.
func (m *MailServer) MaxMessageBytes() int64 { return m.srv.MaxMessageBytes }

type mailBackend struct{ in *inbox }

func (b *mailBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	remote := ""
	if a := c.Conn().RemoteAddr(); a != nil {
		remote = a.String()
	}
	return &mailSession{in: b.in, remote: remote}, nil
}
