package e2e

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/internal/redistest"
)

// TestRedisRestart kills -9 Redis (appendonly yes, appendfsync always) in
// the middle of an alert storm and restarts it: every alert hikyaku answered
// 2xx is an incident afterwards, and what was refused is accepted on retry.
func TestRedisRestart(t *testing.T) {
	const groups = 100
	rd := redistest.Start(t, redistest.Options{AppendOnly: true})
	d := startDaemon(t, "replica", writeConfig(t), "--store", rd.URL())

	var (
		mu       sync.Mutex
		accepted = map[string]bool{}
		refused  []string
		wg       sync.WaitGroup
	)
	work := make(chan string)
	for range 8 {
		wg.Go(func() {
			for name := range work {
				code, err := postWebhook(d.Addr, groupMessage(t, name, true))
				mu.Lock()
				if err == nil && code == http.StatusOK {
					accepted[name] = true
				} else {
					refused = append(refused, name)
				}
				mu.Unlock()
			}
		})
	}
	go func() {
		defer close(work)
		for g := range groups {
			work <- fmt.Sprintf("RedisRestart%03d", g)
			time.Sleep(5 * time.Millisecond) // spread the storm so the crash lands inside it
		}
	}()
	for {
		mu.Lock()
		n := len(accepted)
		mu.Unlock()
		if n >= groups/3 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	rd.Kill() // kill -9; posts meanwhile wait out the outage or are refused with 503
	time.Sleep(time.Second)
	rd.Restart() // on the same port and data
	wg.Wait()
	t.Logf("around the Redis crash: %d posts answered 2xx, %d refused", len(accepted), len(refused))

	keys := incidentKeys(t, d.Addr, 10*time.Second)
	for name := range accepted {
		if !keys[groupKey(name)] {
			t.Errorf("group %s was answered 2xx before the restart but its incident is gone", name)
		}
	}
	for _, name := range refused { // Alertmanager retries what it was refused
		if _, err := postUntilAccepted(d.Addr, groupMessage(t, name, true), 10*time.Second); err != nil {
			t.Errorf("group %s: %v", name, err)
		}
	}
	incs, err := listIncidents(d.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if len(incs) != groups {
		t.Errorf("%d incidents after the retries, want %d", len(incs), groups)
	}
}

// TestRedisDown stops Redis under a running replica: the webhook and
// /-/ready answer 503, and both recover by themselves when Redis is back.
func TestRedisDown(t *testing.T) {
	rd := redistest.Start(t, redistest.Options{AppendOnly: true})
	d := startDaemon(t, "replica", writeConfig(t), "--store", rd.URL())
	if code := statusOf(d.Addr, "/-/ready"); code != http.StatusOK {
		t.Fatalf("/-/ready answered %d with Redis up, want 200", code)
	}

	rd.Kill()
	body := groupMessage(t, "WhileRedisDown", true)
	if code, err := postWebhook(d.Addr, body); err != nil || code != http.StatusServiceUnavailable {
		t.Errorf("webhook with Redis down answered %d (%v), want 503 so Alertmanager retries", code, err)
	}
	if code := statusOf(d.Addr, "/-/ready"); code != http.StatusServiceUnavailable {
		t.Errorf("/-/ready with Redis down answered %d, want 503", code)
	}

	rd.Restart()
	back := time.Now()
	for statusOf(d.Addr, "/-/ready") != http.StatusOK {
		if time.Since(back) > 10*time.Second {
			t.Fatal("/-/ready still not 200 10s after Redis came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("/-/ready was 200 again %s after Redis came back", time.Since(back).Round(time.Millisecond))
	if code, err := postWebhook(d.Addr, body); err != nil || code != http.StatusOK {
		t.Fatalf("Alertmanager's retry after Redis came back answered %d (%v), want 200", code, err)
	}
	keys := incidentKeys(t, d.Addr, 5*time.Second)
	if !keys[groupKey("WhileRedisDown")] {
		t.Error("the retried alert has no incident")
	}
	if _, ok := d.WaitLog(isPage(0, 0), 5*time.Second); !ok {
		t.Error("the retried alert paged nobody")
	}
	if d.exited() {
		t.Error("hikyaku exited while Redis was down; it must ride the outage out")
	}
}

// incidentKeys lists the incidents' keys, retrying while the store reconnects.
func incidentKeys(t *testing.T, addr string, within time.Duration) map[string]bool {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		incs, err := listIncidents(addr)
		if err == nil {
			keys := make(map[string]bool, len(incs))
			for _, inc := range incs {
				keys[inc.Key] = true
			}
			return keys
		}
		if time.Now().After(deadline) {
			t.Fatalf("listing incidents: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRedisOutageMidSend kills Redis the moment step-2 pages start going out
// and brings it back 1 s or 10 s later: the escalation resumes by itself and
// each page is still sent exactly once. A page sent just before the crash
// whose record could not be written must not come back after its lease
// (fixed in 65808c3 for outages shorter than the lease; the window is a few
// milliseconds wide, so without that fix this test fails on most runs, not
// all). For the 10 s outage, longer than the 4 s lease, it is the frozen
// lease and the sender's renewals that keep the page from going out twice:
// old code sent the pages in flight again.
func TestRedisOutageMidSend(t *testing.T) {
	for _, outage := range []time.Duration{time.Second, 10 * time.Second} {
		t.Run(fmt.Sprintf("outage %s", outage), func(t *testing.T) { testRedisOutageMidSend(t, outage) })
	}
}

func testRedisOutageMidSend(t *testing.T, outage time.Duration) {
	const groups = 20
	rd := redistest.Start(t, redistest.Options{AppendOnly: true})
	cfg := writeConfig(t)
	a := startDaemon(t, "replica-a", cfg, "--store", rd.URL())
	b := startDaemon(t, "replica-b", cfg, "--store", rd.URL())
	for g := range groups {
		if _, err := postUntilAccepted(a.Addr, groupMessage(t, fmt.Sprintf("RedisOutage%02d", g), true), 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	incs, err := listIncidents(a.Addr)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(incs))
	for i, inc := range incs {
		ids[i] = inc.ID
	}
	if _, ok := waitAny([]*daemon{a, b}, isPage(0, 1), 10*time.Second); !ok {
		t.Fatal("step 2 never sent")
	}
	rd.Kill()
	time.Sleep(outage)
	rd.Restart()
	back := time.Now()

	waitExhausted(t, []*daemon{a, b}, groups, rd.URL())
	got, problems := byPage(sendsOf(a, b), ids, testPlan, nil)
	reportProblems(t, problems)
	// A timer claimed just before the kill whose handler then found the store
	// gone is taken again only when its claim lapses: one lease (4 s, the
	// engine's default) after the claim, so the bound is the lease, plus slack.
	const lease = 4 * time.Second
	checkSchedule(t, b.Addr, got, testPlan, lease+outage+time.Second)
	var resumed time.Duration
	for pg, s := range got {
		if pg.Round == 0 && pg.Step == 1 && s.Time.After(back) {
			resumed = max(resumed, s.Time.Sub(back))
		}
	}
	t.Logf("after a %s Redis outage, the step-2 pages it held up went out at most %s after Redis was back", outage, resumed.Round(time.Millisecond))
}
