package router

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hikyaku/hikyaku/channels"
)

// The results of hikyaku_message_updates_total: a posted page rewritten,
// refused for good (the provider cannot: an ntfy server before v2.16 has no
// sequence routes), or given up after the timer's retries.
const (
	updateDone    = "updated"
	updateFailed  = "failed"
	updateGivenUp = "given_up"
)

func newUpdateMetrics(f func(prometheus.Collector)) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hikyaku_message_updates_total",
		Help: "Posted pages rewritten after ack or resolve (channels.Updater: slack, ntfy), by channel, result (updated, failed, given_up) and, for failed and given_up, reason."},
		[]string{"channel", "result", "reason"})
	f(c)
	return c
}

// initUpdates makes the update counters of the channels that can rewrite
// show at 0, at start and after each reload, so the first failure is seen.
func (e *Engine) initUpdates() {
	for _, ch := range e.updatable(false) {
		e.metrics.updates.WithLabelValues(ch, updateDone, "")
		for _, result := range []string{updateFailed, updateGivenUp} {
			for _, r := range channels.Reasons {
				e.metrics.updates.WithLabelValues(ch, result, string(r))
			}
		}
	}
}
