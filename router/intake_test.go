package router

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// endless is a body that never ends and counts what was read of it.
type endless struct{ read atomic.Int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	e.read.Add(int64(len(p)))
	return len(p), nil
}

// TestWebhookRefusesStrangersBeforeReadingTheBody: the body used to be read
// and decoded before credentials were checked, so 100 unauthenticated 3 MiB
// posts took the daemon from 21 MiB to over 1 GiB.
func TestWebhookRefusesStrangersBeforeReadingTheBody(t *testing.T) {
	h := newHarness(t, testConfig)
	handler := (&Server{Engine: h.engine}).Handler()
	for _, auth := range []string{"", "Bearer wrong"} {
		body := &endless{}
		req := httptest.NewRequest("POST", "/api/v1/alertmanager", body)
		req.ContentLength = 3 << 20
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized || body.read.Load() != 0 {
			t.Errorf("Authorization %q: got %d after reading %d body bytes; want 401 having read none", auth, rec.Code, body.read.Load())
		}
	}
}

// boundedConfig admits two bodies of 1 MiB at once.
var boundedConfig = strings.Replace(testConfig, "  timezone: Asia/Tokyo\n",
	"  timezone: Asia/Tokyo\n  max_body_bytes: 1048576\n  max_inflight_body_bytes: 2097152\n", 1)

// TestWebhookBodiesBeyondTheBoundGet503: while two 1 MiB bodies are being
// read the budget is spent, and a third valid post is told to retry (503 with
// Retry-After, never 4xx) without its body being read; once one finishes,
// the retry is taken.
func TestWebhookBodiesBeyondTheBoundGet503(t *testing.T) {
	h := newHarness(t, boundedConfig)
	handler := inboundServer(h.engine).Handler()
	good := fixture(t, "firing-one-alert-en.json")

	type held struct {
		w    *io.PipeWriter
		rest []byte
		done chan int
	}
	var slow []held
	for i := range 2 {
		// A valid message padded with JSON whitespace to exactly 1 MiB.
		msg := bytes.Replace(good, []byte(`"groupKey":"`), []byte(fmt.Sprintf(`"groupKey":"held-%d-`, i)), 1)
		full := append(msg, bytes.Repeat([]byte(" "), 1<<20-len(msg))...)
		pr, pw := io.Pipe()
		req := httptest.NewRequest("POST", "/api/v1/alertmanager", pr)
		req.ContentLength = int64(len(full))
		req.Header.Set("Authorization", "Bearer hook-token")
		done := make(chan int, 1)
		go func() {
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			done <- rec.Code
		}()
		if _, err := pw.Write(full[:1]); err != nil { // returns once the handler reads: its budget is taken
			t.Fatal(err)
		}
		slow = append(slow, held{pw, full[1:], done})
	}

	third := &countingBody{r: bytes.NewReader(good)}
	req := httptest.NewRequest("POST", "/api/v1/alertmanager", third)
	req.ContentLength = int64(len(good))
	req.Header.Set("Authorization", "Bearer hook-token")
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || third.read != 0 {
		t.Fatalf("third body while two are in flight: %d, Retry-After %q, %d bytes read; want 503 with Retry-After and nothing read",
			rec.Code, rec.Header().Get("Retry-After"), third.read)
	}

	// Provider callbacks are read before their signature is checked: they
	// draw on the same budget.
	for _, path := range []string{"/api/v1/slack/interactions", "/api/v1/twilio/status", "/api/v1/twilio/sms", "/api/v1/twilio/voice/gather"} {
		form := &countingBody{r: strings.NewReader("payload=x")}
		req := httptest.NewRequest("POST", path, form)
		req.ContentLength = int64(len("payload=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || form.read != 0 {
			t.Errorf("%s while the budget is spent: %d, Retry-After %q, %d bytes read; want 503 unread", path, rec.Code, rec.Header().Get("Retry-After"), form.read)
		}
	}

	for i, s := range slow {
		go func() { s.w.Write(s.rest); s.w.Close() }()
		if code := <-s.done; code != http.StatusOK {
			t.Fatalf("held body %d: %d, want 200", i, code)
		}
	}
	req = httptest.NewRequest("POST", "/api/v1/alertmanager", bytes.NewReader(good))
	req.Header.Set("Authorization", "Bearer hook-token")
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("retry once the budget is back: %d %s", rec.Code, rec.Body)
	}
}

type countingBody struct {
	r    io.Reader
	read int
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += n
	return n, err
}

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
