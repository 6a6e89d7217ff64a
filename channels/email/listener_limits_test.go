package email

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// logRecords keeps what a logger wrote, for the tests that read it.
type logRecords struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (l *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecords) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, r.Clone())
	return nil
}
func (l *logRecords) WithAttrs([]slog.Attr) slog.Handler { return l } // attributes of With are not needed here
func (l *logRecords) WithGroup(string) slog.Handler      { return l }

// attr is the value of key in the first record with message msg.
func (l *logRecords) attr(msg, key string) (slog.Value, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.recs {
		if r.Message != msg {
			continue
		}
		var v slog.Value
		found := false
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == key {
				v, found = a.Value, true
				return false
			}
			return true
		})
		return v, found
	}
	return slog.Value{}, false
}

// TestEmailListenerRefusesLargeMail: a 9 MiB mail is refused with 552 5.3.4
// after at most the default 256 KiB has been read into memory (the rest is
// discarded as it streams in); a relay that declares its SIZE is refused at
// MAIL FROM, before it sends anything.
func TestEmailListenerRefusesLargeMail(t *testing.T) {
	r := newMailRig(t)
	logs := r.logs
	srv := r.server(ServerOptions{})
	if srv.MaxMessageBytes() != 256<<10 {
		t.Fatalf("default limit %d, want 262144", srv.MaxMessageBytes())
	}
	r.listen = serveMail(t, srv)
	pg := r.page(1, "carol")

	head := "From: carol@example.com\r\nTo: " + pg.ReplyTo + "\r\nSubject: Re: page\r\n\r\nack\r\n"
	big := append([]byte(head), bytes.Repeat([]byte("ack ack ack ack ack ack ack ack\r\n"), 9<<20/32)...)
	err := r.deliver("carol@example.com", []string{pg.ReplyTo}, big)
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 552 || se.EnhancedCode != (smtp.EnhancedCode{5, 3, 4}) {
		t.Fatalf("9 MiB mail: %v, want 552 5.3.4", err)
	}
	read, ok := logs.attr("email refused: message over the size limit", "read_bytes")
	if !ok || read.Int64() > 256<<10 {
		t.Errorf("read %v bytes of a 9 MiB mail (logged %v), want at most 262144", read, ok)
	}
	if n := r.repliesCounted("refused", "too_large"); n != 1 {
		t.Errorf("refused/too_large = %v, want 1", n)
	}

	c, err := smtp.Dial(r.listen)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("mx.example.net"); err != nil {
		t.Fatal(err)
	}
	err = c.Mail("carol@example.com", &smtp.MailOptions{Size: 9 << 20})
	if !errors.As(err, &se) || se.Code != 552 {
		t.Errorf("MAIL FROM with SIZE=9MiB: %v, want 552", err)
	}

	// Under the limit, the same reply acts.
	if err := r.deliver("carol@example.com", []string{pg.ReplyTo}, []byte(head)); err != nil {
		t.Fatalf("a small reply: %v", err)
	}
}

// TestEmailListenerSessionLimit: with two sessions open, a third connection
// is answered 421 4.7.0 and closed; when one closes, a new one is served.
func TestEmailListenerSessionLimit(t *testing.T) {
	r := newMailRig(t)
	srv := r.server(ServerOptions{MaxSessions: 2})
	addr := serveMail(t, srv)
	greeting := func() (net.Conn, string) {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			t.Fatalf("greeting: %v", err)
		}
		return c, line
	}
	first, g1 := greeting()
	_, g2 := greeting()
	if !strings.HasPrefix(g1, "220 ") || !strings.HasPrefix(g2, "220 ") {
		t.Fatalf("greetings %q %q, want 220", g1, g2)
	}
	third, g3 := greeting()
	if !strings.HasPrefix(g3, "421 4.7.0 ") {
		t.Fatalf("third connection: %q, want 421 4.7.0", g3)
	}
	if _, err := bufio.NewReader(third).ReadString('\n'); err == nil {
		t.Error("the refused connection stays open")
	}
	if n := testutil.ToFloat64(r.metrics.sessionsRefused); n != 1 {
		t.Errorf("hikyaku_smtp_sessions_refused_total = %v, want 1", n)
	}
	if n := testutil.ToFloat64(r.metrics.sessions); n != 2 {
		t.Errorf("hikyaku_smtp_sessions = %v, want 2", n)
	}

	first.Close()
	// The server notices the close when its read returns; wait for the slot.
	deadline := time.Now().Add(30 * time.Second)
	for testutil.ToFloat64(r.metrics.sessions) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the closed session's slot was never given back")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, g := greeting(); !strings.HasPrefix(g, "220 ") {
		t.Errorf("after a session closed: %q, want 220", g)
	}
}

// panickyBackend's sessions panic on DATA.
type panickyBackend struct{}

func (panickyBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return panickySession{}, nil }

type panickySession struct{}

func (panickySession) Mail(string, *smtp.MailOptions) error { return nil }
func (panickySession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (panickySession) Data(r io.Reader) error               { io.Copy(io.Discard, r); panic("boom in DATA") }
func (panickySession) Reset()                               {}
func (panickySession) Logout() error                        { return nil }

// TestPanicInMailSessionIsAnswered451: the listener's sessions are guarded;
// a panic in one is handed to the Recovered hook (which serve points at
// hikyaku_panics_total{where="smtp"}) with the command that ran, and the
// relay gets 451 so it tries again.
func TestPanicInMailSessionIsAnswered451(t *testing.T) {
	r := newMailRig(t)
	if _, ok := r.srv.srv.Backend.(recoverSMTP); !ok {
		t.Fatal("the reply listener's sessions are not guarded against panics")
	}
	var mu sync.Mutex
	var got []string
	hook := func(v any, kv ...any) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, fmt.Sprintln(append([]any{v}, kv...)...))
	}
	srv := smtp.NewServer(recoverSMTP{panickyBackend{}, hook})
	srv.Domain = "hikyaku.test"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	r.listen = ln.Addr().String()
	err = r.deliver("alice@example.com", []string{"reply@hikyaku.test"}, []byte("Subject: ack\r\n\r\nack\r\n"))
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 451 {
		t.Fatalf("DATA with a panicking session: %v, want 451 so the relay retries", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != "boom in DATA command DATA\n" {
		t.Fatalf("the hook got %q, want the panic and command DATA once", got)
	}
}

// TestPanicWithoutHookIsLogged: with no Recovered hook the listener still
// logs a session's panic at ERROR with its stack.
func TestPanicWithoutHookIsLogged(t *testing.T) {
	r := newMailRig(t)
	rec := r.srv.srv.Backend.(recoverSMTP).recovered
	func() {
		defer func() { rec(recover(), "command", "RCPT") }()
		panic("boom in RCPT")
	}()
	if v, ok := r.logs.attr("panic recovered; hikyaku keeps running", "stack"); !ok || !strings.Contains(v.String(), "runtime/debug.Stack") {
		t.Fatalf("no ERROR line with the stack (found %v)", ok)
	}
	if v, _ := r.logs.attr("panic recovered; hikyaku keeps running", "command"); v.String() != "RCPT" {
		t.Errorf("command = %q, want RCPT", v.String())
	}
}
