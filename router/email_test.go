package router

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-smtp"
	"golang.org/x/text/encoding/japanese"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/email"
	"github.com/hikyaku/hikyaku/internal/fakesmtp"
	"github.com/hikyaku/hikyaku/store"
)

const signingKey = "test-signing-key-0123456789abcdef"

// mailRig is the harness with the real email sender delivering to a fake
// smarthost, and hikyaku's reply listener on a local port.
type mailRig struct {
	*harness
	out    *fakesmtp.Server // what hikyaku sent
	dns    *fakeDNS         // the DKIM keys the listener finds
	srv    *MailServer      // the reply listener
	listen string           // its address
}

// newMailRig's edit, if any, changes the test configuration first.
func newMailRig(t *testing.T, edit ...func(string) string) *mailRig {
	t.Helper()
	out := fakesmtp.Start(t, fakesmtp.Options{})
	base := testConfig
	for _, f := range edit {
		base = f(base)
	}
	cfgText := withGlobal(base, fmt.Sprintf("global:\n  signing_key: {value: %s}\n", signingKey)) + fmt.Sprintf(`
providers:
  smtp:
    smarthost: %s
    from: hikyaku@example.com
    tls: none
    reply_domain: reply.example.com
`, out.Addr)
	h := newHarness(t, cfgText)
	em, err := email.New(h.engine.Policies().Config().Providers.SMTP, email.WithReplyKey([]byte(signingKey)), email.WithClock(h.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	senders := map[string]channels.Sender{"sms": h.sent, "voice": h.sent, "slack": h.sent, "webhook": h.sent, "email": em}
	h.engine.senders.Store(&senders)

	dns := newFakeDNS()
	srv := NewMailServer(h.engine, MailOptions{LookupTXT: dns.LookupTXT})
	return &mailRig{harness: h, out: out, dns: dns, srv: srv, listen: serveMail(t, srv)}
}

// serveMail runs srv on a local port until the test ends.
func serveMail(t *testing.T, srv *MailServer) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// sent is a message hikyaku sent, as its recipient reads it.
type sent struct {
	To, MessageID, ReplyTo, Subject, Text string
}

// mailTo lists what hikyaku sent to addr, decoded.
func (r *mailRig) mailTo(addr string) []sent {
	r.t.Helper()
	var out []sent
	for _, m := range r.out.Messages() {
		if len(m.To) != 1 || m.To[0] != addr {
			continue
		}
		mr, err := mail.CreateReader(bytes.NewReader(m.Data))
		if err != nil {
			r.t.Fatal(err)
		}
		s := sent{To: addr}
		s.MessageID, _ = mr.Header.MessageID()
		s.Subject, _ = mr.Header.Subject()
		if rt, _ := mr.Header.AddressList("Reply-To"); len(rt) == 1 {
			s.ReplyTo = rt[0].Address
		}
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			if ct := p.Header.Get("Content-Type"); strings.HasPrefix(ct, "text/plain") {
				b, _ := io.ReadAll(p.Body)
				s.Text = string(b)
			}
		}
		out = append(out, s)
	}
	return out
}

// answer is a reply as a mail client writes it.
type answer struct {
	envFrom, from string
	rcpt          []string // envelope recipients; the To header is the first
	inReplyTo     string
	messageID     string
	text          string
	charset       string // utf-8 by default
	html          bool   // an HTML-only reply
	header        map[string]string
}

// build writes the reply with go-message: quoted-printable text under the
// person's answer, the page quoted below it.
func (a answer) build(t *testing.T) []byte {
	t.Helper()
	var h mail.Header
	h.SetDate(time.Now())
	h.SetAddressList("From", []*mail.Address{{Address: a.from}})
	h.SetAddressList("To", []*mail.Address{{Address: a.rcpt[0]}})
	h.SetSubject("Re: [hikyaku] page")
	if a.messageID != "" {
		h.SetMessageID(a.messageID)
	}
	if a.inReplyTo != "" {
		h.SetMsgIDList("In-Reply-To", []string{a.inReplyTo})
		h.SetMsgIDList("References", []string{a.inReplyTo})
	}
	for k, v := range a.header {
		h.Set(k, v)
	}
	cs, ct, body := a.charset, "text/plain", a.text
	if cs == "" {
		cs = "utf-8"
	}
	if a.html {
		ct = "text/html"
	}
	if cs == "iso-2022-jp" {
		enc, err := japanese.ISO2022JP.NewEncoder().String(body)
		if err != nil {
			t.Fatal(err)
		}
		body = enc
	}
	h.SetContentType(ct, map[string]string{"charset": cs})
	if cs == "iso-2022-jp" {
		h.Set("Content-Transfer-Encoding", "7bit")
	} else {
		h.Set("Content-Transfer-Encoding", "quoted-printable")
	}
	var buf bytes.Buffer
	if cs == "iso-2022-jp" {
		// go-message writes UTF-8 only: the header is its, the body already 7-bit.
		if err := textproto.WriteHeader(&buf, h.Header.Header); err != nil {
			t.Fatal(err)
		}
		buf.WriteString(body)
		return buf.Bytes()
	}
	w, err := mail.CreateSingleInlineWriter(&buf, h)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, body)
	w.Close()
	return buf.Bytes()
}

