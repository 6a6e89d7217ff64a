package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

// A drill is a department's contact check (docs/drills.md): every
// responder gets one test page on each of their contact methods, and when
// the answer window closes the department's admins and stakeholders get
// the report of who was reached where, how fast, and what failed.
//
// It is made of durable timers only, so it survives a restart and one
// replica does each part: the schedule's timer (drill/DEPT, no incident)
// opens the drill's own incident (Incident.Drill) for its occurrence; that
// incident's drill_page timers open one test page each, and its
// drill_report timer writes the results and sends the report through the
// outbox like any stakeholder report.
const (
	kindDrill       = "drill"        // a department's schedule: run its drill now
	kindDrillPage   = "drill_page"   // open one test page of a drill
	kindDrillReport = "drill_report" // the answer window closed: report
	// drillPrefix starts the schedule timer's id and the drill incident's key.
	drillPrefix    = "drill/"
	drillAlertname = "HikyakuDrill"
)

// Drill target results.
const (
	DrillAcked      = "acked"
	DrillUnanswered = "unanswered" // sent (or still being sent), never acknowledged
	DrillFailed     = "failed"     // the channel refused it, or it could not be sent
)

type drillPayload struct {
	Gen    int `json:"gen"`
	Target int `json:"target"`
}

func drillTimerID(dept string) string { return drillPrefix + dept }

