package router

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"

	"github.com/emersion/go-smtp"
)

// panicError is a recovered panic, as the error of what panicked.
type panicError struct{ value any }

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.value) }

// recovered logs and counts a panic recovered at where, with its stack, and
// returns it as an error. kv are slog attributes saying what was running.
func (e *Engine) recovered(where string, v any, kv ...any) error {
	e.metrics.faults.panics.WithLabelValues(where).Inc()
	attrs := append([]any{"where", where, "panic", fmt.Sprint(v), "stack", string(debug.Stack())}, kv...)
	e.log.Error("panic recovered; hikyaku keeps running", attrs...)
	return &panicError{v}
}

// recoverHTTP answers 500 when a handler panics, after logging and counting
// it, instead of net/http's dropped connection. For the Alertmanager webhook
// a 500 makes Alertmanager retry, which is right: a group stored before
// the panic is recognised as the same group when it comes again.
func (s *Server) recoverHTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v) // net/http's own way to abort a response, not a bug
			}
			// The pattern, not the path: a path can hold an acknowledgement token.
			s.Engine.recovered(panicHTTP, v, "method", r.Method, "route", r.Pattern)
			// Headers may be out already; then the client sees a cut-off
			// response, which is as much as can be said.
			http.Error(w, "internal error", http.StatusInternalServerError)
		}()
		next.ServeHTTP(w, r)
	})
}

// recoverSMTP gives the reply listener's sessions the same treatment: a
// panic while taking a message is logged with its stack, counted, and
// answered 451, so the sending server tries again later.
type recoverSMTP struct {
	smtp.Backend
	e *Engine
}

func (b recoverSMTP) NewSession(c *smtp.Conn) (smtp.Session, error) {
	s, err := b.Backend.NewSession(c)
	if err != nil {
		return nil, err
	}
	return &recoveringSession{Session: s, e: b.e}, nil
}

type recoveringSession struct {
	smtp.Session
	e *Engine
}

func (s *recoveringSession) guard(cmd string, err *error) {
	if v := recover(); v != nil {
		s.e.recovered(panicSMTP, v, "command", cmd)
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
