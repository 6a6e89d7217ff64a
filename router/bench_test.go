package router

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/internal/redistest"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

// The benchmarks measure the goals of the escalation engine (docs/performance.md):
// intake throughput, webhook-to-channel latency and timer lateness, on both
// stores, with the same durability settings as production: bbolt fsyncs each
// commit, Redis runs with appendonly yes and appendfsync always.

// ingestParallelism is goroutines per GOMAXPROCS posting webhooks at once:
// Alertmanager sends each group's notification on its own goroutine.
const ingestParallelism = 16

// benchStore opens a fresh store of kind "bolt" or "redis" for one benchmark.
func benchStore(b *testing.B, kind string) store.Store {
	st, _ := benchStoreCPU(b, kind)
	return st
}

// benchStoreCPU is benchStore also returning the pids whose CPU time the
// store's work costs: this process, and redis-server for Redis.
func benchStoreCPU(b *testing.B, kind string) (store.Store, []int) {
	b.Helper()
	var (
		st   store.Store
		err  error
		pids = []int{os.Getpid()}
	)
	switch kind {
	case "bolt":
		st, err = store.OpenBolt(filepath.Join(b.TempDir(), "hikyaku.db"))
	case "redis", "redis-everysec":
		opt := redistest.Options{AppendOnly: true}
		if kind == "redis-everysec" {
			// Redis's own AOF default: each write reaches the kernel before the
			// reply (a Redis crash or kill -9 loses nothing acknowledged); the
			// disk is synced once a second (a power loss may lose that second).
			opt.Args = []string{"--appendfsync", "everysec"}
		}
		srv := redistest.Start(b, opt)
		st, err = store.Open(b.Context(), srv.URL(), "")
		if err == nil {
			pids = append(pids, redisPID(b, srv.Addr()))
		}
	default:
		b.Fatalf("unknown store %q", kind)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st, pids
}

func redisPID(b *testing.B, addr string) int {
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	info, err := rdb.Info(b.Context(), "server").Result()
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			pid, err := strconv.Atoi(v)
			if err != nil {
				b.Fatal(err)
			}
			return pid
		}
	}
	b.Fatal("redis INFO has no process_id")
	return 0
}

// cpuTime is the CPU time (user and system) the processes have used, from
// /proc; ok is false where there is no /proc. Benchmarks report CPU per
// alert because the wall-clock rate on a shared machine depends on its
// neighbours, while the CPU each alert costs does not: two idle cores give
// at most 2 s / (CPU per alert) alerts per second.
func cpuTime(pids []int) (total time.Duration, ok bool) {
	const ticks = 100 // USER_HZ, 100 on every Linux
	for _, pid := range pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return 0, false
		}
		// Fields after the command name, which may hold spaces: state is [0], utime [11], stime [12].
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) < 13 {
			return 0, false
		}
		for _, v := range f[11:13] {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, false
			}
			total += time.Duration(n) * time.Second / ticks
		}
	}
	return total, true
}

// benchEngine is an engine on the real clock (or clock, when set) with every channel going to sender.
func benchEngine(b *testing.B, st store.Store, sender channels.Sender, clock Clock) *Engine {
	b.Helper()
	cfg, err := config.Parse([]byte(testConfig), "test.yml")
	if err != nil {
		b.Fatalf("config: %v", err)
	}
	senders := map[string]channels.Sender{}
	for _, ch := range []string{"sms", "voice", "email", "slack", "webhook"} {
		senders[ch] = sender
	}
	return New(policies.Compile(cfg), Options{Store: st, Senders: senders, Clock: clock, Owner: "bench"})
}

// discard accepts every message at once.
type discard struct{}

func (discard) Send(context.Context, *channels.Message) (channels.Receipt, error) {
	return channels.Receipt{}, nil
}

var benchLabels = map[string]string{"alertname": "HighLatency", "severity": "critical", "service": "checkout"}

// benchBody is a webhook body split around its group key, so building one
// costs the benchmark (Alertmanager's side) next to nothing.
var benchBody = func() [2][]byte {
	const marker = "GROUP-MARKER"
	b := webhookJSON("firing", marker, time.Now(), benchLabels)
	i := bytes.Index(b, []byte(marker))
	return [2][]byte{b[:i], b[i+len(marker):]}
}()

