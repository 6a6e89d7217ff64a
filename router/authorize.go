package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/store"
)

// ForbiddenError is an action the roles refuse (access.Decide), with the
// reason the person is told in their language. It is ErrForbidden.
type ForbiddenError struct{ Reason access.Reason }

func (e *ForbiddenError) Error() string { return e.Reason.Text("en") }

// Is makes errors.Is(err, ErrForbidden) hold.
func (e *ForbiddenError) Is(target error) bool { return target == ErrForbidden }

// ForbiddenReason is why err refused an action, in the language of user
// (else the configuration's), for the person's answer; "" when err is no
// refusal by the roles.
func ForbiddenReason(cfg *config.Config, err error, user string) string {
	var fe *ForbiddenError
	if !errors.As(err, &fe) {
		return ""
	}
	return fe.Reason.Text(userLanguage(cfg, user))
}

// userLanguage is the language user is spoken to in.
func userLanguage(cfg *config.Config, user string) string {
	if u := cfg.User(user); u != nil && u.Language != "" {
		return u.Language
	}
	return cfg.Global.Language
}

// authorize applies the roles to a person's action on an incident, from
// any channel, before anything is written. A refusal is put on the
// incident's timeline (the audit line is Act's); a store failure is
// returned as such, refusing nobody for it.
func (e *Engine) authorize(ctx context.Context, a Action) error {
	return e.authorizeOn(ctx, a, access.Action(a.Verb))
}

// authorizeOn is authorize for the rule of act, which may differ from the
// verb recorded (a role or a note is access.Run).
func (e *Engine) authorizeOn(ctx context.Context, a Action, act access.Action) error {
	cfg := e.Policies().Config()
	req := access.Request{User: a.User, Action: act, Incident: a.Incident}
	if a.User == ServiceActor && a.Via != "api" {
		req.User = "" // the service name is the shared API token's alone
	}
	var inc *store.Incident
	if cfg.Global.Authorization == config.AuthorizationRoles && cfg.User(req.User) != nil {
		var err error
		inc, err = e.opts.Store.Get(ctx, a.Incident)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil // Act says there is no such incident
		case err != nil:
			return fmt.Errorf("router: incident %d: %w", a.Incident, err)
		}
	}
	d, err := actionDecision(cfg, req, inc, func() (bool, error) { return e.pagedUser(ctx, a.Incident, a.User) })
	if err != nil {
		return err
	}
	if d.Allowed {
		return nil
	}
	refusal := &ForbiddenError{Reason: d.Reason}
	ev := event(e.now(), "refused", a.User, "verb", a.Verb, "via", a.Via, "reason", refusal.Error())
	if err := e.record(ctx, a.Incident, nil, ev); err != nil && !errors.Is(err, store.ErrNotFound) {
		e.log.Error("a refused action could not be put on the timeline", "incident", a.Incident, "user", a.User, "err", err)
	}
	return refusal
}

// actionDecision is the roles' answer to req on inc (nil when not read):
// what authorize enforces on every channel, and what the console offers
// its buttons by, so a button shown is a button that works. paged is
// called only when whether inc paged req.User decides.
func actionDecision(cfg *config.Config, req access.Request, inc *store.Incident, paged func() (bool, error)) (access.Decision, error) {
	if inc != nil {
		req.Department = inc.Department
		if inc.Test != nil && inc.Test.User == req.User {
			return access.Decision{Allowed: true}, nil // one's own test page is one's own to answer, whatever one's role
		}
	}
	d := access.Decide(cfg, req)
	if d.PagedWouldAllow {
		p, err := paged()
		if err != nil {
			return d, err
		}
		req.Paged = p
		d = access.Decide(cfg, req)
	}
	return d, nil
}

// pagedUser says whether a page of incident id reached user (a report to a
// stakeholder does not count: stakeholders are informed, not paged).
func (e *Engine) pagedUser(ctx context.Context, id int64, user string) (bool, error) {
	evs, err := e.opts.Store.Timeline(ctx, id)
	if err != nil {
		return false, fmt.Errorf("router: timeline of incident %d: %w", id, err)
	}
	return pagedIn(evs, user), nil
}

// pagedIn says whether timeline evs has a page that reached user.
func pagedIn(evs []store.Event, user string) bool {
	for _, ev := range evs {
		if ev.Type == "notified" && ev.Detail["kind"] == "page" && ev.Detail["to"] == user {
			return true
		}
	}
	return false
}

// apiReload is POST /api/v1/reload: a reload by an admin's own token, from
// wherever the public listener is reachable. The admin listener's
// /-/reload stays, protected by that listener instead.
func (s *Server) apiReload(_ http.ResponseWriter, r *http.Request) (any, error) {
	id, _ := IdentityOf(r.Context())
	d := access.Decide(s.Engine.Policies().Config(), access.Request{User: id.User, Action: access.Reload})
	var err error
	switch {
	case !d.Allowed:
		err = &ForbiddenError{Reason: d.Reason}
	case s.Reload == nil:
		err = &httpError{http.StatusNotImplemented, "reload is not available"}
	default:
		if rerr := s.Reload(r.Context()); rerr != nil {
			err = &httpError{http.StatusBadRequest, "configuration refused, the previous one keeps serving:\n" + rerr.Error()}
		}
	}
	result := auditDone
	if err != nil {
		result = auditRefused
	}
	s.Engine.audit(r.Context(), "reload", result, err, slog.String("actor", id.User), slog.String("channel", "api"))
	if err != nil {
		return nil, err
	}
	return map[string]string{"status": "configuration reloaded"}, nil
}
