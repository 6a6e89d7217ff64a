package ntfy

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/internal/fakentfy"
)

const token = "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2"

func sender(t *testing.T, fake *fakentfy.Server, tok string) *Sender {
	t.Helper()
	s, err := New(fake.URL(), config.NewSecret(tok))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func page(severity string) *channels.Message {
	return &channels.Message{Channel: "ntfy", Kind: channels.KindPage, To: "alice-pager", UserID: "alice", Language: "en",
		Subject: "[hikyaku #7] CRITICAL Payments: checkout down", Text: "FIRING: checkout down",
		Incident: channels.Incident{ID: 7, Severity: severity},
		Links: map[string]string{"ack": "https://hikyaku.example.com/act/ack-token", "resolve": "https://hikyaku.example.com/act/resolve-token",
			"escalate": "https://hikyaku.example.com/act/escalate-token"}}
}

func TestPageWithButtons(t *testing.T) {
	fake := fakentfy.New(token)
	defer fake.Close()
	rc, err := sender(t, fake, token).Send(context.Background(), page("critical"))
	if err != nil {
		t.Fatal(err)
	}
	got := fake.Messages("alice-pager")
	if len(got) != 1 {
		t.Fatalf("messages = %+v", got)
	}
	m := got[0]
	if rc.ProviderID != "alice-pager/"+m.ID {
		t.Errorf("receipt %q, want the topic and ntfy's id %q", rc.ProviderID, m.ID)
	}
	if m.Title != "[hikyaku #7] CRITICAL Payments: checkout down" || m.Message != "FIRING: checkout down" || m.Priority != 5 ||
		len(m.Tags) != 1 || m.Tags[0] != "rotating_light" {
		t.Errorf("message = %+v", m)
	}
	want := []fakentfy.Action{
		{Action: "http", Label: "Ack", URL: "https://hikyaku.example.com/act/ack-token", Method: "POST", Clear: true},
		{Action: "http", Label: "Resolve", URL: "https://hikyaku.example.com/act/resolve-token", Method: "POST", Clear: true},
	}
	if len(m.Actions) != len(want) {
		t.Fatalf("actions = %+v, want %+v", m.Actions, want)
	}
	for i, a := range m.Actions {
		a.ID = ""
		if a.Action != want[i].Action || a.Label != want[i].Label || a.URL != want[i].URL || a.Method != want[i].Method || a.Clear != want[i].Clear {
			t.Errorf("action %d = %+v, want %+v", i, a, want[i])
		}
	}
}

func TestPriorityBySeverityAndKind(t *testing.T) {
	fake := fakentfy.New("")
	defer fake.Close()
	s := sender(t, fake, "")
	warning, report, resolved := page("warning"), page("critical"), page("critical")
	report.Kind, resolved.Kind = channels.KindReport, channels.KindResolved
	for _, tc := range []struct {
		m        *channels.Message
		priority int
		actions  int
	}{{warning, 4, 2}, {report, 3, 0}, {resolved, 2, 0}} {
		if _, err := s.Send(context.Background(), tc.m); err != nil {
			t.Fatal(err)
		}
		ms := fake.Messages("")
		last := ms[len(ms)-1]
		if last.Priority != tc.priority || len(last.Actions) != tc.actions {
			t.Errorf("%s %s: priority %d with %d buttons, want %d with %d", tc.m.Kind, tc.m.Incident.Severity,
				last.Priority, len(last.Actions), tc.priority, tc.actions)
		}
	}
}

func TestNoLinksNoButtons(t *testing.T) {
	fake := fakentfy.New("")
	defer fake.Close()
	s := sender(t, fake, "")
	m := page("critical")
	m.Links = nil
	if hint := s.AckHint(m); hint != "" {
		t.Errorf("hint without an ack link = %q, want none", hint)
	}
	if _, err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if got := fake.Messages(""); len(got) != 1 || len(got[0].Actions) != 0 {
		t.Errorf("messages = %+v, want one without buttons", got)
	}
	m.Language = "ja"
	m.Links = map[string]string{"ack": "https://h.example.com/act/x"}
	if hint := s.AckHint(m); hint != "通知の「了解」ボタンで了解できます" {
		t.Errorf("ja hint = %q", hint)
	}
}

func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name      string
		setup     func(*fakentfy.Server)
		token, to string
		permanent bool
		auth      bool
		reason    channels.Reason
	}{
		{name: "wrong token", token: "tk_wrong", to: "alice-pager", permanent: true, auth: true, reason: channels.ReasonAuth},
		{name: "no token", token: "", to: "alice-pager", permanent: true, auth: true, reason: channels.ReasonAuth},
		{name: "topic the token may not write", token: token, to: "alice-pager", setup: func(f *fakentfy.Server) { f.Deny("alice-pager") },
			permanent: true, reason: channels.ReasonAuth},
		{name: "rate limited", token: token, to: "alice-pager", setup: func(f *fakentfy.Server) { f.Fail(429) }, reason: channels.ReasonRateLimited},
		{name: "server error", token: token, to: "alice-pager", setup: func(f *fakentfy.Server) { f.Fail(500) }, reason: channels.ReasonServer},
		{name: "storage full", token: token, to: "alice-pager", setup: func(f *fakentfy.Server) { f.Fail(507) }, reason: channels.ReasonServer},
		{name: "too large", token: token, to: "alice-pager", setup: func(f *fakentfy.Server) { f.Fail(413) }, permanent: true, reason: channels.ReasonClient},
		{name: "not a topic", token: token, to: "alice/pager", permanent: true, reason: channels.ReasonClient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := fakentfy.New(token)
			defer fake.Close()
			if tc.setup != nil {
				tc.setup(fake)
			}
			m := page("critical")
			m.To = tc.to
			_, err := sender(t, fake, tc.token).Send(context.Background(), m)
			if err == nil {
				t.Fatal("sent")
			}
			if channels.IsPermanent(err) != tc.permanent || channels.IsAuthFailure(err) != tc.auth || channels.ReasonOf(err) != tc.reason {
				t.Errorf("err = %v: permanent %v auth %v reason %q, want %v %v %q", err, channels.IsPermanent(err),
					channels.IsAuthFailure(err), channels.ReasonOf(err), tc.permanent, tc.auth, tc.reason)
			}
			if n := len(fake.Messages("")); n != 0 {
				t.Errorf("%d messages accepted", n)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	fake := fakentfy.New("")
	s := sender(t, fake, "")
	fake.Close()
	_, err := s.Send(context.Background(), page("critical"))
	if err == nil || channels.IsPermanent(err) || channels.ReasonOf(err) != channels.ReasonServer {
		t.Errorf("err = %v (reason %q): want a transient server failure", err, channels.ReasonOf(err))
	}
}

func TestLongTextIsCutOnARune(t *testing.T) {
	fake := fakentfy.New("")
	defer fake.Close()
	m := page("critical")
	m.Text = strings.Repeat("障", 2000) // 6000 bytes
	rc, err := sender(t, fake, "").Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	// ntfy's answer echoes the whole message: the id is read past its text.
	if want := "alice-pager/" + fake.Messages("")[0].ID; rc.ProviderID != want {
		t.Errorf("receipt %q, want %q", rc.ProviderID, want)
	}
	got := fake.Messages("")[0].Message
	if len(got) > 4000 || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Errorf("message of %d bytes, valid %v: want at most 4000, cut with …", len(got), utf8.ValidString(got))
	}
}

func TestProvider(t *testing.T) {
	p := Provider{}
	for topic, ok := range map[string]bool{"alice-pager_2": true, "": false, "a/b": false, "alice pager": false,
		strings.Repeat("a", 64): true, strings.Repeat("a", 65): false, "日本": false} {
		if err := p.CheckContact(topic); (err == nil) != ok {
			t.Errorf("CheckContact(%q) = %v, want ok %v", topic, err, ok)
		}
	}
	s, err := p.NewSender(&config.Config{})
	if s != nil || err != nil {
		t.Errorf("without providers.ntfy: %v, %v; want no sender", s, err)
	}
	cfg := &config.Config{Providers: config.Providers{Others: map[string]*config.ProviderSettings{"ntfy": {URL: "ftp://x"}}}}
	if _, err := p.NewSender(cfg); err == nil {
		t.Error("an ftp url was taken")
	}
	cfg.Providers.Others["ntfy"].URL = ""
	s, err = p.NewSender(cfg)
	if err != nil || s.(*Sender).def.server.String() != DefaultServer {
		t.Errorf("without url: %v, %v; want %s", s, err, DefaultServer)
	}
}

func TestRefusalWithoutJSON(t *testing.T) {
	err := refusal(http.StatusBadGateway, answer{}, []byte("<html>bad gateway</html>"), false)
	if channels.IsPermanent(err) || !strings.Contains(err.Error(), "bad gateway") {
		t.Errorf("err = %v", err)
	}
	var p *channels.PermanentError
	if err := refusal(400, answer{Code: 40024, Error: "invalid request"}, nil, false); !errors.As(err, &p) || p.Code != "40024" {
		t.Errorf("err = %v: want ntfy's code kept", err)
	}
}
