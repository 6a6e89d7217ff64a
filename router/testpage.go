package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

// A test page is a contact check: an incident of its own (store.Incident.Test)
// that pages one person through the real path (their notification rules or
// one channel, the outbox, retries, failover) and is acknowledged as any
// page is. It escalates to nobody, informs no stakeholder, counts in no
// MTTA/MTTR and is left out of the incident list unless asked for. An ack
// resolves it; unanswered, it is resolved at its deadline, which says so.
const (
	kindTestDeadline = "test_deadline"
	// testKeyPrefix starts a test page's key; Alertmanager's group keys start with "{".
	testKeyPrefix = "test/"
	// TestSeverity is a test page's severity, what its texts show.
	TestSeverity = "test"
	// testAlertname names the alert of a test page's message.
	testAlertname = "HikyakuTestPage"
	// TestPageDeadline is how long a test page waits for its ack.
	TestPageDeadline = 30 * time.Minute
)

// TestPageRequest asks for a test page.
type TestPageRequest struct {
	Actor    string // who asks: a user id (access.Decide)
	User     string // the person to page, or
	Rotation string // a rotation or schedule whose on-call now is paged, or
	Target   string // either, by its id (the CLI's USER|ROTATION)
	Channel  string // one contact method; "" follows the person's notification rules
	Via      string // api, console
}

// ErrBadTestPage is a test page that cannot be sent as asked (HTTP 400).
var ErrBadTestPage = errors.New("test page")

func badTestPage(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadTestPage, fmt.Sprintf(format, args...))
}

// ErrTestNoEscalate refuses escalating a test page: it has no policy, and
// its department's would page people for no incident.
var ErrTestNoEscalate = errors.New("a test page does not escalate: acknowledge or resolve it")

// TestPage sends a test page and returns its incident.
func (e *Engine) TestPage(ctx context.Context, req TestPageRequest) (inc *store.Incident, err error) {
	set := e.Policies() // one config for the whole operation
	cfg := set.Config()
	now := e.now()
	defer func() {
		result := auditDone
		if err != nil {
			result = auditRefused
		}
		e.audit(ctx, "test_page", result, err, slog.String("actor", req.Actor), slog.String("channel", req.Via),
			slog.String("target", req.Target+req.User+req.Rotation), slog.String("contact", req.Channel))
	}()
	target, dept, err := testTarget(set, req, now)
	if err != nil {
		return nil, err
	}
	d := access.Decide(cfg, access.Request{User: req.Actor, Action: access.TestPage, Target: target})
	if !d.Allowed {
		return nil, &ForbiddenError{Reason: d.Reason}
	}
	u := cfg.User(target)
	var pages []policies.Page
	if req.Channel != "" {
		if _, ok := cfg.ChannelSpec(config.Channel(req.Channel)); !ok {
			return nil, badTestPage("there is no channel %q", req.Channel)
		}
		if !u.Contacts.Has(config.Channel(req.Channel)) {
			return nil, badTestPage("%s has no %s contact", target, req.Channel)
		}
		pages = []policies.Page{{At: now, User: target, Channel: config.Channel(req.Channel)}}
	} else if pages = set.NotifyPages(target, now); len(pages) == 0 {
		return nil, badTestPage("%s has no notification rules: name a channel", target)
	}
	return e.openTest(ctx, fmt.Sprintf("%s%s/%d", testKeyPrefix, target, now.UnixNano()),
		&store.TestPage{User: target, Channel: req.Channel, RequestedBy: req.Actor, Rotation: req.Rotation},
		dept, pages, req.Via, now, now.Add(TestPageDeadline))
}

// openTest writes a test page's incident under key with its pages and its
// deadline. While one is open under key, that one is returned unchanged.
func (e *Engine) openTest(ctx context.Context, key string, tp *store.TestPage, dept string, pages []policies.Page,
	via string, now, deadline time.Time) (*store.Incident, error) {
	raw, err := testMessage(e.Policies().Config(), tp, key, now)
	if err != nil {
		return nil, err
	}
	res, err := e.opts.Store.UpdateByKey(ctx, key, func(cur *store.Incident) (*store.Change, error) {
		if cur != nil {
			return nil, nil // the same request twice in one nanosecond, or a drill's page opened before
		}
		inc := &store.Incident{Key: key, Status: store.StatusOpen, CreatedAt: now, UpdatedAt: now, LastAlertAt: now,
			Department: dept, Severity: TestSeverity, Escalation: store.Escalation{Step: 0}, Message: raw, Test: tp}
		ch := &store.Change{Incident: inc, Events: []store.Event{
			event(now, "created", tp.RequestedBy, "via", via, "test_page", tp.User, "channel", tp.Channel, "rotation", tp.Rotation,
				"drill", drillRef(tp.Drill)),
		}}
		for i, pg := range pages {
			ch.Schedule = append(ch.Schedule, notifyTimer(inc, notifyPayload{Kind: "page", User: tp.User,
				Channel: string(pg.Channel), Paged: now, Only: tp.Channel != ""}, i, pg.At))
		}
		ch.Schedule = append(ch.Schedule, genTimer(inc, kindTestDeadline, deadline))
		return ch, nil
	})
	if err != nil {
		return nil, fmt.Errorf("router: test page for %s: %w", tp.User, err)
	}
	if res.Written {
		e.metrics.testPages.WithLabelValues(dept, "sent").Inc()
		e.log.Info("test page sent", "incident", res.Incident.ID, "user", tp.User, "channel", tp.Channel, "by", tp.RequestedBy)
		e.kick()
	}
	return res.Incident, nil
}

