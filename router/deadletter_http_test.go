package router

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// panicGet panics in Get: a bug under GET /api/v1/incidents/{id}.
type panicGet struct{ store.Store }

func (panicGet) Get(context.Context, int64) (*store.Incident, error) { panic("boom in get") }

func TestPanicInHTTPHandlerAnswers500AndKeepsServing(t *testing.T) {
	h, logs := faultHarness(t, func(st store.Store) store.Store { return panicGet{st} }, nil)
	srv := httptest.NewServer((&Server{Engine: h.engine}).Handler())
	t.Cleanup(srv.Close)
	for i := 1; i <= 2; i++ {
		if code, body := do(t, "GET", srv.URL+"/api/v1/incidents/1", "test-api-token", nil); code != 500 || !strings.Contains(body, "internal error") {
			t.Fatalf("GET /api/v1/incidents/1 with a panicking handler = %d %q, want 500", code, body)
		}
		if got := counterValue(t, h.engine.metrics.faults.panics.WithLabelValues(panicHTTP)); got != float64(i) {
			t.Fatalf("hikyaku_panics_total{where=http} = %v, want %d", got, i)
		}
	}
	if code, _ := do(t, "GET", srv.URL+"/-/healthy", "", nil); code != 200 {
		t.Fatalf("GET /-/healthy after the panics = %d, want 200", code)
	}
	l := logs.String()
	if !strings.Contains(l, `level=ERROR msg="panic recovered; hikyaku keeps running" where=http`) ||
		!strings.Contains(l, `route="GET /api/v1/incidents/{id}"`) || !strings.Contains(l, "runtime/debug.Stack") {
		t.Fatalf("panic not logged at ERROR with route and stack:\n%.2000s", l)
	}
}

