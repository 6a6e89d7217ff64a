package twilio

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/hikyaku/hikyaku/internal/faketwilio"
)

// TestStatusCallbackEndToEnd sends through the fake, which then posts signed
// status callbacks to a server reading them with ParseStatus.
func TestStatusCallbackEndToEnd(t *testing.T) {
	var (
		mu  sync.Mutex
		got []Status
	)
	hikyaku := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, err := ParseStatus(r, faketwilio.AuthToken, "http://"+r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		mu.Lock()
		got = append(got, st)
		mu.Unlock()
	}))
	defer hikyaku.Close()
	fake := faketwilio.Start(t)
	// Only the callbacks sent below: the call's own "initiated" one, which
	// the fake posts 50 ms after the call, would race them under load.
	fake.SetProgressDelay(-1)
	s := senders(t, fake, hikyaku.URL)

	sms, err := s.SMS.Send(context.Background(), page(t))
	if err != nil {
		t.Fatal(err)
	}
	call, err := s.Voice.Send(context.Background(), page(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []Status{
		{Channel: "sms", Key: "n/12/0/taka", Incident: 12, SID: sms.ProviderID, Status: "delivered"},
		{Channel: "sms", Key: "n/12/0/taka", Incident: 12, SID: sms.ProviderID, Status: "undelivered", ErrorCode: "30003", Failed: true},
		{Channel: "voice", Key: "n/12/0/taka", Incident: 12, SID: call.ProviderID, Status: "completed"},
		{Channel: "voice", Key: "n/12/0/taka", Incident: 12, SID: call.ProviderID, Status: "no-answer", Failed: true},
		{Channel: "voice", Key: "n/12/0/taka", Incident: 12, SID: call.ProviderID, Status: "busy", Failed: true},
	}
	for _, w := range want {
		code := 0
		if w.ErrorCode != "" {
			code = 30003
		}
		resp, err := fake.SendStatus(w.SID, w.Status, code)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("callback %s %s answered %d", w.SID, w.Status, resp.StatusCode)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("%d callbacks parsed, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("callback %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestParseStatusRefuses checks every way a callback can fail to be Twilio's.
// hikyaku runs behind a proxy: Twilio signs the public URL, not the one the
// request arrives at.
func TestParseStatusRefuses(t *testing.T) {
	const path = StatusPath + "?key=n%2F12%2F0%2Ftaka&incident=12"
	params := url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"undelivered"}, "ErrorCode": {"30003"},
		"AccountSid": {faketwilio.AccountSID}}
	sign := func(token, u string, p url.Values) string { return faketwilio.Sign(token, u, p) }
	tampered := url.Values{}
	for k, v := range params {
		tampered[k] = v
	}
	tampered.Set("MessageStatus", "delivered")

	for _, tc := range []struct {
		name      string
		target    string // path and query the request arrives at
		form      url.Values
		signature string
		wantSig   bool // want ErrSignature; otherwise success
	}{
		{"signed for the public URL", path, params, sign(faketwilio.AuthToken, public+path, params), false},
		{"missing signature", path, params, "", true},
		{"forged with another token", path, params, sign("0123456789abcdef0123456789abcdef", public+path, params), true},
		{"tampered form", path, tampered, sign(faketwilio.AuthToken, public+path, params), true},
		{"tampered key", strings.Replace(path, "taka", "alice", 1), params, sign(faketwilio.AuthToken, public+path, params), true},
		{"signed for another URL", path, params, sign(faketwilio.AuthToken, "https://evil.example.com"+path, params), true},
		{"signed for the internal URL", path, params, sign(faketwilio.AuthToken, "http://10.0.0.5:9093"+path, params), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "http://10.0.0.5:9093"+tc.target, strings.NewReader(tc.form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.signature != "" {
				r.Header.Set("X-Twilio-Signature", tc.signature)
			}
			st, err := ParseStatus(r, faketwilio.AuthToken, public+"/")
			if tc.wantSig {
				if !errors.Is(err, ErrSignature) {
					t.Fatalf("err = %v, want ErrSignature", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !st.Failed || st.SID != "SM1" || st.Key != "n/12/0/taka" || st.Incident != 12 || st.ErrorCode != "30003" {
				t.Errorf("status %+v", st)
			}
		})
	}
}

func TestParseStatusUnsetToken(t *testing.T) {
	params := url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"failed"}}
	r := httptest.NewRequest(http.MethodPost, StatusPath, strings.NewReader(params.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Twilio-Signature", faketwilio.Sign("", public+StatusPath, params))
	if _, err := ParseStatus(r, "", public); !errors.Is(err, ErrSignature) {
		t.Fatalf("err = %v: without a token nothing may pass as signed", err)
	}
}

func TestParseStatusMalformed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		target string
		form   url.Values
	}{
		{"not a status", StatusPath, url.Values{"From": {takaTo}, "Body": {"12 ack"}}},
		{"no status", StatusPath, url.Values{"CallSid": {"CA1"}}},
		{"incident not a number", StatusPath + "?incident=twelve", url.Values{"CallSid": {"CA1"}, "CallStatus": {"busy"}}},
	} {
		r := httptest.NewRequest(http.MethodPost, tc.target, strings.NewReader(tc.form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("X-Twilio-Signature", faketwilio.Sign(faketwilio.AuthToken, public+tc.target, tc.form))
		_, err := ParseStatus(r, faketwilio.AuthToken, public)
		if err == nil || errors.Is(err, ErrSignature) {
			t.Errorf("%s: err = %v, want a malformed-callback error", tc.name, err)
		}
	}
}

// FuzzParseStatus feeds ParseStatus any query, body and signature: it must
// not panic, and must accept only what carries the signature of exactly
// that URL and form.
func FuzzParseStatus(f *testing.F) {
	f.Add("key=n%2F12%2F0%2Ftaka&incident=12", "MessageSid=SM1&MessageStatus=undelivered&ErrorCode=30003", true)
	f.Add("incident=7", "CallSid=CA1&CallStatus=no-answer", true)
	f.Add("incident=x", "CallSid=CA1&CallStatus=busy", false)
	f.Add("", "%zz&=&MessageSid", true)
	f.Fuzz(func(t *testing.T, query, body string, signed bool) {
		r := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: StatusPath, RawQuery: query},
			Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
			Body:   io.NopCloser(strings.NewReader(body))}
		form, formErr := url.ParseQuery(body)
		sig := faketwilio.Sign(faketwilio.AuthToken, public+r.URL.RequestURI(), form)
		if !signed {
			sig = faketwilio.Sign("0123456789abcdef0123456789abcdef", public+r.URL.RequestURI(), form)
		}
		r.Header.Set("X-Twilio-Signature", sig)
		st, err := ParseStatus(r, faketwilio.AuthToken, public)
		if err != nil {
			return
		}
		if !signed {
			t.Fatalf("accepted a forged callback: %+v", st)
		}
		if formErr != nil {
			t.Fatalf("accepted a form that does not parse: %v", formErr)
		}
		if st.SID == "" || st.Status == "" || (st.Channel != "sms" && st.Channel != "voice") {
			t.Fatalf("accepted an incomplete status: %+v", st)
		}
	})
}
