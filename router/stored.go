package router

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

// Covers and mutes made at run time live in the store, not in the
// configuration: every decision of who is on call or whether a route is
// muted reads them afresh (livePolicies), so a replica sees another's
// write at its next page, with no restart and no cache to invalidate.

// MaxMute bounds a mute: one longer is a maintenance window, which belongs
// in the configuration where it is reviewed.
const MaxMute = 7 * 24 * time.Hour

// StoredKeep is how long retention keeps an ended override or mute, so
// the lists (--all) can say what was in force last week.
const StoredKeep = 30 * 24 * time.Hour

// livePolicies is the configuration in force with the stored covers and
// mutes on top. A store that cannot answer fails the caller: deciding
// without them would page the person who asked to be covered, or page
// through a mute, in silence.
func (e *Engine) livePolicies(ctx context.Context) (*policies.Set, error) {
	return e.withStored(ctx, e.Policies())
}

// withStored is set with the stored covers and mutes on top.
func (e *Engine) withStored(ctx context.Context, set *policies.Set) (*policies.Set, error) {
	os, ms, err := e.opts.Store.ListStored(ctx)
	if err != nil {
		return nil, fmt.Errorf("router: reading the stored overrides and mutes: %w", err)
	}
	return set.WithStored(coversOf(os), mutesOf(ms)), nil
}

// LivePolicies is livePolicies for the console and the API.
func (e *Engine) LivePolicies(ctx context.Context) (*policies.Set, error) { return e.livePolicies(ctx) }

func coversOf(os []store.Override) []policies.Cover {
	out := make([]policies.Cover, len(os))
	for i, o := range os {
		out[i] = policies.Cover{ID: o.ID, For: o.For, By: o.By, Rotation: o.Rotation, Start: o.Start, End: o.End}
	}
	return out
}

func mutesOf(ms []store.Mute) []policies.Mute {
	out := make([]policies.Mute, len(ms))
	for i, m := range ms {
		out[i] = policies.Mute{ID: m.ID, Route: m.Route, Department: m.Department, Start: m.Start, End: m.End}
	}
	return out
}

// ErrBadOverride is a cover or mute request that cannot be carried out as
// asked: an unknown user, route or rotation, times out of order.
var ErrBadOverride = errors.New("bad override or mute")

// ErrStoredNotFound is an override or mute id nobody stored (or removed).
var ErrStoredNotFound = errors.New("not found")

// overrideError is an ErrBadOverride in the catalog's words, so the
// console says it in the viewer's language and the API in English.
type overrideError struct {
	key  catalog.Key
	args []any
}

func (e *overrideError) Error() string {
	return ErrBadOverride.Error() + ": " + catalog.Text(catalog.Fallback, e.key, e.args...)
}

func (e *overrideError) Is(target error) bool { return target == ErrBadOverride }

// Text is the error in lang.
func (e *overrideError) Text(lang string) string { return catalog.Text(lang, e.key, e.args...) }

func badOverride(key catalog.Key, args ...any) error { return &overrideError{key: key, args: args} }

// CoverRequest is one "By covers For from Start to End".
type CoverRequest struct {
	For, By  string
	Rotation string // "" covers For in every rotation and schedule
	Start    time.Time
	End      time.Time
	Reason   string
}

// AddOverride stores a cover made by actor, after the roles allow it.
func (e *Engine) AddOverride(ctx context.Context, actor string, q CoverRequest) (store.Override, error) {
	o, err := e.addOverride(ctx, actor, q)
	e.audit(ctx, "override_add", auditResult(err), err, slog.String("actor", actor), slog.String("override", o.ID),
		slog.String("for", q.For), slog.String("by", q.By), slog.String("rotation", q.Rotation),
		slog.String("start", stamp(q.Start)), slog.String("end", stamp(q.End)))
	return o, err
}

