package twilio

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/internal/faketwilio"
)

// TestFakeCallList: the fake lists a call as Twilio does at each stage:
// queued with null start_time, ringing with a start_time, completed with
// end_time and duration; a StartTime filter leaves out a call not started.
func TestFakeCallList(t *testing.T) {
	fake := faketwilio.Start(t)
	s := senders(t, fake, "")
	fake.SetCallProgress(faketwilio.CallProgress{Initiated: -1, Ringing: -1, Answered: -1, Completed: -1})
	if _, err := s.Voice.Send(t.Context(), pageEN(t)); err != nil {
		t.Fatal(err)
	}
	fake.SetCallProgress(faketwilio.CallProgress{Initiated: 0, Ringing: 0, Answered: 0, Completed: 2 * time.Second})
	if _, err := s.Voice.Send(t.Context(), pageEN(t)); err != nil {
		t.Fatal(err)
	}
	get := func(q string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", fake.URL+"/2010-04-01/Accounts/"+fake.AccountSID+"/Calls.json?"+q, nil)
		req.SetBasicAuth(fake.AccountSID, fake.AuthToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET Calls.json?%s: %d %s", q, resp.StatusCode, b)
		}
		return string(b)
	}
	body := get("")
	for _, want := range []string{`"status":"queued"`, `"start_time":null`, `"status":"in-progress"`, `"end_time":null`, `"calls":[{`} {
		if !strings.Contains(body, want) {
			t.Errorf("list has no %s: %s", want, body)
		}
	}
	if body := get("StartTime%3E=2000-01-01"); strings.Contains(body, `"status":"queued"`) || !strings.Contains(body, `"status":"in-progress"`) {
		t.Errorf("StartTime>=2000-01-01 = %s, want the started call alone", body)
	}
	if body := get("Status=queued"); strings.Count(body, `"sid"`) != 1 || !strings.Contains(body, `"status":"queued"`) {
		t.Errorf("Status=queued = %s, want the queued call alone", body)
	}
	time.Sleep(2100 * time.Millisecond)
	if body := get("Status=completed"); !strings.Contains(body, `"duration":"2"`) || strings.Contains(body, `"end_time":null`) {
		t.Errorf("Status=completed = %s, want the ended call with its end_time and duration", body)
	}
}
