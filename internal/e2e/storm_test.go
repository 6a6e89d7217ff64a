package e2e

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/internal/redistest"
)

// TestExactlyOnceAcrossReplicas posts an alert storm to every replica on one
// Redis, as an Alertmanager HA pair would, and checks that each group is one
// incident and each page of each incident's plan goes out exactly once.
func TestExactlyOnceAcrossReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time storm of 200 incidents over 2 and 3 replicas")
	}
	for _, replicas := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d replicas", replicas), func(t *testing.T) { testStorm(t, replicas, 200) })
	}
}

func testStorm(t *testing.T, replicas, groups int) {
	rd := redistest.Start(t, redistest.Options{})
	cfg := writeConfig(t)
	ds := make([]*daemon, replicas)
	for i := range ds {
		ds[i] = startDaemon(t, fmt.Sprintf("replica-%d", i+1), cfg, "--store", rd.URL())
	}

	names := make([]string, groups)
	for g := range names {
		names[g] = fmt.Sprintf("Storm%03d", g)
	}
	posted := time.Now()
	var refused atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64) // Alertmanager's senders are many, but not unbounded
	for _, name := range names {
		body := groupMessage(t, name, true)
		for _, d := range ds {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				n, err := postUntilAccepted(d.Addr, body, 20*time.Second)
				refused.Add(int64(n))
				if err != nil {
					t.Errorf("%s: group %s: %v", d.name, name, err)
				}
			})
		}
	}
	wg.Wait()
	t.Logf("%d posts (%d groups × %d replicas) accepted in %s; %d answers were retried",
		groups*replicas, groups, replicas, time.Since(posted).Round(time.Millisecond), refused.Load())
	if t.Failed() {
		return
	}

	incs, err := listIncidents(ds[0].Addr)
	if err != nil {
		t.Fatal(err)
	}
	if len(incs) != groups {
		t.Errorf("%d incidents, want %d (one per group, whatever the number of posts)", len(incs), groups)
	}
	keys := map[string]int64{}
	ids := make([]int64, 0, len(incs))
	for _, inc := range incs {
		if prev, dup := keys[inc.Key]; dup {
			t.Errorf("incidents %d and %d share key %s", prev, inc.ID, inc.Key)
		}
		keys[inc.Key] = inc.ID
		ids = append(ids, inc.ID)
	}
	for _, name := range names {
		if _, ok := keys[groupKey(name)]; !ok {
			t.Errorf("no incident for group %s", name)
		}
	}

	waitExhausted(t, ds, len(ids), rd.URL())
	got, problems := byPage(sendsOf(ds...), ids, testPlan, nil)
	reportProblems(t, problems)
	if want := groups * len(testPlan.pages(0)); len(got) != want {
		t.Errorf("%d pages sent, the plan has %d", len(got), want)
	}
	checkSchedule(t, ds[0].Addr, got, testPlan, 3*time.Second) // under the 4 s lease, with room for a loaded CI machine
	perReplica := map[string]int{}
	for _, s := range got {
		perReplica[s.Replica]++
	}
	t.Logf("pages sent per replica: %v", perReplica)
}

// postUntilAccepted posts body until it is answered 2xx, as Alertmanager
// retries a 5xx or a refused connection, and returns how many answers were not.
func postUntilAccepted(addr string, body []byte, within time.Duration) (int, error) {
	deadline := time.Now().Add(within)
	wait := 50 * time.Millisecond
	for n := 0; ; n++ {
		code, err := postWebhook(addr, body)
		if err == nil && code/100 == 2 {
			return n, nil
		}
		if err == nil && code/100 == 4 {
			return n, fmt.Errorf("answered %d: Alertmanager would drop this notification", code)
		}
		if time.Now().After(deadline) {
			return n, fmt.Errorf("not accepted within %s: last answer %d, %v", within, code, err)
		}
		time.Sleep(wait)
		wait = min(2*wait, time.Second)
	}
}
