package router

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestOutboxDepthFollowsTheStore(t *testing.T) {
	h := newHarness(t, testConfig)
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewOutboxDepth(h.st))
	depth := func() float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		return mfs[0].GetMetric()[0].GetGauge().GetValue()
	}
	if d := depth(); d != 0 {
		t.Fatalf("empty store: depth %v", d)
	}
	h.post("firing", "g1", map[string]string{"alertname": "X"})
	if d := depth(); d != 2 {
		t.Fatalf("after intake: depth %v, want 2: the first step and the stakeholders' first report", d)
	}
	h.advance(0)
	// Step 1 fired: alice's voice rule (+3m), step 2 (+5m) and the next
	// stakeholder report wait; everything due now went out.
	if d := depth(); d != 3 {
		t.Fatalf("after step 1: depth %v, want 3", d)
	}
	h.st.Close()
	if _, err := reg.Gather(); err == nil {
		t.Fatal("a scrape with the store down reported a depth")
	}
}
