package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/alertmanager/template"

	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

// A heartbeat is an alert that always fires (Alertmanager's Watchdog). Its
// posts are taken as signs of life, not incidents: each one replaces the
// heartbeat's deadline timer, one per heartbeat in the store, shared by every
// replica. When the deadline passes, hikyaku opens an incident of its own
// and escalates it like any other; the next post resolves it.
const (
	kindHeartbeat = "heartbeat"
	// heartbeatPrefix starts both the deadline timer's id and the incident's
	// key. Alertmanager's group keys start with "{", so no receiver's key can
	// be taken for it.
	heartbeatPrefix = "heartbeat/"
	// heartbeatAlertname is the alert name of the incident hikyaku opens.
	heartbeatAlertname = "HeartbeatMissing"
	// heartbeatRefresh is how often each replica re-reads the heartbeats'
	// state for its metrics, so a beat another replica took shows here too.
	heartbeatRefresh = 10 * time.Second
)

// heartbeatPayload is a heartbeat's state, kept in its deadline timer.
type heartbeatPayload struct {
	// Last is when the last post arrived; zero when none has since hikyaku started watching.
	Last time.Time `json:"last,omitzero"`
	// Since is when watching began, what "silent since" says before any post.
	Since time.Time `json:"since,omitzero"`
	// Missing: the deadline passed and no post came since. The timer then
	// waits one more timeout, to open the incident again if it was resolved
	// by hand while the heartbeat is still silent.
	Missing bool `json:"missing,omitempty"`
}

func heartbeatTimer(name string, due time.Time, p heartbeatPayload) store.Timer {
	return store.Timer{ID: heartbeatPrefix + name, Kind: kindHeartbeat, Due: due, Payload: payload(p)}
}

func heartbeatKey(name string) string { return heartbeatPrefix + name }

// heartbeatsFor lists the heartbeats whose alert a post with these labels is.
func heartbeatsFor(cfg *config.Config, lbls map[string]string) []*config.Heartbeat {
	if len(cfg.Heartbeats) == 0 {
		return nil
	}
	var out []*config.Heartbeat
	for _, h := range cfg.Heartbeats {
		if h.Matches(lbls) {
			out = append(out, h)
		}
	}
	return out
}

// beat records a heartbeat post: the deadline moves to now+timeout, and an
// incident the silence opened is resolved. An error means nothing may have
// been recorded; the webhook then answers 503 and Alertmanager retries.
func (e *Engine) beat(ctx context.Context, hbs []*config.Heartbeat, msg *Message) error {
	now := e.now()
	names := make([]string, len(hbs))
	for i, h := range hbs {
		names[i] = h.Name
	}
	if !msg.Firing() {
		// Alertmanager resolves the Watchdog when Prometheus stopped sending
		// it: that is no sign of life. The deadline will tell.
		e.log.Warn("heartbeat alert resolved: Prometheus stopped sending it; hikyaku pages when its timeout passes without it",
			"heartbeats", strings.Join(names, ","), "group_key", msg.GroupKey)
		return nil
	}
	for _, h := range hbs {
		t := heartbeatTimer(h.Name, now.Add(h.Timeout.D()), heartbeatPayload{Last: now})
		prev, err := e.opts.Store.SetTimer(ctx, store.TimerReplace, t)
		if err != nil {
			return fmt.Errorf("router: heartbeat %q: %w", h.Name, err)
		}
		e.metrics.heartbeat.observe(h.Name, heartbeatPayload{Last: now})
		if prev != nil && missing(prev) {
			e.log.Info("heartbeat received again", "heartbeat", h.Name)
		}
		// Always, not only when the timer said missing: the deadline may be
		// opening the incident right now on another replica.
		if err := e.heartbeatBack(ctx, h.Name, now, "heartbeat_received"); err != nil {
			return err
		}
	}
	e.kick()
	return nil
}

func missing(t *store.Timer) bool {
	var p heartbeatPayload
	return json.Unmarshal(t.Payload, &p) == nil && p.Missing
}

