package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/hikyaku/hikyaku/channels"
)

// deliver runs one SMTP session: connect, TLS as configured, AUTH, one
// transaction, QUIT. Every failure comes back classified (see classify).
func (s *Sender) deliver(ctx context.Context, from, to string, data []byte) error {
	deadline, _ := ctx.Deadline()
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return s.fail(ctx, "connect", err)
	}
	conn := &deadlineConn{Conn: raw, limit: deadline}
	_ = raw.SetDeadline(deadline)
	// go-smtp resets the connection's deadline around each command; the
	// wrapper caps those at ours, and a cancelled context closes the socket
	// so no read outlives it.
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()

	c, err := s.open(ctx, conn)
	if err != nil {
		raw.Close()
		return err
	}
	defer c.Close()

	if s.username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return channels.Permanent("auth_unsupported", fmt.Errorf("email: %s offers no AUTH", s.addr))
		}
		if err := c.Auth(sasl.NewPlainClient("", s.username, s.password)); err != nil {
			return s.fail(ctx, "auth", err)
		}
	}
	var opts *smtp.MailOptions
	if !isASCII(from) || !isASCII(to) {
		if ok, _ := c.Extension("SMTPUTF8"); !ok {
			return channels.Permanent("smtputf8", fmt.Errorf("email: %s cannot take the non-ASCII address %q (no SMTPUTF8)", s.addr, to))
		}
		opts = &smtp.MailOptions{UTF8: true}
	}
	if err := c.Mail(from, opts); err != nil {
		return s.fail(ctx, "MAIL FROM", err)
	}
	if err := c.Rcpt(to, nil); err != nil {
		return s.fail(ctx, "RCPT TO", err)
	}
	w, err := c.Data()
	if err != nil {
		return s.fail(ctx, "DATA", err)
	}
	if _, err := w.Write(data); err != nil {
		return s.fail(ctx, "DATA", err)
	}
	if _, err := w.CloseWithResponse(); err != nil {
		return s.fail(ctx, "end of DATA", err)
	}
	// The message is queued: a failed QUIT changes nothing for the recipient.
	_ = c.Quit()
	return nil
}

// open greets the server and brings the session to the configured TLS state.
func (s *Sender) open(ctx context.Context, conn net.Conn) (*smtp.Client, error) {
	switch s.mode {
	case TLSImplicit:
		tc := tls.Client(conn, s.tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, s.fail(ctx, "TLS handshake", err)
		}
		c := smtp.NewClient(tc)
		if err := c.Hello(s.helloName); err != nil {
			c.Close()
			return nil, s.fail(ctx, "EHLO", err)
		}
		return c, nil
	case TLSStartTLS:
		// go-smtp does the first EHLO (as "localhost") and STARTTLS itself.
		c, err := smtp.NewClientStartTLS(conn, s.tlsConfig)
		if err != nil {
			return nil, s.fail(ctx, "STARTTLS", err)
		}
		// The handshake happens on this EHLO, the first write under TLS.
		if err := c.Hello(s.helloName); err != nil {
			c.Close()
			return nil, s.fail(ctx, "EHLO after STARTTLS", err)
		}
		if st, ok := c.TLSConnectionState(); !ok || !st.HandshakeComplete {
			c.Close()
			return nil, channels.Permanent("starttls", fmt.Errorf("email: %s: session is not encrypted after STARTTLS", s.addr))
		}
		return c, nil
	default:
		c := smtp.NewClient(conn)
		if err := c.Hello(s.helloName); err != nil {
			c.Close()
			return nil, s.fail(ctx, "EHLO", err)
		}
		return c, nil
	}
}

// fail wraps err with the stage and the smarthost, classified: the context's
// own error is named when it ended the session.
func (s *Sender) fail(ctx context.Context, stage string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w (%w)", cerr, err)
	}
	return classify(stage, fmt.Errorf("email: %s %s: %w", s.addr, stage, err))
}

// deadlineConn caps every deadline go-smtp sets at the send's deadline: the
// client sets five-minute command timeouts and clears them between commands.
type deadlineConn struct {
	net.Conn
	limit time.Time
}

func (c *deadlineConn) cap(t time.Time) time.Time {
	if !c.limit.IsZero() && (t.IsZero() || t.After(c.limit)) {
		return c.limit
	}
	return t
}

func (c *deadlineConn) SetDeadline(t time.Time) error      { return c.Conn.SetDeadline(c.cap(t)) }
func (c *deadlineConn) SetReadDeadline(t time.Time) error  { return c.Conn.SetReadDeadline(c.cap(t)) }
func (c *deadlineConn) SetWriteDeadline(t time.Time) error { return c.Conn.SetWriteDeadline(c.cap(t)) }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