// testTarget is whom req pages and the department the test counts in.
func testTarget(set *policies.Set, req TestPageRequest, now time.Time) (user, dept string, err error) {
	cfg := set.Config()
	if req.Target != "" {
		isUser, isSource := cfg.User(req.Target) != nil, departmentOfSource(cfg, req.Target) != nil
		switch {
		case req.User != "" || req.Rotation != "":
			return "", "", badTestPage("name a target, or a user or a rotation, not both")
		case isUser && isSource:
			return "", "", badTestPage("%q is both a user and a rotation: say which (user or rotation)", req.Target)
		case isSource:
			req.Rotation = req.Target
		default:
			req.User = req.Target
		}
	}
	switch {
	case req.User != "" && req.Rotation != "":
		return "", "", badTestPage("name a user or a rotation, not both")
	case req.Rotation != "":
		d := departmentOfSource(cfg, req.Rotation)
		if d == nil {
			return "", "", badTestPage("there is no rotation or schedule %q", req.Rotation)
		}
		sh, ok := set.OnCall(req.Rotation, now)
		if !ok || sh.User == "" {
			return "", "", badTestPage("nobody is on call in %s now", req.Rotation)
		}
		return sh.User, d.ID, nil
	case req.User != "":
		if cfg.User(req.User) == nil {
			return "", "", badTestPage("there is no user %q", req.User)
		}
		return req.User, departmentOfUser(cfg, req.User), nil
	}
	return "", "", badTestPage("name a user or a rotation")
}

// departmentOfSource is the department a rotation or schedule is in.
func departmentOfSource(cfg *config.Config, id string) *config.Department {
	for _, d := range cfg.Departments {
		for _, r := range d.Rotations {
			if r.ID == id {
				return d
			}
		}
		for _, s := range d.Schedules {
			if s.ID == id {
				return d
			}
		}
	}
	return nil
}

// departmentOfUser is the first department the person belongs to ("" for none).
func departmentOfUser(cfg *config.Config, user string) string {
	for _, d := range cfg.Departments {
		if access.BelongsTo(cfg, d, user) {
			return d.ID
		}
	}
	return ""
}

// testMessage is a test page's webhook message, shaped as Alertmanager's so
// the API and templates read it like any other; the texts people read come
// from the catalog (channels/template), in each reader's language.
func testMessage(cfg *config.Config, tp *store.TestPage, key string, now time.Time) ([]byte, error) {
	lbls := template.KV{"alertname": testAlertname, "user": tp.User, "severity": TestSeverity}
	if tp.Channel != "" {
		lbls["channel"] = tp.Channel
	}
	ann := template.KV{"summary": "test page for " + tp.User + ": a contact check, not an incident"}
	msg := Message{Data: &template.Data{Receiver: "hikyaku", Status: "firing",
		Alerts:       template.Alerts{{Status: "firing", Labels: lbls, Annotations: ann, StartsAt: now, Fingerprint: key}},
		GroupLabels:  template.KV{"alertname": testAlertname, "user": tp.User},
		CommonLabels: lbls, CommonAnnotations: ann, ExternalURL: cfg.Global.ExternalURL,
	}, Version: "4", GroupKey: key}
	b, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("router: test page for %s: encode its message: %w", tp.User, err)
	}
	return b, nil
}

// testAcked is an ack of a test page: it also resolves it, since there is
// nothing to fix, and starts no ack timeout, role or stakeholder report.
func (e *Engine) testAcked(cur *store.Incident, actor, via string, now time.Time) *store.Change {
	inc := *cur
	inc.Status, inc.AckedAt, inc.AckedBy, inc.UpdatedAt = store.StatusResolved, now, actor, now
	inc.ResolvedAt = now
	inc.Escalation.Generation++
	ch := &store.Change{Incident: &inc, CancelIncidentTimers: true, Events: []store.Event{
		event(now, "acked", actor, "via", via),
		event(now, "resolved", "hikyaku", "via", "test_page"),
	}}
	ch.Schedule = append(ch.Schedule, e.updateTimers(&inc)...)
	return ch
}

// testDeadline ends a test page nobody acknowledged: that is the finding,
// on the timeline, in the log and in hikyaku_test_pages_total.
func (e *Engine) testDeadline(ctx context.Context, c store.Claim) error {
	var p genPayload
	if err := json.Unmarshal(c.Payload, &p); err != nil {
		return poison(fmt.Errorf("decode test deadline payload: %w", err))
	}
	res, err := e.opts.Store.Update(ctx, c.IncidentID, func(cur *store.Incident) (*store.Change, error) {
		if cur.Status != store.StatusOpen || cur.Escalation.Generation != p.Gen {
			return nil, nil
		}
		now := e.now()
		inc := *cur
		inc.Status, inc.ResolvedAt, inc.UpdatedAt = store.StatusResolved, now, now
		inc.Escalation.Generation++
		return &store.Change{Incident: &inc, CancelIncidentTimers: true, Events: []store.Event{
			event(now, "test_unanswered", "hikyaku", "user", cur.Test.User, "channel", cur.Test.Channel),
			event(now, "resolved", "hikyaku", "via", "test_deadline"),
		}}, nil
	})
	if err != nil {
		return fmt.Errorf("test deadline: %w", err)
	}
	if inc := res.Incident; res.Written {
		e.metrics.testPages.WithLabelValues(inc.Department, "unanswered").Inc()
		e.log.Warn("test page not acknowledged before its deadline", "incident", inc.ID, "user", inc.Test.User,
			"channel", inc.Test.Channel, "department", inc.Department)
		return errDone
	}
	return nil
}
