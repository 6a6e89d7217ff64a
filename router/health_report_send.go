package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

// Scheduled health reports (departments[].health_report): one schedule
// timer per department in the store, shared by every replica, fires at the
// sending time; its handler adds one send timer per recipient and arms the
// next sending. Each send timer renders the report of the period just
// ended in its reader's language and sends it, retried with backoff and
// dead-lettered like any other timer, so a restart or a replica's death
// loses no report and one claim sends each copy.
const (
	kindHealthReport     = "health_report"      // a department's schedule: its report is due
	kindHealthReportSend = "health_report_send" // one recipient's copy
	healthReportPrefix   = "health_report/"
	// KindHealthReport is the channels.Message kind of a health report.
	KindHealthReport channels.Kind = "health_report"
)

// Results of hikyaku_health_reports_sent_total.
const (
	healthSent     = "sent"
	healthRecorded = "recorded" // --dry-run: written to the log, nobody reached
	healthFailed   = "failed"
)

// healthSendPayload is one recipient's copy of one period's report.
type healthSendPayload struct {
	Department  string    `json:"department"`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	User        string    `json:"user,omitempty"`
	ChatChannel string    `json:"chat,omitempty"`
	Channel     string    `json:"channel"`
}

func healthReportTimerID(dept string) string { return healthReportPrefix + dept }

func healthReportTimer(dept string, due time.Time) store.Timer {
	return store.Timer{ID: healthReportTimerID(dept), Kind: kindHealthReport, Due: due}
}

// healthSendTimer is a copy's timer; its id names the period and the
// recipient, so a schedule timer handled twice adds each copy once.
func healthSendTimer(p healthSendPayload, due time.Time) store.Timer {
	who := "u:" + p.User
	if p.ChatChannel != "" {
		who = "c:" + p.ChatChannel
	}
	return store.Timer{ID: fmt.Sprintf("%s%s/%d/%s/%s", healthReportPrefix, p.Department, p.To.Unix(), who, p.Channel),
		Kind: kindHealthReportSend, Due: due, Payload: payload(p)}
}

type healthReportMetrics struct {
	sent *prometheus.CounterVec
}

func newHealthReportMetrics(f func(prometheus.Collector)) healthReportMetrics {
	m := healthReportMetrics{sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hikyaku_health_reports_sent_total",
		Help: "Copies of scheduled on-call health reports, by department and result: sent, recorded (--dry-run), or failed (no email or Slack contact, or the send failed for good)."},
		[]string{"department", "result"})}
	f(m.sent)
	return m
}

// initDepartments shows every result of a department that sends reports at
// 0, so an alert on failures sees the first one.
func (m healthReportMetrics) initDepartments(cfg *config.Config) {
	for _, d := range cfg.Departments {
		if d.HealthReport != nil {
			for _, r := range []string{healthSent, healthRecorded, healthFailed} {
				m.sent.WithLabelValues(d.ID, r)
			}
		}
	}
}

