package storetest

import (
	"testing"

	"github.com/hikyaku/hikyaku/store"
)

// testOptOut: STOP marks exactly one address, START clears it, both are
// idempotent, and the mark is stored, not cached by the caller.
func testOptOut(t *testing.T, s store.OptOuts) {
	const a, b = "+819000000001", "+819000000002"
	want := func(addr string, out bool) {
		t.Helper()
		got, err := s.OptedOut(ctx(t), addr)
		if err != nil {
			t.Fatalf("OptedOut(%s): %v", addr, err)
		}
		if got != out {
			t.Fatalf("OptedOut(%s) = %v, want %v", addr, got, out)
		}
	}
	set := func(addr string, out bool) {
		t.Helper()
		if err := s.SetOptOut(ctx(t), addr, out); err != nil {
			t.Fatalf("SetOptOut(%s, %v): %v", addr, out, err)
		}
	}
	want(a, false)
	set(a, false) // START from a number that never sent STOP
	want(a, false)
	set(a, true)
	set(a, true)
	want(a, true)
	want(b, false)
	set(b, true)
	set(a, false)
	want(a, false)
	want(b, true)
	if err := s.SetOptOut(ctx(t), "", true); err == nil {
		t.Error("SetOptOut of an empty address succeeded")
	}
	want("", false)
}
