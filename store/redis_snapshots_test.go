package store_test

import (
	"fmt"
	"testing"

	"github.com/hikyaku/hikyaku/internal/redistest"
	"github.com/hikyaku/hikyaku/store"
)

// TestRedisUpdateAfterAnotherReplicaWrote checks that the snapshot a replica
// remembers from its own reads is only a guess: after another replica wrote,
// fn must see that write, not the remembered state.
func TestRedisUpdateAfterAnotherReplicaWrote(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	url := fmt.Sprintf("%s?prefix=t%d", srv.URL(), prefixes.Add(1))
	open := func() store.Store {
		s, err := store.Open(t.Context(), url, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	ctx := t.Context()
	incRes, err := a.UpdateByKey(ctx, "r/g", func(*store.Incident) (*store.Change, error) {
		return &store.Change{Incident: &store.Incident{Severity: "warning"}}, nil
	})
	inc := incRes.Incident
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Get(ctx, inc.ID); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		writer := a // a writes again at i == 2 remembering version 2, but b made it 3
		if i%2 == 1 {
			writer = b
		}
		var saw store.Incident
		_, err := writer.Update(ctx, inc.ID, func(cur *store.Incident) (*store.Change, error) {
			saw = *cur
			next := *cur
			next.Severity = fmt.Sprint("v", i)
			return &store.Change{Incident: &next}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(i + 1); saw.Version != want {
			t.Errorf("write %d: fn saw version %d, want %d", i, saw.Version, want)
		}
	}
	got, err := a.Get(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Severity != "v2" || got.Version != 4 {
		t.Errorf("after three writes: severity %q version %d, want v2 version 4", got.Severity, got.Version)
	}
}
