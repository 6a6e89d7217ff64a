package email

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/text/encoding/japanese"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/channelstest"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/internal/fakesmtp"
)

const signingKey = "test-signing-key-0123456789abcdef"

// rigConfig has carol (Japanese) and bob emailed, boss not; {{smarthost}}
// is the fake smarthost's address.
const rigConfig = `
global:
  timezone: Asia/Tokyo
  signing_key: {value: ` + signingKey + `}
receivers:
  - name: hikyaku
    bearer_token: {value: hook-token}
users:
  - id: bob
    contacts: {email: bob@example.com}
  - id: carol
    language: ja
    contacts: {email: carol@example.com}
  - id: boss
    contacts: {email: boss@example.com}
departments:
  - id: eng
    escalation_policy: eng
escalation_policies:
  - id: eng
    steps:
      - targets: {users: [carol]}
        escalate_after: 5m
default_route:
  department: eng
providers:
  smtp:
    smarthost: {{smarthost}}
    from: hikyaku@example.com
    tls: none
    reply_domain: reply.example.com
`

// receiver is the fake engine, with the real email sender behind Send, so
// a confirmation or a notice reaches the fake smarthost as it would.
type receiver struct {
	*channelstest.Receiver
	sender *Sender
}

func (r receiver) Send(ctx context.Context, m *channels.Message) (channels.Receipt, error) {
	if _, err := r.Receiver.Send(ctx, m); err != nil {
		return channels.Receipt{}, err
	}
	return r.sender.Send(ctx, m)
}

// mailRig is the reply listener on a local port over the fake engine, with
// the real email sender delivering to a fake smarthost.
type mailRig struct {
	t       *testing.T
	cfg     *config.Config
	rcv     *channelstest.Receiver
	engine  receiver
	out     *fakesmtp.Server // what hikyaku sent
	dns     *fakeDNS         // the DKIM keys the listener finds
	metrics *Metrics
	logs    *logRecords
	srv     *MailServer // the reply listener
	listen  string      // its address
}

// newMailRig's edit, if any, changes the test configuration first.
func newMailRig(t *testing.T, edit ...func(string) string) *mailRig {
	t.Helper()
	out := fakesmtp.Start(t, fakesmtp.Options{})
	text := strings.Replace(rigConfig, "{{smarthost}}", out.Addr, 1)
	for _, f := range edit {
		text = f(text)
	}
	cfg, err := config.Parse([]byte(text), "test.yml")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	sender, err := New(cfg.Providers.SMTP, WithReplyKey([]byte(signingKey)))
	if err != nil {
		t.Fatal(err)
	}
	rcv := &channelstest.Receiver{Cfg: cfg, Delivered: map[int64][]channels.Delivery{}}
	r := &mailRig{t: t, cfg: cfg, rcv: rcv, engine: receiver{rcv, sender}, out: out, dns: newFakeDNS(),
		metrics: NewMetrics(prometheus.NewRegistry()), logs: &logRecords{}}
	r.srv = r.server(ServerOptions{})
	r.listen = serveMail(t, r.srv)
	return r
}

