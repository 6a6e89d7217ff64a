package access

import "github.com/prometheus/client_golang/prometheus"

// Metrics count sign-ins, so a provider that stops answering or a wave of
// refusals shows on a dashboard, not only in the log.
type Metrics struct {
	signIns *prometheus.CounterVec
}

// NewMetrics registers hikyaku_sign_ins_total on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{signIns: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hikyaku_sign_ins_total",
		Help: "Console sign-ins by method (oidc, proxy) and result (done; refused: the person or the provider's answer was refused; unavailable: the OpenID provider could not be reached).",
	}, []string{"method", "result"})}
	for _, method := range []string{MethodOIDC, MethodProxy} {
		for _, result := range []string{"done", "refused", "unavailable"} {
			if method == MethodProxy && result == "unavailable" {
				continue // the proxy is never called
			}
			m.signIns.WithLabelValues(method, result)
		}
	}
	reg.MustRegister(m.signIns)
	return m
}

func (m *Metrics) count(method, result string) {
	if m != nil {
		m.signIns.WithLabelValues(method, result).Inc()
	}
}
