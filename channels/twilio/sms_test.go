package twilio

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/internal/faketwilio"
)

func TestSMSWireFormat(t *testing.T) {
	fake := faketwilio.Start(t)
	s := senders(t, fake, public+"/")
	m := page(t)
	rc, err := s.SMS.Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	got := fake.Messages()
	if len(got) != 1 {
		t.Fatalf("%d messages reached Twilio, want 1", len(got))
	}
	if rc.ProviderID != got[0].SID || !strings.HasPrefix(rc.ProviderID, "SM") {
		t.Errorf("receipt %q, want the message SID %q", rc.ProviderID, got[0].SID)
	}
	f := got[0].Form
	for k, want := range map[string]string{
		"To":             takaTo,
		"From":           from,
		"Body":           m.Text,
		"StatusCallback": public + StatusPath + "?key=n%2F12%2F0%2Ftaka&incident=12",
	} {
		if f.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, f.Get(k), want)
		}
	}
	if ua := got[0].Header.Get("User-Agent"); !strings.HasPrefix(ua, "twilio-go/") {
		t.Errorf("User-Agent %q: want twilio-go's", ua)
	}
}

// TestSMSJapaneseIsCut sends a long Japanese page: it goes as UCS-2, within
// max_sms_segments, and the acknowledgement line arrives whole.
func TestSMSJapaneseIsCut(t *testing.T) {
	fake := faketwilio.Start(t)
	cfg := fake.Config(from)
	cfg.MaxSMSSegments = 2
	s, err := New(cfg, public)
	if err != nil {
		t.Fatal(err)
	}
	m := page(t)
	m.Text = strings.Repeat("決済APIのエラー率が5%を超えています。", 12) + "\n" + ackHint
	if Segments(m.Text) <= 2 {
		t.Fatalf("the test text must need more than 2 segments, it needs %d", Segments(m.Text))
	}
	if _, err := s.SMS.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	body := fake.Messages()[0].Form.Get("Body")
	if Encode(body) != UCS2 || Segments(body) > 2 {
		t.Errorf("body is %v in %d segments, want UCS-2 in at most 2: %q", Encode(body), Segments(body), body)
	}
	if !strings.HasSuffix(body, "…\n"+ackHint) {
		t.Errorf("body %q: want it cut with … and ending with the ack line", body)
	}
}

func TestSMSCallbackURL(t *testing.T) {
	fake := faketwilio.Start(t)
	custom := senders(t, fake, public, WithStatusCallbackURL(func(m *channels.Message) string {
		return public + "/cb?token=secret-of-" + m.UserID
	}))
	none := senders(t, fake, "")
	for _, s := range []*Senders{custom, none} {
		if _, err := s.SMS.Send(context.Background(), page(t)); err != nil {
			t.Fatal(err)
		}
	}
	got := fake.Messages()
	if cb := got[0].Form.Get("StatusCallback"); cb != public+"/cb?token=secret-of-taka" {
		t.Errorf("StatusCallback %q, want the option's", cb)
	}
	if _, ok := got[1].Form["StatusCallback"]; ok {
		t.Errorf("without external_url, StatusCallback %q was sent: Twilio cannot reach it", got[1].Form.Get("StatusCallback"))
	}
}

func TestSMSUnsetTokenIsPermanent(t *testing.T) {
	fake := faketwilio.Start(t)
	cfg := fake.Config(from)
	cfg.AuthToken = config.Secret{Env: "HIKYAKU_TEST_UNSET"}
	s, err := New(cfg, public)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.SMS.Send(context.Background(), page(t))
	if !channels.IsPermanent(err) {
		t.Fatalf("err = %v, want permanent", err)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Fatalf("%d requests reached Twilio without credentials", n)
	}
}

// TestAPIURLWithPath checks requests go to api_url, path prefix included
// (a regional edge or a proxy), not to api.twilio.com.
func TestAPIURLWithPath(t *testing.T) {
	var path, user string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _, _ = r.BasicAuth()
		path = r.URL.Path
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"sid":"SM1","status":"queued"}`))
	}))
	defer srv.Close()
	cfg := &config.Twilio{AccountSID: faketwilio.AccountSID, AuthToken: config.NewSecret(faketwilio.AuthToken),
		From: from, APIURL: srv.URL + "/twilio/"}
	s, err := New(cfg, public)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SMS.Send(context.Background(), page(t)); err != nil {
		t.Fatal(err)
	}
	if want := "/twilio/2010-04-01/Accounts/" + faketwilio.AccountSID + "/Messages.json"; path != want {
		t.Errorf("path %q, want %q", path, want)
	}
	if user != faketwilio.AccountSID {
		t.Errorf("basic auth user %q, want the account SID", user)
	}
}

func TestNewRefusesBadAPIURL(t *testing.T) {
	for _, u := range []string{"ftp://api.twilio.com", "https://", "::"} {
		if _, err := New(&config.Twilio{APIURL: u}, public); err == nil {
			t.Errorf("New accepted api_url %q", u)
		}
	}
}
