package router

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hikyaku/hikyaku/store"
)

// Metrics are hikyaku's own Prometheus metrics, all prefixed hikyaku_.
type Metrics struct {
	webhookRequests *prometheus.CounterVec
	dropped         *prometheus.CounterVec
	opened          *prometheus.CounterVec
	acked           *prometheus.CounterVec
	resolved        *prometheus.CounterVec
	exhausted       *prometheus.CounterVec
	notifications   *prometheus.CounterVec
	stepsFired      prometheus.Counter
	timerLateness   prometheus.Histogram
	timeToAck       *prometheus.HistogramVec
	timeToResolve   *prometheus.HistogramVec
	reloads         *prometheus.CounterVec
	providerUp      *prometheus.GaugeVec
	dryRun          prometheus.Gauge
	replays         *prometheus.CounterVec
}

// NewMetrics registers the metrics with reg (nil: a private registry, for tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	// Incident durations run from seconds to days.
	durations := prometheus.ExponentialBuckets(15, 2, 14)
	m := &Metrics{
		webhookRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hikyaku_webhook_requests_total",
			Help: "Alertmanager webhook requests, by HTTP status code."}, []string{"code"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hikyaku_alert_groups_dropped_total",
			Help: "Alert groups dropped by a drop route."}, []string{"route"}),
		opened: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hikyaku_incidents_opened_total",
			Help: "Incidents opened, by department and severity."}, []string{"department", "severity"}),
		acked: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hikyaku_incidents_acked_total",
			Help: "Incidents acknowledged, by department."}, []string{"department"}),
		resolved: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hikyaku_incidents_resolved_total",
			Help: "Incidents resolved, by department."}, []string{"department"}),
		exhausted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hikyaku_escalations_exhausted_total",
			Help: "Incidents whose escalation policy ran out with no ack, by department."}, []string{"department"}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hikyaku_notifications_total",
			Help: "Notification attempts, by channel and result (sent, recorded, retried, failed, rate_limited)."}, []string{"channel", "result"}),
		stepsFired: prometheus.NewCounter(prometheus.CounterOpts{Name: "hikyaku_escalation_steps_fired_total",
			Help: "Escalation steps fired."}),
		timerLateness: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "hikyaku_timer_lateness_seconds",
			Help:    "How late timers were handled after they came due.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}),
		timeToAck: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hikyaku_time_to_ack_seconds",
			Help: "Time from incident opened to acknowledged (MTTA), by department.", Buckets: durations}, []string{"department"}),
		timeToResolve: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hikyaku_time_to_resolve_seconds",
			Help: "Time from incident opened to resolved (MTTR), by department.", Buckets: durations}, []string{"department"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hikyaku_config_reloads_total",
			Help: "Configuration reloads, by result (success, failure)."}, []string{"result"}),
		providerUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "hikyaku_provider_up",
			Help: "0 after a provider refused hikyaku's credentials or account, 1 after a success (and at start), by provider."}, []string{"provider"}),
		dryRun: prometheus.NewGauge(prometheus.GaugeOpts{Name: "hikyaku_dry_run",
			Help: "1 when serve runs with --dry-run: nothing is sent, every message is recorded."}),
		replays: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hikyaku_inbound_replays_total",
			Help: "Inbound requests and link presses seen before, which did not act again, by channel (sms, voice, slack, link)."}, []string{"channel"}),
	}
	for _, c := range []prometheus.Collector{m.webhookRequests, m.dropped, m.opened, m.acked, m.resolved, m.exhausted,
		m.notifications, m.stepsFired, m.timerLateness, m.timeToAck, m.timeToResolve, m.reloads, m.providerUp, m.dryRun, m.replays} {
		f(c)
	}
	return m
}

// outboxDepth reports, at each scrape, how many timers the store holds:
// escalation steps and notifications waiting or being sent. A depth that
// keeps growing means pages are not going out as fast as they come due.
type outboxDepth struct {
	st   store.Store
	desc *prometheus.Desc
}

// NewOutboxDepth is the hikyaku_outbox_depth gauge over st, for a registry.
func NewOutboxDepth(st store.Store) prometheus.Collector {
	return &outboxDepth{st: st, desc: prometheus.NewDesc("hikyaku_outbox_depth",
		"Timers the store holds: escalation steps and notifications waiting or in flight.", nil, nil)}
}

func (o *outboxDepth) Describe(ch chan<- *prometheus.Desc) { ch <- o.desc }

func (o *outboxDepth) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := o.st.Pending(ctx)
	if err != nil {
		// The scrape says the store is unreachable rather than showing a stale 0.
		ch <- prometheus.NewInvalidMetric(o.desc, fmt.Errorf("outbox depth: %w", err))
		return
	}
	ch <- prometheus.MustNewConstMetric(o.desc, prometheus.GaugeValue, float64(n))
}
