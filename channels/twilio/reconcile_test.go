package twilio

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/internal/faketwilio"
)

// TestSMSCarriesRef: the ref is at the end of the line Fit never cuts, so
// it survives a long text cut to max_sms_segments.
func TestSMSCarriesRef(t *testing.T) {
	fake := faketwilio.Start(t)
	s := senders(t, fake, "")
	m := page(t)
	m.Ref = "k3v9q2"
	m.Text = strings.Repeat("長い本文", 200) + "\n" + ackHint
	if _, err := s.SMS.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	got := fake.Messages()[0].Form.Get("Body")
	if want := ackHint + " ref:k3v9q2"; !strings.HasSuffix(got, "\n"+want) {
		t.Fatalf("body ends %q, want the last line %q", got[max(len(got)-80, 0):], want)
	}
}

// TestSMSLookup: Lookup finds the SMS Twilio took with this ref, among other
// messages to the same number, across pages of Twilio's list; another ref,
// another number or another sender is not found.
func TestSMSLookup(t *testing.T) {
	fake := faketwilio.Start(t)
	s := senders(t, fake, "")
	since := time.Now().Add(-time.Minute)
	for i, ref := range []string{"aaaaaa", "target", "bbbbbb", "cccccc"} {
		m := page(t)
		m.Ref = ref
		if i == 3 {
			m.To = aliceTo
		}
		if _, err := s.SMS.Send(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	// Push the target past the first pages of lookupLimit's walk.
	for range 60 {
		m := page(t)
		m.Ref = "filler"
		if _, err := s.SMS.Send(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	m := page(t)
	m.Ref = "target"
	rc, found, err := s.SMS.Lookup(t.Context(), m, since)
	if err != nil || !found {
		t.Fatalf("Lookup(target) = %v, %v, want found", found, err)
	}
	if rc.ProviderID != "SM00000000000000000000000000000002" {
		t.Fatalf("found %s, want the second SMS SM…02", rc.ProviderID)
	}
	m.Ref = "cccccc" // sent to another number
	if _, found, err := s.SMS.Lookup(t.Context(), m, since); err != nil || found {
		t.Fatalf("Lookup(ref sent to another number) = %v, %v, want not found", found, err)
	}
	m.Ref = "never1"
	if _, found, err := s.SMS.Lookup(t.Context(), m, since); err != nil || found {
		t.Fatalf("Lookup(unknown ref) = %v, %v, want not found", found, err)
	}
	// The list requests were Twilio's: GET with To, From, DateSent>= as a day
	// or instant, and the second page by its next_page_uri.
	lists := fake.Lists()
	if len(lists) < 2 || lists[0].Get("To") != takaTo || lists[0].Get("From") != from || lists[0].Get("DateSent>") == "" {
		t.Fatalf("list requests = %v, want To, From and DateSent> set", lists)
	}
	if lists[1].Get("PageToken") == "" {
		t.Fatalf("second list request %v has no PageToken: next_page_uri was not followed", lists[1])
	}
}

// TestSMSLookupRefusedCredentials: a list Twilio refuses is an error, never
// "not found" (that would send again).
func TestSMSLookupRefusedCredentials(t *testing.T) {
	fake := faketwilio.Start(t)
	cfg := fake.Config(from)
	cfg.AuthToken = config.NewSecret("11111111111111111111111111111111")
	s, err := New(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	m := page(t)
	m.Ref = "abcdef"
	if _, found, err := s.SMS.Lookup(t.Context(), m, time.Now()); err == nil || found {
		t.Fatalf("Lookup with refused credentials = %v, %v, want an error", found, err)
	}
}

// TestFakeListFormat: the fake's list answers as Twilio: RFC 2822 dates,
// paging fields, null next_page_uri on the last page, 400 on a bad filter.
func TestFakeListFormat(t *testing.T) {
	fake := faketwilio.Start(t)
	s := senders(t, fake, "")
	m := page(t)
	if _, err := s.SMS.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	get := func(q string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", fake.URL+"/2010-04-01/Accounts/"+fake.AccountSID+"/Messages.json?"+q, nil)
		req.SetBasicAuth(fake.AccountSID, fake.AuthToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}
	resp, body := get("To=" + url.QueryEscape(takaTo) + "&DateSent%3E=2000-01-01")
	if resp.StatusCode != 200 || !strings.Contains(body, `"next_page_uri":null`) || !strings.Contains(body, `"page_size":50`) ||
		!strings.Contains(body, ` +0000"`) || !strings.Contains(body, `"messages":[{`) {
		t.Fatalf("list = %d %s", resp.StatusCode, body)
	}
	if resp, body := get("DateSent%3E=yesterday"); resp.StatusCode != 400 || !strings.Contains(body, `"code":20001`) {
		t.Fatalf("bad filter = %d %s, want 400 20001", resp.StatusCode, body)
	}
	if _, body := get("DateSent%3C=2000-01-01"); !strings.Contains(body, `"messages":[]`) {
		t.Fatalf("DateSent<=2000-01-01 = %s, want no messages", body)
	}
}
