package twilio

import (
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/internal/faketwilio"
)

// TestVoicePlaced: Placed lists the calls to the number from hikyaku's
// number since the given time: queued ones (no start time yet, asked for
// by status, first) and started ones, each once, across the list's pages,
// with when Twilio created it and whether it ended. Calls to another
// number, and calls before since (less the skew), are not in it.
func TestVoicePlaced(t *testing.T) {
	fake := faketwilio.Start(t)
	s := senders(t, fake, "")
	call := func(to string) string {
		t.Helper()
		m := pageEN(t)
		m.To = to
		rc, err := s.Voice.Send(t.Context(), m)
		if err != nil {
			t.Fatal(err)
		}
		return rc.ProviderID
	}
	fake.SetCallProgress(faketwilio.CallProgress{Initiated: 0, Ringing: 0, Answered: 0, Completed: 0})
	old := call(aliceTo) // ended, and before since
	time.Sleep(3100 * time.Millisecond)
	since := time.Now()
	var ended []string
	for range 60 { // more than one page of the list
		ended = append(ended, call(aliceTo))
	}
	fake.SetCallProgress(faketwilio.CallProgress{Initiated: 0, Ringing: 0, Answered: -1, Completed: -1})
	ringing := call(aliceTo)
	fake.SetCallProgress(faketwilio.CallProgress{Initiated: -1, Ringing: -1, Answered: -1, Completed: -1})
	queued := call(aliceTo)
	call(takaTo) // another number

	m := pageEN(t)
	placed, all, err := s.Voice.Placed(t.Context(), m, since)
	if err != nil || !all {
		t.Fatalf("Placed = %d calls, all %v, err %v; want every call, no error", len(placed), all, err)
	}
	got := map[string]bool{}
	for _, p := range placed {
		if got[p.ProviderID] {
			t.Errorf("%s listed twice", p.ProviderID)
		}
		got[p.ProviderID] = p.Ended
		if p.At.Before(since.Add(-callSkew)) || p.At.After(time.Now()) {
			t.Errorf("%s created at %s, want since %s", p.ProviderID, p.At, since)
		}
	}
	want := map[string]bool{ringing: false, queued: false}
	for _, sid := range ended {
		want[sid] = true
	}
	if len(got) != len(want) {
		t.Errorf("listed %d calls, want %d (60 ended, one ringing, one queued; not %s, older)", len(got), len(want), old)
	}
	for sid, end := range want {
		if e, ok := got[sid]; !ok || e != end {
			t.Errorf("call %s: listed %v, ended %v; want listed, ended %v", sid, ok, e, end)
		}
	}
	lists := fake.Lists()
	if len(lists) < 3 || lists[0].Get("Status") != "queued" || lists[0].Get("To") != aliceTo || lists[0].Get("From") != from {
		t.Fatalf("list requests = %v, want the queued calls to Alice first", lists)
	}
	if lists[1].Get("StartTime>") == "" || lists[1].Get("Status") != "" || lists[2].Get("PageToken") == "" {
		t.Fatalf("list requests = %v, want the started ones by StartTime> next, then their second page", lists[1:])
	}
}
