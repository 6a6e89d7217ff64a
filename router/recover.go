package router

import (
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
)

// panicError is a recovered panic, as the error of what panicked.
type panicError struct{ value any }

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.value) }

// RecoveredSMTP logs and counts a panic recovered in a session of the email
// reply listener (hikyaku_panics_total{where="smtp"}): the listener's hook,
// which lives in channels/email and counts through the engine's metrics.
func (e *Engine) RecoveredSMTP(v any, kv ...any) { e.recovered(panicSMTP, v, kv...) }

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
			// The mux sets it on this very request, so nothing may wrap r between.
			s.Engine.recovered(panicHTTP, v, "method", r.Method, "route", r.Pattern)
			// Headers may be out already; then the client sees a cut-off
			// response, which is as much as can be said.
			http.Error(w, "internal error", http.StatusInternalServerError)
		}()
		next.ServeHTTP(w, r)
	})
}