// healthReportDue handles a department's schedule timer: the copies of the
// period just ended go into the store, then the next sending is armed.
func (e *Engine) healthReportDue(ctx context.Context, c store.Claim) error {
	dept := strings.TrimPrefix(c.ID, healthReportPrefix)
	cfg := e.Policies().Config()
	d := cfg.Department(dept)
	if d == nil || d.HealthReport == nil {
		// Taken out of the configuration while no replica ran (a reload removes it itself).
		e.log.Info("health report is no longer configured: its schedule is dropped", "department", dept)
		return nil
	}
	now := e.now()
	// The sending this timer stands for; later than now when a reload
	// changed the schedule after it came due, and then it only re-arms.
	run := policies.NextHealthReport(d.HealthReport, d.Location, c.Due.Add(-time.Nanosecond))
	if !run.Send.After(now) {
		if late := now.Sub(run.Send); late > time.Hour {
			e.log.Warn("health report late: no replica ran at its time; sending it now", "department", d.ID,
				"scheduled", run.Send, "late", late.Round(time.Second).String())
		}
		n := 0
		for _, r := range cfg.HealthReportRecipients(d) {
			if r.Channel == "" {
				e.metrics.health.sent.WithLabelValues(d.ID, healthFailed).Inc()
				e.log.Error("health report not sent: the recipient has neither email nor Slack", "department", d.ID,
					"user", r.User, "chat_channel", r.ChatChannel, "from", run.From, "to", run.To)
				continue
			}
			p := healthSendPayload{Department: d.ID, From: run.From.UTC(), To: run.To.UTC(), User: r.User, ChatChannel: r.ChatChannel, Channel: string(r.Channel)}
			if _, err := e.opts.Store.SetTimer(ctx, store.TimerAdd, healthSendTimer(p, now)); err != nil {
				return fmt.Errorf("router: health report of %s: queue a copy: %w", d.ID, err)
			}
			n++
		}
		e.log.Info("health report due: sending", "department", d.ID, "from", run.From, "to", run.To, "copies", n)
	}
	if err := e.opts.Store.Complete(ctx, c); err != nil {
		if !errors.Is(err, store.ErrStaleClaim) {
			e.log.Warn("completing a health report's schedule timer failed; it comes back after its lease and adds no copy twice", "department", d.ID, "err", err)
		}
		return errDone // replaced under us (a reload re-armed it), or it comes back
	}
	// After this sending, not after now: a replica down over several
	// sendings catches up with each period's report in turn.
	next := run
	if !run.Send.After(now) {
		next = policies.NextHealthReport(d.HealthReport, d.Location, run.Send)
	}
	if _, err := e.opts.Store.SetTimer(ctx, store.TimerAdd, healthReportTimer(d.ID, next.Send)); err != nil {
		e.log.Error("health report: arming the next one failed; retried, and a reload or restart arms it", "department", d.ID, "next", next.Send, "err", err)
		e.healthReportsChanged.Store(true)
	}
	e.kick()
	return errDone
}

// healthReportSend renders and sends one copy. A transient failure is
// retried with the timer's backoff; one that is final (a permanent error,
// or the last attempt) counts as failed and is dead-lettered, where it can
// be seen and retried.
func (e *Engine) healthReportSend(ctx context.Context, c store.Claim) error {
	var p healthSendPayload
	if err := json.Unmarshal(c.Payload, &p); err != nil {
		return poison(fmt.Errorf("decode health report payload: %w", err))
	}
	cfg := e.Policies().Config()
	if cfg.Department(p.Department) == nil {
		e.log.Info("health report copy dropped: its department is no longer configured", "department", p.Department, "timer", c.ID)
		return nil
	}
	fail := func(err error) error {
		if channels.IsPermanent(err) || c.Attempt+1 >= e.timerAttempts() {
			e.metrics.health.sent.WithLabelValues(p.Department, healthFailed).Inc()
			e.log.Error("health report not sent", "department", p.Department, "user", p.User, "chat_channel", p.ChatChannel,
				"channel", p.Channel, "from", p.From, "to", p.To, "attempt", c.Attempt+1, "err", err)
			return poison(err)
		}
		return err
	}
	rep, err := e.HealthReport(ctx, p.Department, p.From, p.To)
	if err != nil {
		return fail(fmt.Errorf("health report of %s: %w", p.Department, err))
	}
	msg, err := healthMessage(cfg, rep, &p, c.ID)
	if err != nil {
		return fail(err)
	}
	rc, err := e.send(ctx, msg)
	if err != nil {
		return fail(fmt.Errorf("send the health report of %s by %s: %w", p.Department, p.Channel, err))
	}
	result := healthSent
	if rc.Recorded {
		result = healthRecorded
	}
	e.metrics.health.sent.WithLabelValues(p.Department, result).Inc()
	e.log.Info("health report "+result, "department", p.Department, "user", p.User, "chat_channel", p.ChatChannel,
		"channel", p.Channel, "from", p.From, "to", p.To, "provider_id", rc.ProviderID)
	return nil
}

