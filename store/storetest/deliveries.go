package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// sent records ds as sent about incident id, with a timeline event, in one
// write as the engine's send does.
func sent(t *testing.T, s store.Store, id int64, ds ...store.Delivery) {
	t.Helper()
	change(t, s, id, func(inc *store.Incident) *store.Change {
		return &store.Change{Incident: inc, Events: []store.Event{{At: t0, Type: "notified"}}, Deliveries: ds}
	})
}

func page(user, channel string, at time.Duration) store.Delivery {
	return store.Delivery{Kind: store.DeliveryPage, Channel: channel, User: user, To: user + "@" + channel,
		Step: 1, ProviderID: fmt.Sprintf("%s-%s-%d", user, channel, at), Ref: "ref", At: t0.Add(at)}
}

// pagedIDs is Paged as "incident:channel:status" strings, in its order.
func pagedIDs(t *testing.T, s store.Store, user, channel string) []string {
	t.Helper()
	ds, err := s.Paged(ctx(t), user, channel)
	if err != nil {
		t.Fatalf("Paged(%q, %q): %v", user, channel, err)
	}
	out := []string{}
	for _, d := range ds {
		out = append(out, fmt.Sprintf("%d:%s:%s", d.Incident, d.Channel, d.Status))
	}
	return out
}

func wantPaged(t *testing.T, s store.Store, user, channel string, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if got := pagedIDs(t, s, user, channel); !reflect.DeepEqual(got, want) {
		t.Errorf("Paged(%q, %q) = %v, want %v", user, channel, got, want)
	}
}

