package router

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/store"
)

// A contact method is verified when a test page on it, a drill's or one
// asked for by hand, was acknowledged; hikyaku_contacts_unverified counts,
// per department, its responders' methods with no verification within
// global.contacts_verified_within.

// verifiedRefresh is how often each replica recounts the unverified
// contact methods, so an ack another replica took shows here too.
const verifiedRefresh = 30 * time.Second

type drillMetrics struct {
	drills     *prometheus.CounterVec
	unverified *prometheus.GaugeVec
}

func newDrillMetrics(f func(prometheus.Collector)) drillMetrics {
	m := drillMetrics{
		drills: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hikyaku_drills_total",
			Help: "Drills (contact checks of a whole department), by department and result: run, or missed (no replica ran within its answer window of its time)."},
			[]string{"department", "result"}),
		unverified: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "hikyaku_contacts_unverified",
			Help: "Contact methods of the department's responders that no acknowledged test page verified within global.contacts_verified_within."},
			[]string{"department"}),
	}
	f(m.drills)
	f(m.unverified)
	return m
}

// verifiedChannel is the contact method an ack of test page inc verifies:
// its one channel, or for a page that followed the person's rules the
// channel the ack came in on, if that is one of their contact methods.
func verifiedChannel(cfg *config.Config, inc *store.Incident, via string) string {
	if inc.Test == nil || inc.Test.User == "" {
		return ""
	}
	if inc.Test.Channel != "" {
		return inc.Test.Channel
	}
	if u := cfg.User(inc.Test.User); u != nil && u.Contacts.Has(config.Channel(via)) {
		return via
	}
	return ""
}

// verify records the contact method an acknowledged test page verified.
// A store failure loses one verification, which the gauge then shows
// (the method stays unverified): an ERROR, not the ack's failure.
func (e *Engine) verify(ctx context.Context, inc *store.Incident, via string) {
	ch := verifiedChannel(e.Policies().Config(), inc, via)
	if ch == "" {
		return
	}
	if err := e.opts.Store.SetVerified(ctx, inc.Test.User, ch, inc.AckedAt); err != nil {
		e.log.Error("recording a verified contact method failed: it counts as unverified", "user", inc.Test.User,
			"channel", ch, "incident", inc.ID, "err", err)
		return
	}
	e.verifiedDirty.Store(true)
}

// CountUnverified sets hikyaku_contacts_unverified for every department;
// Run keeps it fresh, serve calls it once before serving so the first
// scrape has it.
func (e *Engine) CountUnverified(ctx context.Context) error {
	vs, err := e.opts.Store.Verified(ctx)
	if err != nil {
		return fmt.Errorf("router: count unverified contact methods: %w", err)
	}
	cfg := e.Policies().Config()
	since := e.now().Add(-cfg.Global.ContactsVerifiedWithin.D())
	last := map[[2]string]time.Time{}
	for _, v := range vs {
		last[[2]string{v.User, v.Channel}] = v.At
	}
	for _, n := range UnverifiedContacts(cfg, last, since) {
		e.metrics.drill.unverified.WithLabelValues(n.Department).Set(float64(len(n.Methods)))
	}
	return nil
}

// UnverifiedMethods are one department's contact methods not verified since a time.
type UnverifiedMethods struct {
	Department string
	Methods    []store.Verification // At is the last verification, zero for never
}

// UnverifiedContacts lists, per department, its responders' contact
// methods whose last verification (last, by user and channel) is before since.
func UnverifiedContacts(cfg *config.Config, last map[[2]string]time.Time, since time.Time) []UnverifiedMethods {
	out := make([]UnverifiedMethods, 0, len(cfg.Departments))
	for _, d := range cfg.Departments {
		n := UnverifiedMethods{Department: d.ID, Methods: []store.Verification{}}
		for _, id := range Responders(d) {
			u := cfg.User(id)
			if u == nil {
				continue
			}
			for _, ch := range contactMethods(cfg, u) {
				if at := last[[2]string{id, ch}]; at.Before(since) {
					n.Methods = append(n.Methods, store.Verification{User: id, Channel: ch, At: at})
				}
			}
		}
		out = append(out, n)
	}
	return out
}

// drillWatch is Run's part in drills: arm them at start and after a reload
// (until that succeeds), and keep hikyaku_contacts_unverified fresh.
type drillWatch struct {
	armed   bool
	counted time.Time
}

func (w *drillWatch) tick(ctx context.Context, e *Engine) {
	if e.drillsChanged.Swap(false) {
		w.armed = false
	}
	if !w.armed {
		if err := e.SyncDrills(ctx); err != nil {
			if ctx.Err() == nil {
				e.log.Error("arming drills failed; retrying", "err", err)
			}
		} else {
			w.armed = true
		}
	}
	if !e.verifiedDirty.Swap(false) && e.now().Sub(w.counted) < verifiedRefresh {
		return
	}
	w.counted = e.now()
	if err := e.CountUnverified(ctx); err != nil && ctx.Err() == nil {
		e.log.Warn("counting unverified contact methods failed", "err", err)
	}
}

// forgetDepartments drops the gauge of departments a reload removed.
func (m drillMetrics) forgetDepartments(old, cfg *config.Config) {
	for _, d := range old.Departments {
		if !slices.ContainsFunc(cfg.Departments, func(n *config.Department) bool { return n.ID == d.ID }) {
			m.unverified.DeleteLabelValues(d.ID)
		}
	}
}
