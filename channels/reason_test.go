package channels

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
)

func TestReasonOf(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
	for _, tc := range []struct {
		name string
		err  error
		want Reason
	}{
		{"nil", nil, ""},
		{"marked by its channel", WithReason(ReasonAuth, Permanent("20003", errors.New("refused"))), "auth"},
		{"marked, then wrapped", fmt.Errorf("deliver: %w", WithReason(ReasonRateLimited, errors.New("429"))), "rate_limited"},
		{"deadline", fmt.Errorf("post: %w", context.DeadlineExceeded), "timeout"},
		{"connection refused", fmt.Errorf("post: %w", refused), "server"},
		{"connection cut", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), "server"},
		{"permanent, unmarked", Permanent("", errors.New("no sms contact")), "client"},
		{"anything else", errors.New("something odd"), "unknown"},
	} {
		if got := ReasonOf(tc.err); got != tc.want {
			t.Errorf("%s: ReasonOf(%v) = %q, want %q", tc.name, tc.err, got, tc.want)
		}
	}
}

func TestWithReasonKeepsTheError(t *testing.T) {
	inner := Permanent("21211", errors.New("bad number"))
	err := WithReason(ReasonClient, inner)
	if !IsPermanent(err) || err.Error() != inner.Error() {
		t.Errorf("WithReason changed the error: %v (permanent %v)", err, IsPermanent(err))
	}
	if WithReason(ReasonClient, nil) != nil {
		t.Error("WithReason(nil) is not nil")
	}
}

func TestReasonForStatus(t *testing.T) {
	for status, want := range map[int]Reason{
		0: "unknown", 302: "unknown", 400: "client", 401: "auth", 403: "auth", 404: "client", 408: "timeout",
		429: "rate_limited", 500: "server", 503: "server", 504: "timeout",
	} {
		if got := ReasonForStatus(status); got != want {
			t.Errorf("ReasonForStatus(%d) = %q, want %q", status, got, want)
		}
	}
}
