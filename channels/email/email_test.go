package email_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/email"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/internal/fakesmtp"
)

var (
	replyKey = []byte("test reply key, never used in production")
	sentAt   = time.Date(2026, 11, 24, 2, 27, 8, 0, time.FixedZone("JST", 9*3600))
)

func smtpConfig(addr, mode string) *config.SMTP {
	return &config.SMTP{Smarthost: addr, From: "hikyaku@example.co.jp", TLS: mode, ReplyDomain: "ack.example.co.jp"}
}

func newSender(t *testing.T, cfg *config.SMTP, opts ...email.Option) *email.Sender {
	t.Helper()
	opts = append([]email.Option{email.WithReplyKey(replyKey), email.WithClock(func() time.Time { return sentAt })}, opts...)
	s, err := email.New(cfg, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pageMessage(t *testing.T, lang string) *channels.Message {
	t.Helper()
	m := &channels.Message{
		IdempotencyKey: "notify/42/page/0/alice/email", Channel: "email", Kind: channels.KindPage,
		IncidentID: 42, To: "alice@example.co.jp", UserID: "alice", Language: lang,
		Incident: channels.Incident{ID: 42, Status: "open", Severity: "critical", Department: "決済チーム",
			Step: 1, URL: "http://hikyaku.example.co.jp/api/v1/incidents/42", FiringAlerts: 2},
	}
	if lang == "ja" {
		m.Name = "山田 花子"
		m.Subject = "[hikyaku #42] CRITICAL 決済チーム: 決済APIのエラー率が5%を超えています"
		m.Text = m.Subject + " (アラート2件)。了解は「42 ack」と返信。"
		m.Data = fixture(t, "firing-two-alerts-ja.json")
	} else {
		m.Name = "Alice Smith"
		m.Incident.Department, m.Incident.FiringAlerts = "Payments", 1
		m.Subject = "[hikyaku #42] CRITICAL Payments: Disk will fill in 4 hours"
		m.Text = m.Subject + " (1 alerts). Reply \"42 ack\" to acknowledge."
		m.Data = fixture(t, "firing-one-alert-en.json")
	}
	return m
}

func send(t *testing.T, s *email.Sender, m *channels.Message) (channels.Receipt, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.Send(ctx, m)
}

type part struct {
	contentType string
	params      map[string]string
	encoding    string
	body        string
}

// parse reads a delivered message back with go-message, as a mail client would.
func parse(t *testing.T, data []byte) (mail.Header, []part) {
	t.Helper()
	for i, c := range data {
		if c >= 0x80 {
			t.Fatalf("byte %d is 8-bit (%#x): the message must be 7-bit clean for any relay", i, c)
		}
	}
	r, err := mail.CreateReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse message: %v\n%s", err, data)
	}
	var parts []part
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		h, ok := p.Header.(*mail.InlineHeader)
		if !ok {
			t.Fatalf("part %T is not inline", p.Header)
		}
		ct, params, err := h.ContentType()
		if err != nil {
			t.Fatalf("part content type: %v", err)
		}
		b, err := io.ReadAll(p.Body)
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		// SMTP carries CRLF line ends; mail clients show them as line breaks.
		text := strings.ReplaceAll(string(b), "\r\n", "\n")
		parts = append(parts, part{ct, params, h.Get("Content-Transfer-Encoding"), text})
	}
	return r.Header, parts
}

