package router

import "github.com/prometheus/client_golang/prometheus"

// retentionMetrics follow the retention job.
type retentionMetrics struct {
	deleted prometheus.Counter
	lastRun prometheus.Gauge
	stale   prometheus.Gauge
}

func newRetentionMetrics(f func(prometheus.Collector)) retentionMetrics {
	m := retentionMetrics{
		deleted: prometheus.NewCounter(prometheus.CounterOpts{Name: "hikyaku_retention_deleted_total",
			Help: "Resolved incidents deleted by retention (global.retention), with their timelines."}),
		lastRun: prometheus.NewGauge(prometheus.GaugeOpts{Name: "hikyaku_retention_last_run_timestamp_seconds",
			Help: "When the retention job last completed a pass, in Unix seconds; 0 until it does."}),
		stale: prometheus.NewGauge(prometheus.GaugeOpts{Name: "hikyaku_incidents_stale",
			Help: "Open or acked incidents with no Alertmanager post for global.stale_after, at the last retention pass."}),
	}
	f(m.deleted)
	f(m.lastRun)
	f(m.stale)
	return m
}