// post sends one firing group through the real HTTP handler.
func post(h http.Handler, group string) (*httptest.ResponseRecorder, error) {
	body := make([]byte, 0, len(benchBody[0])+len(group)+len(benchBody[1]))
	body = append(append(append(body, benchBody[0]...), group...), benchBody[1]...)
	req := httptest.NewRequest(http.MethodPost, "/api/v1/alertmanager", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer hook-token")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		return w, fmt.Errorf("webhook answered %d: %s", w.Code, w.Body)
	}
	return w, nil
}

// postWebhook is post returning the ids of the incidents it answered with.
func postWebhook(h http.Handler, group string) ([]int64, error) {
	w, err := post(h, group)
	if err != nil {
		return nil, err
	}
	var resp struct{ Incidents []int64 }
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		return nil, fmt.Errorf("webhook answer %q: %w", w.Body, err)
	}
	return resp.Incidents, nil
}

func BenchmarkIngestRedis(b *testing.B) { benchmarkIngest(b, "redis") }

// BenchmarkIngestRedisEverySec is intake on Redis with appendfsync everysec.
func BenchmarkIngestRedisEverySec(b *testing.B) { benchmarkIngest(b, "redis-everysec") }
func BenchmarkIngestBolt(b *testing.B)          { benchmarkIngest(b, "bolt") }

// benchmarkIngest posts distinct groups, each opening an incident with its
// first step timer; the scheduler is not running, so this is intake alone.
func benchmarkIngest(b *testing.B, kind string) {
	st, pids := benchStoreCPU(b, kind)
	e := benchEngine(b, st, discard{}, nil)
	h := (&Server{Engine: e}).Handler()
	var groups atomic.Int64
	b.SetParallelism(ingestParallelism)
	cpu0, cpuOK := cpuTime(pids)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := post(h, "g"+strconv.FormatInt(groups.Add(1), 10)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "alerts/s")
	if cpu1, ok := cpuTime(pids); ok && cpuOK {
		b.ReportMetric(float64((cpu1-cpu0)/time.Microsecond)/float64(b.N), "cpu-µs/alert")
	}
}

// firstPage remembers when the first page of each incident reached its sender.
type firstPage struct {
	mu   sync.Mutex
	at   map[int64]time.Time
	done chan struct{} // receives one value per incident paged
}

func (s *firstPage) Send(_ context.Context, m *channels.Message) (channels.Receipt, error) {
	now := time.Now()
	if m.Kind != channels.KindPage {
		return channels.Receipt{}, nil
	}
	s.mu.Lock()
	_, seen := s.at[m.IncidentID]
	if !seen {
		s.at[m.IncidentID] = now
	}
	s.mu.Unlock()
	if !seen {
		s.done <- struct{}{}
	}
	return channels.Receipt{}, nil
}

// BenchmarkWebhookToChannel posts webhooks at a steady rate to a running
// engine and measures from the webhook's 2xx to its first page handed to a
// channel: the intake, the step timer, the outbox and every store write between.
func BenchmarkWebhookToChannel(b *testing.B) {
	for _, kind := range []string{"bolt", "redis"} {
		for _, rate := range []int{100, 300, 1000} {
			b.Run(fmt.Sprintf("%s/rate=%d", kind, rate), func(b *testing.B) { benchmarkWebhookToChannel(b, kind, rate) })
		}
	}
}

func benchmarkWebhookToChannel(b *testing.B, kind string, rate int) {
	sender := &firstPage{at: map[int64]time.Time{}, done: make(chan struct{}, b.N)}
	e := benchEngine(b, benchStore(b, kind), sender, nil)
	h := (&Server{Engine: e}).Handler()
	ctx, cancel := context.WithCancel(b.Context())
	ran := make(chan error, 1)
	go func() { ran <- e.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-ran; err != nil {
			b.Error(err)
		}
	}()

	var (
		mu       sync.Mutex
		answered = make(map[int64]time.Time, b.N)
		posts    sync.WaitGroup
	)
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	b.ResetTimer()
	for i := range b.N {
		<-tick.C
		posts.Go(func() {
			ids, err := postWebhook(h, fmt.Sprintf("%s-%d-%d", kind, rate, i))
			at := time.Now()
			if err != nil {
				b.Error(err)
				return
			}
			mu.Lock()
			for _, id := range ids {
				answered[id] = at
			}
			mu.Unlock()
		})
	}
	posts.Wait()
	timeout := time.After(30 * time.Second)
	for range len(answered) {
		select {
		case <-sender.done:
		case <-timeout:
			b.Fatalf("only %d of %d incidents paged within 30s", len(sender.at), len(answered))
		}
	}
	b.StopTimer()

	sender.mu.Lock()
	defer sender.mu.Unlock()
	lat := make([]time.Duration, 0, len(answered))
	for id, at := range answered {
		lat = append(lat, max(sender.at[id].Sub(at), 0))
	}
	reportPercentiles(b, lat)
}

