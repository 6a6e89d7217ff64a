package twilio

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/internal/faketwilio"
)

// TestFailures injects each kind of failure for both channels and checks the
// class the engine sees: permanent fails over at once, transient is retried.
func TestFailures(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fault     faketwilio.Fault
		to        string // instead of the page's number
		permanent bool
		code      string // PermanentError.Code
		auth      bool   // the account itself is refused: the provider is down
	}{
		{name: "500", fault: faketwilio.Fault{Status: 500, Code: 20500, Message: "Internal Server Error"}},
		{name: "503 from a proxy, not JSON", fault: faketwilio.Fault{Status: 503, Body: "<html>Service Unavailable</html>"}},
		{name: "429 throttled", fault: faketwilio.Fault{Status: 429, Code: 20429, Message: "Too Many Requests"}},
		{name: "invalid To", fault: faketwilio.Fault{Status: 400, Code: 21211, Message: "The 'To' number is not a valid phone number."},
			permanent: true, code: "21211"},
		{name: "STOP'd recipient", fault: faketwilio.Fault{Status: 400, Code: 21610, Message: "Attempt to send to unsubscribed recipient"},
			permanent: true, code: "21610"},
		{name: "not a mobile", fault: faketwilio.Fault{Status: 400, Code: 21614, Message: "'To' number is not a valid mobile number"},
			permanent: true, code: "21614"},
		{name: "region not permitted", fault: faketwilio.Fault{Status: 400, Code: 21408, Message: "Permission to send an SMS has not been enabled for the region"},
			permanent: true, code: "21408"},
		{name: "403 forbidden", fault: faketwilio.Fault{Status: 403, Code: 20403, Message: "Forbidden"}, permanent: true, code: "20403", auth: true},
		{name: "auth refused", fault: faketwilio.Fault{Status: 401, Code: 20003, Message: "Authenticate"}, permanent: true, code: "20003", auth: true},
		{name: "account suspended", fault: faketwilio.Fault{Status: 401, Code: 20005, Message: "Account not active"}, permanent: true, code: "20005", auth: true},
		{name: "401 from a proxy, not JSON", fault: faketwilio.Fault{Status: 401, Body: "<html>Unauthorized</html>"},
			permanent: true, code: "http 401", auth: true},
		{name: "other 4xx", fault: faketwilio.Fault{Status: 400, Code: 21606, Message: "The From phone number is not a valid, SMS-capable number"}, permanent: true, code: "21606"},
		{name: "404 from a proxy, not JSON", fault: faketwilio.Fault{Status: 404, Body: "<html>Not Found</html>"},
			permanent: true, code: "http 404"},
		// No fault: the fake's own validation answers 400 21211.
		{name: "To not E.164, refused by Twilio", to: "09011110001", permanent: true, code: "21211"},
	} {
		for _, channel := range []string{"sms", "voice"} {
			t.Run(tc.name+"/"+channel, func(t *testing.T) {
				fake := faketwilio.Start(t)
				s := senders(t, fake, public)
				m := page(t)
				if tc.to != "" {
					m.To = tc.to
				}
				fake.Fail(m.To, tc.fault)
				err := send(context.Background(), s, channel, m)
				if err == nil {
					t.Fatal("Send succeeded")
				}
				if channels.IsPermanent(err) != tc.permanent {
					t.Fatalf("IsPermanent(%v) = %v, want %v", err, !tc.permanent, tc.permanent)
				}
				if channels.IsAuthFailure(err) != tc.auth {
					t.Errorf("IsAuthFailure(%v) = %v, want %v", err, !tc.auth, tc.auth)
				}
				var pe *channels.PermanentError
				if errors.As(err, &pe) && pe.Code != tc.code {
					t.Errorf("code %q, want %q", pe.Code, tc.code)
				}
			})
		}
	}
}

func send(ctx context.Context, s *Senders, channel string, m *channels.Message) error {
	var snd channels.Sender = s.SMS
	if channel == "voice" {
		snd = s.Voice
	}
	_, err := snd.Send(ctx, m)
	return err
}

func TestTimeoutIsTransient(t *testing.T) {
	for _, channel := range []string{"sms", "voice"} {
		fake := faketwilio.Start(t)
		s := senders(t, fake, public)
		fake.Fail(takaTo, faketwilio.Fault{Delay: time.Minute})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		err := send(ctx, s, channel, page(t))
		cancel()
		if err == nil || channels.IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: err = %v, want a transient deadline error", channel, err)
		}
	}
}

func TestRefusedIsTransient(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: connections are refused
	fake := faketwilio.Start(t)
	cfg := fake.Config(from)
	cfg.APIURL = "http://" + addr
	s, err := New(cfg, public)
	if err != nil {
		t.Fatal(err)
	}
	for _, channel := range []string{"sms", "voice"} {
		err := send(context.Background(), s, channel, page(t))
		if err == nil || channels.IsPermanent(err) {
			t.Errorf("%s: err = %v, want transient", channel, err)
		}
	}
}

func TestWrongTokenIsPermanent(t *testing.T) {
	fake := faketwilio.Start(t)
	cfg := fake.Config(from)
	cfg.AuthToken = config.NewSecret("ffffffffffffffffffffffffffffffff")
	s, err := New(cfg, public)
	if err != nil {
		t.Fatal(err)
	}
	err = send(context.Background(), s, "sms", page(t))
	var pe *channels.PermanentError
	if !errors.As(err, &pe) || pe.Code != "20003" || !pe.Auth {
		t.Fatalf("err = %v, want an auth failure 20003", err)
	}
}

// TestAcceptedButUnreadable: Twilio said 201 but the body did not decode.
// The message is out; an error would make the engine send it again.
func TestAcceptedButUnreadable(t *testing.T) {
	fake := faketwilio.Start(t)
	s := senders(t, fake, public)
	fake.Fail(takaTo, faketwilio.Fault{Status: 201, Body: "<html>"})
	for _, channel := range []string{"sms", "voice"} {
		if err := send(context.Background(), s, channel, page(t)); err != nil {
			t.Errorf("%s: err = %v, want accepted", channel, err)
		}
	}
}
