package router

import (
	"context"
	"sync"
	"time"

	"github.com/hikyaku/hikyaku/store"
	"github.com/prometheus/client_golang/prometheus"
)

// muteGauge is hikyaku_mutes_active, read from the store at each scrape
// through a bounded probe, as the dead-letter gauge is: a mute ends by
// itself, so no write is there to update a gauge kept in memory.
type muteGauge struct {
	probe *storeProbe
	desc  *prometheus.Desc
	now   func() time.Time

	mu     sync.Mutex
	active int
}

// NewMuteGauge is the hikyaku_mutes_active gauge over st, now telling the
// time (time.Now in serve), for a registry.
func NewMuteGauge(st store.Store, now func() time.Time) prometheus.Collector {
	g := &muteGauge{now: now, desc: prometheus.NewDesc("hikyaku_mutes_active",
		"Mutes in force now (hikyaku maintenance start): routes or departments that page nobody.", nil, nil)}
	g.probe = newStoreProbe(StoreProbeTimeout, func(ctx context.Context) error {
		ms, err := st.ListMutes(ctx)
		if err != nil {
			return err
		}
		t, n := g.now(), 0
		for _, m := range ms {
			if !t.Before(m.Start) && t.Before(m.End) {
				n++
			}
		}
		g.mu.Lock()
		g.active = n
		g.mu.Unlock()
		return nil
	})
	return g
}

func (g *muteGauge) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

func (g *muteGauge) Collect(ch chan<- prometheus.Metric) {
	if err := g.probe.run(context.Background()); err != nil {
		return // no sample rather than a stale one; readiness reports the store
	}
	g.mu.Lock()
	n := g.active
	g.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(n))
}