// testDeliveries: the deliveries a write records come back by incident, in
// write order, every field kept; a fenced write that fails records none.
func testDeliveries(t *testing.T, s store.Store) {
	a := create(t, s, "d/a")
	b := create(t, s, "d/b")
	if ds, err := s.Deliveries(ctx(t), a.ID); err != nil || len(ds) != 0 {
		t.Fatalf("Deliveries of a fresh incident = %v, %v; want none", ds, err)
	}
	first, second := page("alice", "sms", 0), page("alice", "voice", time.Minute)
	chat := store.Delivery{Kind: "report", Channel: "slack", Chat: "ops", To: "C123", ProviderID: "1700000000.000100", At: t0.Add(2 * time.Minute)}
	sent(t, s, a.ID, first)
	sent(t, s, b.ID, page("bob", "sms", 0))
	sent(t, s, a.ID, second, chat)

	got, err := s.Deliveries(ctx(t), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Delivery{first, second, chat}
	for i := range want {
		want[i].Incident = a.ID
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Deliveries(%d) =\n%+v\nwant\n%+v", a.ID, got, want)
	}

	schedule(t, s, a.ID, store.Timer{ID: "d/a/notify", Due: t0})
	claims, err := s.ClaimDue(ctx(t), t0, "me", time.Minute, 10)
	if err != nil || len(claims) != 1 {
		t.Fatalf("ClaimDue = %v, %v", claims, err)
	}
	stale := claims[0]
	stale.Token = "not-the-token"
	_, err = s.Update(ctx(t), a.ID, func(cur *store.Incident) (*store.Change, error) {
		return &store.Change{Incident: cur, Complete: &stale, Deliveries: []store.Delivery{page("alice", "email", time.Hour)}}, nil
	})
	if !errors.Is(err, store.ErrStaleClaim) {
		t.Fatalf("fenced write with a stale claim: err = %v, want ErrStaleClaim", err)
	}
	if got, _ := s.Deliveries(ctx(t), a.ID); len(got) != 3 {
		t.Errorf("a write refused for its stale claim recorded a delivery: %+v", got)
	}
	wantPaged(t, s, "alice", "email")

	if _, err := s.Deliveries(ctx(t), 999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Deliveries of a missing incident: err = %v, want ErrNotFound", err)
	}
}

// testPaged: a person's pages of open and acked incidents, by channel or
// any, oldest incident first, with the incident's status; reports, chat
// posts and other people's pages are not theirs; a resolve takes the
// incident's pages out and a reopen puts them back.
func testPaged(t *testing.T, s store.Store) {
	a := create(t, s, "p/a")
	b := create(t, s, "p/b")
	c := create(t, s, "p/c")
	sent(t, s, b.ID, page("alice", "voice", time.Minute))
	sent(t, s, a.ID, page("alice", "sms", 0), page("bob", "sms", 0))
	sent(t, s, a.ID, store.Delivery{Kind: "report", Channel: "email", User: "alice", At: t0})
	sent(t, s, c.ID, page("alicia", "sms", 0), store.Delivery{Kind: store.DeliveryPage, Channel: "slack", Chat: "ops", At: t0})
	sent(t, s, a.ID, page("alice", "sms", time.Hour))
	setStatus(t, s, b.ID, store.StatusAcked)

	wantPaged(t, s, "alice", "sms", fmt.Sprintf("%d:sms:open", a.ID), fmt.Sprintf("%d:sms:open", a.ID))
	wantPaged(t, s, "alice", "", fmt.Sprintf("%d:sms:open", a.ID), fmt.Sprintf("%d:sms:open", a.ID), fmt.Sprintf("%d:voice:acked", b.ID))
	wantPaged(t, s, "alice", "email")
	wantPaged(t, s, "bob", "", fmt.Sprintf("%d:sms:open", a.ID))
	wantPaged(t, s, "ali", "")
	wantPaged(t, s, "", "")

	ds, err := s.Paged(ctx(t), "alice", "sms")
	if err != nil {
		t.Fatal(err)
	}
	if want := page("alice", "sms", time.Hour); ds[1].ProviderID != want.ProviderID || !ds[1].At.Equal(want.At) || ds[1].To != want.To {
		t.Errorf("Paged's second page = %+v, want the one sent an hour later, %+v", ds[1], want)
	}

	setStatus(t, s, a.ID, store.StatusResolved)
	wantPaged(t, s, "alice", "", fmt.Sprintf("%d:voice:acked", b.ID))
	wantPaged(t, s, "bob", "")
	// A page recorded on a resolved incident (a send racing the resolve)
	// is kept for the incident, never indexed.
	sent(t, s, a.ID, page("bob", "voice", 2*time.Hour))
	wantPaged(t, s, "bob", "")
	if ds, _ := s.Deliveries(ctx(t), a.ID); len(ds) != 5 {
		t.Errorf("Deliveries of the resolved incident: %d, want 5", len(ds))
	}

	setStatus(t, s, a.ID, store.StatusOpen)
	wantPaged(t, s, "bob", "", fmt.Sprintf("%d:sms:open", a.ID), fmt.Sprintf("%d:voice:open", a.ID))
	wantPaged(t, s, "alice", "sms", fmt.Sprintf("%d:sms:open", a.ID), fmt.Sprintf("%d:sms:open", a.ID))
}

// testDeleteResolvedDeliveries: retention deletes an incident's deliveries
// with it, and leaves the others'.
func testDeleteResolvedDeliveries(t *testing.T, s store.Store) {
	old := create(t, s, "r/old")
	kept := create(t, s, "r/kept")
	sent(t, s, old.ID, page("alice", "sms", 0))
	sent(t, s, kept.ID, page("alice", "sms", 0))
	change(t, s, old.ID, func(inc *store.Incident) *store.Change {
		inc.Status, inc.ResolvedAt = store.StatusResolved, t0
		return &store.Change{Incident: inc}
	})
	if n, err := s.DeleteResolved(ctx(t), t0.Add(time.Hour), 10); err != nil || n != 1 {
		t.Fatalf("DeleteResolved = %d, %v; want 1", n, err)
	}
	if _, err := s.Deliveries(ctx(t), old.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Deliveries of a deleted incident: err = %v, want ErrNotFound", err)
	}
	if ds, err := s.Deliveries(ctx(t), kept.ID); err != nil || len(ds) != 1 {
		t.Errorf("Deliveries of the kept incident = %v, %v; want its one page", ds, err)
	}
	wantPaged(t, s, "alice", "sms", fmt.Sprintf("%d:sms:open", kept.ID))
}

// posted is Posted's incident and kind for a channel and provider id, or
// "none" for ErrNotFound.
func posted(t *testing.T, s store.Store, channel, providerID string) string {
	t.Helper()
	d, err := s.Posted(ctx(t), channel, providerID)
	if errors.Is(err, store.ErrNotFound) {
		return "none"
	}
	if err != nil {
		t.Fatalf("Posted(%q, %q): %v", channel, providerID, err)
	}
	return fmt.Sprintf("%d:%s:%s", d.Incident, d.Kind, d.To)
}

// testPosted: a delivery is found by its channel and provider id, every
// field kept, whatever the incident's status, until retention deletes the
// incident; the first delivery of a provider id keeps it; one without a
// provider id, another channel's or an unknown id is none.
func testPosted(t *testing.T, s store.Store) {
	a := create(t, s, "posted/a")
	b := create(t, s, "posted/b")
	pg := store.Delivery{Kind: store.DeliveryPage, Channel: "slack", User: "alice", To: "U0ALICE", Step: 1,
		ProviderID: "D0ALICE/1700000000.000100", Ref: "r1", At: t0.Add(time.Minute)}
	report := store.Delivery{Kind: "report", Channel: "slack", Chat: "ops", To: "C0OPS", ProviderID: "C0OPS/1700000000.000200", At: t0}
	sent(t, s, a.ID, page("alice", "sms", 0), pg)
	sent(t, s, b.ID, report, store.Delivery{Kind: store.DeliveryPage, Channel: "slack", To: "C0ENG", At: t0})
	// The same id again, on another incident: the first keeps it.
	sent(t, s, b.ID, store.Delivery{Kind: store.DeliveryPage, Channel: "slack", To: "C0DUP", ProviderID: pg.ProviderID, At: t0})

	got, err := s.Posted(ctx(t), "slack", pg.ProviderID)
	want := pg
	want.Incident = a.ID
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Posted(slack, %s) = %+v, %v; want %+v", pg.ProviderID, got, err, want)
	}
	for _, tc := range []struct{ channel, id, want string }{
		{"slack", report.ProviderID, fmt.Sprintf("%d:report:C0OPS", b.ID)},
		{"sms", page("alice", "sms", 0).ProviderID, fmt.Sprintf("%d:page:alice@sms", a.ID)},
		{"email", pg.ProviderID, "none"},
		{"slack", "C0OPS/1700000000.000999", "none"},
		{"slack", "", "none"},
		{"", "", "none"},
	} {
		if got := posted(t, s, tc.channel, tc.id); got != tc.want {
			t.Errorf("Posted(%q, %q) = %s, want %s", tc.channel, tc.id, got, tc.want)
		}
	}

	// A resolved incident's messages are still found: notes come after.
	change(t, s, a.ID, func(inc *store.Incident) *store.Change {
		inc.Status, inc.ResolvedAt = store.StatusResolved, t0
		return &store.Change{Incident: inc}
	})
	if got := posted(t, s, "slack", pg.ProviderID); got != fmt.Sprintf("%d:page:U0ALICE", a.ID) {
		t.Errorf("Posted after the resolve = %s", got)
	}
	if n, err := s.DeleteResolved(ctx(t), t0.Add(time.Hour), 10); err != nil || n != 1 {
		t.Fatalf("DeleteResolved = %d, %v; want 1", n, err)
	}
	if got := posted(t, s, "sms", page("alice", "sms", 0).ProviderID); got != "none" {
		t.Errorf("Posted of a deleted incident's SMS = %s, want none", got)
	}
	if got := posted(t, s, "slack", report.ProviderID); got != fmt.Sprintf("%d:report:C0OPS", b.ID) {
		t.Errorf("Posted of the kept incident's report after the deletion = %s", got)
	}
}