func TestSendHeadersAndMIME(t *testing.T) {
	for _, lang := range []string{"ja", "en"} {
		t.Run(lang, func(t *testing.T) {
			srv := fakesmtp.Start(t, fakesmtp.Options{})
			s := newSender(t, smtpConfig(srv.Addr, email.TLSNone))
			m := pageMessage(t, lang)
			rc, err := send(t, s, m)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.Messages()
			if len(got) != 1 {
				t.Fatalf("server got %d messages, want 1", len(got))
			}
			if got[0].From != "hikyaku@example.co.jp" || len(got[0].To) != 1 || got[0].To[0] != m.To {
				t.Errorf("envelope = %s -> %v, want hikyaku@example.co.jp -> [%s]", got[0].From, got[0].To, m.To)
			}
			h, parts := parse(t, got[0].Data)

			if from, err := h.AddressList("From"); err != nil || len(from) != 1 || from[0].Address != "hikyaku@example.co.jp" {
				t.Errorf("From = %v (%v)", from, err)
			}
			if to, err := h.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != m.To || to[0].Name != m.Name {
				t.Errorf("To = %v (%v), want %q <%s>", to, err, m.Name, m.To)
			}
			if subj, err := h.Subject(); err != nil || subj != m.Subject {
				t.Errorf("Subject = %q (%v), want %q", subj, err, m.Subject)
			}
			if raw := h.Get("Subject"); lang == "ja" && !strings.Contains(strings.ToLower(raw), "=?utf-8?") {
				t.Errorf("raw Subject %q is not RFC 2047 encoded", raw)
			}
			if d, err := h.Date(); err != nil || !d.Equal(sentAt) {
				t.Errorf("Date = %v (%v), want %v", d, err, sentAt)
			}
			id, err := h.MessageID()
			if err != nil || !strings.HasPrefix(id, "hikyaku.42.") || !strings.HasSuffix(id, "@ack.example.co.jp") {
				t.Errorf("Message-ID = %q (%v), want hikyaku.42.<digest>@ack.example.co.jp", id, err)
			}
			if rc.ProviderID != "<"+id+">" {
				t.Errorf("receipt %q, want the Message-ID <%s>", rc.ProviderID, id)
			}
			if n, ok := email.IncidentFromMessageID(id); !ok || n != 42 {
				t.Errorf("IncidentFromMessageID(%q) = %d, %v", id, n, ok)
			}
			if refs, err := h.MsgIDList("References"); err != nil || len(refs) != 1 || refs[0] != "hikyaku.42@ack.example.co.jp" {
				t.Errorf("References = %v (%v)", refs, err)
			}
			reply, err := h.AddressList("Reply-To")
			if err != nil || len(reply) != 1 {
				t.Fatalf("Reply-To = %v (%v)", reply, err)
			}
			if inc, user, ok := email.VerifyReplyAddress(replyKey, reply[0].Address); !ok || inc != 42 || user != "alice" {
				t.Errorf("Reply-To %s verifies as %d %q %v, want 42 alice true", reply[0].Address, inc, user, ok)
			}
			if !strings.HasPrefix(reply[0].Address, "hikyaku+42.alice.") || !strings.HasSuffix(reply[0].Address, "@ack.example.co.jp") {
				t.Errorf("Reply-To = %s", reply[0].Address)
			}
			for k, want := range map[string]string{"Auto-Submitted": "auto-generated", "X-Hikyaku-Incident": "42",
				"X-Hikyaku-Kind": "page", "MIME-Version": "1.0", "Importance": "high"} {
				if got := h.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}

			if ct, _, err := h.ContentType(); err != nil || ct != "multipart/alternative" {
				t.Errorf("Content-Type = %q (%v), want multipart/alternative", ct, err)
			}
			if len(parts) != 2 {
				t.Fatalf("%d parts, want text and html", len(parts))
			}
			for i, want := range []string{"text/plain", "text/html"} {
				p := parts[i]
				if p.contentType != want || p.params["charset"] != "utf-8" || p.encoding != "quoted-printable" {
					t.Errorf("part %d: %s charset=%q %s, want %s charset=utf-8 quoted-printable",
						i, p.contentType, p.params["charset"], p.encoding, want)
				}
			}
			text, html := parts[0].body, parts[1].body
			if !strings.HasPrefix(text, m.Text+"\n") {
				t.Errorf("text part does not start with the message text:\n%s", text)
			}
			for _, want := range []string{m.Incident.URL, m.Incident.Department, "critical"} {
				if !strings.Contains(text, want) || !strings.Contains(html, want) {
					t.Errorf("a part lacks %q:\ntext:\n%s\nhtml:\n%s", want, text, html)
				}
			}
			if lang == "ja" {
				for _, want := range []string{"決済APIのエラー率が5%を超えています", "重大度", "発報中"} {
					if !strings.Contains(text, want) {
						t.Errorf("text lacks %q:\n%s", want, text)
					}
				}
				if !strings.Contains(html, "了解は「42 ack」と返信。") {
					t.Errorf("html lacks the text:\n%s", html)
				}
			} else if !strings.Contains(text, "DiskWillFillIn4Hours") || !strings.Contains(text, "Severity: critical") {
				t.Errorf("text lacks the alert or the facts:\n%s", text)
			}
		})
	}
}