func (e *Engine) addOverride(ctx context.Context, actor string, q CoverRequest) (store.Override, error) {
	cfg := e.Policies().Config()
	if d := access.Decide(cfg, access.Request{User: actor, Action: access.Cover, For: q.For}); !d.Allowed {
		return store.Override{}, &ForbiddenError{Reason: d.Reason}
	}
	now := e.now()
	switch {
	case cfg.User(q.For) == nil:
		return store.Override{}, badOverride("override.no_for_user", q.For)
	case cfg.User(q.By) == nil:
		return store.Override{}, badOverride("override.no_by_user", q.By)
	case q.For == q.By:
		return store.Override{}, badOverride("override.self_cover", q.For)
	case q.Rotation != "" && cfg.Rotation(q.Rotation) == nil && cfg.Schedule(q.Rotation) == nil:
		return store.Override{}, badOverride("override.no_rotation", q.Rotation)
	case q.Start.IsZero() || q.End.IsZero():
		return store.Override{}, badOverride("override.no_times")
	case !q.Start.Before(q.End):
		return store.Override{}, badOverride("override.ends_before_start", stamp(q.End), stamp(q.Start))
	case !q.End.After(now):
		return store.Override{}, badOverride("override.ended", stamp(q.End))
	}
	id, err := newStoredID()
	if err != nil {
		return store.Override{}, err
	}
	o := store.Override{ID: id, For: q.For, By: q.By, Rotation: q.Rotation, Start: q.Start.UTC(), End: q.End.UTC(),
		Reason: q.Reason, CreatedBy: actor, CreatedAt: now.UTC()}
	if err := e.opts.Store.AddOverride(ctx, o); err != nil {
		return store.Override{}, fmt.Errorf("router: storing the override: %w", err)
	}
	return o, nil
}

// RemoveOverride deletes a cover; whoever may make it for its person may
// remove it.
func (e *Engine) RemoveOverride(ctx context.Context, actor, id string) (store.Override, error) {
	o, err := e.removeOverride(ctx, actor, id)
	e.audit(ctx, "override_remove", auditResult(err), err, slog.String("actor", actor), slog.String("override", id),
		slog.String("for", o.For), slog.String("by", o.By))
	return o, err
}

func (e *Engine) removeOverride(ctx context.Context, actor, id string) (store.Override, error) {
	os, err := e.opts.Store.ListOverrides(ctx)
	if err != nil {
		return store.Override{}, fmt.Errorf("router: reading the stored overrides: %w", err)
	}
	i := slices.IndexFunc(os, func(o store.Override) bool { return o.ID == id })
	if i < 0 {
		return store.Override{}, fmt.Errorf("%w: no override %s", ErrStoredNotFound, id)
	}
	if d := access.Decide(e.Policies().Config(), access.Request{User: actor, Action: access.Cover, For: os[i].For}); !d.Allowed {
		return os[i], &ForbiddenError{Reason: d.Reason}
	}
	o, err := e.opts.Store.RemoveOverride(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return os[i], fmt.Errorf("%w: no override %s", ErrStoredNotFound, id)
	}
	if err != nil {
		return os[i], fmt.Errorf("router: removing the override: %w", err)
	}
	return o, nil
}

// MuteRequest mutes a route or a department from now for For.
type MuteRequest struct {
	Route, Department string
	For               time.Duration
	Reason            string
}

// StartMute stores a mute started by actor, an admin of the department
// muted (a route's department for a route).
func (e *Engine) StartMute(ctx context.Context, actor string, q MuteRequest) (store.Mute, error) {
	m, err := e.startMute(ctx, actor, q)
	e.audit(ctx, "mute_start", auditResult(err), err, slog.String("actor", actor), slog.String("mute", m.ID),
		slog.String("route", q.Route), slog.String("department", q.Department), slog.String("until", stamp(m.End)),
		slog.String("reason", q.Reason))
	if err == nil {
		e.log.Info("mute started: the route or department pages nobody until it ends", "mute", m.ID, "route", m.Route,
			"department", m.Department, "until", stamp(m.End), "by", actor)
	}
	return m, err
}

