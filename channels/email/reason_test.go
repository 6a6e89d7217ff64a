package email_test

import (
	"crypto/tls"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/email"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/internal/fakesmtp"
)

// TestFailureReasons: the SMTP server's answer decides the reason the
// hikyaku_notifications_total{reason} label shows.
func TestFailureReasons(t *testing.T) {
	for _, tc := range []struct {
		stage string
		code  int
		want  channels.Reason
	}{
		{fakesmtp.StageRcpt, 550, "client"}, // mailbox unavailable
		{fakesmtp.StageData, 554, "client"}, // rejected as spam
		{fakesmtp.StageMail, 451, "server"},
		{fakesmtp.StageMail, 421, "server"},
		{fakesmtp.StageMail, 530, "auth"}, // authentication required
	} {
		srv := fakesmtp.Start(t, fakesmtp.Options{})
		srv.Fail(tc.stage, fakesmtp.Fault{Err: &smtp.SMTPError{Code: tc.code, Message: "injected"}})
		_, err := send(t, newSender(t, smtpConfig(srv.Addr, email.TLSNone)), pageMessage(t, "en"))
		if got := channels.ReasonOf(err); got != tc.want {
			t.Errorf("%s %d (%v): reason %q, want %q", tc.stage, tc.code, err, got, tc.want)
		}
	}
}

func TestWrongPasswordReasonIsAuth(t *testing.T) {
	cert, pool := fakesmtp.SelfSigned(t)
	srv := fakesmtp.Start(t, fakesmtp.Options{TLS: fakesmtp.TLSStartTLS, Cert: cert, Username: "hikyaku", Password: "s3cret"})
	cfg := smtpConfig(srv.Addr, email.TLSStartTLS)
	cfg.Username, cfg.Password = "hikyaku", config.NewSecret("wrong")
	_, err := send(t, newSender(t, cfg, email.WithTLSConfig(&tls.Config{RootCAs: pool})), pageMessage(t, "en"))
	if got := channels.ReasonOf(err); got != channels.ReasonAuth {
		t.Errorf("wrong password (%v): reason %q, want auth", err, got)
	}
}
