package router

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

// reloadingStore runs each update's fn once, swaps the engine's config,
// then lets the store run the update: the second run of fn is what a store
// does after a conflicting write (Redis), and a reload may land between.
type reloadingStore struct {
	store.Store
	engine *Engine
	next   *policies.Set
}

func (s *reloadingStore) Update(ctx context.Context, id int64, fn store.UpdateFunc) (store.Result, error) {
	if s.next != nil {
		cur, err := s.Store.Get(ctx, id)
		if err != nil {
			return store.Result{}, err
		}
		if _, err := fn(cur); err != nil {
			return store.Result{}, err
		}
		s.engine.SetPolicies(s.next)
		s.next = nil
	}
	return s.Store.Update(ctx, id, fn)
}

// TestAckTakesTheConfigOnce: an ack whose update runs again after a reload
// still writes what the config at its start said (ack_timeout 1h), not a
// mix of the two configs.
func TestAckTakesTheConfigOnce(t *testing.T) {
	h := newHarness(t, testConfig)
	cfg, err := config.Parse([]byte(strings.Replace(testConfig, "ack_timeout: 1h", "ack_timeout: 3h", 1)), "test.yml")
	if err != nil {
		t.Fatal(err)
	}
	st := &reloadingStore{Store: h.st}
	h.engine = New(h.engine.Policies(), Options{Store: st, Senders: h.engine.opts.Senders, Clock: h.clock, Owner: "test"})
	st.engine = h.engine
	inc := h.post("firing", "g-once", map[string]string{"alertname": "Disk"})[0]

	st.next = policies.Compile(cfg)
	acked := h.clock.Now()
	if _, err := h.engine.Ack(context.Background(), inc.ID, "alice", "api"); err != nil {
		t.Fatal(err)
	}
	if st.next != nil {
		t.Fatal("the ack's update never ran its fn")
	}
	claims, err := h.st.ClaimDue(context.Background(), acked.Add(5*time.Hour), "t", time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	var dues []time.Time
	for _, c := range claims {
		if c.Kind == kindAckTimeout {
			dues = append(dues, c.Due)
		}
	}
	if want := acked.Add(time.Hour); len(dues) != 1 || !dues[0].Equal(want) {
		t.Fatalf("ack timeout timers due %v, want one at %v (the config the ack started with)", dues, want)
	}
}
