package e2e

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/internal/redistest"
)

// handOver bounds how late a page may go out when its replica stops
// gracefully: under the 4 s lease a crash would cost, with room for a CI
// machine running the race detector and other packages' tests at once.
const handOver = 2500 * time.Millisecond

// TestGracefulShutdownHandsOver sends SIGTERM to a replica in the middle of
// a burst of pages: a webhook in flight is finished and stored, a new one is
// refused (503 or closed: Alertmanager retries both), it exits 0, and the
// other replica sends the rest on time, each page exactly once.
func TestGracefulShutdownHandsOver(t *testing.T) {
	const groups = 40
	rd := redistest.Start(t, redistest.Options{})
	cfg := writeConfig(t)
	a := startDaemon(t, "replica-a", cfg, "--store", rd.URL())
	b := startDaemon(t, "replica-b", cfg, "--store", rd.URL())

	for g := range groups {
		if _, err := postUntilAccepted(a.Addr, groupMessage(t, fmt.Sprintf("Graceful%02d", g), true), 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	// A post Alertmanager started before the signal and is still sending:
	// shutdown must wait for it and store it, not cut it off.
	inFlight, err := startRequest(a.Addr, groupMessage(t, "InFlight", true))
	if err != nil {
		t.Fatal(err)
	}
	defer inFlight.Close()

	if _, ok := waitAny([]*daemon{a, b}, isPage(0, 1), 10*time.Second); !ok {
		t.Fatal("step 2 never sent")
	}
	type exit struct {
		code    int
		err     error
		drained time.Duration
	}
	exited := make(chan exit, 1)
	signalled := time.Now()
	go func() {
		code, err := a.Terminate(30 * time.Second)
		exited <- exit{code, err, time.Since(signalled)}
	}()
	if _, ok := a.WaitLog(func(l *logLine) bool { return l.Msg == "shutting down" }, 5*time.Second); !ok {
		t.Fatal("replica A did not start shutting down on SIGTERM")
	}
	terminated := time.Now()
	code, err := postWebhook(a.Addr, groupMessage(t, "AfterSIGTERM", true))
	if err == nil && code != http.StatusServiceUnavailable {
		t.Errorf("webhook posted after SIGTERM answered %d, want 503 or a closed connection", code)
	}
	t.Logf("a post after SIGTERM got: %d %v", code, err)
	if code, err := inFlight.finish(); err != nil || code != http.StatusOK {
		t.Errorf("webhook in flight at SIGTERM answered %d (%v), want 200: shutdown must let it finish", code, err)
	}
	switch ex := <-exited; {
	case ex.err != nil:
		t.Error(ex.err)
	case ex.code != 0:
		t.Errorf("replica A exited %d after SIGTERM, want 0", ex.code)
	default:
		t.Logf("replica A drained and exited 0, %s after SIGTERM", ex.drained.Round(time.Millisecond))
	}

	incs, err := listIncidents(b.Addr)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, 0, len(incs))
	inFlightStored := false
	for _, inc := range incs {
		switch inc.Key {
		case groupKey("AfterSIGTERM"):
			t.Errorf("the webhook refused after SIGTERM opened incident %d anyway", inc.ID)
			continue
		case groupKey("InFlight"):
			inFlightStored = true
		}
		ids = append(ids, inc.ID)
	}
	if !inFlightStored {
		t.Error("the webhook in flight at SIGTERM has no incident")
	}
	if len(ids) != groups+1 {
		t.Fatalf("%d incidents, want %d", len(ids), groups+1)
	}
	waitExhausted(t, []*daemon{a, b}, len(ids), rd.URL())
	got, problems := byPage(sendsOf(a, b), ids, testPlan, nil)
	reportProblems(t, problems)
	timings := checkSchedule(t, b.Addr, got, testPlan, handOver)

	var worst time.Duration
	handed := 0
	for pg, s := range got {
		tm := timings[pg]
		if s.Replica == b.name && tm.Due.After(terminated.Add(-escalateAfter)) && tm.Due.Before(terminated.Add(escalateAfter)) {
			handed++
			worst = max(worst, tm.Delay)
		}
	}
	t.Logf("hand-over: %d pages due around the SIGTERM sent by B, at worst %s after due", handed, worst.Round(time.Millisecond))
}

// pendingRequest is an HTTP request whose body is not all sent yet.
type pendingRequest struct {
	conn net.Conn
	rest []byte
}

// startRequest opens a connection and sends a webhook post's headers and
// the first half of its body, keeping the rest for finish: the server has
// taken the request and its handler is waiting for the body.
func startRequest(addr string, body []byte) (*pendingRequest, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	head := fmt.Sprintf("POST /api/v1/alertmanager HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", addr, webhookToken, len(body), body[:len(body)/2])
	if _, err := conn.Write([]byte(head)); err != nil {
		conn.Close()
		return nil, err
	}
	return &pendingRequest{conn: conn, rest: body[len(body)/2:]}, nil
}

// finish sends the rest of the request and returns the answer's status.
func (p *pendingRequest) finish() (int, error) {
	p.conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := p.conn.Write(p.rest); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(p.conn), nil)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func (p *pendingRequest) Close() error { return p.conn.Close() }