// heartbeatBack resolves the heartbeat's incident, if one is open, saying why.
func (e *Engine) heartbeatBack(ctx context.Context, name string, at time.Time, why string) error {
	set := e.Policies() // one config for the whole operation, however often the store runs its update
	res, err := e.opts.Store.UpdateByKey(ctx, heartbeatKey(name), func(cur *store.Incident) (*store.Change, error) {
		if cur == nil {
			return nil, nil
		}
		ch := e.resolveChange(set, cur, "hikyaku", "heartbeat")
		why := event(e.now(), why, "hikyaku", "heartbeat", name, "received_at", stamp(at))
		ch.Events = append([]store.Event{why}, ch.Events...)
		return ch, nil
	})
	if err != nil {
		return fmt.Errorf("router: heartbeat %q: resolve its incident: %w", name, err)
	}
	if res.Written {
		e.observeResolved(res.Incident)
		e.log.Info("heartbeat back: its incident is resolved", "heartbeat", name, "incident", res.Incident.ID, "why", why)
		e.kick()
	}
	return nil
}

// heartbeatDeadline handles a heartbeat's deadline: no post came in time.
func (e *Engine) heartbeatDeadline(ctx context.Context, c store.Claim) error {
	name := strings.TrimPrefix(c.ID, heartbeatPrefix)
	var p heartbeatPayload
	if err := json.Unmarshal(c.Payload, &p); err != nil {
		e.log.Error("bad heartbeat timer payload: dropping it; a restart or reload arms the heartbeat again", "timer", c.ID, "err", err)
		return nil
	}
	h := e.Policies().Config().Heartbeat(name)
	if h == nil {
		// Removed from the configuration while this replica was not
		// running (a reload removes the timer itself).
		e.log.Info("heartbeat is no longer configured: its deadline is dropped", "heartbeat", name)
		return e.heartbeatBack(ctx, name, e.now(), "heartbeat_removed")
	}
	now := e.now()
	if err := e.openHeartbeatIncident(ctx, h, p, now); err != nil {
		return err // the claim lapses and the deadline is handled again
	}
	e.metrics.heartbeat.observe(name, heartbeatPayload{Last: p.Last, Missing: true})
	err := e.opts.Store.Complete(ctx, c)
	if errors.Is(err, store.ErrStaleClaim) {
		// The timer was replaced under the claim: a post arrived while the
		// incident was being opened, and its replica may have looked for the
		// incident before it existed.
		cur, err := e.opts.Store.SetTimer(ctx, store.TimerGet, store.Timer{ID: c.ID})
		if err != nil {
			e.log.Warn("heartbeat: reading its timer after a lost claim failed; the next post resolves the incident", "heartbeat", name, "err", err)
			return errDone
		}
		var latest heartbeatPayload
		switch {
		case cur == nil: // a reload removed the heartbeat meanwhile
			err = e.heartbeatBack(ctx, name, e.now(), "heartbeat_removed")
		case json.Unmarshal(cur.Payload, &latest) == nil && latest.Last.After(p.Last):
			err = e.heartbeatBack(ctx, name, latest.Last, "heartbeat_received")
		}
		if err != nil {
			e.log.Warn("heartbeat: resolving its incident failed; the next post resolves it", "heartbeat", name, "err", err)
		}
		return errDone
	}
	if err != nil {
		e.log.Warn("completing heartbeat deadline failed; it will be handled again after its lease", "heartbeat", name, "err", err)
		return errDone
	}
	// Watch on: one more timeout, so an incident resolved by hand while the
	// heartbeat is still silent opens again. Add, not replace: a post that
	// arrived since the Complete keeps its own deadline.
	p.Missing = true
	if _, err := e.opts.Store.SetTimer(ctx, store.TimerAdd, heartbeatTimer(name, now.Add(h.Timeout.D()), p)); err != nil {
		e.log.Error("heartbeat: re-arming its deadline failed; the next post, reload or restart arms it again", "heartbeat", name, "err", err)
	}
	return errDone
}