func TestDeadLetterAPI(t *testing.T) {
	h, _ := faultHarness(t, nil, nil)
	srv := httptest.NewServer((&Server{Engine: h.engine}).Handler())
	t.Cleanup(srv.Close)
	inc := h.post("firing", "g1", map[string]string{"alertname": "DiskFull"})[0]
	h.process()
	const id = "ref/g0/poison" // slashes, as real timer ids have
	scheduleRaw(t, h, inc.ID, store.Timer{ID: id, Kind: kindStep, Due: h.clock.Now(), Payload: []byte(`{"gen":`)})
	h.process()
	base := srv.URL + "/api/v1/timers/dead"
	one := base + "/" + url.PathEscape(id)

	for _, tc := range []struct{ method, url string }{{"GET", base}, {"POST", one + "/retry"}, {"POST", one + "/discard"}} {
		if code, _ := do(t, tc.method, tc.url, "", nil); code != 401 {
			t.Fatalf("%s %s without the API token = %d, want 401", tc.method, tc.url, code)
		}
		if code, _ := do(t, tc.method, tc.url, "wrong", nil); code != 401 {
			t.Fatalf("%s %s with a wrong token = %d, want 401", tc.method, tc.url, code)
		}
	}

	code, body := do(t, "GET", base, "test-api-token", nil)
	var list []DeadTimerView
	if code != 200 || json.Unmarshal([]byte(body), &list) != nil || len(list) != 1 {
		t.Fatalf("GET %s = %d %s, want one dead timer", base, code, body)
	}
	for _, field := range []string{`"id"`, `"incident"`, `"kind"`, `"attempts"`, `"error"`, `"dead_lettered_at"`, `"due"`} {
		if !strings.Contains(body, field) {
			t.Errorf("dead timer JSON has no %s: %s", field, body)
		}
	}
	// t0 is 2026-01-07 14:00 JST; the step and the poison timer ran then.
	at := time.Date(2026, 1, 7, 5, 0, 0, 0, time.UTC)
	got := list[0]
	if got.ID != id || got.Incident != inc.ID || got.Kind != "step" || got.Attempts != 1 ||
		!strings.Contains(got.Error, "decode step timer payload") || !got.DeadLetteredAt.Equal(at) || !got.Due.Equal(at) {
		t.Fatalf("dead timer = %+v", got)
	}

	// Retry: due now, with a fresh count; the poison dies again at once.
	if code, body := do(t, "POST", one+"/retry?by=alice", "test-api-token", nil); code != 200 || !strings.Contains(body, `"id": "ref/g0/poison"`) {
		t.Fatalf("retry = %d %s", code, body)
	}
	if n, _ := h.st.DeadCount(context.Background()); n != 0 {
		t.Fatalf("DeadCount after retry = %d, want 0", n)
	}
	if code, _ := do(t, "POST", one+"/retry", "test-api-token", nil); code != 404 {
		t.Fatalf("retry of a timer no longer dead = %d, want 404", code)
	}
	if n := h.process(); n != 1 || len(h.dead()) != 1 || h.dead()[0].Attempt != 1 {
		t.Fatalf("retried poison: handled %d, dead %+v; want it dead again after 1 attempt", n, h.dead())
	}
	if code, _ := do(t, "POST", one+"/explode", "test-api-token", nil); code != 404 {
		t.Fatalf("unknown action = %d, want 404", code)
	}

	// Discard: gone for good.
	if code, body := do(t, "POST", one+"/discard?by=bob", "test-api-token", nil); code != 200 {
		t.Fatalf("discard = %d %s", code, body)
	}
	if code, _ := do(t, "POST", one+"/discard", "test-api-token", nil); code != 404 {
		t.Fatalf("second discard = %d, want 404", code)
	}
	if code, body := do(t, "GET", base, "test-api-token", nil); code != 200 || strings.TrimSpace(body) != "[]" {
		t.Fatalf("list after discard = %d %s, want []", code, body)
	}
	evs, err := h.st.Timeline(context.Background(), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var trail []string
	for _, ev := range evs {
		if strings.HasPrefix(ev.Type, "timer_dead") {
			trail = append(trail, ev.Type+":"+ev.Actor)
		}
	}
	eq(t, "dead-letter trail", trail, []string{"timer_dead_lettered:", "timer_dead_letter_retried:alice",
		"timer_dead_lettered:", "timer_dead_letter_discarded:bob"})
}

// TestRecoveredSMTPCountsAndLogs: the hook the email reply listener calls
// with a panic of one of its sessions counts it as where=smtp and logs it
// at ERROR with its stack and what ran (the listener's side, answering 451,
// is channels/email's TestPanicInMailSessionIsAnswered451).
func TestRecoveredSMTPCountsAndLogs(t *testing.T) {
	h, logs := faultHarness(t, nil, nil)
	func() {
		defer func() { h.engine.RecoveredSMTP(recover(), "command", "DATA") }()
		panic("boom in DATA")
	}()
	if got := counterValue(t, h.engine.metrics.faults.panics.WithLabelValues(panicSMTP)); got != 1 {
		t.Fatalf("hikyaku_panics_total{where=smtp} = %v, want 1", got)
	}
	if l := logs.String(); !strings.Contains(l, `level=ERROR msg="panic recovered; hikyaku keeps running" where=smtp panic="boom in DATA"`) ||
		!strings.Contains(l, "runtime/debug.Stack") || !strings.Contains(l, "command=DATA") {
		t.Fatalf("panic not logged at ERROR with its stack and command:\n%.2000s", l)
	}
}

// panicPing panics in Ping, which readiness calls on a goroutine of its own.
type panicPing struct{ store.Store }

func (panicPing) Ping(context.Context) error { panic("boom in ping") }

// TestPanicInStoreProbeIsNotReady: a store whose Ping panics makes /-/ready
// 503 with the reason; the probe's goroutine does not end the process.
func TestPanicInStoreProbeIsNotReady(t *testing.T) {
	h, _ := faultHarness(t, func(st store.Store) store.Store { return panicPing{st} }, nil)
	srv := httptest.NewServer((&Server{Engine: h.engine}).Handler())
	t.Cleanup(srv.Close)
	for range 2 {
		if code, body := do(t, "GET", srv.URL+"/-/ready", "", nil); code != 503 || !strings.Contains(body, "panicked") {
			t.Fatalf("GET /-/ready with a panicking Ping = %d %q, want 503 naming the panic", code, body)
		}
	}
}
