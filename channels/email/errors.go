package email

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strconv"

	"github.com/emersion/go-smtp"

	"github.com/hikyaku/hikyaku/channels"
)

// classify tells permanent failures from transient ones. SMTP's own answer
// decides when there is one: 5xx (550 no such mailbox, 553, 535 bad
// credentials) cannot succeed on retry, and 530/534/535 refuse hikyaku's
// own login, so they are auth failures (the relay is down for every message); 4xx (421, 450, 451, 454) may. A
// certificate the configured roots do not trust will not be trusted in a
// minute either. Network errors, timeouts and anything unknown are
// transient: the engine's retries are bounded anyway.
func classify(stage string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		switch se.Code {
		case 530, 534, 535: // authentication required, mechanism too weak, credentials invalid
			return channels.AuthFailure(strconv.Itoa(se.Code), err)
		}
		if se.Code >= 500 {
			return channels.WithReason(smtpReason(se.Code), channels.Permanent(strconv.Itoa(se.Code), err))
		}
		return channels.WithReason(smtpReason(se.Code), err)
	}
	var (
		unknownCA  x509.UnknownAuthorityError
		badHost    x509.HostnameError
		invalid    x509.CertificateInvalidError
		verifyFail *tls.CertificateVerificationError
	)
	if errors.As(err, &unknownCA) || errors.As(err, &badHost) || errors.As(err, &invalid) || errors.As(err, &verifyFail) {
		return channels.WithReason(channels.ReasonServer, channels.Permanent("tls_certificate", err))
	}
	// NewClientStartTLS reports a server without STARTTLS as a bare error; a
	// protocol answer (SMTPError) or an I/O failure would have matched above
	// or below, so what remains is the server's missing capability.
	if stage == "STARTTLS" && !isNetwork(err) {
		return channels.WithReason(channels.ReasonServer, channels.Permanent("starttls_unsupported", err))
	}
	return err
}

// smtpReason is why an SMTP server refused: 530, 534, 535 and 454 are about
// our credentials; 421 and 4xx are its own trouble; other 5xx refuse the
// message or the mailbox.
func smtpReason(code int) channels.Reason {
	switch {
	case code == 530 || code == 534 || code == 535 || code == 454:
		return channels.ReasonAuth
	case code >= 400 && code < 500:
		return channels.ReasonServer
	case code >= 500:
		return channels.ReasonClient
	}
	return channels.ReasonUnknown
}

func isNetwork(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}
