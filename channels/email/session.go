package email

import (
	"context"
	"errors"
	"io"
	"slices"
	"time"

	"github.com/emersion/go-smtp"
)

// mailSession is one SMTP connection; go-smtp calls it from one goroutine.
type mailSession struct {
	in     *inbox
	remote string
	env    envelope
}

// envelope is what the sending server said in MAIL FROM and RCPT TO.
type envelope struct {
	From   string // "" for a bounce
	To     []string
	Remote string
}

var (
	errRelayDenied = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Relaying denied: this server only takes replies to its own mail"}
	errTryLater    = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure, try again later"}
)

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	s.env = envelope{From: from, Remote: s.remote}
	return nil
}

// Rcpt takes only the reply domain: everything else is someone trying to
// relay through us.
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !slices.Contains(replyDomains(s.in.r.Config()), domainOf(to)) {
		s.in.log.Info("email refused: recipient outside the reply domain", "rcpt", to, "remote", s.remote)
		return errRelayDenied
	}
	s.env.To = append(s.env.To, to)
	return nil
}

// Data reads at most MaxMessageBytes: go-smtp's reader fails past it, the
// rest of the message is discarded as it streams in, and the relay gets 552.
func (s *mailSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if errors.Is(err, smtp.ErrDataTooLarge) {
		s.in.metrics.count(mailRefused, reasonTooLarge)
		s.in.log.Warn("email refused: message over the size limit", "mail_from", s.env.From, "rcpt", s.env.To,
			"remote", s.remote, "read_bytes", len(raw))
		return err
	}
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), dkimTimeout+confirmTimeout+10*time.Second)
	defer cancel()
	if err := s.in.take(ctx, s.env, raw); err != nil {
		reason := reasonStore
		if errors.Is(err, errDKIMTemporary) {
			reason = reasonDNS
		}
		s.in.metrics.count(mailDeferred, reason)
		s.in.log.Warn("email reply could not be decided; the sending server will retry", "mail_from", s.env.From, "err", err)
		return errTryLater
	}
	return nil
}

func (s *mailSession) Reset() { s.env = envelope{Remote: s.remote} }

func (s *mailSession) Logout() error { return nil }