// healthMessage is the copy of rep for p's recipient, in their language.
func healthMessage(cfg *config.Config, rep *HealthReport, p *healthSendPayload, key string) (*channels.Message, error) {
	m := &channels.Message{IdempotencyKey: key, Ref: msgRef(key), Channel: p.Channel, Kind: KindHealthReport}
	switch {
	case p.User != "":
		u := cfg.User(p.User)
		if u == nil {
			return nil, channels.Permanent("", fmt.Errorf("user %q is no longer in the configuration", p.User))
		}
		m.UserID, m.Name, m.Language, m.To = u.ID, u.Name, u.Language, u.Contacts.Get(config.Channel(p.Channel))
	default:
		cc := cfg.ChatChannel(p.ChatChannel)
		if cc == nil {
			return nil, channels.Permanent("", fmt.Errorf("chat channel %q is no longer in the configuration", p.ChatChannel))
		}
		m.Name, m.Language, m.To = cc.Name, cc.Language, cc.Slack
	}
	if m.To == "" {
		return nil, channels.Permanent("", fmt.Errorf("%s%s has no %s contact", p.User, p.ChatChannel, p.Channel))
	}
	loc := rep.location()
	m.Subject = catalog.For(m.Language).T("health.subject", rep.departmentLabel(),
		rep.From.In(loc).Format(reportLayout), rep.To.In(loc).Format(reportLayout))
	m.Text = rep.Text(m.Language)
	return m, nil
}

// SyncHealthReports arms each configured health report's next sending: a
// missing timer is added, one whose time no longer matches the schedule (a
// reload changed it) replaced; one already due is left to fire.
func (e *Engine) SyncHealthReports(ctx context.Context) error {
	now := e.now()
	for _, d := range e.Policies().Config().Departments {
		if d.HealthReport == nil {
			continue
		}
		next := policies.NextHealthReport(d.HealthReport, d.Location, now)
		cur, err := e.opts.Store.SetTimer(ctx, store.TimerGet, store.Timer{ID: healthReportTimerID(d.ID)})
		if err != nil {
			return fmt.Errorf("router: arm the health report of %s: %w", d.ID, err)
		}
		switch {
		case cur == nil:
			_, err = e.opts.Store.SetTimer(ctx, store.TimerAdd, healthReportTimer(d.ID, next.Send))
		case !cur.Due.After(now) || cur.Due.Equal(next.Send):
			continue
		default:
			_, err = e.opts.Store.SetTimer(ctx, store.TimerReplace, healthReportTimer(d.ID, next.Send))
		}
		if err != nil {
			return fmt.Errorf("router: arm the health report of %s: %w", d.ID, err)
		}
		e.log.Info("health report armed", "department", d.ID, "schedule", d.HealthReport.Spec(d.Location),
			"next", next.Send, "covers_from", next.From, "covers_to", next.To)
	}
	return nil
}

// healthReportsReloaded disarms the schedules a reload took out (should the
// store fail here, the timer finds its schedule gone when it fires) and
// asks Run to arm the rest.
func (e *Engine) healthReportsReloaded(old, cfg *config.Config) {
	e.healthReportsChanged.Store(true)
	e.metrics.health.initDepartments(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, d := range old.Departments {
		if d.HealthReport == nil {
			continue
		}
		if nd := cfg.Department(d.ID); nd != nil && nd.HealthReport != nil {
			continue
		}
		if _, err := e.opts.Store.SetTimer(ctx, store.TimerRemove, store.Timer{ID: healthReportTimerID(d.ID)}); err != nil {
			e.log.Error("health report removed from the configuration, but removing its schedule failed; it is dropped when it comes due", "department", d.ID, "err", err)
			continue
		}
		e.log.Info("health report disarmed", "department", d.ID)
	}
}

// healthReportWatch is Run's part: arm the schedules at start and after a
// reload or a failed re-arm, until that succeeds.
type healthReportWatch struct{ armed bool }

func (w *healthReportWatch) tick(ctx context.Context, e *Engine) {
	if e.healthReportsChanged.Swap(false) {
		w.armed = false
	}
	if w.armed {
		return
	}
	if err := e.SyncHealthReports(ctx); err != nil {
		if ctx.Err() == nil {
			e.log.Error("arming health reports failed; retrying", "err", err)
		}
		return
	}
	w.armed = true
}
