// Package fakesmtp is a real SMTP server (go-smtp) on 127.0.0.1 for tests: it
// captures what clients deliver and injects the failures mail servers answer with.
package fakesmtp

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// TLS modes of the listener, as hikyaku's providers.smtp.tls names them.
const (
	TLSNone     = "none"     // plaintext only
	TLSStartTLS = "starttls" // plaintext greeting, STARTTLS offered
	TLSImplicit = "implicit" // TLS from the first byte (port 465)
)

// Options shape the server. The zero value is a plaintext relay that accepts everything.
type Options struct {
	// TLS is TLSNone (default), TLSStartTLS or TLSImplicit; the last two need Cert.
	TLS  string
	Cert *tls.Certificate
	// Username and Password, when set, make AUTH PLAIN mandatory before MAIL;
	// a wrong password gets 535 as real servers answer it.
	Username, Password string
	// AllowInsecureAuth offers AUTH without TLS (a local relay).
	AllowInsecureAuth bool
	// SMTPUTF8 advertises the extension (RFC 6531).
	SMTPUTF8 bool
	// Latency delays the answer to DATA after the message is taken, as a
	// relay that queues it first and answers later: a client killed
	// during the wait has sent it.
	Latency time.Duration
}

// Message is one accepted delivery: the envelope and the raw message as received.
type Message struct {
	From string
	To   []string
	Data []byte
	TLS  bool   // the session was encrypted when DATA was sent
	Auth string // the authenticated username, if any
	At   time.Time
}

// Fault makes the server answer a stage with Err (usually a *smtp.SMTPError),
// or hold the stage until the server closes when Stall is set.
type Fault struct {
	Err   error
	Stall bool
}

// Stages that can fail.
const (
	StageMail = "mail"
	StageRcpt = "rcpt"
	StageData = "data"
)

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	Addr string // host:port it listens on
	opts Options
	srv  *smtp.Server
	quit chan struct{}

	mu       sync.Mutex
	messages []Message
	faults   map[string]Fault
	sessions int
	auths    int
	latency  time.Duration // Options.Latency, changed by SetLatency
}

// SetLatency changes Options.Latency from the next DATA on.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// Start listens on 127.0.0.1:0 and serves until the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Listen(opts)
	if err != nil {
		t.Fatalf("fakesmtp: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Listen starts a server outside a test (demos, end-to-end runs); Close stops it.
func Listen(opts Options) (*Server, error) {
	s := &Server{opts: opts, quit: make(chan struct{}), faults: map[string]Fault{}, latency: opts.Latency}
	s.srv = smtp.NewServer(s)
	s.srv.Domain = "fakesmtp.test"
	s.srv.AllowInsecureAuth = opts.AllowInsecureAuth
	s.srv.EnableSMTPUTF8 = opts.SMTPUTF8
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	s.srv.ReadTimeout = time.Minute
	s.srv.WriteTimeout = time.Minute

	var tlsConfig *tls.Config
	if opts.TLS == TLSStartTLS || opts.TLS == TLSImplicit {
		if opts.Cert == nil {
			return nil, fmt.Errorf("tls %q needs a certificate", opts.TLS)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{*opts.Cert}, MinVersion: tls.VersionTLS12}
	}
	var (
		l   net.Listener
		err error
	)
	switch opts.TLS {
	case "", TLSNone:
		l, err = net.Listen("tcp", "127.0.0.1:0")
	case TLSStartTLS:
		s.srv.TLSConfig = tlsConfig
		l, err = net.Listen("tcp", "127.0.0.1:0")
	case TLSImplicit:
		s.srv.TLSConfig = tlsConfig
		l, err = tls.Listen("tcp", "127.0.0.1:0", tlsConfig)
	default:
		return nil, fmt.Errorf("unknown tls mode %q", opts.TLS)
	}
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	s.Addr = l.Addr().String()
	go s.srv.Serve(l) //nolint:errcheck // returns when Close closes the listener
	return s, nil
}

// Close stops the server, releasing stalled sessions first so none outlives it.
func (s *Server) Close() {
	select {
	case <-s.quit:
		return
	default:
		close(s.quit)
	}
	s.srv.Close()
}

// Fail sets (or, with a zero Fault, clears) the answer to one stage.
func (s *Server) Fail(stage string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f == (Fault{}) {
		delete(s.faults, stage)
		return
	}
	s.faults[stage] = f
}

// Messages returns a copy of the accepted messages, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Sessions counts the SMTP sessions started (one per EHLO after connect or STARTTLS).
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

// AuthAttempts counts AUTH commands received, successful or not: a client
// that must not send credentials (no TLS yet) is caught by it.
func (s *Server) AuthAttempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.auths
}

// NewSession implements smtp.Backend.
func (s *Server) NewSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	s.sessions++
	s.mu.Unlock()
	_, isTLS := c.TLSConnectionState()
	return &session{srv: s, tls: isTLS}, nil
}

// fault applies the configured answer to stage, if any.
func (s *Server) fault(stage string) error {
	s.mu.Lock()
	f, ok := s.faults[stage]
	s.mu.Unlock()
	if !ok {
		return nil
	}
	if f.Stall {
		<-s.quit
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Shutting down"}
	}
	return f.Err
}

var errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}

type session struct {
	srv  *Server
	tls  bool
	user string
	msg  Message
}

func (ss *session) AuthMechanisms() []string {
	if ss.srv.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	ss.srv.mu.Lock()
	ss.srv.auths++
	ss.srv.mu.Unlock()
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if identity != "" && identity != username {
			return smtp.ErrAuthFailed
		}
		if username != ss.srv.opts.Username || password != ss.srv.opts.Password {
			return smtp.ErrAuthFailed
		}
		ss.user = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.srv.opts.Username != "" && ss.user == "" {
		return errAuthRequired
	}
	if err := ss.srv.fault(StageMail); err != nil {
		return err
	}
	ss.msg = Message{From: from, TLS: ss.tls, Auth: ss.user}
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := ss.srv.fault(StageRcpt); err != nil {
		return err
	}
	ss.msg.To = append(ss.msg.To, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil {
		return fmt.Errorf("read data: %w", err)
	}
	if err := ss.srv.fault(StageData); err != nil {
		return err
	}
	ss.msg.Data = buf.Bytes()
	ss.msg.At = time.Now().UTC()
	ss.srv.mu.Lock()
	ss.srv.messages = append(ss.srv.messages, ss.msg)
	d := ss.srv.latency
	ss.srv.mu.Unlock()
	ss.msg = Message{}
	if d > 0 {
		select {
		case <-time.After(d):
		case <-ss.srv.quit:
		}
	}
	return nil
}

func (ss *session) Reset() { ss.msg = Message{} }

func (ss *session) Logout() error { return nil }