// server is a listener over the rig's engine, DNS, metrics and log.
func (r *mailRig) server(opts ServerOptions) *MailServer {
	opts.LookupTXT, opts.Metrics = r.dns.LookupTXT, r.metrics
	return NewMailServer(r.engine, slog.New(r.logs), opts)
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

func (r *mailRig) repliesCounted(result, reason string) float64 {
	return testutil.ToFloat64(r.metrics.replies.WithLabelValues(result, reason))
}

// acted are the actions the listener asked of the engine that were no
// replay of an earlier one, as "incident verb user".
func (r *mailRig) acted() []string {
	var out []string
	for _, a := range r.rcv.Actions() {
		if !a.Replayed {
			out = append(out, fmt.Sprintf("%d %s %s", a.Incident, a.Verb, a.User))
		}
	}
	return out
}

// refusals are incident id's reply_refused notes.
func (r *mailRig) refusals(id int64) []channels.Note {
	r.t.Helper()
	notes, err := r.rcv.Noted(context.Background(), id, eventReplyRefused)
	if err != nil {
		r.t.Fatal(err)
	}
	return notes
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

// page emails incident id's page to user through the real sender, as the
// engine does, and records the delivery the engine would.
func (r *mailRig) page(id int64, user string) sent {
	r.t.Helper()
	u := r.cfg.User(user)
	m := &channels.Message{IdempotencyKey: fmt.Sprintf("notify/%d/page/0/%s/email", id, user), Channel: "email",
		Kind: channels.KindPage, IncidentID: id, To: u.Contacts.Get(config.ChannelEmail), UserID: u.ID, Language: u.Language,
		Subject: fmt.Sprintf("[hikyaku #%d] CRITICAL eng: disk full", id), Text: "disk full",
		Incident: channels.Incident{ID: id, Status: "open", Severity: "critical", Department: "eng", Step: 1}}
	if _, err := r.engine.sender.Send(context.Background(), m); err != nil {
		r.t.Fatal(err)
	}
	r.rcv.Delivered[id] = append(r.rcv.Delivered[id], channels.Delivery{Incident: id, Kind: channels.KindPage,
		Channel: "email", User: user, To: u.Contacts.Get(config.ChannelEmail), Step: 1})
	got := r.mailTo(u.Contacts.Get(config.ChannelEmail))
	if len(got) == 0 || got[len(got)-1].ReplyTo == "" || got[len(got)-1].MessageID == "" {
		r.t.Fatalf("want a page to %s with a Reply-To, got %+v", user, got)
	}
	return got[len(got)-1]
}

// TestEmailReplyAcks is the whole path through the listener: carol answers
// 了解 in ISO-2022-JP above the quoted page, to her reply address; the
// engine is asked to ack incident 1 as carol via email, once, named by the
// Message-ID; she gets a confirmation; the relay's retry of the same mail
// is a replay that answers nobody.
func TestEmailReplyAcks(t *testing.T) {
	r := newMailRig(t)
	pg := r.page(1, "carol")
	if !strings.HasSuffix(pg.ReplyTo, "@reply.example.com") {
		t.Fatalf("Reply-To %q is not at the reply domain", pg.ReplyTo)
	}
	reply := answer{from: "carol@example.com", rcpt: []string{pg.ReplyTo}, inReplyTo: pg.MessageID,
		messageID: "reply-1@mail.example.com", charset: "iso-2022-jp",
		text: "了解\r\n\r\n2026年1月7日 14:00 hikyaku <hikyaku@example.com>:\r\n> ack 999\r\n> " + pg.Subject + "\r\n"}
	if err := r.send(reply); err != nil {
		t.Fatalf("reply refused: %v", err)
	}
	acts := r.rcv.Actions()
	want := channels.Action{Incident: 1, Verb: channels.Ack, User: "carol", Via: "email", Dedup: "email:reply-1@mail.example.com"}
	if len(acts) != 1 || acts[0] != want {
		t.Fatalf("actions %+v, want %+v", acts, want)
	}
	got := r.mailTo("carol@example.com")
	if len(got) != 2 || !strings.Contains(got[1].Text, "インシデント #1 を carol さんが了解しました（メール）。エスカレーションを停止しました。") {
		t.Fatalf("want the page and a confirmation, got %+v", got)
	}
	if got[1].Subject != "Re: [hikyaku] page" {
		t.Errorf("confirmation subject %q, want the reply's", got[1].Subject)
	}
	sent := r.rcv.Sent()
	if len(sent) != 1 || sent[0].Kind != kindConfirmation || sent[0].IdempotencyKey != "confirm/email:reply-1@mail.example.com" ||
		sent[0].To != "carol@example.com" || sent[0].IncidentID != 1 || sent[0].Incident.AckedBy != "carol" {
		t.Errorf("the confirmation asked of the engine: %+v", sent)
	}
	if n := r.repliesCounted("acted", ""); n != 1 {
		t.Errorf("acted = %v, want 1", n)
	}

	// The relay did not see our 250 and sends the same mail again.
	if err := r.send(reply); err != nil {
		t.Fatal(err)
	}
	if acts := r.rcv.Actions(); len(acts) != 2 || !acts[1].Replayed || acts[1].Dedup != want.Dedup {
		t.Errorf("the retry's action: %+v, want a replay of the first", acts)
	}
	if n := len(r.mailTo("carol@example.com")); n != 2 {
		t.Errorf("a retried reply was answered again (%d mails to carol)", n)
	}
	if n := r.repliesCounted("unchanged", ""); n != 1 {
		t.Errorf("unchanged = %v, want 1", n)
	}
}

// TestEmailReplyRetryInTheWindowIsNotConfirmedAgain: when the engine says
// the request acted already (a relay's retry it still remembers), the
// listener answers 250 and sends no second confirmation.
func TestEmailReplyRetryInTheWindowIsNotConfirmedAgain(t *testing.T) {
	r := newMailRig(t)
	pg := r.page(1, "carol")
	r.rcv.ActFunc = func(a channels.Action) (channels.Result, error) {
		return channels.Result{Outcome: channels.Done, Retry: true, Incident: channels.Incident{ID: 1, Status: "acked", AckedBy: "carol"}}, nil
	}
	if err := r.send(answer{from: "carol@example.com", rcpt: []string{pg.ReplyTo}, messageID: "m@example.com", text: "ack"}); err != nil {
		t.Fatal(err)
	}
	if got := r.mailTo("carol@example.com"); len(got) != 1 {
		t.Errorf("mail to carol after a retry: %+v, want the page only", got)
	}
	if n := r.repliesCounted("unchanged", ""); n != 1 {
		t.Errorf("unchanged = %v, want 1", n)
	}
}

// TestEmailReplyStoreDownDefers: when the engine cannot record (the store
// is down), the relay is told to try again (451) and nothing is kept.
func TestEmailReplyStoreDownDefers(t *testing.T) {
	r := newMailRig(t)
	pg := r.page(1, "carol")
	r.rcv.Err = errors.New("store down")
	err := r.send(answer{from: "carol@example.com", rcpt: []string{pg.ReplyTo}, messageID: "m@example.com", text: "ack"})
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 451 {
		t.Fatalf("reply with the store down: %v, want 451", err)
	}
	if n := r.repliesCounted("deferred", "store"); n != 1 {
		t.Errorf("deferred/store = %v, want 1", n)
	}
	if r.rcv.WasSeen("email:m@example.com") {
		t.Error("the replay record of a deferred reply is kept")
	}
}

// TestEmailThreadReplyEscalatesOnce answers without the reply address (a
// client that replied to From): the thread names the incident, carol was
// emailed about it, her mail domain signed the reply (DKIM), and one mail
// escalates once however often it arrives.
func TestEmailThreadReplyEscalatesOnce(t *testing.T) {
	r := newMailRig(t)
	pg := r.page(1, "carol")
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
	if got := r.acted(); len(got) != 1 || got[0] != "1 escalate carol" {
		t.Fatalf("actions from one mail sent three times: %q, want one escalation", got)
	}
	if got := r.mailTo("carol@example.com"); len(got) != 2 ||
		!strings.Contains(got[1].Text, "インシデント #1 を carol さんがエスカレーションしました（メール）。次の段階を呼び出します。") {
		t.Errorf("want one confirmation, got %+v", got)
	}
}

// TestEmailReplyChangesNothingForStrangers: every message below is
// accepted (a spammer learns nothing) and none of them acts. Mail that is
// no answer is ignored without a trace on the timeline; an answer whose
// sender is not proven is refused with a reply_refused line saying why.
func TestEmailReplyChangesNothingForStrangers(t *testing.T) {
	r := newMailRig(t)
	const id = 1
	pg := r.page(id, "carol")
	local, _, _ := strings.Cut(pg.ReplyTo, "@")
	forged := local[:len(local)-4] + "aaaa@reply.example.com"
	otherIncident := ReplyAddress([]byte(signingKey), id+1, "carol", "hikyaku", "reply.example.com")
	for name, a := range map[string]answer{
		"out of office":                        {from: "carol@example.com", rcpt: []string{pg.ReplyTo}, inReplyTo: pg.MessageID, text: "ack\n\nI am away until Monday.", header: map[string]string{"Auto-Submitted": "auto-replied"}},
		"X-Autoreply":                          {from: "carol@example.com", rcpt: []string{pg.ReplyTo}, inReplyTo: pg.MessageID, text: "ack", header: map[string]string{"X-Autoreply": "yes"}},
		"nothing but the quote":                {from: "carol@example.com", rcpt: []string{pg.ReplyTo}, inReplyTo: pg.MessageID, text: "\n> ack 1"},
		"names another incident":               {from: "carol@example.com", rcpt: []string{pg.ReplyTo}, inReplyTo: pg.MessageID, text: fmt.Sprintf("ack %d", id+1)},
		"token for an incident not the text's": {from: "carol@example.com", rcpt: []string{otherIncident}, text: fmt.Sprintf("ack %d", id)},
		"no thread, no token":                  {from: "carol@example.com", rcpt: []string{"hikyaku@example.com"}, text: fmt.Sprintf("ack %d", id)},
	} {
		if err := r.send(a); err != nil {
			t.Errorf("%s: refused (%v); want accepted and ignored", name, err)
		}
		if n := len(r.refusals(id)); n != 0 {
			t.Fatalf("%s: wrote to the timeline: %+v", name, r.refusals(id))
		}
	}
	if err := r.deliver("", []string{pg.ReplyTo}, answer{from: "carol@example.com", rcpt: []string{pg.ReplyTo}, text: "ack"}.build(t)); err != nil {
		t.Errorf("bounce: %v", err)
	}
	if n := len(r.rcv.Notes()); n != 0 {
		t.Errorf("ignored mail wrote to the timeline: %+v", r.rcv.Notes())
	}
	for _, reason := range []string{"automatic", "no_command", "other_incident", "not_a_reply", "bounce"} {
		if r.repliesCounted("ignored", reason) == 0 {
			t.Errorf("ignored/%s not counted", reason)
		}
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
		if len(got) != n+1 || got[n].Detail["reason"] != c.reason || got[n].Detail["via"] != "email" {
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
	if n := len(r.rcv.Notes()); n != len(refused) {
		t.Errorf("%d notes, want %d reply_refused: %+v", n, len(refused), r.rcv.Notes())
	}
	if got := r.rcv.Actions(); len(got) != 0 {
		t.Fatalf("strangers' mail acted: %+v", got)
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

// TestEmailReplyToResolvedIncident tells the person it is resolved.
func TestEmailReplyToResolvedIncident(t *testing.T) {
	r := newMailRig(t)
	pg := r.page(1, "carol")
	r.rcv.ActFunc = func(a channels.Action) (channels.Result, error) {
		return channels.Result{Outcome: channels.AlreadyResolved, Incident: channels.Incident{ID: 1, Status: "resolved"}}, nil
	}
	if err := r.send(answer{from: "carol@example.com", rcpt: []string{pg.ReplyTo}, inReplyTo: pg.MessageID, messageID: "late@mail.example.com", text: "ack"}); err != nil {
		t.Fatal(err)
	}
	got := r.mailTo("carol@example.com")
	if len(got) != 2 || !strings.Contains(got[1].Text, "インシデント #1 は既に解決済みです。変更はありません。") {
		t.Errorf("want an answer that it is resolved, got %+v", got)
	}
	if n := r.repliesCounted("unchanged", ""); n != 1 {
		t.Errorf("unchanged = %v, want 1", n)
	}
}

// TestEmailReplyRefusedByTheRoles: a refusal is final (the relay is not
// made to retry) and the person is mailed the reason the engine gave.
func TestEmailReplyRefusedByTheRoles(t *testing.T) {
	r := newMailRig(t)
	pg := r.page(1, "carol")
	const why = "インシデント #1 は db のもので、あなたはそこで役割がなく、呼び出されてもいません。何も変更していません。"
	r.rcv.ActFunc = func(a channels.Action) (channels.Result, error) {
		return channels.Result{Outcome: channels.Forbidden, Reason: why}, nil
	}
	if err := r.send(answer{from: "carol@example.com", rcpt: []string{pg.ReplyTo}, inReplyTo: pg.MessageID, messageID: "nope@mail.example.com", text: "ack"}); err != nil {
		t.Fatalf("a refused reply was answered with an error (the relay would retry it for days): %v", err)
	}
	got := r.mailTo("carol@example.com")
	if len(got) != 2 || !strings.Contains(got[1].Text, why) {
		t.Errorf("want the reason mailed back, got %+v", got)
	}
	if n := r.repliesCounted("unchanged", ""); n != 1 {
		t.Errorf("unchanged = %v, want 1", n)
	}
}

// TestConfirmationText is every answer, in English and Japanese, written out.
func TestConfirmationText(t *testing.T) {
	cfg, err := config.Parse([]byte(strings.Replace(rigConfig, "{{smarthost}}", "127.0.0.1:25", 1)), "test.yml")
	if err != nil {
		t.Fatal(err)
	}
	inc := func(by string) channels.Incident { return channels.Incident{ID: 7, Status: "acked", AckedBy: by} }
	for _, tc := range []struct {
		lang string
		verb channels.Verb
		res  channels.Result
		want string
	}{
		{"en", channels.Ack, channels.Result{Outcome: channels.Done, Incident: inc("carol")}, "Incident #7 acknowledged by carol (email): escalation stopped."},
		{"en", channels.Ack, channels.Result{Outcome: channels.AlreadyAcked, Incident: inc("bob")}, "Incident #7 was already acknowledged by bob."},
		{"en", channels.Ack, channels.Result{Outcome: channels.AlreadyAcked, Incident: inc("carol")}, "Incident #7 acknowledged by carol (email): escalation stopped."},
		{"en", channels.Resolve, channels.Result{Outcome: channels.Done}, "Incident #7 resolved by carol (email)."},
		{"en", channels.Escalate, channels.Result{Outcome: channels.Done}, "Incident #7 escalated by carol (email): the next step is being paged."},
		{"en", channels.Ack, channels.Result{Outcome: channels.AlreadyResolved}, "Incident #7 is already resolved: nothing was changed."},
		{"en", channels.Resolve, channels.Result{Outcome: channels.NotFound}, "There is no incident #7: nothing was changed."},
		{"ja", channels.Ack, channels.Result{Outcome: channels.Done, Incident: inc("carol")}, "インシデント #7 を carol さんが了解しました（メール）。エスカレーションを停止しました。"},
		{"ja", channels.Ack, channels.Result{Outcome: channels.AlreadyAcked, Incident: inc("bob")}, "インシデント #7 は既に bob さんが了解済みです。"},
		{"ja", channels.Resolve, channels.Result{Outcome: channels.Done}, "インシデント #7 を carol さんが解決済みにしました（メール）。"},
		{"ja", channels.Escalate, channels.Result{Outcome: channels.Done}, "インシデント #7 を carol さんがエスカレーションしました（メール）。次の段階を呼び出します。"},
		{"ja", channels.Ack, channels.Result{Outcome: channels.AlreadyResolved}, "インシデント #7 は既に解決済みです。変更はありません。"},
		{"ja", channels.Ack, channels.Result{Outcome: channels.NotFound}, "インシデント #7 はありません。変更はありません。"},
	} {
		a := channels.Action{Incident: 7, Verb: tc.verb, User: "carol", Via: "email"}
		if got := confirmationText(cfg, tc.lang, a, tc.res); got != tc.want {
			t.Errorf("%s %s %s: %q, want %q", tc.lang, tc.verb, tc.res.Outcome, got, tc.want)
		}
	}
}
