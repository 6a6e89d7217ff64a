package router

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hikyaku/hikyaku/store"
)

// detectMetrics measure the pipeline before hikyaku: from an alert's
// startsAt (Prometheus saw it firing) to the incident opened, which holds
// Prometheus' evaluation and Alertmanager's group_wait and retries.
type detectMetrics struct {
	timeToDetect *prometheus.HistogramVec
	skewed       *prometheus.CounterVec
}

func newDetectMetrics(f func(prometheus.Collector)) detectMetrics {
	m := detectMetrics{
		timeToDetect: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hikyaku_time_to_detect_seconds",
			Help:    "Time from the earliest firing alert's startsAt to the incident opened, by department.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 14)}, []string{"department"}),
		skewed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hikyaku_time_to_detect_skewed_total",
			Help: "Incidents opened before their alert's startsAt (the clocks of Prometheus and hikyaku disagree), not in hikyaku_time_to_detect_seconds, by department."},
			[]string{"department"}),
	}
	f(m.timeToDetect)
	f(m.skewed)
	return m
}

// observeDetect records how long msg's alerts fired before inc opened. A
// startsAt after the opening is a clock skew: counted and logged, never
// recorded as a detection time of 0 that would hide it.
func (e *Engine) observeDetect(inc *store.Incident, msg *Message) {
	var first time.Time
	for _, a := range msg.Alerts.Firing() {
		if !a.StartsAt.IsZero() && (first.IsZero() || a.StartsAt.Before(first)) {
			first = a.StartsAt
		}
	}
	if first.IsZero() {
		return // no firing alert says when it started: nothing to measure
	}
	d := inc.CreatedAt.Sub(first)
	if d < 0 {
		e.metrics.detect.skewed.WithLabelValues(inc.Department).Inc()
		e.log.Warn("alert starts after its incident opened: Prometheus' and hikyaku's clocks disagree",
			"incident", inc.ID, "starts_at", first, "opened_at", inc.CreatedAt, "skew", -d)
		return
	}
	e.metrics.detect.timeToDetect.WithLabelValues(inc.Department).Observe(d.Seconds())
}
