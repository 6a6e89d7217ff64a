package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// testCalendarTokens: a token is stored whole and found by id; a new one
// for the same person and feed replaces the old, other feeds and people
// untouched; revoking one feed or all of a person's deletes exactly those.
func testCalendarTokens(t *testing.T, s store.CalendarTokens) {
	if _, err := s.CalendarToken(ctx(t), "0000000000000000"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("CalendarToken of an empty store: %v, want ErrNotFound", err)
	}
	if n, err := s.RevokeCalendarTokens(ctx(t), "alice", ""); err != nil || n != 0 {
		t.Fatalf("RevokeCalendarTokens of an empty store = %d, %v", n, err)
	}
	me1 := store.CalendarToken{ID: "a000000000000001", User: "alice", Feed: "me", Hash: []byte{1, 2}, CreatedAt: t0}
	rot := store.CalendarToken{ID: "a000000000000002", User: "alice", Feed: "eng/primary", Hash: []byte{3}, CreatedAt: t0.Add(time.Minute)}
	bob := store.CalendarToken{ID: "b000000000000001", User: "bob", Feed: "me", Hash: []byte{4}, CreatedAt: t0}
	for _, tk := range []store.CalendarToken{me1, rot, bob} {
		if err := s.IssueCalendarToken(ctx(t), tk); err != nil {
			t.Fatalf("IssueCalendarToken(%s): %v", tk.ID, err)
		}
	}
	dup := bob
	dup.User, dup.Feed = "mallory", "x/y"
	if err := s.IssueCalendarToken(ctx(t), dup); !errors.Is(err, store.ErrTokenExists) {
		t.Fatalf("IssueCalendarToken of a taken id: %v, want ErrTokenExists", err)
	}
	if got, _ := s.CalendarToken(ctx(t), bob.ID); !sameCalendarToken(got, bob) {
		t.Fatalf("a refused issue changed bob's token: %+v", got)
	}
	for _, bad := range []store.CalendarToken{{User: "x", Feed: "me", Hash: []byte{1}}, {ID: "c", Feed: "me", Hash: []byte{1}},
		{ID: "c", User: "x", Hash: []byte{1}}, {ID: "c", User: "x", Feed: "me"}} {
		if err := s.IssueCalendarToken(ctx(t), bad); err == nil {
			t.Errorf("IssueCalendarToken(%+v) succeeded", bad)
		}
	}
	got, err := s.CalendarToken(ctx(t), rot.ID)
	if err != nil || !sameCalendarToken(got, rot) {
		t.Fatalf("CalendarToken(%s) = %+v, %v; want %+v", rot.ID, got, err, rot)
	}
	wantOf(t, s, "alice", me1, rot)

	me2 := store.CalendarToken{ID: "a000000000000003", User: "alice", Feed: "me", Hash: []byte{5}, CreatedAt: t0.Add(time.Hour)}
	if err := s.IssueCalendarToken(ctx(t), me2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CalendarToken(ctx(t), me1.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the replaced token: %v, want ErrNotFound", err)
	}
	wantOf(t, s, "alice", rot, me2)
	wantOf(t, s, "bob", bob)

	if n, err := s.RevokeCalendarTokens(ctx(t), "alice", "eng/primary"); err != nil || n != 1 {
		t.Fatalf("RevokeCalendarTokens(alice, eng/primary) = %d, %v; want 1", n, err)
	}
	wantOf(t, s, "alice", me2)
	if n, err := s.RevokeCalendarTokens(ctx(t), "alice", "eng/primary"); err != nil || n != 0 {
		t.Fatalf("revoking again = %d, %v; want 0", n, err)
	}
	if err := s.IssueCalendarToken(ctx(t), rot); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RevokeCalendarTokens(ctx(t), "alice", ""); err != nil || n != 2 {
		t.Fatalf("RevokeCalendarTokens(alice, every feed) = %d, %v; want 2", n, err)
	}
	wantOf(t, s, "alice")
	if _, err := s.CalendarToken(ctx(t), me2.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a revoked token: %v, want ErrNotFound", err)
	}
	wantOf(t, s, "bob", bob)
}

// testCalendarTokensConcurrentIssue: of concurrent issues for one person's
// feed exactly one token stays, whoever wrote last.
func testCalendarTokensConcurrentIssue(t *testing.T, s store.CalendarTokens) {
	const n = 8
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			tk := store.CalendarToken{ID: fmt.Sprintf("d%015d", i), User: "dave", Feed: "me", Hash: []byte{byte(i + 1)}, CreatedAt: t0}
			if err := s.IssueCalendarToken(ctx(t), tk); err != nil {
				t.Errorf("IssueCalendarToken: %v", err)
			}
		})
	}
	wg.Wait()
	if got, err := s.CalendarTokensOf(ctx(t), "dave"); err != nil || len(got) != 1 {
		t.Fatalf("after %d concurrent issues dave has %d tokens (%v), want 1", n, len(got), err)
	}
}

func wantOf(t *testing.T, s store.CalendarTokens, user string, want ...store.CalendarToken) {
	t.Helper()
	got, err := s.CalendarTokensOf(ctx(t), user)
	if err != nil {
		t.Fatalf("CalendarTokensOf(%s): %v", user, err)
	}
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = sameCalendarToken(got[i], want[i])
	}
	if !ok {
		t.Fatalf("CalendarTokensOf(%s) = %+v; want %+v", user, got, want)
	}
}

func sameCalendarToken(a, b store.CalendarToken) bool {
	return a.ID == b.ID && a.User == b.User && a.Feed == b.Feed && reflect.DeepEqual(a.Hash, b.Hash) && a.CreatedAt.Equal(b.CreatedAt)
}