func TestMessageIDFollowsTheIdempotencyKey(t *testing.T) {
	srv := fakesmtp.Start(t, fakesmtp.Options{})
	s := newSender(t, smtpConfig(srv.Addr, email.TLSNone))
	m := pageMessage(t, "en")
	first, err := send(t, s, m)
	if err != nil {
		t.Fatal(err)
	}
	retry, err := send(t, s, m)
	if err != nil {
		t.Fatal(err)
	}
	m.IdempotencyKey += "/next"
	other, err := send(t, s, m)
	if err != nil {
		t.Fatal(err)
	}
	if first.ProviderID != retry.ProviderID {
		t.Errorf("a retry changed the Message-ID: %s then %s", first.ProviderID, retry.ProviderID)
	}
	if first.ProviderID == other.ProviderID {
		t.Errorf("two messages share the Message-ID %s", first.ProviderID)
	}
}

func TestNoReplyToWithoutKey(t *testing.T) {
	srv := fakesmtp.Start(t, fakesmtp.Options{})
	cfg := smtpConfig(srv.Addr, email.TLSNone)
	cfg.ReplyDomain = ""
	s, err := email.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := send(t, s, pageMessage(t, "en"))
	if err != nil {
		t.Fatal(err)
	}
	h, _ := parse(t, srv.Messages()[0].Data)
	if v := h.Get("Reply-To"); v != "" {
		t.Errorf("Reply-To = %q without a key", v)
	}
	if !strings.HasSuffix(rc.ProviderID, "@example.co.jp>") {
		t.Errorf("Message-ID %s does not use From's domain when reply_domain is unset", rc.ProviderID)
	}
}

