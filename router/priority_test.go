package router

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

func notifyClaim(id string, p notifyPayload, attempt int) store.Claim {
	return store.Claim{Timer: store.Timer{ID: id, Kind: kindNotify, Payload: payload(p), Attempt: attempt}}
}

func TestPlanStartsPagesFirst(t *testing.T) {
	h := newHarness(t, testConfig)
	batch := []store.Claim{
		notifyClaim("report", notifyPayload{Kind: "report", User: "boss", Channel: "email"}, 0),
		notifyClaim("retry", notifyPayload{Kind: "page", User: "bob", Channel: "sms"}, 1),
		{Timer: store.Timer{ID: "exhaust", Kind: kindExhaust}},
		{Timer: store.Timer{ID: "report-timer", Kind: kindReport}},
		notifyClaim("page-1", notifyPayload{Kind: "page", User: "alice", Channel: "sms"}, 0),
		{Timer: store.Timer{ID: "step", Kind: kindStep}},
		notifyClaim("resolved", notifyPayload{Kind: "resolved", ChatChannel: "ops", Channel: "slack"}, 0),
		notifyClaim("page-2", notifyPayload{Kind: "page", User: "alice", Channel: "sms"}, 0),
	}
	var got []string
	for _, j := range h.engine.plan(batch) {
		for _, c := range j.claims {
			got = append(got, c.ID)
		}
	}
	eq(t, "start order", got, []string{"page-1", "step", "page-2", "exhaust", "report", "report-timer", "resolved", "retry"})
}

func TestPlanBundlesOnlyUnderALimit(t *testing.T) {
	batch := []store.Claim{
		notifyClaim("a1", notifyPayload{Kind: "page", User: "alice", Channel: "sms"}, 0),
		notifyClaim("b1", notifyPayload{Kind: "page", User: "bob", Channel: "sms"}, 0),
		notifyClaim("a-slack", notifyPayload{Kind: "page", User: "alice", Channel: "slack"}, 0),
		notifyClaim("a2", notifyPayload{Kind: "page", User: "alice", Channel: "sms"}, 1),
		notifyClaim("a-report", notifyPayload{Kind: "report", User: "alice", Channel: "sms"}, 0),
		notifyClaim("a-voice", notifyPayload{Kind: "page", User: "alice", Channel: "voice"}, 0),
	}
	shape := func(e *Engine) []string {
		var out []string
		for _, j := range e.plan(batch) {
			var ids []string
			for _, c := range j.claims {
				ids = append(ids, c.ID)
			}
			out = append(out, strings.Join(ids, "+"))
		}
		return out
	}
	eq(t, "no limit: one job each", shape(newHarness(t, testConfig).engine),
		[]string{"a1", "b1", "a-slack", "a-voice", "a-report", "a2"})
	// Alice's SMS pages go as one; chat, calls and reports stay apart.
	eq(t, "limited", shape(newHarness(t, twilioConfig("    per_person_per_minute: 3\n")).engine),
		[]string{"a1+a2", "b1", "a-slack", "a-voice", "a-report"})
}

// burstConfig pages a different person for each of n teams, by SMS at once.
func burstConfig(n int) string {
	var b strings.Builder
	b.WriteString("receivers:\n  - name: hikyaku\n    bearer_token: {value: hook-token}\nusers:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - id: u%d\n    contacts: {sms: \"+8190%08d\"}\n    notify:\n      - {after: 0s, channels: [sms]}\n", i, i)
	}
	b.WriteString("departments:\n  - id: eng\n    escalation_policy: p0\nescalation_policies:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - id: p%d\n    steps:\n      - targets: {users: [u%d]}\n        escalate_after: 5m\n", i, i)
	}
	b.WriteString("routes:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - name: t%d\n    matchers: ['team=\"t%d\"']\n    department: eng\n    escalation_policy: p%d\n", i, i, i)
	}
	b.WriteString("default_route:\n  department: eng\n")
	return b.String()
}

// stampSender notes when each SMS reached it.
type stampSender struct {
	mu sync.Mutex
	at map[string]time.Time // To → first arrival
	ch chan struct{}
}

func (s *stampSender) Send(_ context.Context, m *channels.Message) (channels.Receipt, error) {
	if m.Channel == "sms" {
		s.mu.Lock()
		if _, ok := s.at[m.To]; !ok {
			s.at[m.To] = time.Now()
			s.ch <- struct{}{}
		}
		s.mu.Unlock()
	}
	return channels.Receipt{ProviderID: m.IdempotencyKey}, nil
}

func BenchmarkBurst20Bolt(b *testing.B)  { benchmarkBurst(b, "bolt") }
func BenchmarkBurst20Redis(b *testing.B) { benchmarkBurst(b, "redis") }

// benchmarkBurst posts 20 incidents within 0.1 s, each paging another
// person, through the real webhook handler with the engine running on the
// real clock, and reports how long after the first post the last of the 20
// SMS reached the sender (goal: under 1 s).
func benchmarkBurst(b *testing.B, kind string) {
	const n = 20
	cfg, err := config.Parse([]byte(burstConfig(n)), "burst.yml")
	if err != nil {
		b.Fatal(err)
	}
	st := benchStore(b, kind)
	var worst, total time.Duration
	round := 0
	for b.Loop() {
		round++
		snd := &stampSender{at: map[string]time.Time{}, ch: make(chan struct{}, n)}
		senders := map[string]channels.Sender{}
		for _, ch := range []string{"sms", "voice", "email", "slack", "webhook"} {
			senders[ch] = snd
		}
		e := New(policies.Compile(cfg), Options{Store: st, Senders: senders, Owner: "burst"})
		ctx, cancel := context.WithCancel(b.Context())
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx) }()
		h := (&Server{Engine: e}).Handler()
		start := time.Now()
		for i := range n {
			body := webhookJSON("firing", fmt.Sprintf("{}:{round=%d,team=t%d}", round, i), start, map[string]string{"alertname": "Burst", "team": fmt.Sprintf("t%d", i)})
			req := httptest.NewRequest("POST", "/api/v1/alertmanager", strings.NewReader(string(body)))
			req.Header.Set("Authorization", "Bearer hook-token")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatalf("webhook answered %d: %s", w.Code, w.Body)
			}
			time.Sleep(5 * time.Millisecond) // 20 posts spread over 0.1 s
		}
		for range n {
			select {
			case <-snd.ch:
			case <-time.After(10 * time.Second):
				b.Fatalf("round %d: only %d of %d SMS within 10 s", round, len(snd.at), n)
			}
		}
		var last time.Time
		for _, at := range snd.at {
			if at.After(last) {
				last = at
			}
		}
		took := last.Sub(start)
		worst, total = max(worst, took), total+took
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		// Resolve the round so the next starts from an empty outbox.
		incs, _ := st.List(context.Background(), store.ListOptions{Status: store.StatusOpen})
		for _, inc := range incs {
			e.Resolve(context.Background(), inc.ID, "api", "api")
		}
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(round), "ms-to-20th-sms")
	b.ReportMetric(float64(worst.Milliseconds()), "worst-ms")
}
