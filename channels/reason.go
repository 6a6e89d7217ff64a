package channels

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"
)

// Reason is why a send failed, in the few classes an operator acts on
// differently. It is a metric label value, so the set is closed.
type Reason string

// The reasons. A provider that cannot tell says nothing and the generic
// rules of ReasonOf decide; what they cannot place is ReasonUnknown.
const (
	ReasonAuth        Reason = "auth"         // credentials refused, account suspended or not permitted
	ReasonRateLimited Reason = "rate_limited" // the provider throttled us (429 and its equivalents)
	ReasonClient      Reason = "client"       // the request or the address cannot succeed (4xx, bad number, no mailbox, undelivered)
	ReasonServer      Reason = "server"       // the provider failed (5xx) or refused or cut the connection
	ReasonTimeout     Reason = "timeout"      // no answer in time
	ReasonUnknown     Reason = "unknown"
)

// Reasons lists every reason, for metrics that start at zero.
var Reasons = []Reason{ReasonAuth, ReasonRateLimited, ReasonClient, ReasonServer, ReasonTimeout, ReasonUnknown}

// reasoned is err with the reason its provider gave.
type reasoned struct {
	reason Reason
	err    error
}

func (r *reasoned) Error() string { return r.err.Error() }
func (r *reasoned) Unwrap() error { return r.err }

// WithReason marks err with why it failed, as the channel that knows its
// provider reads it. err keeps its text and what it wraps (IsPermanent
// still sees a PermanentError inside). A nil err stays nil.
func WithReason(r Reason, err error) error {
	if err == nil {
		return nil
	}
	return &reasoned{reason: r, err: err}
}

// ReasonForStatus is the reason an HTTP status from a provider's API
// stands for; 0 (no answer was read) is unknown.
func ReasonForStatus(status int) Reason {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return ReasonAuth
	case status == http.StatusTooManyRequests:
		return ReasonRateLimited
	case status == http.StatusRequestTimeout || status == http.StatusGatewayTimeout:
		return ReasonTimeout
	case status >= 400 && status < 500:
		return ReasonClient
	case status >= 500 && status < 600:
		return ReasonServer
	}
	return ReasonUnknown
}

// ReasonOf classifies a send's error: the reason a channel marked it with,
// else a deadline or network timeout, a refused or cut connection, a
// permanent failure (the request cannot succeed: client), or unknown.
// nil is "".
func ReasonOf(err error) Reason {
	var r *reasoned
	var ne net.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &r):
		return r.reason
	case IsAuthFailure(err):
		return ReasonAuth
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return ReasonTimeout
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return ReasonServer
	case IsPermanent(err):
		return ReasonClient
	}
	return ReasonUnknown
}
