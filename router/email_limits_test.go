package router

import (
	"bufio"
	"bytes"
	"context"
	"errors"
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
	logs := &logRecords{}
	r.engine.log = slog.New(logs)
	srv := NewMailServer(r.engine, MailOptions{LookupTXT: r.dns.LookupTXT})
	if srv.MaxMessageBytes() != 256<<10 {
		t.Fatalf("default limit %d, want 262144", srv.MaxMessageBytes())
	}
	r.listen = serveMail(t, srv)
	_, pg := r.page()

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
	srv := NewMailServer(r.engine, MailOptions{MaxSessions: 2, LookupTXT: r.dns.LookupTXT})
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
	if n := testutil.ToFloat64(r.engine.metrics.mail.sessionsRefused); n != 1 {
		t.Errorf("hikyaku_smtp_sessions_refused_total = %v, want 1", n)
	}
	if n := testutil.ToFloat64(r.engine.metrics.mail.sessions); n != 2 {
		t.Errorf("hikyaku_smtp_sessions = %v, want 2", n)
	}

	first.Close()
	// The server notices the close when its read returns; wait for the slot.
	deadline := time.Now().Add(30 * time.Second)
	for testutil.ToFloat64(r.engine.metrics.mail.sessions) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the closed session's slot was never given back")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, g := greeting(); !strings.HasPrefix(g, "220 ") {
		t.Errorf("after a session closed: %q, want 220", g)
	}
}