// openHeartbeatIncident opens the heartbeat's incident unless one is open
// (or acknowledged) already.
func (e *Engine) openHeartbeatIncident(ctx context.Context, h *config.Heartbeat, p heartbeatPayload, now time.Time) error {
	set, err := e.livePolicies(ctx) // a department's mute mutes its heartbeats too
	if err != nil {
		return err
	}
	cfg := set.Config()
	since, watched := p.Last, "last_received"
	if since.IsZero() {
		since, watched = p.Since, "watching_since"
	}
	raw, err := heartbeatMessage(cfg, h, since, watched == "watching_since", now)
	if err != nil {
		return err
	}
	d := policies.Decision{Department: h.Department, Severity: h.Severity, Action: policies.ActionPage}
	if pol := cfg.HeartbeatPolicy(h); pol != nil {
		d.Policy = pol.ID
	}
	if name, ok := set.InMaintenance(h.Department, "", now); ok {
		d.Action, d.Maintenance = policies.ActionMaintenance, name
	}
	msg := &Message{Data: &template.Data{Receiver: "hikyaku"}, GroupKey: heartbeatKey(h.Name)}
	res, err := e.opts.Store.UpdateByKey(ctx, heartbeatKey(h.Name), func(cur *store.Incident) (*store.Change, error) {
		if cur != nil {
			return nil, nil
		}
		ch := e.open(set, heartbeatKey(h.Name), d, msg, raw)
		// open's first event says Alertmanager created it: here hikyaku did.
		ch.Events[0] = event(now, "created", "hikyaku", "heartbeat", h.Name)
		ch.Events = append(ch.Events[:1], append([]store.Event{event(now, "heartbeat_missing", "hikyaku",
			"heartbeat", h.Name, watched, stamp(since), "timeout", h.Timeout.String())}, ch.Events[1:]...)...)
		return ch, nil
	})
	if err != nil {
		return fmt.Errorf("router: heartbeat %q: open its incident: %w", h.Name, err)
	}
	if inc := res.Incident; res.Written {
		e.metrics.opened.WithLabelValues(inc.Department, inc.Severity).Inc()
		e.log.Error("heartbeat missing: the monitoring pipeline is silent; incident opened", "heartbeat", h.Name,
			watched, stamp(since), "timeout", h.Timeout.String(), "incident", inc.ID, "department", inc.Department,
			"policy", inc.Policy, "action", string(d.Action))
		e.kick()
	}
	return nil
}

