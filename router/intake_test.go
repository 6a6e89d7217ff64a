package router

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestWebhookBodyThatDoesNotArriveIs503: a valid body cut short by the
// server's read timeout, or by the sender closing its side, was answered
// 400, which Alertmanager never retries. It must be a 5xx, which it does.
func TestWebhookBodyThatDoesNotArriveIs503(t *testing.T) {
	h := newHarness(t, testConfig)
	srv := httptest.NewUnstartedServer((&Server{Engine: h.engine}).Handler())
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	good := fixture(t, "firing-one-alert-en.json")

	for _, c := range []struct {
		name string
		stop func(c *net.TCPConn) // after half the body
	}{
		{"read timeout", func(*net.TCPConn) {}}, // the server's deadline passes while we wait
		{"closed early", func(c *net.TCPConn) { c.CloseWrite() }},
	} {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST /api/v1/alertmanager HTTP/1.1\r\nHost: hikyaku\r\nAuthorization: Bearer hook-token\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(good))
		conn.Write(good[:len(good)/2])
		c.stop(conn.(*net.TCPConn))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		conn.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: %d %q (Retry-After %q), want 503 with Retry-After", c.name, resp.StatusCode, b, resp.Header.Get("Retry-After"))
		}
	}
	if code, body := do(t, "POST", srv.URL+"/api/v1/alertmanager", "hook-token", good); code != 200 {
		t.Fatalf("the same body in one piece: %d %s", code, body)
	}
}