// drillRef is a test page's drill, for its timeline ("" for none).
func drillRef(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

// Responders are whom a drill of d pages: its admins and responders, then
// the members of its rotations (later rosters too), each once.
func Responders(d *config.Department) []string {
	var out []string
	add := func(ids []string) {
		for _, id := range ids {
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	add(d.Roles.Admins)
	add(d.Roles.Responders)
	for _, r := range d.Rotations {
		add(r.Members)
		for _, c := range r.Changes {
			add(c.Members)
		}
	}
	return out
}

// contactMethods are u's contact methods, in the channels' failover order.
func contactMethods(cfg *config.Config, u *config.User) []string {
	var out []string
	for _, spec := range cfg.Channels() {
		if u.Contacts.Has(spec.Name) {
			out = append(out, string(spec.Name))
		}
	}
	return out
}

// DrillRequest asks for a drill now (hikyaku drills run).
type DrillRequest struct {
	Actor      string
	Department string
	Via        string
}

// ErrBadDrill is a drill that cannot run as asked (HTTP 400).
var ErrBadDrill = errors.New("drill")

// ErrDrillNoAction refuses acking, resolving or escalating a drill's own
// incident: its test pages are what people acknowledge.
var ErrDrillNoAction = errors.New("a drill is not acknowledged, resolved or escalated: its test pages are, and it reports when its answer window closes")

// RunDrill starts a drill of the department now, for an admin of it.
func (e *Engine) RunDrill(ctx context.Context, req DrillRequest) (inc *store.Incident, err error) {
	defer func() {
		result := auditDone
		if err != nil {
			result = auditRefused
		}
		e.audit(ctx, "drill", result, err, slog.String("actor", req.Actor), slog.String("channel", req.Via),
			slog.String("department", req.Department))
	}()
	set := e.Policies()
	cfg := set.Config()
	d := cfg.Department(req.Department)
	if d == nil {
		return nil, fmt.Errorf("%w: there is no department %q", ErrBadDrill, req.Department)
	}
	if dec := access.Decide(cfg, access.Request{User: req.Actor, Action: access.Drill, Department: d.ID}); !dec.Allowed {
		return nil, &ForbiddenError{Reason: dec.Reason}
	}
	now := e.now()
	return e.startDrill(ctx, set, d, req.Actor, time.Time{}, now, fmt.Sprintf("%s%s/%d", drillPrefix, d.ID, now.UnixNano()))
}

// startDrill opens the drill's incident under key, with a drill_page timer
// per contact method and the report at the window's end. While one is open
// under key it is returned as it is: a retried schedule runs it once.
func (e *Engine) startDrill(ctx context.Context, set *policies.Set, d *config.Department, by string,
	scheduled, now time.Time, key string) (*store.Incident, error) {
	cfg := set.Config()
	dr := &store.Drill{RequestedBy: by, Scheduled: scheduled, Until: now.Add(d.DrillAnswerWithin())}
	for _, id := range Responders(d) {
		u := cfg.User(id)
		if u == nil {
			continue // Load refuses unknown users; a reload raced this
		}
		methods := contactMethods(cfg, u)
		if len(methods) == 0 {
			dr.NoContact = append(dr.NoContact, id)
		}
		for _, ch := range methods {
			dr.Targets = append(dr.Targets, store.DrillTarget{User: id, Channel: ch})
		}
	}
	raw, err := drillMessage(cfg, d, key, len(dr.Targets))
	if err != nil {
		return nil, err
	}
	actor := by
	if actor == "" {
		actor = "hikyaku"
	}
	res, err := e.opts.Store.UpdateByKey(ctx, key, func(cur *store.Incident) (*store.Change, error) {
		if cur != nil {
			return nil, nil
		}
		inc := &store.Incident{Key: key, Status: store.StatusOpen, CreatedAt: now, UpdatedAt: now, LastAlertAt: now,
			Department: d.ID, Severity: TestSeverity, Message: raw, Drill: dr,
			Test: &store.TestPage{RequestedBy: by}}
		sched := ""
		if !scheduled.IsZero() {
			sched = stamp(scheduled)
		}
		ch := &store.Change{Incident: inc, Events: []store.Event{event(now, "drill_started", actor,
			"targets", strconv.Itoa(len(dr.Targets)), "no_contact", strings.Join(dr.NoContact, ","),
			"scheduled", sched, "until", stamp(dr.Until))}}
		for i := range dr.Targets {
			ch.Schedule = append(ch.Schedule, drillPageTimer(inc, i, now))
		}
		ch.Schedule = append(ch.Schedule, genTimer(inc, kindDrillReport, dr.Until))
		return ch, nil
	})
	if err != nil {
		return nil, fmt.Errorf("router: drill of %s: %w", d.ID, err)
	}
	if res.Written {
		e.metrics.drill.drills.WithLabelValues(d.ID, "run").Inc()
		e.log.Info("drill started", "incident", res.Incident.ID, "department", d.ID, "targets", len(dr.Targets),
			"no_contact", strings.Join(dr.NoContact, ","), "by", actor, "until", dr.Until)
		if len(dr.NoContact) > 0 {
			e.log.Warn("drill: responders with no contact method at all", "department", d.ID, "users", strings.Join(dr.NoContact, ","))
		}
		e.kick()
	}
	return res.Incident, nil
}

func drillPageTimer(inc *store.Incident, target int, due time.Time) store.Timer {
	g := inc.Escalation.Generation
	return store.Timer{ID: fmt.Sprintf("%s/g%d/drill_page/%d", ref(inc), g, target), Kind: kindDrillPage,
		IncidentID: inc.ID, Due: due, Payload: payload(drillPayload{Gen: g, Target: target})}
}

// drillMessage is a drill's webhook message, shaped as Alertmanager's so
// the API and templates read it like any other.
func drillMessage(cfg *config.Config, d *config.Department, key string, targets int) ([]byte, error) {
	lbls := template.KV{"alertname": drillAlertname, "department": d.ID, "severity": TestSeverity}
	ann := template.KV{"summary": fmt.Sprintf("drill of %s: %d contact methods tested, a contact check, not an incident", d.Name, targets)}
	// No alert: the drill is no alert firing, and its report lists none.
	msg := Message{Data: &template.Data{Receiver: "hikyaku", Status: "firing", Alerts: template.Alerts{},
		GroupLabels:  template.KV{"alertname": drillAlertname, "department": d.ID},
		CommonLabels: lbls, CommonAnnotations: ann, ExternalURL: cfg.Global.ExternalURL,
	}, Version: "4", GroupKey: key}
	b, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("router: drill of %s: encode its message: %w", d.ID, err)
	}
	return b, nil
}

// drillPage opens one test page of a drill and notes it on the drill.
func (e *Engine) drillPage(ctx context.Context, c store.Claim) error {
	var p drillPayload
	if err := json.Unmarshal(c.Payload, &p); err != nil {
		return poison(fmt.Errorf("decode drill page payload: %w", err))
	}
	drill, err := e.opts.Store.Get(ctx, c.IncidentID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("drill page: %w", err)
	}
	if drill.Drill == nil || drill.Status != store.StatusOpen || p.Target >= len(drill.Drill.Targets) {
		return nil
	}
	tg := drill.Drill.Targets[p.Target]
	if tg.Incident != 0 {
		return nil
	}
	now := e.now()
	cfg := e.Policies().Config()
	var pageID int64
	failure := ""
	if u := cfg.User(tg.User); u == nil || !u.Contacts.Has(config.Channel(tg.Channel)) {
		failure = fmt.Sprintf("%s has no %s contact any more", tg.User, tg.Channel)
	} else {
		key := fmt.Sprintf("%s%s/drill/%d/%s", testKeyPrefix, tg.User, drill.ID, tg.Channel)
		tp := &store.TestPage{User: tg.User, Channel: tg.Channel, RequestedBy: drill.Drill.RequestedBy, Drill: drill.ID}
		page, err := e.openTest(ctx, key, tp, drill.Department,
			[]policies.Page{{At: now, User: tg.User, Channel: config.Channel(tg.Channel)}}, "drill", now, drill.Drill.Until)
		if err != nil {
			return err // retried with backoff: the key finds the page if it was written
		}
		pageID = page.ID
	}
	_, err = e.opts.Store.Update(ctx, drill.ID, func(cur *store.Incident) (*store.Change, error) {
		if cur.Drill == nil || p.Target >= len(cur.Drill.Targets) || cur.Drill.Targets[p.Target].Incident != 0 {
			return nil, nil
		}
		inc := *cur
		dr := *cur.Drill
		dr.Targets = slices.Clone(dr.Targets)
		dr.Targets[p.Target].Incident = pageID
		if failure != "" {
			dr.Targets[p.Target].Result, dr.Targets[p.Target].Error = DrillFailed, failure
		}
		inc.Drill, inc.UpdatedAt = &dr, now
		ev := event(now, "drill_page", "hikyaku", "to", tg.User, "channel", tg.Channel, "test_page", drillRef(pageID), "error", failure)
		return &store.Change{Incident: &inc, Events: []store.Event{ev}}, nil
	})
	if err != nil {
		return fmt.Errorf("drill page: note it on the drill: %w", err)
	}
	if failure != "" {
		e.log.Warn("drill: a contact method could not be tested", "drill", drill.ID, "user", tg.User, "channel", tg.Channel, "err", failure)
	}
	return nil
}

// drillDue runs a department's scheduled drill and arms the next one.
func (e *Engine) drillDue(ctx context.Context, c store.Claim) error {
	dept := strings.TrimPrefix(c.ID, drillPrefix)
	set := e.Policies()
	d := set.Config().Department(dept)
	if d == nil || d.Drill == nil {
		// Taken out of the configuration while no replica ran (a reload removes it itself).
		e.log.Info("drill is no longer configured: its schedule is dropped", "department", dept)
		return nil
	}
	now := e.now()
	if late := now.Sub(c.Due); late > d.DrillAnswerWithin() {
		// Its report would come after people stopped expecting the drill:
		// run none, say so, and wait for the next.
		e.metrics.drill.drills.WithLabelValues(d.ID, "missed").Inc()
		e.log.Warn("drill missed: no replica ran at its time; the next one is armed", "department", d.ID,
			"scheduled", c.Due, "late", late.Round(time.Second).String())
	} else if _, err := e.startDrill(ctx, set, d, "", c.Due, now, fmt.Sprintf("%s%s/%d", drillPrefix, d.ID, c.Due.Unix())); err != nil {
		return err
	}
	if err := e.opts.Store.Complete(ctx, c); err != nil {
		if !errors.Is(err, store.ErrStaleClaim) {
			e.log.Warn("completing a drill's schedule timer failed; it comes back after its lease and finds its drill", "department", d.ID, "err", err)
		}
		return errDone // replaced under us (a reload re-armed it), or it comes back
	}
	after := now
	if c.Due.After(after) {
		after = c.Due // Redis claims on its own clock, which may run ahead of ours
	}
	next, _ := policies.NextDrill(d.Drill, d.Location, after)
	if _, err := e.opts.Store.SetTimer(ctx, store.TimerAdd, drillTimer(d.ID, next)); err != nil {
		e.log.Error("drill: arming the next one failed; a reload or restart arms it", "department", d.ID, "next", next, "err", err)
		e.drillsChanged.Store(true)
	}
	return errDone
}

func drillTimer(dept string, due time.Time) store.Timer {
	return store.Timer{ID: drillTimerID(dept), Kind: kindDrill, Due: due}
}

// SyncDrills arms each configured drill's next run: a missing timer is
// added, one whose time no longer matches the schedule (a reload changed
// it) replaced; one already due is left to fire.
func (e *Engine) SyncDrills(ctx context.Context) error {
	now := e.now()
	for _, d := range e.Policies().Config().Departments {
		if d.Drill == nil {
			continue
		}
		next, _ := policies.NextDrill(d.Drill, d.Location, now)
		cur, err := e.opts.Store.SetTimer(ctx, store.TimerGet, store.Timer{ID: drillTimerID(d.ID)})
		if err != nil {
			return fmt.Errorf("router: arm the drill of %s: %w", d.ID, err)
		}
		switch {
		case cur == nil:
			_, err = e.opts.Store.SetTimer(ctx, store.TimerAdd, drillTimer(d.ID, next))
		case !cur.Due.After(now) || cur.Due.Equal(next):
			continue
		default:
			_, err = e.opts.Store.SetTimer(ctx, store.TimerReplace, drillTimer(d.ID, next))
		}
		if err != nil {
			return fmt.Errorf("router: arm the drill of %s: %w", d.ID, err)
		}
		e.log.Info("drill armed", "department", d.ID, "next", next)
	}
	return nil
}

// drillsRemoved disarms the drills a reload took out. Should the store
// fail here, the timer finds its drill gone when it fires and drops itself.
func (e *Engine) drillsRemoved(ctx context.Context, old, cfg *config.Config) {
	for _, d := range old.Departments {
		if d.Drill == nil {
			continue
		}
		if nd := cfg.Department(d.ID); nd != nil && nd.Drill != nil {
			continue
		}
		if _, err := e.opts.Store.SetTimer(ctx, store.TimerRemove, store.Timer{ID: drillTimerID(d.ID)}); err != nil {
			e.log.Error("drill removed from the configuration, but removing its schedule failed; it is dropped when it comes due", "department", d.ID, "err", err)
			continue
		}
		e.log.Info("drill disarmed", "department", d.ID)
	}
}

// drillsReloaded disarms removed drills and asks Run to arm the rest.
func (e *Engine) drillsReloaded(old, cfg *config.Config) {
	e.drillsChanged.Store(true)
	e.verifiedDirty.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	e.drillsRemoved(ctx, old, cfg)
}
