package router

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hikyaku/hikyaku/store"
)

// StoreProbeTimeout bounds how long readiness and a scrape wait for the
// store. A frozen Redis (SIGSTOP, a stuck network) holds a connection open
// and answers nothing; go-redis would wait for its read timeout, longer
// than a load balancer's or Prometheus' patience.
const StoreProbeTimeout = time.Second

// storeProbe asks the store whether it takes a write within a bound the
// store itself cannot stretch: the call runs on its own and the caller
// stops waiting at the bound. At most one call is in flight, so a frozen
// store does not pile up a goroutine per request; callers arriving
// meanwhile wait for that call.
type storeProbe struct {
	check   func(ctx context.Context) error
	timeout time.Duration

	mu       sync.Mutex
	inflight *probeRun
}

type probeRun struct {
	done chan struct{}
	err  error
}

func newStoreProbe(timeout time.Duration, check func(ctx context.Context) error) *storeProbe {
	return &storeProbe{check: check, timeout: timeout}
}

// run is the check's answer, or an error once the bound or ctx ends first.
func (p *storeProbe) run(ctx context.Context) error {
	p.mu.Lock()
	r := p.inflight
	if r == nil {
		r = &probeRun{done: make(chan struct{})}
		p.inflight = r
		go func() {
			// Its own context: a caller giving up must not cut the call short
			// for the others waiting on it. A store that ignores the deadline
			// only delays the next probe, never a caller.
			cctx, cancel := context.WithTimeout(context.Background(), p.timeout)
			err := p.safeCheck(cctx)
			cancel()
			p.mu.Lock()
			r.err = err
			p.inflight = nil
			p.mu.Unlock()
			close(r.done)
		}()
	}
	p.mu.Unlock()
	t := time.NewTimer(p.timeout)
	defer t.Stop()
	select {
	case <-r.done:
		return r.err
	case <-t.C:
		return fmt.Errorf("no answer within %s", p.timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// safeCheck is the check with a panic turned into its error: the probe runs
// on a goroutine of its own, where a panic would end the process.
func (p *storeProbe) safeCheck(ctx context.Context) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("store check panicked: %v", v)
		}
	}()
	return p.check(ctx)
}

// storeMetrics reports at each scrape whether the store takes a write
// (hikyaku_store_up) and how many timers it holds (hikyaku_outbox_depth).
// A store that fails or does not answer within StoreProbeTimeout makes
// store_up 0 and leaves the depth out, never a stale figure; the scrape
// itself always succeeds, so Prometheus sees up == 1 and store down,
// not the daemon gone exactly when the store is.
type storeMetrics struct {
	probe *storeProbe
	up    *prometheus.Desc
	depth *prometheus.Desc

	mu      sync.Mutex
	pending int // the depth the last successful probe counted
}

// NewStoreMetrics is the hikyaku_store_up and hikyaku_outbox_depth gauges over st, for a registry.
func NewStoreMetrics(st store.Store) prometheus.Collector {
	m := &storeMetrics{
		up: prometheus.NewDesc("hikyaku_store_up",
			"Whether the store took a probe write and counted its timers within 1 s at this scrape (1) or not (0).", nil, nil),
		depth: prometheus.NewDesc("hikyaku_outbox_depth",
			"Timers the store holds: escalation steps and notifications waiting or in flight. Absent while the store is down.", nil, nil),
	}
	m.probe = newStoreProbe(StoreProbeTimeout, func(ctx context.Context) error {
		if err := st.Ping(ctx); err != nil {
			return err
		}
		n, err := st.Pending(ctx)
		if err != nil {
			return err
		}
		m.mu.Lock()
		m.pending = n
		m.mu.Unlock()
		return nil
	})
	return m
}

func (m *storeMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.up
	ch <- m.depth
}

func (m *storeMetrics) Collect(ch chan<- prometheus.Metric) {
	if err := m.probe.run(context.Background()); err != nil {
		ch <- prometheus.MustNewConstMetric(m.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(m.up, prometheus.GaugeValue, 1)
	m.mu.Lock()
	n := m.pending
	m.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(m.depth, prometheus.GaugeValue, float64(n))
}