func TestHeaderInjection(t *testing.T) {
	srv := fakesmtp.Start(t, fakesmtp.Options{})
	s := newSender(t, smtpConfig(srv.Addr, email.TLSNone))
	m := pageMessage(t, "en")
	m.Subject = "disk full\r\nBcc: victim@evil.example\r\n\r\nforged body"
	m.Name = "Alice\r\nBcc: other@evil.example"
	if _, err := send(t, s, m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	msg := srv.Messages()[0]
	if len(msg.To) != 1 || msg.To[0] != m.To {
		t.Errorf("envelope recipients %v, want only %s", msg.To, m.To)
	}
	h, parts := parse(t, msg.Data)
	want := map[string]bool{"Date": true, "From": true, "To": true, "Subject": true, "Message-Id": true,
		"References": true, "Reply-To": true, "Auto-Submitted": true, "X-Auto-Response-Suppress": true,
		"X-Hikyaku-Incident": true, "X-Hikyaku-Kind": true, "Importance": true, "X-Priority": true,
		"Mime-Version": true, "Content-Type": true}
	fields := h.Fields()
	for fields.Next() {
		if !want[fields.Key()] {
			t.Errorf("unexpected header %s: %q", fields.Key(), fields.Value())
		}
	}
	if subj, _ := h.Subject(); strings.ContainsAny(subj, "\r\n") || subj != "disk full Bcc: victim@evil.example forged body" {
		t.Errorf("Subject decodes to %q", subj)
	}
	if to, err := h.AddressList("To"); err != nil || len(to) != 1 || strings.ContainsAny(to[0].Name, "\r\n") {
		t.Errorf("To = %v (%v)", to, err)
	}
	if !strings.HasPrefix(parts[0].body, m.Text+"\n") {
		t.Errorf("the text part changed:\n%s", parts[0].body)
	}

	m.To = "alice@example.co.jp\r\nRCPT TO:<x@evil.example>"
	_, err := send(t, s, m)
	if !channels.IsPermanent(err) {
		t.Errorf("a recipient with a line break: %v, want a permanent error", err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("server has %d messages, want the first only", n)
	}
}

func TestInvalidRecipientIsPermanent(t *testing.T) {
	srv := fakesmtp.Start(t, fakesmtp.Options{})
	s := newSender(t, smtpConfig(srv.Addr, email.TLSNone))
	for _, to := range []string{"", "not an address", "a@b, c@d"} {
		m := pageMessage(t, "en")
		m.To = to
		if _, err := send(t, s, m); !channels.IsPermanent(err) {
			t.Errorf("To %q: %v, want a permanent error", to, err)
		}
	}
	if srv.Sessions() != 0 {
		t.Errorf("%d sessions opened for invalid recipients", srv.Sessions())
	}
}

func TestSTARTTLSWithAuth(t *testing.T) {
	cert, pool := fakesmtp.SelfSigned(t)
	srv := fakesmtp.Start(t, fakesmtp.Options{TLS: fakesmtp.TLSStartTLS, Cert: cert, Username: "hikyaku", Password: "s3cret"})
	cfg := smtpConfig(srv.Addr, email.TLSStartTLS)
	cfg.Username, cfg.Password = "hikyaku", config.NewSecret("s3cret")
	s := newSender(t, cfg, email.WithTLSConfig(&tls.Config{RootCAs: pool}))
	if _, err := send(t, s, pageMessage(t, "ja")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.Messages()
	if len(got) != 1 || !got[0].TLS || got[0].Auth != "hikyaku" {
		t.Fatalf("messages %+v, want one sent under TLS by hikyaku", got)
	}
}

func TestImplicitTLS(t *testing.T) {
	cert, pool := fakesmtp.SelfSigned(t)
	srv := fakesmtp.Start(t, fakesmtp.Options{TLS: fakesmtp.TLSImplicit, Cert: cert, Username: "hikyaku", Password: "s3cret"})
	cfg := smtpConfig(srv.Addr, email.TLSImplicit)
	cfg.Username, cfg.Password = "hikyaku", config.NewSecret("s3cret")
	s := newSender(t, cfg, email.WithTLSConfig(&tls.Config{RootCAs: pool}))
	if _, err := send(t, s, pageMessage(t, "en")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := srv.Messages(); len(got) != 1 || !got[0].TLS || got[0].Auth != "hikyaku" {
		t.Fatalf("messages %+v, want one sent under TLS by hikyaku", got)
	}
}

func TestUntrustedCertificateIsPermanent(t *testing.T) {
	cert, _ := fakesmtp.SelfSigned(t)
	for _, mode := range []string{email.TLSStartTLS, email.TLSImplicit} {
		t.Run(mode, func(t *testing.T) {
			srv := fakesmtp.Start(t, fakesmtp.Options{TLS: mode, Cert: cert})
			s := newSender(t, smtpConfig(srv.Addr, mode)) // system roots only
			_, err := send(t, s, pageMessage(t, "en"))
			var pe *channels.PermanentError
			if !errors.As(err, &pe) || pe.Code != "tls_certificate" {
				t.Fatalf("Send: %v, want a permanent certificate error", err)
			}
			if len(srv.Messages()) != 0 {
				t.Error("a message went to an untrusted server")
			}
		})
	}
}

func TestSTARTTLSRequiredBeforeAuth(t *testing.T) {
	// The server offers AUTH in clear but no STARTTLS: the sender must stop
	// before the password leaves, and no retry will change the server.
	srv := fakesmtp.Start(t, fakesmtp.Options{Username: "hikyaku", Password: "s3cret", AllowInsecureAuth: true})
	cfg := smtpConfig(srv.Addr, email.TLSStartTLS)
	cfg.Username, cfg.Password = "hikyaku", config.NewSecret("s3cret")
	s := newSender(t, cfg)
	_, err := send(t, s, pageMessage(t, "en"))
	var pe *channels.PermanentError
	if !errors.As(err, &pe) || pe.Code != "starttls_unsupported" {
		t.Fatalf("Send: %v, want permanent starttls_unsupported", err)
	}
	if n := srv.AuthAttempts(); n != 0 {
		t.Errorf("%d AUTH attempts in clear", n)
	}
	if len(srv.Messages()) != 0 {
		t.Error("a message went out without TLS")
	}
}

func TestPlaintextAuthOnlyToLoopback(t *testing.T) {
	cfg := smtpConfig("smtp.example.co.jp:25", email.TLSNone)
	cfg.Username, cfg.Password = "hikyaku", config.NewSecret("s3cret")
	if _, err := email.New(cfg); err == nil {
		t.Error("New accepted tls none with a password for a remote host")
	}

	srv := fakesmtp.Start(t, fakesmtp.Options{Username: "hikyaku", Password: "s3cret", AllowInsecureAuth: true})
	cfg = smtpConfig(srv.Addr, email.TLSNone)
	cfg.Username, cfg.Password = "hikyaku", config.NewSecret("s3cret")
	if _, err := send(t, newSender(t, cfg), pageMessage(t, "en")); err != nil {
		t.Fatalf("Send to a local relay: %v", err)
	}
	if got := srv.Messages(); len(got) != 1 || got[0].Auth != "hikyaku" {
		t.Fatalf("messages %+v", got)
	}
}

func TestAuthFailures(t *testing.T) {
	cert, pool := fakesmtp.SelfSigned(t)
	srv := fakesmtp.Start(t, fakesmtp.Options{TLS: fakesmtp.TLSStartTLS, Cert: cert, Username: "hikyaku", Password: "s3cret"})
	tlsOpt := email.WithTLSConfig(&tls.Config{RootCAs: pool})

	cfg := smtpConfig(srv.Addr, email.TLSStartTLS)
	cfg.Username, cfg.Password = "hikyaku", config.NewSecret("wrong-horse-battery")
	_, err := send(t, newSender(t, cfg, tlsOpt), pageMessage(t, "en"))
	var pe *channels.PermanentError
	if !errors.As(err, &pe) || pe.Code != "535" || !pe.Auth {
		t.Errorf("wrong password: %v, want an auth failure 535", err)
	}
	if err != nil && strings.Contains(err.Error(), "wrong-horse-battery") {
		t.Errorf("the error shows the password: %v", err)
	}

	// Without credentials the server refuses MAIL with 530.
	_, err = send(t, newSender(t, smtpConfig(srv.Addr, email.TLSStartTLS), tlsOpt), pageMessage(t, "en"))
	if !errors.As(err, &pe) || pe.Code != "530" || !pe.Auth {
		t.Errorf("no credentials: %v, want an auth failure 530", err)
	}
	if len(srv.Messages()) != 0 {
		t.Error("the server accepted mail without authentication")
	}
}

func TestSMTPReplyClasses(t *testing.T) {
	for _, tc := range []struct {
		stage     string
		code      int
		enhanced  smtp.EnhancedCode
		permanent bool
	}{
		{fakesmtp.StageRcpt, 550, smtp.EnhancedCode{5, 1, 1}, true}, // mailbox unavailable
		{fakesmtp.StageRcpt, 553, smtp.EnhancedCode{5, 1, 3}, true}, // mailbox name not allowed
		{fakesmtp.StageData, 554, smtp.EnhancedCode{5, 7, 1}, true}, // rejected as spam
		{fakesmtp.StageMail, 451, smtp.EnhancedCode{4, 3, 0}, false},
		{fakesmtp.StageRcpt, 450, smtp.EnhancedCode{4, 2, 1}, false}, // greylisted
		{fakesmtp.StageData, 452, smtp.EnhancedCode{4, 3, 1}, false}, // insufficient storage
		{fakesmtp.StageMail, 421, smtp.EnhancedCode{4, 3, 2}, false},
	} {
		srv := fakesmtp.Start(t, fakesmtp.Options{})
		srv.Fail(tc.stage, fakesmtp.Fault{Err: &smtp.SMTPError{Code: tc.code, EnhancedCode: tc.enhanced, Message: "injected"}})
		_, err := send(t, newSender(t, smtpConfig(srv.Addr, email.TLSNone)), pageMessage(t, "en"))
		if err == nil {
			t.Errorf("%s %d: Send succeeded", tc.stage, tc.code)
			continue
		}
		if got := channels.IsPermanent(err); got != tc.permanent {
			t.Errorf("%s %d: permanent=%v, want %v (%v)", tc.stage, tc.code, got, tc.permanent, err)
		}
		if !strings.Contains(err.Error(), "injected") {
			t.Errorf("%s %d: the error lost the server's text: %v", tc.stage, tc.code, err)
		}
	}
}

// rawServer answers each connection with greet (nothing when empty) and
// keeps it open until the test ends, like a smarthost that hangs.
func rawServer(t *testing.T, greet string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			if greet != "" {
				io.WriteString(c, greet)
			}
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

func TestBusyGreetingIsTransient(t *testing.T) {
	addr := rawServer(t, "421 4.3.2 Too many connections, try later\r\n")
	_, err := send(t, newSender(t, smtpConfig(addr, email.TLSNone)), pageMessage(t, "en"))
	if err == nil || channels.IsPermanent(err) {
		t.Fatalf("421 greeting: %v, want a transient error", err)
	}
}

func TestRefusedConnectionIsTransient(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = send(t, newSender(t, smtpConfig(addr, email.TLSStartTLS)), pageMessage(t, "en"))
	if err == nil || channels.IsPermanent(err) {
		t.Fatalf("refused: %v, want a transient error", err)
	}
}

// sendWithin runs Send under ctx and fails the test if it outlives the
// context by far: it guards against a hang, it does not time anything.
func sendWithin(t *testing.T, ctx context.Context, s *email.Sender) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := s.Send(ctx, pageMessage(t, "en"))
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("Send ignored its context")
		return nil
	}
}

func TestSlowServerHitsTheDeadline(t *testing.T) {
	stalledData := fakesmtp.Start(t, fakesmtp.Options{})
	stalledData.Fail(fakesmtp.StageData, fakesmtp.Fault{Stall: true})
	for name, addr := range map[string]string{
		"no greeting":          rawServer(t, ""),
		"greeting then silent": rawServer(t, "220 slow.example ESMTP\r\n"),
		"no reply to DATA":     stalledData.Addr,
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			err := sendWithin(t, ctx, newSender(t, smtpConfig(addr, email.TLSNone)))
			if err == nil || channels.IsPermanent(err) {
				t.Fatalf("Send: %v, want a transient error", err)
			}
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("Send: %v, want it to name the deadline", err)
			}
		})
	}
}

