package router

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/hikyaku/hikyaku/channels"
)

// The audit stream is log lines with msg "audit" and audit=true, one per
// action on an incident, reload and dead-letter action, in the format
// docs/operations.md ("Audit log") promises: keep the attribute names stable.
const auditMsg = "audit"

// The results an audit line says.
const (
	auditDone      = "done"      // it changed something
	auditUnchanged = "unchanged" // nothing to do: acked already, a provider's retry
	auditRefused   = "refused"   // not allowed or not possible: unknown user, resolved, no such incident, bad config
	auditFailed    = "failed"    // the store could not record it; it may be tried again
)

// AuditSource is where a request came from, for the audit stream; the
// channels' inbound sides attach it too, so it is theirs (channels.Source).
type AuditSource = channels.Source

// WithAuditSource attaches src to ctx for the audit lines of what ctx does.
func WithAuditSource(ctx context.Context, src AuditSource) context.Context {
	return channels.WithSource(ctx, src)
}

func auditSourceOf(ctx context.Context) (AuditSource, bool) { return channels.SourceOf(ctx) }

// auditSources attaches each request's source to its context. authUser says
// the listener's web config checks basic auth, so the name in the
// Authorization header is proven; otherwise it is anyone's claim and not
// recorded.
func auditSources(next http.Handler, authUser bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		src := AuditSource{Addr: r.RemoteAddr}
		if authUser {
			src.User, _, _ = r.BasicAuth()
		}
		next.ServeHTTP(w, r.WithContext(WithAuditSource(r.Context(), src)))
	})
}

// audit writes one audit line. err decides the result unless result is set.
func (e *Engine) audit(ctx context.Context, action, result string, err error, attrs ...slog.Attr) {
	src, _ := auditSourceOf(ctx)
	level := slog.LevelInfo
	if result == auditRefused || result == auditFailed {
		level = slog.LevelWarn
	}
	all := append([]slog.Attr{slog.Bool("audit", true), slog.String("action", action)}, attrs...)
	all = append(all, slog.String("source", src.Addr), slog.String("auth_user", src.User), slog.String("result", result))
	if err != nil {
		all = append(all, slog.String("error", err.Error()))
	}
	e.log.LogAttrs(context.WithoutCancel(ctx), level, auditMsg, all...)
}

// auditAct is the audit line of one action on an incident.
func (e *Engine) auditAct(ctx context.Context, a Action, done bool, err error) {
	result := auditUnchanged
	switch {
	case done:
		result = auditDone
	case errors.Is(err, ErrForbidden), errors.Is(err, ErrResolved), errors.Is(err, ErrNotFound), errors.Is(err, ErrBadVerb):
		result = auditRefused
	case err != nil:
		result = auditFailed
	}
	e.audit(ctx, a.Verb, result, err, slog.Int64("incident", a.Incident),
		slog.String("actor", a.User), slog.String("channel", a.Via))
}

// AuditReload is the audit line of one reload: channel is "http" for POST
// /-/reload, "sighup" for the signal. The actor is the admin listener's
// authenticated user, if it checks one.
func (e *Engine) AuditReload(ctx context.Context, channel string, err error) {
	result := auditDone
	if err != nil {
		result = auditRefused
	}
	src, _ := auditSourceOf(ctx)
	e.audit(ctx, "reload", result, err, slog.String("actor", src.User), slog.String("channel", channel))
}

// auditDead is the audit line of a dead-letter retry or discard.
func (e *Engine) auditDead(ctx context.Context, action, id, actor string, incident int64, err error) {
	result := auditDone
	switch {
	case errors.Is(err, ErrDeadTimerNotFound):
		result = auditRefused
	case err != nil:
		result = auditFailed
	}
	e.audit(ctx, action, result, err, slog.Int64("incident", incident), slog.String("timer", id),
		slog.String("actor", actor), slog.String("channel", "api"))
}
