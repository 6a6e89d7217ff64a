package email

import (
	"io"

	"github.com/emersion/go-smtp"
)

// recoverSMTP guards the listener's sessions: a panic while taking a
// message is logged with its stack, counted, and answered 451, so the
// sending server tries again later.
type recoverSMTP struct {
	smtp.Backend
	recovered func(v any, kv ...any)
}

func (b recoverSMTP) NewSession(c *smtp.Conn) (smtp.Session, error) {
	s, err := b.Backend.NewSession(c)
	if err != nil {
		return nil, err
	}
	return &recoveringSession{Session: s, recovered: b.recovered}, nil
}

type recoveringSession struct {
	smtp.Session
	recovered func(v any, kv ...any)
}

func (s *recoveringSession) guard(cmd string, err *error) {
	if v := recover(); v != nil {
		s.recovered(v, "command", cmd)
		*err = errTryLater
	}
}

func (s *recoveringSession) Mail(from string, opts *smtp.MailOptions) (err error) {
	defer s.guard("MAIL", &err)
	return s.Session.Mail(from, opts)
}

func (s *recoveringSession) Rcpt(to string, opts *smtp.RcptOptions) (err error) {
	defer s.guard("RCPT", &err)
	return s.Session.Rcpt(to, opts)
}

func (s *recoveringSession) Data(r io.Reader) (err error) {
	defer s.guard("DATA", &err)
	return s.Session.Data(r)
}