func TestCancelStopsTheSession(t *testing.T) {
	srv := fakesmtp.Start(t, fakesmtp.Options{})
	srv.Fail(fakesmtp.StageRcpt, fakesmtp.Fault{Stall: true})
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	time.AfterFunc(50*time.Millisecond, cancel)
	err := sendWithin(t, ctx, newSender(t, smtpConfig(srv.Addr, email.TLSNone)))
	if !errors.Is(err, context.Canceled) || channels.IsPermanent(err) {
		t.Fatalf("Send: %v, want a transient context.Canceled", err)
	}
}

func TestNoDeadlineUsesTheTimeoutOption(t *testing.T) {
	addr := rawServer(t, "")
	s := newSender(t, smtpConfig(addr, email.TLSNone), email.WithTimeout(100*time.Millisecond))
	err := sendWithin(t, context.Background(), s)
	if err == nil || channels.IsPermanent(err) {
		t.Fatalf("Send: %v, want a transient timeout", err)
	}
}

func TestConcurrentSends(t *testing.T) {
	srv := fakesmtp.Start(t, fakesmtp.Options{})
	s := newSender(t, smtpConfig(srv.Addr, email.TLSNone))
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := pageMessage(t, "ja")
			m.IdempotencyKey += string(rune('a' + i))
			_, err := send(t, s, m)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := len(srv.Messages()); got != n {
		t.Errorf("server got %d messages, want %d", got, n)
	}
}

// A mail about no incident (a scheduled health report) has no thread root,
// no reply address and no incident header: there is nothing to answer.
func TestMailWithoutIncidentHasNoReplyPath(t *testing.T) {
	srv := fakesmtp.Start(t, fakesmtp.Options{})
	s := newSender(t, smtpConfig(srv.Addr, email.TLSNone))
	m := &channels.Message{IdempotencyKey: "health_report/ops/1/u:alice/email", Channel: "email", Kind: "health_report",
		To: "alice@example.co.jp", UserID: "alice", Language: "en", Subject: "On-call health report: Ops", Text: "Incidents: 0"}
	if _, err := send(t, s, m); err != nil {
		t.Fatal(err)
	}
	h, _ := parse(t, srv.Messages()[0].Data)
	for _, k := range []string{"Reply-To", "References", "X-Hikyaku-Incident"} {
		if v := h.Get(k); v != "" {
			t.Errorf("%s = %q on a mail about no incident", k, v)
		}
	}
	if got := h.Get("X-Hikyaku-Kind"); got != "health_report" {
		t.Errorf("X-Hikyaku-Kind = %q", got)
	}
}
