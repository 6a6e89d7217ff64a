package router

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/store"
)

// TestOverduePagesGoOutInDueOrder: 20 incidents whose first step came due a
// second apart while the daemon was down; when it runs again (Run, with its
// parallel workers, on a clock 10 minutes on) each person gets their pages in
// the order the steps came due. Old code: the steps fired in parallel, their
// pages were all due "now" and came out in timer-id order, and the sends
// raced, so most pairs of alice's SMS were swapped.
func TestOverduePagesGoOutInDueOrder(t *testing.T) {
	const incidents = 20
	h := newHarness(t, testConfig)
	var mu sync.Mutex
	jitter := rand.New(rand.NewPCG(1, 2))
	h.sent.Fail = func(*channels.Message) error {
		mu.Lock()
		d := time.Duration(jitter.IntN(3000)) * time.Microsecond
		mu.Unlock()
		time.Sleep(d) // providers answer in their own time
		return nil
	}
	for i := range incidents {
		h.post("firing", fmt.Sprintf("order-%02d", i), map[string]string{"alertname": fmt.Sprintf("Disk%02d", i), "team": "infra"})
		h.clock.Add(time.Second)
	}
	h.clock.Add(10 * time.Minute) // down past every first step's due time

	got := runUntilAliceSMS(t, h, incidents)
	if len(got) != incidents {
		t.Fatalf("alice got %d SMS pages, want %d", len(got), incidents)
	}
	swapped := 0
	for i := range got {
		for j := i + 1; j < len(got); j++ {
			if got[i] > got[j] {
				swapped++
			}
		}
	}
	if swapped != 0 {
		t.Errorf("alice's SMS pages came for incidents %v: %d of %d pairs swapped, want 0", got, swapped, incidents*(incidents-1)/2)
	}
}

// slowStepStore makes one incident's store writes slow, as a store under
// load does to some writes and not others.
type slowStepStore struct {
	store.Store
	slow  int64
	delay time.Duration
}

func (s *slowStepStore) Update(ctx context.Context, id int64, fn store.UpdateFunc) (store.Result, error) {
	if id == s.slow {
		time.Sleep(s.delay)
	}
	return s.Store.Update(ctx, id, fn)
}

// TestOverduePagesWaitForEarlierSteps: after downtime the overdue steps of
// 20 incidents fire in parallel, and incident 1's step takes 200 ms to
// write its pages while the others' take none. Its page to alice still goes
// out first: pages are claimed only once the steps before them have
// written theirs. Old code claimed again at once, and the 19 pages already
// written went out ahead of incident 1's.
func TestOverduePagesWaitForEarlierSteps(t *testing.T) {
	const incidents = 20
	h := newHarness(t, testConfig)
	var firstID int64
	for i := range incidents {
		incs := h.post("firing", fmt.Sprintf("wait-%02d", i), map[string]string{"alertname": fmt.Sprintf("Disk%02d", i), "team": "infra"})
		if i == 0 {
			firstID = incs[0].ID
		}
		h.clock.Add(time.Second)
	}
	h.clock.Add(10 * time.Minute)
	slow := &slowStepStore{Store: h.st, slow: firstID, delay: 200 * time.Millisecond}
	h.engine = New(h.engine.Policies(), Options{Store: slow, Senders: h.engine.opts.Senders, Clock: h.clock, Owner: "test"})

	got := runUntilAliceSMS(t, h, incidents)
	if len(got) != incidents || got[0] != firstID {
		t.Errorf("alice's SMS pages came for incidents %v, want %d of them, incident %d's first", got, incidents, firstID)
	}
}

// runUntilAliceSMS runs h's engine (Run, its parallel workers) until alice
// has n SMS pages or a minute has passed, and returns their incidents in
// the order they were sent.
func runUntilAliceSMS(t *testing.T, h *harness, n int) []int64 {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- h.engine.Run(ctx) }()
	aliceSMS := func() []int64 {
		var out []int64
		for _, m := range h.sent.Messages() {
			if m.Kind == channels.KindPage && m.Channel == "sms" && m.To == "+819000000001" {
				out = append(out, m.IncidentID)
			}
		}
		return out
	}
	deadline := time.Now().Add(time.Minute)
	for len(aliceSMS()) < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	return aliceSMS()
}

// holdRecordStore holds up the caller of the write that records one
// incident's sent SMS, until next is closed or a while passes: a store slow
// to commit, as a busy disk is.
type holdRecordStore struct {
	store.Store
	hold int64
	next chan struct{}
	held sync.Once
	// waited says whether the record waited for next (not for the while).
	waited bool
}

func (s *holdRecordStore) Update(ctx context.Context, id int64, fn store.UpdateFunc) (store.Result, error) {
	sent := false
	res, err := s.Store.Update(ctx, id, func(cur *store.Incident) (*store.Change, error) {
		ch, err := fn(cur)
		if ch != nil && ch.Complete != nil {
			for _, ev := range ch.Events {
				sent = sent || ev.Type == "notified" && ev.Detail["channel"] == "sms"
			}
		}
		return ch, err
	})
	if id == s.hold && sent {
		s.held.Do(func() {
			select {
			case <-s.next:
				s.waited = true
			case <-time.After(5 * time.Second):
			}
		})
	}
	return res, err
}

// TestLaneFreedOnceProviderAnswered: recording incident 1's SMS to alice
// is held up until her next SMS has gone out. It goes out: a lane keeps
// the order the provider takes pages in, and the next page starts once
// the provider answered the one before, not once that one is recorded.
// The old code held the lane through the record, so her next SMS waited
// for it (here: the 5 s the record gave up waiting after).
func TestLaneFreedOnceProviderAnswered(t *testing.T) {
	const incidents = 5
	h := newHarness(t, testConfig)
	var firstID int64
	for i := range incidents {
		incs := h.post("firing", fmt.Sprintf("lane-%02d", i), map[string]string{"alertname": fmt.Sprintf("Disk%02d", i), "team": "infra"})
		if i == 0 {
			firstID = incs[0].ID
		}
		h.clock.Add(time.Second)
	}
	h.clock.Add(10 * time.Minute)
	hold := &holdRecordStore{Store: h.st, hold: firstID, next: make(chan struct{})}
	var once sync.Once
	h.sent.Fail = func(m *channels.Message) error {
		if m.Channel == "sms" && m.To == "+819000000001" && m.IncidentID != firstID {
			once.Do(func() { close(hold.next) })
		}
		return nil
	}
	h.engine = New(h.engine.Policies(), Options{Store: hold, Senders: h.engine.opts.Senders, Clock: h.clock, Owner: "test"})

	got := runUntilAliceSMS(t, h, incidents)
	if len(got) != incidents || got[0] != firstID {
		t.Fatalf("alice's SMS pages came for incidents %v, want %d of them, incident %d's first", got, incidents, firstID)
	}
	if !hold.waited {
		t.Errorf("incident %d's SMS record gave up waiting: alice's next SMS did not go out before it was recorded", firstID)
	}
}
