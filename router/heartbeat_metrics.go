package router

import "github.com/prometheus/client_golang/prometheus"

// heartbeatMetrics say, per heartbeat, when its alert last arrived and
// whether it is missing now.
type heartbeatMetrics struct {
	lastReceived *prometheus.GaugeVec
	missing      *prometheus.GaugeVec
}

func newHeartbeatMetrics(reg prometheus.Registerer) heartbeatMetrics {
	m := heartbeatMetrics{
		lastReceived: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "hikyaku_heartbeat_last_received_timestamp_seconds",
			Help: "When the heartbeat's alert last arrived, in Unix seconds; absent until it first does."}, []string{"heartbeat"}),
		missing: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "hikyaku_heartbeat_missing",
			Help: "1 while the heartbeat's timeout has passed without its alert, else 0."}, []string{"heartbeat"}),
	}
	reg.MustRegister(m.lastReceived, m.missing)
	return m
}

func (m heartbeatMetrics) observe(name string, p heartbeatPayload) {
	if !p.Last.IsZero() {
		m.lastReceived.WithLabelValues(name).Set(float64(p.Last.UnixNano()) / 1e9)
	}
	v := 0.0
	if p.Missing {
		v = 1
	}
	m.missing.WithLabelValues(name).Set(v)
}

func (m heartbeatMetrics) forget(name string) {
	m.lastReceived.DeleteLabelValues(name)
	m.missing.DeleteLabelValues(name)
}