func (e *Engine) startMute(ctx context.Context, actor string, q MuteRequest) (store.Mute, error) {
	cfg := e.Policies().Config()
	dept := q.Department
	switch {
	case (q.Route == "") == (q.Department == ""):
		return store.Mute{}, badOverride("mute.no_target")
	case q.Route != "":
		r := cfg.Route(q.Route)
		if r == nil {
			return store.Mute{}, badOverride("mute.no_route", q.Route)
		}
		dept = r.Department
	case cfg.Department(q.Department) == nil:
		return store.Mute{}, badOverride("mute.no_department", q.Department)
	}
	if d := access.Decide(cfg, access.Request{User: actor, Action: access.Mute, Department: dept}); !d.Allowed {
		return store.Mute{}, &ForbiddenError{Reason: d.Reason}
	}
	switch {
	case q.For <= 0:
		return store.Mute{}, badOverride("mute.no_duration")
	case q.For > MaxMute:
		return store.Mute{}, badOverride("mute.too_long", q.For, MaxMute)
	case q.Reason == "":
		return store.Mute{}, badOverride("mute.no_reason")
	}
	id, err := newStoredID()
	if err != nil {
		return store.Mute{}, err
	}
	now := e.now().UTC()
	m := store.Mute{ID: id, Route: q.Route, Department: q.Department, Start: now, End: now.Add(q.For),
		Reason: q.Reason, CreatedBy: actor, CreatedAt: now}
	if err := e.opts.Store.AddMute(ctx, m); err != nil {
		return store.Mute{}, fmt.Errorf("router: storing the mute: %w", err)
	}
	return m, nil
}

// EndMute ends a mute now, and routes every waiting incident again at once,
// so what it muted and still fires pages now rather than at its old end.
func (e *Engine) EndMute(ctx context.Context, actor, id string) (store.Mute, error) {
	m, err := e.endMute(ctx, actor, id)
	e.audit(ctx, "mute_end", auditResult(err), err, slog.String("actor", actor), slog.String("mute", id),
		slog.String("route", m.Route), slog.String("department", m.Department))
	if err != nil {
		return m, err
	}
	if rerr := e.recheckWaiting(ctx); rerr != nil {
		// Their recheck timers still fire at the mute's old end.
		e.log.Error("mute ended, but waiting incidents could not be routed again now; they page at the mute's old end",
			"mute", id, "err", rerr)
	}
	return m, nil
}

func (e *Engine) endMute(ctx context.Context, actor, id string) (store.Mute, error) {
	ms, err := e.opts.Store.ListMutes(ctx)
	if err != nil {
		return store.Mute{}, fmt.Errorf("router: reading the stored mutes: %w", err)
	}
	i := slices.IndexFunc(ms, func(m store.Mute) bool { return m.ID == id })
	if i < 0 {
		return store.Mute{}, fmt.Errorf("%w: no mute %s", ErrStoredNotFound, id)
	}
	cfg := e.Policies().Config()
	dept := ms[i].Department
	if r := cfg.Route(ms[i].Route); ms[i].Route != "" && r != nil {
		dept = r.Department
	}
	if d := access.Decide(cfg, access.Request{User: actor, Action: access.Mute, Department: dept}); !d.Allowed {
		return ms[i], &ForbiddenError{Reason: d.Reason}
	}
	m, err := e.opts.Store.EndMute(ctx, id, actor, e.now().UTC())
	if err != nil {
		return ms[i], fmt.Errorf("router: ending the mute: %w", err)
	}
	return m, nil
}

// auditResult is the audit result of a cover or mute action.
func auditResult(err error) string {
	switch {
	case err == nil:
		return auditDone
	case errors.Is(err, ErrForbidden), errors.Is(err, ErrBadOverride), errors.Is(err, ErrStoredNotFound):
		return auditRefused
	}
	return auditFailed
}

// newStoredID is a short random id people type: 8 hex characters.
func newStoredID() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("router: a new id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
