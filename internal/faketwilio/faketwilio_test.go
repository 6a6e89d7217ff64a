package faketwilio

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
)

// post sends form to the fake's Messages resource as sid:token.
func post(t *testing.T, s *Server, sid, token string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/2010-04-01/Accounts/"+s.AccountSID+"/Messages.json",
		strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(sid, token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("answer is not JSON: %v", err)
	}
	return resp.StatusCode, body
}

func TestAPI(t *testing.T) {
	s := Start(t)
	ok := url.Values{"To": {"+819011110001"}, "From": {"+815012345678"}, "Body": {"hi"}}
	for _, tc := range []struct {
		name   string
		token  string
		form   url.Values
		status int
		code   float64
	}{
		{"accepted", AuthToken, ok, 201, 0},
		{"wrong token", "00000000000000000000000000000000", ok, 401, 20003},
		{"no To", AuthToken, url.Values{"From": {"+815012345678"}, "Body": {"hi"}}, 400, 21604},
		{"no From", AuthToken, url.Values{"To": {"+819011110001"}, "Body": {"hi"}}, 400, 21603},
		{"no Body", AuthToken, url.Values{"To": {"+819011110001"}, "From": {"+815012345678"}}, 400, 21602},
		{"To not E.164", AuthToken, url.Values{"To": {"090-1111-0001"}, "From": {"+815012345678"}, "Body": {"hi"}}, 400, 21211},
		{"Body too long", AuthToken, url.Values{"To": {"+819011110001"}, "From": {"+815012345678"},
			"Body": {strings.Repeat("あ", 1601)}}, 400, 21658},
	} {
		status, body := post(t, s, AccountSID, tc.token, tc.form)
		if status != tc.status {
			t.Errorf("%s: status %d, want %d (%v)", tc.name, status, tc.status, body)
			continue
		}
		if tc.code == 0 {
			if sid, _ := body["sid"].(string); !strings.HasPrefix(sid, "SM") || body["status"] != "queued" {
				t.Errorf("%s: answer %v, want an SM sid and status queued", tc.name, body)
			}
			continue
		}
		if body["code"] != tc.code || body["status"] != float64(tc.status) {
			t.Errorf("%s: answer %v, want code %v", tc.name, body, tc.code)
		}
	}
	if n := len(s.Messages()); n != 1 {
		t.Errorf("%d messages accepted, want 1", n)
	}
	for _, r := range s.Requests() {
		if r.Header.Get("Authorization") != "" {
			t.Fatal("a recorded request keeps its Authorization header")
		}
	}
}

func TestFaultTimes(t *testing.T) {
	s := Start(t)
	s.Fail("+819011110001", Fault{Status: 500, Code: 20500, Times: 2})
	form := url.Values{"To": {"+819011110001"}, "From": {"+815012345678"}, "Body": {"hi"}}
	var got []int
	for range 3 {
		status, _ := post(t, s, AccountSID, AuthToken, form)
		got = append(got, status)
	}
	if got[0] != 500 || got[1] != 500 || got[2] != 201 {
		t.Fatalf("statuses %v, want 500 500 201", got)
	}
}

// TestSignAgreesWithTwilioGo checks the fake's signature against twilio-go's
// validator, written by Twilio from the same description.
func TestSignAgreesWithTwilioGo(t *testing.T) {
	u := "https://hikyaku.example.co.jp/api/v1/twilio/status?key=t%2F1&incident=12"
	params := url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"undelivered"}, "ErrorCode": {"30003"}, "To": {"+819011110001"}}
	flat := map[string]string{}
	for k, v := range params {
		flat[k] = v[0]
	}
	v := client.NewRequestValidator(AuthToken)
	if !v.Validate(u, flat, Sign(AuthToken, u, params)) {
		t.Fatal("twilio-go rejects the fake's signature")
	}
	if v.Validate(u, flat, Sign("another-token", u, params)) {
		t.Fatal("twilio-go accepts a signature made with another token")
	}
}

// TestLatency: every answer waits the latency, and a message exists from
// the moment its request arrived, even when the client gives up before the
// answer (a sender killed mid-call has sent).
func TestLatency(t *testing.T) {
	s := Start(t)
	s.SetLatency(300 * time.Millisecond)
	form := url.Values{"To": {"+819011110001"}, "From": {"+815012345678"}, "Body": {"hi"}}
	start := time.Now()
	if status, body := post(t, s, AccountSID, AuthToken, form); status != 201 {
		t.Fatalf("status %d (%v), want 201", status, body)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("answered after %s, want at least the 300ms latency", took)
	}

	req, err := http.NewRequest(http.MethodPost, s.URL+"/2010-04-01/Accounts/"+s.AccountSID+"/Messages.json",
		strings.NewReader(url.Values{"To": {"+819011110002"}, "From": {"+815012345678"}, "Body": {"gone"}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(AccountSID, AuthToken)
	impatient := &http.Client{Timeout: 50 * time.Millisecond}
	if _, err := impatient.Do(req); err == nil {
		t.Fatal("a 50ms client got an answer from a fake with 300ms latency")
	}
	var created []string
	for deadline := time.Now().Add(2 * time.Second); len(created) < 2 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		created = created[:0]
		for _, m := range s.Messages() {
			created = append(created, m.Form.Get("To"))
		}
	}
	if len(created) != 2 || created[1] != "+819011110002" {
		t.Errorf("created messages to %v, want the abandoned one to +819011110002 too", created)
	}
}