// deliver hands data to the reply listener over SMTP as a relay would, and
// returns the listener's refusal, if any.
func (r *mailRig) deliver(envFrom string, rcpt []string, data []byte) error {
	r.t.Helper()
	c, err := smtp.Dial(r.listen)
	if err != nil {
		r.t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("mx.example.net"); err != nil {
		return err
	}
	if err := c.Mail(envFrom, nil); err != nil {
		return err
	}
	for _, to := range rcpt {
		if err := c.Rcpt(to, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func (r *mailRig) send(a answer) error {
	r.t.Helper()
	if a.envFrom == "" {
		a.envFrom = a.from
	}
	return r.deliver(a.envFrom, a.rcpt, a.build(r.t))
}

// page opens the nights incident: carol (Japanese) is emailed at once.
func (r *mailRig) page() (int64, sent) {
	r.t.Helper()
	id := r.post("firing", "g1", map[string]string{"team": "nights"})[0].ID
	r.advance(0)
	got := r.mailTo("carol@example.com")
	if len(got) != 1 || got[0].ReplyTo == "" || got[0].MessageID == "" {
		r.t.Fatalf("want one page to carol with a Reply-To, got %+v", got)
	}
	return id, got[0]
}

// TestEmailReplyAcks is the whole path: carol's page goes out through the
// smarthost; she answers 了解 in ISO-2022-JP above the quoted page, through
// the reply listener; the incident is hers via email, nobody is paged again,
// she gets a confirmation, and the relay's retry of the same mail acts once.
func TestEmailReplyAcks(t *testing.T) {
	r := newMailRig(t)
	id, pg := r.page()
	if !strings.HasSuffix(pg.ReplyTo, "@reply.example.com") {
		t.Fatalf("Reply-To %q is not at the reply domain", pg.ReplyTo)
	}
	reply := answer{from: "carol@example.com", rcpt: []string{pg.ReplyTo}, inReplyTo: pg.MessageID,
		messageID: "reply-1@mail.example.com", charset: "iso-2022-jp",
		text: "了解\r\n\r\n2026年1月7日 14:00 hikyaku <hikyaku@example.com>:\r\n> ack 999\r\n> " + pg.Subject + "\r\n"}
	if err := r.send(reply); err != nil {
		t.Fatalf("reply refused: %v", err)
	}
	inc, _ := r.st.Get(context.Background(), id)
	if inc.Status != store.StatusAcked || inc.AckedBy != "carol" {
		t.Fatalf("want acked by carol, got %s by %q", inc.Status, inc.AckedBy)
	}
	evs, _ := r.st.Timeline(context.Background(), id)
	var acked *store.Event
	for i := range evs {
		if evs[i].Type == "acked" {
			acked = &evs[i]
		}
	}
	if acked == nil || acked.Actor != "carol" || acked.Detail["via"] != "email" || !acked.At.Equal(r.clock.Now()) {
		t.Fatalf("timeline's ack: %+v", acked)
	}
	got := r.mailTo("carol@example.com")
	if len(got) != 2 || !strings.Contains(got[1].Text, "インシデント #1 を carol さんが了解しました") {
		t.Fatalf("want the page and a confirmation, got %+v", got)
	}
	if !strings.HasPrefix(got[1].Subject, "Re: ") {
		t.Errorf("confirmation subject %q", got[1].Subject)
	}

	// The relay did not see our 250 and sends the same mail again.
	if err := r.send(reply); err != nil {
		t.Fatal(err)
	}
	if n := len(r.mailTo("carol@example.com")); n != 2 {
		t.Errorf("a retried reply was answered again (%d mails to carol)", n)
	}
	if n := strings.Count(strings.Join(r.timeline(id), " "), "acked"); n != 1 {
		t.Errorf("%d acks", n)
	}

	// Round 2 would page her again at +5m: nobody is paged any more.
	r.advance(15 * time.Minute)
	if got := r.mailTo("carol@example.com"); len(got) != 2 {
		t.Errorf("mail to carol after her ack: %+v", got[2:])
	}
	if got, _ := r.pages(0); len(got) != 0 {
		t.Errorf("pages on other channels: %q", got)
	}
}

// TestEmailThreadReplyEscalatesOnce answers without the reply address (a
// client that replied to From): the thread names the incident, carol was
// emailed about it, her mail domain signed the reply (DKIM), and one mail
// escalates once however often it arrives.
func TestEmailThreadReplyEscalatesOnce(t *testing.T) {
	r := newMailRig(t)
	id, pg := r.page()
	key := r.dns.publish(t, "example.com", "google")
	reply := answer{from: "carol@example.com", rcpt: []string{"hikyaku@example.com"}, inReplyTo: pg.MessageID,
		messageID: "reply-2@mail.example.com", html: true,
		text: `<html><head><style>p{}</style></head><body><div dir="ltr">Escalate&nbsp;</div><br><div class="gmail_quote"><blockquote>ack 1</blockquote></div></body></html>`}
	raw := dkimSign(t, reply.build(t), "example.com", "google", key, nil)
	for range 3 {
		if err := r.deliver(reply.from, reply.rcpt, raw); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(strings.Join(r.timeline(id), " "), "escalated"); n != 1 {
		t.Fatalf("%d escalations from one mail sent three times", n)
	}
	if got := r.mailTo("carol@example.com"); len(got) != 2 || !strings.Contains(got[1].Text, "エスカレーション") {
		t.Errorf("want one confirmation, got %+v", got)
	}
}

// TestEmailReplyChangesNothingForStrangers: every message below is
// accepted (a spammer learns nothing) and none of them acts. Mail that is
// no answer is ignored without a trace on the timeline; an answer whose
// sender is not proven is refused with a reply_refused line saying why.
func TestEmailReplyChangesNothingForStrangers(t *testing.T) {
	r := newMailRig(t)
	id, pg := r.page()
	before := len(r.timeline(id))
	local, _, _ := strings.Cut(pg.ReplyTo, "@")
	forged := local[:len(local)-4] + "aaaa@reply.example.com"
	otherIncident := email.ReplyAddress([]byte(signingKey), id+1, "carol", "hikyaku", "reply.example.com")
	for name, a := range map[string]answer{
		"out of office":                        {from: "carol@example.com", rcpt: []string{pg.ReplyTo}, inReplyTo: pg.MessageID, text: "ack\n\nI am away until Monday.", header: map[string]string{"Auto-Submitted": "auto-replied"}},
		"X-Autoreply":                          {from: "carol@example.com", rcpt: []string{pg.ReplyTo}, inReplyTo: pg.MessageID, text: "ack", header: map[string]string{"X-Autoreply": "yes"}},
		"no command":                           {from: "carol@example.com", rcpt: []string{pg.ReplyTo}, inReplyTo: pg.MessageID, text: "what is this about?\n> ack 1"},
		"names another incident":               {from: "carol@example.com", rcpt: []string{pg.ReplyTo}, inReplyTo: pg.MessageID, text: fmt.Sprintf("ack %d", id+1)},
		"token for an incident not the text's": {from: "carol@example.com", rcpt: []string{otherIncident}, text: fmt.Sprintf("ack %d", id)},
		"no thread, no token":                  {from: "carol@example.com", rcpt: []string{"hikyaku@example.com"}, text: fmt.Sprintf("ack %d", id)},
	} {
		if err := r.send(a); err != nil {
			t.Errorf("%s: refused (%v); want accepted and ignored", name, err)
		}
		if tl := r.timeline(id); len(tl) != before {
			t.Fatalf("%s: wrote to the timeline: %q", name, tl[before:])
		}
	}
	if err := r.deliver("", []string{pg.ReplyTo}, answer{from: "carol@example.com", rcpt: []string{pg.ReplyTo}, text: "ack"}.build(t)); err != nil {
		t.Errorf("bounce: %v", err)
	}
	if tl := r.timeline(id); len(tl) != before {
		t.Errorf("ignored mail wrote to the timeline: %q", tl[before:])
	}

	refused := map[string]struct {
		a      answer
		reason string
	}{
		"unknown sender, valid token":    {answer{from: "mallory@evil.example", rcpt: []string{pg.ReplyTo}, inReplyTo: pg.MessageID, text: "ack"}, "reply_address_of_another_user"},
		"configured user, carol's token": {answer{from: "bob@example.com", rcpt: []string{pg.ReplyTo}, inReplyTo: pg.MessageID, text: "ack"}, "reply_address_of_another_user"},
		"From is not the envelope":       {answer{envFrom: "carol@example.com", from: "mallory@evil.example", rcpt: []string{pg.ReplyTo}, text: "ack"}, "envelope_from_mismatch"},
		"envelope is not From":           {answer{envFrom: "mallory@evil.example", from: "carol@example.com", rcpt: []string{pg.ReplyTo}, text: "ack"}, "envelope_from_mismatch"},
		"thread, sender not emailed":     {answer{from: "bob@example.com", rcpt: []string{"hikyaku@example.com"}, inReplyTo: pg.MessageID, text: "ack"}, "not_emailed"},
		"thread, stranger":               {answer{from: "mallory@evil.example", rcpt: []string{"hikyaku@example.com"}, inReplyTo: pg.MessageID, text: "ack"}, "unknown_sender"},
	}
	for name, c := range refused {
		n := len(r.refusals(id))
		if err := r.send(c.a); err != nil {
			t.Errorf("%s: refused at SMTP (%v); want accepted", name, err)
		}
		got := r.refusals(id)
		if len(got) != n+1 || got[n].Detail["reason"] != c.reason {
			t.Errorf("%s: want one more refusal for %s, got %+v", name, c.reason, got[n:])
		}
	}
	// A forged reply address proves nothing, not even the incident it names.
	if err := r.send(answer{from: "carol@example.com", rcpt: []string{forged}, inReplyTo: pg.MessageID, text: "ack"}); err != nil {
		t.Errorf("forged token: %v", err)
	}
	if n := r.repliesCounted("refused", "bad_reply_address"); n != 1 {
		t.Errorf("refused/bad_reply_address = %v, want 1", n)
	}
	if tl := r.timeline(id); len(tl) != before+len(refused) {
		t.Errorf("timeline grew by %d lines, want %d reply_refused: %q", len(tl)-before, len(refused), tl[before:])
	}

	inc, _ := r.st.Get(context.Background(), id)
	if inc.Status != store.StatusOpen {
		t.Fatalf("incident is %s", inc.Status)
	}
	// carol is told once (the envelope forgery used her From); nobody else is.
	if got := r.mailTo("carol@example.com"); len(got) != 2 || !strings.Contains(got[1].Text, "確認できなかった") {
		t.Errorf("want one notice to carol, got %+v", got[1:])
	}
	if got := r.mailTo("bob@example.com"); len(got) != 0 {
		t.Errorf("something answered bob: %+v", got)
	}
	if got := r.mailTo("mallory@evil.example"); len(got) != 0 {
		t.Errorf("something answered mallory: %+v", got)
	}
	// Escalation goes on: round 2 pages carol at +5m.
	r.advance(5 * time.Minute)
	if got := r.mailTo("carol@example.com"); len(got) != 3 {
		t.Errorf("escalation stopped after ignored mail: %d mails to carol", len(got))
	}
}

// TestEmailListenerIsNoOpenRelay refuses recipients outside the reply
// domains.
func TestEmailListenerIsNoOpenRelay(t *testing.T) {
	r := newMailRig(t)
	var se *smtp.SMTPError
	err := r.deliver("spammer@evil.example", []string{"victim@gmail.com"}, []byte("Subject: hi\r\n\r\nhi\r\n"))
	if !errors.As(err, &se) || se.Code != 550 {
		t.Errorf("relay attempt: %v, want 550", err)
	}
	if n := len(r.out.Messages()); n != 0 {
		t.Errorf("relayed %d messages", n)
	}
}

// TestEmailReplyToResolvedIncident tells the person it is resolved and changes nothing.
func TestEmailReplyToResolvedIncident(t *testing.T) {
	r := newMailRig(t)
	id, pg := r.page()
	r.post("resolved", "g1", map[string]string{"team": "nights"})
	if err := r.send(answer{from: "carol@example.com", rcpt: []string{pg.ReplyTo}, inReplyTo: pg.MessageID, messageID: "late@mail.example.com", text: "ack"}); err != nil {
		t.Fatal(err)
	}
	if tl := strings.Join(r.timeline(id), " "); strings.Contains(tl, "acked") {
		t.Errorf("a resolved incident was acked: %s", tl)
	}
	got := r.mailTo("carol@example.com")
	if len(got) != 2 || !strings.Contains(got[1].Text, "既に解決済み") {
		t.Errorf("want an answer that it is resolved, got %+v", got)
	}
}