// heartbeatMessage is the webhook message of a heartbeat's incident, shaped
// as Alertmanager would send it so templates, the API and links render it
// like any other. Its labels are alertname, heartbeat, severity and the
// heartbeat's equality matchers (cluster="prod").
func heartbeatMessage(cfg *config.Config, h *config.Heartbeat, since time.Time, never bool, now time.Time) ([]byte, error) {
	lbls := template.KV{"alertname": heartbeatAlertname, "heartbeat": h.Name, "severity": h.Severity}
	for _, m := range h.ParsedMatchers {
		if m.Type == labels.MatchEqual && m.Name != "alertname" && lbls[m.Name] == "" {
			lbls[m.Name] = m.Value
		}
	}
	summary := fmt.Sprintf("monitoring pipeline silent: heartbeat %s not received since %s", h.Name, stamp(since))
	if never {
		summary = fmt.Sprintf("monitoring pipeline silent: heartbeat %s not received since hikyaku started watching it at %s", h.Name, stamp(since))
	}
	matchers := make([]string, len(h.ParsedMatchers))
	for i, m := range h.ParsedMatchers {
		matchers[i] = m.String()
	}
	sort.Strings(matchers)
	ann := template.KV{
		"summary": summary,
		"description": fmt.Sprintf("No firing alert matching {%s} reached hikyaku within %s. Prometheus or Alertmanager may be down, "+
			"or cannot reach hikyaku: other alerts are then not getting through either.", strings.Join(matchers, ", "), h.Timeout),
	}
	msg := Message{
		Data: &template.Data{
			Receiver: "hikyaku", Status: "firing",
			Alerts: template.Alerts{{Status: "firing", Labels: lbls, Annotations: ann, StartsAt: now,
				Fingerprint: "heartbeat-" + h.Name}},
			GroupLabels:       template.KV{"alertname": heartbeatAlertname, "heartbeat": h.Name},
			CommonLabels:      lbls,
			CommonAnnotations: ann,
			ExternalURL:       cfg.Global.ExternalURL,
		},
		Version: "4", GroupKey: heartbeatKey(h.Name),
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("router: heartbeat %q: encode its message: %w", h.Name, err)
	}
	return b, nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// SyncHeartbeats arms the deadline of every configured heartbeat that has
// none in the store: a fresh start (or a heartbeat just added) counts its
// first deadline from now. A deadline already there is kept as it is, so a
// restart neither resets nor loses it. Run calls it at start and after each
// reload, again until it succeeds.
func (e *Engine) SyncHeartbeats(ctx context.Context) error {
	now := e.now()
	for _, h := range e.Policies().Config().Heartbeats {
		t := heartbeatTimer(h.Name, now.Add(h.Timeout.D()), heartbeatPayload{Since: now})
		prev, err := e.opts.Store.SetTimer(ctx, store.TimerAdd, t)
		if err != nil {
			return fmt.Errorf("router: arm heartbeat %q: %w", h.Name, err)
		}
		if prev == nil {
			e.log.Info("heartbeat watched: its first deadline counts from now", "heartbeat", h.Name, "deadline", t.Due)
			e.metrics.heartbeat.observe(h.Name, heartbeatPayload{})
			continue
		}
		e.observeHeartbeat(h.Name, prev)
	}
	return nil
}

// refreshHeartbeats re-reads every heartbeat's state for the metrics.
func (e *Engine) refreshHeartbeats(ctx context.Context) error {
	for _, h := range e.Policies().Config().Heartbeats {
		t, err := e.opts.Store.SetTimer(ctx, store.TimerGet, store.Timer{ID: heartbeatPrefix + h.Name})
		if err != nil {
			return fmt.Errorf("router: read heartbeat %q: %w", h.Name, err)
		}
		if t != nil {
			e.observeHeartbeat(h.Name, t)
		}
	}
	return nil
}

func (e *Engine) observeHeartbeat(name string, t *store.Timer) {
	var p heartbeatPayload
	if err := json.Unmarshal(t.Payload, &p); err != nil {
		e.log.Error("bad heartbeat timer payload", "heartbeat", name, "err", err)
		return
	}
	e.metrics.heartbeat.observe(name, p)
}

// heartbeatsRemoved stops watching the heartbeats a reload took out: their
// deadlines go, and an incident their silence opened is resolved. Should the
// store fail here, the deadline, when it comes, finds the heartbeat gone and
// does the same.
func (e *Engine) heartbeatsRemoved(ctx context.Context, old, cfg *config.Config) {
	for _, h := range old.Heartbeats {
		if cfg.Heartbeat(h.Name) != nil {
			continue
		}
		e.metrics.heartbeat.forget(h.Name)
		if _, err := e.opts.Store.SetTimer(ctx, store.TimerRemove, store.Timer{ID: heartbeatPrefix + h.Name}); err != nil {
			e.log.Error("heartbeat removed from the configuration, but removing its deadline failed; it is dropped when it comes due", "heartbeat", h.Name, "err", err)
			continue
		}
		if err := e.heartbeatBack(ctx, h.Name, e.now(), "heartbeat_removed"); err != nil {
			e.log.Error("heartbeat removed from the configuration, but resolving its incident failed", "heartbeat", h.Name, "err", err)
		}
	}
}

// heartbeatWatch is Run's part in heartbeats: arm them at start and after a
// reload (until that succeeds), and keep the metrics fresh.
type heartbeatWatch struct {
	armed     bool
	refreshed time.Time
}

func (w *heartbeatWatch) tick(ctx context.Context, e *Engine) {
	if e.heartbeatsChanged.Swap(false) {
		w.armed = false
	}
	if len(e.Policies().Config().Heartbeats) == 0 {
		return
	}
	if !w.armed {
		if err := e.SyncHeartbeats(ctx); err != nil {
			if ctx.Err() == nil {
				e.log.Error("arming heartbeats failed; retrying", "err", err)
			}
			return
		}
		w.armed, w.refreshed = true, e.now()
		return
	}
	if e.now().Sub(w.refreshed) < heartbeatRefresh {
		return
	}
	w.refreshed = e.now()
	if err := e.refreshHeartbeats(ctx); err != nil && ctx.Err() == nil {
		e.log.Warn("reading heartbeats for their metrics failed", "err", err)
	}
}

// heartbeatsReloaded starts watching added heartbeats (Run arms them) and
// stops watching removed ones.
func (e *Engine) heartbeatsReloaded(old, cfg *config.Config) {
	e.heartbeatsChanged.Store(true)
	if len(old.Heartbeats) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	e.heartbeatsRemoved(ctx, old, cfg)
}
