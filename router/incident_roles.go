package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/store"
)

// Errors of the incident-running actions (roles, notes, severity): the
// request is wrong, nothing was changed.
var (
	ErrBadRole = errors.New("unknown role: want ic, ops, comm or rec")
	ErrNotUser = errors.New("not a configured user")
)

// RoleChange gives role to User on an incident, or with User "" takes it
// from whoever holds it.
type RoleChange struct {
	Incident int64
	Role     string // one of config.IncidentRoleIDs
	User     string // a configured user id; "" unassigns
	Actor    string // who asks, recorded on the timeline
	Via      string // api, slack, console…
	// Dedup and Replayed name an inbound request, as Action's do: the same
	// button press gives the role once.
	Dedup    string
	Replayed bool
}

// SetRole carries out c. done is false when the role already stood so.
func (e *Engine) SetRole(ctx context.Context, c RoleChange) (inc *store.Incident, done bool, err error) {
	action := "assign"
	if c.User == "" {
		action = "unassign"
	}
	defer func() {
		e.audit(ctx, action, runResult(done, err), err, slog.Int64("incident", c.Incident), slog.String("actor", c.Actor),
			slog.String("channel", c.Via), slog.String("role", c.Role), slog.String("user", c.User))
	}()
	if !config.IsRole(c.Role) {
		return nil, false, fmt.Errorf("role %q: %w", c.Role, ErrBadRole)
	}
	if err := e.authorizeOn(ctx, Action{Incident: c.Incident, Verb: action, User: c.Actor, Via: c.Via}, access.Run); err != nil {
		return nil, false, err
	}
	if c.User != "" && e.Policies().Config().User(c.User) == nil {
		return nil, false, fmt.Errorf("user %q: %w", c.User, ErrNotUser)
	}
	inc, done, err = e.update(ctx, c.Incident, func(cur *store.Incident) (*store.Change, error) {
		if skip, err := handledBefore(cur, c.Dedup, c.Replayed); skip || err != nil {
			return nil, err
		}
		ch := roleChange(cur, c.Role, c.User, c.Actor, c.Via, e.now())
		if ch != nil {
			// The Slack pages name the holders: they are rewritten to say who now.
			ch.Schedule = append(ch.Schedule, e.rolesUpdateTimers(cur)...)
		}
		markHandled(ch, cur, c.Dedup)
		return ch, nil
	})
	if err != nil {
		return inc, false, err
	}
	return inc, done, nil
}

// roleChange is the write that gives role to user ("" frees it), nil when
// it already stands so. The map is copied: fn may run again on the same cur.
func roleChange(cur *store.Incident, role, user, actor, via string, now time.Time) *store.Change {
	prev := cur.Roles[role]
	if prev == user {
		return nil
	}
	inc := *cur
	inc.Roles = maps.Clone(cur.Roles)
	if inc.Roles == nil {
		inc.Roles = map[string]string{}
	}
	inc.Roles[role] = user
	ev := event(now, "role_assigned", actor, "role", role, "user", user, "previous", prev, "via", via)
	if user == "" {
		delete(inc.Roles, role)
		ev = event(now, "role_unassigned", actor, "role", role, "previous", prev, "via", via)
	}
	if len(inc.Roles) == 0 {
		inc.Roles = nil
	}
	inc.UpdatedAt = now
	return &store.Change{Incident: &inc, Events: []store.Event{ev}}
}

// handledBefore applies Act's rule for a named inbound request to a role
// or note: one already in cur's window of handled requests changes nothing
// (a provider's retry), a replayed one outside it is ErrReplayed.
func handledBefore(cur *store.Incident, dedup string, replayed bool) (skip bool, err error) {
	switch {
	case dedup != "" && slices.Contains(cur.Handled, dedup):
		return true, nil
	case replayed:
		return true, ErrReplayed
	}
	return false, nil
}

// markHandled adds dedup to the window of handled requests of ch's incident.
func markHandled(ch *store.Change, cur *store.Incident, dedup string) {
	if ch == nil || dedup == "" {
		return
	}
	ch.Incident.Handled = append(slices.Clone(cur.Handled), dedup)
	if n := len(ch.Incident.Handled); n > handledKeep {
		ch.Incident.Handled = ch.Incident.Handled[n-handledKeep:]
	}
}

// ackRole makes the acknowledger the IC unless the policy says otherwise,
// somebody holds the role, or the acknowledger is no configured user (the
// API's anonymous "api").
func (e *Engine) ackRole(ch *store.Change, actor, via string, now time.Time) {
	cfg := e.Policies().Config()
	inc := ch.Incident
	if !cfg.Policy(inc.Policy).AckerIsIC() || inc.Roles["ic"] != "" || cfg.User(actor) == nil {
		return
	}
	rc := roleChange(inc, "ic", actor, actor, "ack", now)
	inc.Roles = rc.Incident.Roles
	ch.Events = append(ch.Events, rc.Events...)
}

// runResult is the audit result of an incident-running action.
func runResult(done bool, err error) string {
	switch {
	case done:
		return auditDone
	case errors.Is(err, ErrBadRole), errors.Is(err, ErrNotUser), errors.Is(err, ErrNotFound), errors.Is(err, ErrBadNote),
		errors.Is(err, ErrForbidden), errors.Is(err, ErrReplayed):
		return auditRefused
	case err != nil:
		return auditFailed
	}
	return auditUnchanged
}

// roleTitle is role's display name: the file's, else the catalog's in lang.
func roleTitle(cfg *config.Config, role, lang string) string {
	if n := cfg.Global.IncidentRoles.Name(role); n != "" {
		return n
	}
	return catalog.Text(lang, catalog.Key("incident.role."+role))
}

// roleHolders are inc's role holders in config.IncidentRoleIDs order, as messages
// and exports show them.
func roleHolders(cfg *config.Config, inc *store.Incident, lang string) []channels.RoleHolder {
	var out []channels.RoleHolder
	for _, role := range config.IncidentRoleIDs {
		id := inc.Roles[role]
		if id == "" {
			continue
		}
		h := channels.RoleHolder{Role: role, Title: roleTitle(cfg, role, lang), User: id, Name: id}
		if u := cfg.User(id); u != nil && u.Name != "" {
			h.Name = u.Name
		}
		out = append(out, h)
	}
	return out
}
