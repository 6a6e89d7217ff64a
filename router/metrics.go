package router

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
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
	reconciled      *prometheus.CounterVec
	stepsFired      prometheus.Counter
	timerLateness   prometheus.Histogram
	timeToAck       *prometheus.HistogramVec
	testPages       *prometheus.CounterVec
	timeToResolve   *prometheus.HistogramVec
	reloads         *prometheus.CounterVec
	providerUp      *prometheus.GaugeVec
	dryRun          prometheus.Gauge
	reloadOK        prometheus.Gauge
	reloadTime      prometheus.Gauge
	unknownSenders  *prometheus.CounterVec
	detect          detectMetrics
	heartbeat       heartbeatMetrics
	drill           drillMetrics        // verified.go
	health          healthReportMetrics // health_report_send.go
	retention       retentionMetrics
	faults          faultMetrics // dead letters and panics (deadletter.go)
	replays         *prometheus.CounterVec
	authFailures    *prometheus.CounterVec // apiauth.go
	feedRequests    *prometheus.CounterVec // calendar_http.go
	updates         *prometheus.CounterVec // update_metrics.go
}

// The results of hikyaku_notifications_total. failed and given_up are
// final on their channel: failed moved on to the person's next contact
// method, given_up had none left.
const (
	resultSent        = "sent"
	resultRecorded    = "recorded" // --dry-run: nothing was sent
	resultRetried     = "retried"
	resultFailed      = "failed"
	resultGivenUp     = "given_up"
	resultRateLimited = "rate_limited"
)

// NewMetrics registers the metrics with reg (nil: a private registry, for tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	// Incident durations run from seconds to days.
	durations := prometheus.ExponentialBuckets(15, 2, 14)
	m := &Metrics{
		unknownSenders: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hikyaku_inbound_unknown_senders_total",
			Help: "Inbound messages from a sender no configured user has, by channel; they are not answered."}, []string{"channel"}),
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
			Help: "Notification attempts, by channel, result (sent, recorded, retried, failed, given_up, rate_limited) and, for retried, failed and given_up, reason (auth, rate_limited, client, server, timeout, unknown)."},
			[]string{"channel", "result", "reason"}),
		reconciled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hikyaku_notifications_reconciled_total",
			Help: "Messages taken over from a sender that vanished mid-send, by channel and what the provider said: found (not sent again), not_found (sent), unknown (the channel cannot be asked; sent again, may be a duplicate)."},
			[]string{"channel", "result"}),
		stepsFired: prometheus.NewCounter(prometheus.CounterOpts{Name: "hikyaku_escalation_steps_fired_total",
			Help: "Escalation steps fired."}),
		timerLateness: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "hikyaku_timer_lateness_seconds",
			Help:    "How late timers were handled after they came due.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}),
		timeToAck: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hikyaku_time_to_ack_seconds",
			Help: "Time from incident opened to acknowledged (MTTA), by department.", Buckets: durations}, []string{"department"}),
		testPages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hikyaku_test_pages_total",
			Help: "Test pages (contact checks), by department and result: sent, acked, unanswered. They count in no other incident metric."}, []string{"department", "result"}),
		timeToResolve: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hikyaku_time_to_resolve_seconds",
			Help: "Time from incident opened to resolved (MTTR), by department.", Buckets: durations}, []string{"department"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hikyaku_config_reloads_total",
			Help: "Configuration reloads, by result (success, failure)."}, []string{"result"}),
		providerUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "hikyaku_provider_up",
			Help: "0 after a provider refused hikyaku's credentials or account, 1 after a success (and at start), by provider."}, []string{"provider"}),
		dryRun: prometheus.NewGauge(prometheus.GaugeOpts{Name: "hikyaku_dry_run",
			Help: "1 when serve runs with --dry-run: nothing is sent, every message is recorded."}),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{Name: "hikyaku_config_last_reload_successful",
			Help: "Whether the last configuration reload attempt was successful (1) or refused (0)."}),
		reloadTime: prometheus.NewGauge(prometheus.GaugeOpts{Name: "hikyaku_config_last_reload_success_timestamp_seconds",
			Help: "Timestamp of the last successful configuration load, in Unix seconds."}),
		replays: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hikyaku_inbound_replays_total",
			Help: "Inbound requests and link presses seen before, which did not act again, by channel (sms, voice, email, slack, link)."}, []string{"channel"}),
	}
	for _, c := range []prometheus.Collector{m.webhookRequests, m.dropped, m.opened, m.acked, m.resolved, m.exhausted,
		m.notifications, m.reconciled, m.stepsFired, m.timerLateness, m.timeToAck, m.testPages, m.timeToResolve, m.reloads, m.reloadOK, m.reloadTime, m.providerUp, m.dryRun, m.replays, m.unknownSenders} {
		f(c)
	}
	m.initLabels()
	m.heartbeat = newHeartbeatMetrics(reg)
	m.faults = newFaultMetrics(f)
	m.retention = newRetentionMetrics(f)
	m.authFailures = newAuthFailures(f)
	m.feedRequests = newFeedRequests(f)
	m.updates = newUpdateMetrics(f)
	m.detect = newDetectMetrics(f)
	m.drill = newDrillMetrics(f)
	m.health = newHealthReportMetrics(f)
	return m
}

// initLabels makes every counter whose labels are a fixed set show at 0
// from the start: a rate() over a series that appears only with its first
// failure misses that failure, and an alert on it never fires.
func (m *Metrics) initLabels() {
	m.unknownSenders.WithLabelValues(string(config.ChannelSMS)) // 0 from the start, so increase() sees the first one
	for _, code := range []int{http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized,
		http.StatusRequestEntityTooLarge, http.StatusServiceUnavailable} {
		m.webhookRequests.WithLabelValues(strconv.Itoa(code))
	}
	m.reloads.WithLabelValues("success")
	m.reloads.WithLabelValues("failure")
}

// initChannels makes the per-channel counters of cfg's channels show at 0,
// at start and on each reload.
func (m *Metrics) initChannels(cfg *config.Config) {
	for _, spec := range cfg.Channels() {
		ch := spec.Name
		m.notifications.WithLabelValues(string(ch), resultSent, "")
		m.notifications.WithLabelValues(string(ch), resultRecorded, "")
		m.notifications.WithLabelValues(string(ch), resultRateLimited, "")
		for _, result := range []string{reconcileFound, reconcileNotFound, reconcileUnknown} {
			m.reconciled.WithLabelValues(string(ch), result)
		}
		for _, result := range []string{resultRetried, resultFailed, resultGivenUp} {
			for _, r := range channels.Reasons {
				m.notifications.WithLabelValues(string(ch), result, string(r))
			}
		}
	}
}

// initDepartments makes the per-department counters of cfg show at 0. Run
// at start and on each reload, so a department added later starts at 0 too.
func (m *Metrics) initDepartments(cfg *config.Config) {
	for _, d := range cfg.Departments {
		m.acked.WithLabelValues(d.ID)
		m.resolved.WithLabelValues(d.ID)
		m.exhausted.WithLabelValues(d.ID)
		m.drill.drills.WithLabelValues(d.ID, "run")
		m.drill.drills.WithLabelValues(d.ID, "missed")
	}
}

// configLoaded records a configuration load: at start, or a reload.
func (m *Metrics) configLoaded(ok bool, at time.Time) {
	if !ok {
		m.reloadOK.Set(0)
		return
	}
	m.reloadOK.Set(1)
	m.reloadTime.Set(float64(at.Unix()))
}
