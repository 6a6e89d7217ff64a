package storetest

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// testTokens: a token is stored whole, found by id, never added twice,
// listed oldest first, and revoked once (the first time kept), revoked
// tokens staying listed.
func testTokens(t *testing.T, s store.Store) {
	if _, err := s.Token(ctx(t), "0000000000000000"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Token of an empty store: %v, want ErrNotFound", err)
	}
	if got, err := s.ListTokens(ctx(t)); err != nil || len(got) != 0 {
		t.Fatalf("ListTokens of an empty store = %v, %v", got, err)
	}
	a := store.Token{ID: "aaaaaaaaaaaaaaaa", User: "alice", Name: "laptop", Hash: []byte{1, 2, 3}, CreatedAt: t0.Add(time.Minute)}
	b := store.Token{ID: "bbbbbbbbbbbbbbbb", User: "bob", Hash: []byte{4}, CreatedAt: t0}
	for _, tk := range []store.Token{a, b} {
		if err := s.AddToken(ctx(t), tk); err != nil {
			t.Fatalf("AddToken(%s): %v", tk.ID, err)
		}
	}
	dup := a
	dup.User = "mallory"
	if err := s.AddToken(ctx(t), dup); !errors.Is(err, store.ErrTokenExists) {
		t.Fatalf("AddToken of a taken id: %v, want ErrTokenExists", err)
	}
	for _, bad := range []store.Token{{User: "x", Hash: []byte{1}}, {ID: "c", Hash: []byte{1}}, {ID: "c", User: "x"},
		{ID: "c", User: "x", Hash: []byte{1}, RevokedAt: t0}} {
		if err := s.AddToken(ctx(t), bad); err == nil {
			t.Errorf("AddToken(%+v) succeeded", bad)
		}
	}
	got, err := s.Token(ctx(t), a.ID)
	if err != nil || !sameToken(got, a) {
		t.Fatalf("Token(%s) = %+v, %v; want %+v", a.ID, got, err, a)
	}
	list, err := s.ListTokens(ctx(t))
	if err != nil || len(list) != 2 || !sameToken(list[0], b) || !sameToken(list[1], a) {
		t.Fatalf("ListTokens = %+v, %v; want bob's then alice's", list, err)
	}
	if _, err := s.RevokeToken(ctx(t), "cccccccccccccccc", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RevokeToken of a missing id: %v, want ErrNotFound", err)
	}
	at := t0.Add(time.Hour)
	rev, err := s.RevokeToken(ctx(t), a.ID, at)
	if err != nil || !rev.RevokedAt.Equal(at) || rev.User != "alice" {
		t.Fatalf("RevokeToken = %+v, %v; want revoked at %v", rev, err, at)
	}
	again, err := s.RevokeToken(ctx(t), a.ID, at.Add(time.Hour))
	if err != nil || !again.RevokedAt.Equal(at) {
		t.Fatalf("RevokeToken again = %+v, %v; want the first time %v kept", again, err, at)
	}
	got, err = s.Token(ctx(t), a.ID)
	if err != nil || !got.Revoked() || !got.RevokedAt.Equal(at) {
		t.Fatalf("Token after revoke = %+v, %v", got, err)
	}
	if got, _ := s.Token(ctx(t), b.ID); got.Revoked() {
		t.Fatal("revoking alice's token revoked bob's")
	}
	if list, _ := s.ListTokens(ctx(t)); len(list) != 2 {
		t.Fatalf("ListTokens after revoke has %d tokens, want 2 (revoked ones stay)", len(list))
	}
}

// testTokensConcurrentRevoke: of concurrent revocations one time is kept,
// and every caller is told that one.
func testTokensConcurrentRevoke(t *testing.T, s store.Store) {
	tk := store.Token{ID: "dddddddddddddddd", User: "dave", Hash: []byte{9}, CreatedAt: t0}
	if err := s.AddToken(ctx(t), tk); err != nil {
		t.Fatal(err)
	}
	const n = 8
	times := make([]time.Time, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			got, err := s.RevokeToken(ctx(t), tk.ID, t0.Add(time.Duration(i+1)*time.Second))
			if err != nil {
				t.Errorf("RevokeToken: %v", err)
			}
			times[i] = got.RevokedAt
		})
	}
	wg.Wait()
	stored, err := s.Token(ctx(t), tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i, at := range times {
		if !at.Equal(stored.RevokedAt) {
			t.Errorf("caller %d was told revoked at %v, the store keeps %v", i, at, stored.RevokedAt)
		}
	}
}

func sameToken(a, b store.Token) bool {
	return a.ID == b.ID && a.User == b.User && a.Name == b.Name && reflect.DeepEqual(a.Hash, b.Hash) &&
		a.CreatedAt.Equal(b.CreatedAt) && a.RevokedAt.Equal(b.RevokedAt)
}
