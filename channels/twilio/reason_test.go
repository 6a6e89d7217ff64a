package twilio

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/internal/faketwilio"
)

// TestFailureReasons: each failure Twilio can answer is marked with the
// reason the hikyaku_notifications_total{reason} label shows.
func TestFailureReasons(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault faketwilio.Fault
		want  channels.Reason
	}{
		{"500", faketwilio.Fault{Status: 500, Code: 20500, Message: "Internal Server Error"}, "server"},
		{"503 from a proxy, not JSON", faketwilio.Fault{Status: 503, Body: "<html>Service Unavailable</html>"}, "server"},
		{"429 throttled", faketwilio.Fault{Status: 429, Code: 20429, Message: "Too Many Requests"}, "rate_limited"},
		{"invalid To", faketwilio.Fault{Status: 400, Code: 21211, Message: "The 'To' number is not a valid phone number."}, "client"},
		{"account suspended", faketwilio.Fault{Status: 401, Code: 20005, Message: "Account not active"}, "auth"},
		{"forbidden", faketwilio.Fault{Status: 403, Code: 20403, Message: "Forbidden"}, "auth"},
		{"404 from a proxy, not JSON", faketwilio.Fault{Status: 404, Body: "<html>Not Found</html>"}, "client"},
	} {
		for _, channel := range []string{"sms", "voice"} {
			fake := faketwilio.Start(t)
			s := senders(t, fake, public)
			m := page(t)
			fake.Fail(m.To, tc.fault)
			if got := channels.ReasonOf(send(context.Background(), s, channel, m)); got != tc.want {
				t.Errorf("%s/%s: reason %q, want %q", tc.name, channel, got, tc.want)
			}
		}
	}
}

func TestWrongTokenReasonIsAuth(t *testing.T) {
	fake := faketwilio.Start(t)
	cfg := fake.Config(from)
	cfg.AuthToken = config.NewSecret("ffffffffffffffffffffffffffffffff")
	s, err := New(cfg, public)
	if err != nil {
		t.Fatal(err)
	}
	if got := channels.ReasonOf(send(context.Background(), s, "sms", page(t))); got != channels.ReasonAuth {
		t.Errorf("wrong auth token: reason %q, want auth", got)
	}
}

func TestNoAnswerReasons(t *testing.T) {
	fake := faketwilio.Start(t)
	s := senders(t, fake, public)
	fake.Fail(takaTo, faketwilio.Fault{Delay: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	err := send(ctx, s, "sms", page(t))
	cancel()
	if got := channels.ReasonOf(err); got != channels.ReasonTimeout {
		t.Errorf("no answer in time (%v): reason %q, want timeout", err, got)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := fake.Config(from)
	cfg.APIURL = "http://" + l.Addr().String()
	l.Close()
	s, err = New(cfg, public)
	if err != nil {
		t.Fatal(err)
	}
	err = send(context.Background(), s, "sms", page(t))
	if got := channels.ReasonOf(err); got != channels.ReasonServer {
		t.Errorf("connection refused (%v): reason %q, want server", err, got)
	}
}
