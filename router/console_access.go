package router

import (
	"context"
	"fmt"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/store"
)

// decideOn applies the roles (access.Decide) to the signed-in user's
// action on one incident whose timeline tl is already read.
func (s *Server) decideOn(user string, action access.Action, inc *store.Incident, tl []store.Event) access.Decision {
	cfg := s.Engine.Policies().Config()
	req := access.Request{User: user, Action: action, Incident: inc.ID, Department: inc.Department}
	d := access.Decide(cfg, req)
	if d.PagedWouldAllow {
		req.Paged = pagedIn(tl, user)
		d = access.Decide(cfg, req)
	}
	return d
}

// visible keeps the incidents of list that user may see, in order: a list
// never shows the summary of an incident whose page would answer 403. The
// timeline is read only for an incident of a department where user has no
// role, to see whether it paged them.
func (s *Server) visible(ctx context.Context, user string, list []*store.Incident) ([]*store.Incident, error) {
	cfg := s.Engine.Policies().Config()
	out := list[:0:0]
	for _, inc := range list {
		req := access.Request{User: user, Action: access.View, Incident: inc.ID, Department: inc.Department}
		d := access.Decide(cfg, req)
		if d.PagedWouldAllow {
			tl, err := s.Engine.Store().Timeline(ctx, inc.ID)
			if err != nil {
				return nil, fmt.Errorf("router: timeline of incident %d: %w", inc.ID, err)
			}
			req.Paged = pagedIn(tl, user)
			d = access.Decide(cfg, req)
		}
		if d.Allowed {
			out = append(out, inc)
		}
	}
	return out, nil
}