// reportPercentiles reports the median, p99 and maximum of lat in milliseconds.
func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		b.Fatal("no samples")
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[(len(lat)*99)/100]), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
}

// latenessRecorder replaces the engine's lateness histogram to keep every sample.
type latenessRecorder struct {
	prometheus.Histogram
	mu      sync.Mutex
	samples []time.Duration
}

func (r *latenessRecorder) Observe(seconds float64) {
	r.mu.Lock()
	r.samples = append(r.samples, time.Duration(seconds*float64(time.Second)))
	r.mu.Unlock()
}

func (r *latenessRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.samples)
}

// shiftedClock is the real clock moved by a fixed offset, so timers written
// before the run can be due just after the scheduler starts.
type shiftedClock struct{ offset time.Duration }

func (c shiftedClock) Now() time.Time { return time.Now().Add(c.offset) }

// BenchmarkTimerLateness100k schedules 100,000 outbox timers spread evenly
// over a minute (1,000 incidents with 100 each) and lets the engine's Run loop
// deliver them, measuring how late each was handled. Run with -benchtime=1x:
// one round takes a minute.
func BenchmarkTimerLateness100k(b *testing.B) {
	for _, kind := range []string{"bolt", "redis"} {
		b.Run(kind, func(b *testing.B) {
			for range b.N {
				benchmarkTimerLateness(b, kind)
			}
		})
	}
}

func benchmarkTimerLateness(b *testing.B, kind string) {
	const incidents, perIncident = 1000, 100
	const span = time.Minute
	b.StopTimer()
	st, pids := benchStoreCPU(b, kind)
	// base is an hour ahead so nothing comes due while the timers are written.
	base := time.Now().Add(time.Hour).Truncate(time.Second)
	step := span / (incidents * perIncident)
	raw := webhookJSON("firing", "bench", base, benchLabels)
	for i := range incidents {
		timers := make([]store.Timer, perIncident)
		for j := range timers {
			timers[j] = store.Timer{
				ID: fmt.Sprintf("bench/%d/%d", i, j), Kind: kindNotify,
				Due:     base.Add(time.Duration(j*incidents+i) * step),
				Payload: payload(notifyPayload{Kind: "page", User: "alice", Channel: "sms", Step: 0}),
			}
		}
		_, err := st.UpdateByKey(b.Context(), fmt.Sprint("hikyaku/bench-", i), func(*store.Incident) (*store.Change, error) {
			return &store.Change{Incident: &store.Incident{Status: store.StatusOpen, CreatedAt: base, UpdatedAt: base,
				Department: "eng", Policy: "eng", Severity: "critical", Message: raw, Escalation: store.Escalation{Step: 0}},
				Schedule: timers}, nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}

	// The engine's clock starts 100ms before the first timer is due.
	e := benchEngine(b, st, discard{}, shiftedClock{offset: time.Until(base) - 100*time.Millisecond})
	rec := &latenessRecorder{Histogram: e.metrics.timerLateness, samples: make([]time.Duration, 0, incidents*perIncident)}
	e.metrics.timerLateness = rec
	ctx, cancel := context.WithCancel(b.Context())
	ran := make(chan error, 1)
	cpu0, cpuOK := cpuTime(pids)
	b.StartTimer()
	go func() { ran <- e.Run(ctx) }()
	deadline := time.Now().Add(span + time.Minute)
	for rec.count() < incidents*perIncident && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-ran; err != nil {
		b.Error(err)
	}
	b.StopTimer()
	if n := rec.count(); n < incidents*perIncident {
		b.Fatalf("only %d of %d timers handled within %s", n, incidents*perIncident, span+time.Minute)
	}
	if n, err := st.Pending(context.Background()); err != nil || n != 0 {
		b.Fatalf("%d timers still pending (err %v)", n, err)
	}
	reportPercentiles(b, rec.samples)
	if cpu1, ok := cpuTime(pids); ok && cpuOK {
		b.ReportMetric(float64((cpu1-cpu0)/time.Microsecond)/float64(incidents*perIncident), "cpu-µs/timer")
	}
}
