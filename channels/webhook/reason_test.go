package webhook

import (
	"context"
	"net/http"
	"testing"

	"github.com/hikyaku/hikyaku/channels"
)

// TestFailureReasons: the receiver's status decides the reason the
// hikyaku_notifications_total{reason} label shows.
func TestFailureReasons(t *testing.T) {
	for status, want := range map[int]channels.Reason{
		http.StatusBadRequest: "client", http.StatusUnauthorized: "auth", http.StatusForbidden: "auth",
		http.StatusNotFound: "client", http.StatusRequestTimeout: "timeout", http.StatusTooManyRequests: "rate_limited",
		http.StatusInternalServerError: "server", http.StatusServiceUnavailable: "server",
	} {
		r := newReceiver(t, status)
		_, err := New().Send(context.Background(), message(t, r.URL+"/hooks/x"))
		if got := channels.ReasonOf(err); got != want {
			t.Errorf("%d (%v): reason %q, want %q", status, err, got, want)
		}
	}
}
