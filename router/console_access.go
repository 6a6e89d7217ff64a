package router

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/store"
)

// decideOn applies the roles to the signed-in user's action on one
// incident whose timeline tl is already read, by the rule the action's
// post obeys (actionDecision).
func (s *Server) decideOn(user string, action access.Action, inc *store.Incident, tl []store.Event) access.Decision {
	req := access.Request{User: user, Action: action, Incident: inc.ID}
	d, _ := actionDecision(s.Engine.Policies().Config(), req, inc, func() (bool, error) { return pagedIn(tl, user), nil })
	return d
}

// lazyDecider decides several actions of one user on one incident, reading
// its timeline once, and only when whether it paged the user decides.
type lazyDecider struct {
	s    *Server
	ctx  context.Context
	user string
	inc  *store.Incident
	tl   []store.Event
	read bool
}

func (l *lazyDecider) may(action access.Action) (bool, error) {
	req := access.Request{User: l.user, Action: action, Incident: l.inc.ID}
	d, err := actionDecision(l.s.Engine.Policies().Config(), req, l.inc, func() (bool, error) {
		if !l.read {
			tl, err := l.s.Engine.Store().Timeline(l.ctx, l.inc.ID)
			if err != nil {
				return false, fmt.Errorf("router: timeline of incident %d: %w", l.inc.ID, err)
			}
			l.tl, l.read = tl, true
		}
		return pagedIn(l.tl, l.user), nil
	})
	return d.Allowed, err
}

// visible keeps the incidents of list that user may see, in order: a list
// never shows the summary of an incident whose page would answer 403. The
// timeline is read only for an incident of a department where user has no
// role, to see whether it paged them.
func (s *Server) visible(ctx context.Context, user string, list []*store.Incident) ([]*store.Incident, error) {
	out := list[:0:0]
	for _, inc := range list {
		ok, err := (&lazyDecider{s: s, ctx: ctx, user: user, inc: inc}).may(access.View)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, inc)
		}
	}
	return out, nil
}

// nowIncident is a row of the Now page's incidents: one the viewer may
// see, and whether the roles let them acknowledge it.
type nowIncident struct {
	inc    *store.Incident
	mayAck bool
}

// unresolved are the newest consoleLimit open and acknowledged incidents
// that user may see (their own open test page among them, nobody else's),
// newest first, each with whether user may acknowledge it.
func (s *Server) unresolved(ctx context.Context, user string) ([]nowIncident, error) {
	var all []*store.Incident
	for _, st := range []store.Status{store.StatusOpen, store.StatusAcked} {
		page, err := s.Engine.Store().Query(ctx, store.ListOptions{Status: st, Limit: consoleLimit})
		if err != nil {
			return nil, err
		}
		all = append(all, withoutTests(page.Incidents, user)...)
	}
	slices.SortFunc(all, func(a, b *store.Incident) int { return cmp.Compare(b.ID, a.ID) })
	var out []nowIncident
	for _, inc := range all {
		if len(out) == consoleLimit {
			break
		}
		l := &lazyDecider{s: s, ctx: ctx, user: user, inc: inc}
		seen, err := l.may(access.View)
		if err != nil {
			return nil, err
		}
		if !seen {
			continue
		}
		ack, err := l.may(access.Ack)
		if err != nil {
			return nil, err
		}
		out = append(out, nowIncident{inc: inc, mayAck: ack})
	}
	return out, nil
}
