package storetest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// testAppendKeepsRecord: a Change that changes no field of the incident
// appends its events and schedules its timers without writing the record,
// so Version stays; one that changes a field, or the message, bumps it.
func testAppendKeepsRecord(t *testing.T, s store.Store) {
	msg := json.RawMessage(`{"receiver":"r","alerts":[1]}`)
	res, err := s.UpdateByKey(ctx(t), "r/append", func(*store.Incident) (*store.Change, error) {
		inc := newIncident()
		inc.Message = msg
		return &store.Change{Incident: inc, Events: []store.Event{{At: t0, Type: "created"}}}, nil
	})
	if err != nil || res.Incident.Version != 1 {
		t.Fatalf("create = %+v (%v), want version 1", res.Incident, err)
	}
	id := res.Incident.ID
	write := func(change func(inc *store.Incident), evType string) store.Result {
		t.Helper()
		res, err := s.Update(ctx(t), id, func(cur *store.Incident) (*store.Change, error) {
			inc := *cur
			change(&inc)
			return &store.Change{Incident: &inc, Events: []store.Event{{At: t0, Type: evType}},
				Schedule: []store.Timer{{ID: evType, Due: t0.Add(time.Hour), Kind: "notify"}}}, nil
		})
		if err != nil || !res.Written {
			t.Fatalf("%s: %+v (%v), want written", evType, res, err)
		}
		return res
	}
	check := func(evType string, version int64, message string) {
		t.Helper()
		got, err := s.Get(ctx(t), id)
		if err != nil || got.Version != version || string(got.Message) != message {
			t.Fatalf("after %s: version %d message %s (%v), want version %d message %s", evType, got.Version, got.Message, err, version, message)
		}
	}
	if res := write(func(*store.Incident) {}, "notified"); res.Incident.Version != 1 {
		t.Errorf("an append answered version %d, want 1 (the record is not written)", res.Incident.Version)
	}
	check("notified", 1, string(msg))
	write(func(inc *store.Incident) { inc.Severity = "warning" }, "changed")
	check("changed", 2, string(msg))
	write(func(inc *store.Incident) { inc.Message = json.RawMessage(`{"receiver":"r","alerts":[2]}`) }, "alerts_changed")
	check("alerts_changed", 3, `{"receiver":"r","alerts":[2]}`)
	// Past a page and back: a store may keep large messages otherwise.
	big := `{"receiver":"r","pad":"` + strings.Repeat("x", 5000) + `"}`
	write(func(inc *store.Incident) { inc.Message = json.RawMessage(big) }, "grew")
	check("grew", 4, big)
	write(func(inc *store.Incident) { inc.Message = json.RawMessage(`{"receiver":"r"}`) }, "shrank")
	check("shrank", 5, `{"receiver":"r"}`)
	write(func(inc *store.Incident) { inc.Message = json.RawMessage(big) }, "grew_again")
	write(func(inc *store.Incident) { inc.Message = nil }, "emptied")
	check("emptied", 7, "")

	evs, err := s.Timeline(ctx(t), id)
	if err != nil || len(evs) != 8 || evs[1].Type != "notified" || evs[7].Type != "emptied" {
		t.Fatalf("timeline = %+v (%v), want created, notified, changed, alerts_changed, grew, shrank, grew_again, emptied", evs, err)
	}
	if n, err := s.Pending(ctx(t)); err != nil || n != 7 {
		t.Fatalf("Pending = %d (%v), want the 7 timers scheduled", n, err)
	}
}

// testResultOutcome: the Result carries what fn's counting run returned in
// Outcome, also when it writes nothing, and Written says whether it wrote.
func testResultOutcome(t *testing.T, s store.Store) {
	res, err := s.UpdateByKey(ctx(t), "r/outcome", func(cur *store.Incident) (*store.Change, error) {
		if cur == nil {
			return &store.Change{Incident: newIncident(), Outcome: "opened"}, nil
		}
		return &store.Change{Outcome: "already open"}, nil
	})
	if err != nil || !res.Written || store.OutcomeOf[string](res) != "opened" || res.Incident == nil {
		t.Fatalf("create = %+v (%v), want written, outcome opened", res, err)
	}
	res, err = s.UpdateByKey(ctx(t), "r/outcome", func(cur *store.Incident) (*store.Change, error) {
		if cur == nil {
			return &store.Change{Incident: newIncident(), Outcome: "opened"}, nil
		}
		return &store.Change{Outcome: "already open"}, nil
	})
	if err != nil || res.Written || store.OutcomeOf[string](res) != "already open" || res.Incident == nil || res.Incident.Version != 1 {
		t.Fatalf("second = %+v (%v), want not written, outcome already open, the incident as it stands", res, err)
	}
	res, err = s.UpdateByKey(ctx(t), "r/none", func(*store.Incident) (*store.Change, error) { return nil, nil })
	if err != nil || res.Written || res.Incident != nil || res.Outcome != nil {
		t.Fatalf("nil change = %+v (%v), want an empty Result", res, err)
	}
	if got := store.OutcomeOf[int](store.Result{Outcome: "x"}); got != 0 {
		t.Fatalf("OutcomeOf[int] of a string = %d, want 0", got)
	}
}
