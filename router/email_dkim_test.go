package router

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hikyaku/hikyaku/store"
)

// fakeDNS answers DKIM key queries from keys the test published; any other
// name does not exist, as a resolver says for a domain without a key.
type fakeDNS struct {
	mu      sync.Mutex
	txt     map[string][]string
	queries []string
	fail    bool // every query times out
}

func newFakeDNS() *fakeDNS { return &fakeDNS{txt: map[string][]string{}} }

func (d *fakeDNS) LookupTXT(_ context.Context, name string) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.queries = append(d.queries, name)
	if d.fail {
		return nil, &net.DNSError{Err: "i/o timeout", Name: name, IsTimeout: true}
	}
	if txt, ok := d.txt[strings.ToLower(name)]; ok {
		return txt, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (d *fakeDNS) Queries() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.queries...)
}

// publish makes an Ed25519 key for selector at domain, puts its public half
// in DNS and returns the private half.
func (d *fakeDNS) publish(t *testing.T, domain, selector string) crypto.Signer {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	d.txt[selector+"._domainkey."+domain] = []string{"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)}
	d.mu.Unlock()
	return priv
}

// dkimSign signs raw as domain's mail system does; headers nil signs them all.
func dkimSign(t *testing.T, raw []byte, domain, selector string, key crypto.Signer, headers []string) []byte {
	t.Helper()
	var out bytes.Buffer
	err := dkim.Sign(&out, bytes.NewReader(raw), &dkim.SignOptions{Domain: domain, Selector: selector, Signer: key,
		HeaderKeys: headers, HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed})
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// refusals are incident id's reply_refused lines.
func (r *mailRig) refusals(id int64) []store.Event {
	r.t.Helper()
	evs, err := r.st.Timeline(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	var out []store.Event
	for _, ev := range evs {
		if ev.Type == eventReplyRefused {
			out = append(out, ev)
		}
	}
	return out
}

func (r *mailRig) repliesCounted(result, reason string) float64 {
	return testutil.ToFloat64(r.engine.metrics.mail.replies.WithLabelValues(result, reason))
}

// threadReply is carol's answer without the reply address: her client
// replied to From, so only In-Reply-To/References name the incident.
func threadReply(pg sent, messageID, text string) answer {
	return answer{from: "carol@example.com", rcpt: []string{"hikyaku@example.com"}, inReplyTo: pg.MessageID,
		messageID: messageID, text: text}
}

// TestEmailForgedThreadReplyIsRefused is the forgery of issue 8 item 6:
// anyone who can reach the listener writes carol's From and the page's
// Message-ID into References. Nothing changes; the timeline, the log and the
// metric say why; carol is told once, at her configured address.
func TestEmailForgedThreadReplyIsRefused(t *testing.T) {
	r := newMailRig(t)
	id, pg := r.page()
	for i, msgID := range []string{"forged-1@evil.example", "forged-2@evil.example"} {
		if err := r.send(threadReply(pg, msgID, "resolve")); err != nil {
			t.Fatalf("forged reply %d: %v, want 250 (a forger learns nothing)", i, err)
		}
	}
	inc, _ := r.st.Get(context.Background(), id)
	if inc.Status != store.StatusOpen || inc.AckedBy != "" {
		t.Fatalf("a forged reply changed the incident: %s by %q", inc.Status, inc.AckedBy)
	}
	refused := r.refusals(id)
	if len(refused) != 2 {
		t.Fatalf("want 2 reply_refused lines, got %+v", refused)
	}
	first := refused[0]
	if first.Detail["reason"] != "dkim_none" || first.Detail["from"] != "carol@example.com" ||
		first.Detail["message_id"] != "forged-1@evil.example" || first.Detail["told"] != "carol" || first.Actor != "" {
		t.Errorf("first refusal: %+v", first)
	}
	if refused[1].Detail["told"] != "" {
		t.Errorf("carol was told twice: %+v", refused[1])
	}
	got := r.mailTo("carol@example.com")
	if len(got) != 2 || !strings.Contains(got[1].Text, "インシデント #1 へのあなたのアドレスからの返信は送信者を確認できなかった") {
		t.Fatalf("want the page and one notice to carol, got %+v", got)
	}
	if got[1].ReplyTo == "" || got[1].ReplyTo != pg.ReplyTo {
		t.Errorf("the notice's Reply-To %q is not carol's reply address %q", got[1].ReplyTo, pg.ReplyTo)
	}
	if n := r.repliesCounted("refused", "dkim_none"); n != 2 {
		t.Errorf("hikyaku_email_replies_total{result=refused,reason=dkim_none} = %v, want 2", n)
	}
	// Escalation goes on: round 2 pages carol at +5m.
	r.advance(5 * time.Minute)
	if got := r.mailTo("carol@example.com"); len(got) != 3 {
		t.Errorf("escalation stopped after a forged reply: %d mails to carol", len(got))
	}
	// Answering the notice, through its reply address, works.
	if err := r.send(answer{from: "carol@example.com", rcpt: []string{got[1].ReplyTo}, messageID: "real@example.com", text: "ack"}); err != nil {
		t.Fatal(err)
	}
	if inc, _ := r.st.Get(context.Background(), id); inc.Status != store.StatusAcked || inc.AckedBy != "carol" {
		t.Errorf("carol's reply to the notice: %s by %q", inc.Status, inc.AckedBy)
	}
}

// TestEmailDKIMSignedThreadReplyActs: the same reply, signed by carol's mail
// domain (or a subdomain of it) acts; signed by anyone else, or with its
// thread headers outside the signature, or altered after signing, it does not.
func TestEmailDKIMSignedThreadReplyActs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sign   func(r *mailRig, raw []byte) []byte
		reason string // "" when it acts
	}{
		{"signed by example.com", func(r *mailRig, raw []byte) []byte {
			return dkimSign(r.t, raw, "example.com", "s1", r.dns.publish(r.t, "example.com", "s1"), nil)
		}, ""},
		{"signed by a subdomain", func(r *mailRig, raw []byte) []byte {
			return dkimSign(r.t, raw, "mail.example.com", "s1", r.dns.publish(r.t, "mail.example.com", "s1"), nil)
		}, ""},
		{"misaligned: signed by evil.example", func(r *mailRig, raw []byte) []byte {
			return dkimSign(r.t, raw, "evil.example", "s1", r.dns.publish(r.t, "evil.example", "s1"), nil)
		}, "dkim_misaligned"},
		{"misaligned: a sibling domain", func(r *mailRig, raw []byte) []byte {
			return dkimSign(r.t, raw, "evil.com", "s1", r.dns.publish(r.t, "evil.com", "s1"), nil)
		}, "dkim_misaligned"},
		{"a key that is not in DNS", func(r *mailRig, raw []byte) []byte {
			r.dns.publish(r.t, "example.com", "s1")
			other := newFakeDNS().publish(r.t, "example.com", "s1")
			return dkimSign(r.t, raw, "example.com", "s1", other, nil)
		}, "dkim_invalid"},
		{"no key published", func(r *mailRig, raw []byte) []byte {
			return dkimSign(r.t, raw, "example.com", "s1", newFakeDNS().publish(r.t, "example.com", "s1"), nil)
		}, "dkim_invalid"},
		{"body changed after signing", func(r *mailRig, raw []byte) []byte {
			out := dkimSign(r.t, raw, "example.com", "s1", r.dns.publish(r.t, "example.com", "s1"), nil)
			return bytes.Replace(out, []byte("=E4=BA=86=E8=A7=A3"), []byte("resolve"), 1)
		}, "dkim_invalid"},
		{"thread headers not signed", func(r *mailRig, raw []byte) []byte {
			return dkimSign(r.t, raw, "example.com", "s1", r.dns.publish(r.t, "example.com", "s1"),
				[]string{"From", "To", "Subject", "Date", "Message-Id", "Content-Type"})
		}, "dkim_thread_unsigned"},
		{"a References header added after signing", func(r *mailRig, raw []byte) []byte {
			out := dkimSign(r.t, raw, "example.com", "s1", r.dns.publish(r.t, "example.com", "s1"), nil)
			return append([]byte("References: <hikyaku.7@reply.example.com>\r\n"), out...)
		}, "duplicate_header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newMailRig(t)
			id, pg := r.page()
			raw := threadReply(pg, "signed@example.com", "了解").build(t)
			if err := r.deliver("carol@example.com", []string{"hikyaku@example.com"}, tc.sign(r, raw)); err != nil {
				t.Fatalf("reply: %v, want 250", err)
			}
			inc, _ := r.st.Get(context.Background(), id)
			refused := r.refusals(id)
			if tc.reason == "" {
				if inc.Status != store.StatusAcked || inc.AckedBy != "carol" || len(refused) != 0 {
					t.Fatalf("want acked by carol, got %s by %q, refusals %+v", inc.Status, inc.AckedBy, refused)
				}
				return
			}
			if inc.Status != store.StatusOpen {
				t.Fatalf("a refused reply changed the incident: %s by %q", inc.Status, inc.AckedBy)
			}
			if len(refused) != 1 || refused[0].Detail["reason"] != tc.reason {
				t.Fatalf("want one refusal for %s, got %+v", tc.reason, refused)
			}
		})
	}
}

// TestEmailDKIMTemporaryFailureDefers: when DNS cannot answer for the key,
// the relay is told to try again (451) and nothing is recorded yet.
func TestEmailDKIMTemporaryFailureDefers(t *testing.T) {
	r := newMailRig(t)
	id, pg := r.page()
	raw := dkimSign(t, threadReply(pg, "signed@example.com", "ack").build(t), "example.com", "s1", r.dns.publish(t, "example.com", "s1"), nil)
	r.dns.mu.Lock()
	r.dns.fail = true
	r.dns.mu.Unlock()
	err := r.deliver("carol@example.com", []string{"hikyaku@example.com"}, raw)
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 451 {
		t.Fatalf("reply during a DNS outage: %v, want 451", err)
	}
	if n := r.repliesCounted("deferred", "dns"); n != 1 {
		t.Errorf("deferred/dns = %v, want 1", n)
	}
	if len(r.refusals(id)) != 0 {
		t.Errorf("a deferred reply was recorded as refused")
	}
	r.dns.mu.Lock()
	r.dns.fail = false
	r.dns.mu.Unlock()
	if err := r.deliver("carol@example.com", []string{"hikyaku@example.com"}, raw); err != nil {
		t.Fatal(err)
	}
	if inc, _ := r.st.Get(context.Background(), id); inc.Status != store.StatusAcked {
		t.Errorf("the relay's retry: %s", inc.Status)
	}
}

// TestEmailStrangersCauseNoDNS: a thread reply from no one emailed about
// the incident is refused before any key is looked up, so the listener is
// no DNS amplifier for strangers.
func TestEmailStrangersCauseNoDNS(t *testing.T) {
	r := newMailRig(t)
	_, pg := r.page()
	raw := dkimSign(t, answer{from: "mallory@evil.example", rcpt: []string{"hikyaku@example.com"}, inReplyTo: pg.MessageID, text: "ack"}.build(t),
		"evil.example", "s1", r.dns.publish(t, "evil.example", "s1"), nil)
	if err := r.deliver("mallory@evil.example", []string{"hikyaku@example.com"}, raw); err != nil {
		t.Fatal(err)
	}
	if q := r.dns.Queries(); len(q) != 0 {
		t.Errorf("DNS queries for a stranger's mail: %q", q)
	}
	if n := r.repliesCounted("refused", "unknown_sender"); n != 1 {
		t.Errorf("refused/unknown_sender = %v, want 1", n)
	}
}

// TestEmailReplyAddressBindsALongUserID: dave's id is too long to be named
// in his reply address, which must still be his alone: carol, emailed about
// the same incident, answering to dave's address is refused; dave acts.
func TestEmailReplyAddressBindsALongUserID(t *testing.T) {
	const dave = "dave-from-the-corporate-directory-service-01"
	r := newMailRig(t, func(cfg string) string {
		cfg = strings.Replace(cfg, "  - id: boss\n", "  - id: "+dave+"\n    contacts: {email: dave@example.com}\n  - id: boss\n", 1)
		return strings.Replace(cfg, "targets: {users: [carol]}", "targets: {users: [carol, "+dave+"]}", 1)
	})
	id, _ := r.page()
	pages := r.mailTo("dave@example.com")
	if len(pages) != 1 || pages[0].ReplyTo == "" || strings.Contains(pages[0].ReplyTo, "dave-from") {
		t.Fatalf("want one page to dave with a reply address not naming him, got %+v", pages)
	}
	if err := r.send(answer{from: "carol@example.com", rcpt: []string{pages[0].ReplyTo}, messageID: "c@example.com", text: "resolve"}); err != nil {
		t.Fatal(err)
	}
	if inc, _ := r.st.Get(context.Background(), id); inc.Status != store.StatusOpen {
		t.Fatalf("carol acted through dave's reply address: %s", inc.Status)
	}
	// To carol the address does not verify: it proves no incident, so only
	// the log and the metric record it.
	if n := r.repliesCounted("refused", "bad_reply_address"); n != 1 {
		t.Errorf("refused/bad_reply_address = %v, want 1", n)
	}
	if err := r.send(answer{from: "dave@example.com", rcpt: []string{pages[0].ReplyTo}, messageID: "d@example.com", text: "ack"}); err != nil {
		t.Fatal(err)
	}
	if inc, _ := r.st.Get(context.Background(), id); inc.Status != store.StatusAcked || inc.AckedBy != dave {
		t.Errorf("dave's reply: %s by %q", inc.Status, inc.AckedBy)
	}
}

// TestAligned is relaxed alignment, each case written out.
func TestAligned(t *testing.T) {
	for _, tc := range []struct {
		d, from string
		want    bool
	}{
		{"corp.example", "corp.example", true},
		{"mail.corp.example", "corp.example", true}, // a subdomain signs
		{"corp.example", "eu.corp.example", true},   // a parent signs
		{"evil.example", "corp.example", false},
		{"example", "corp.example", false}, // a top-level domain never aligns
		{"orp.example", "corp.example", false},
		{"corp.example.evil", "corp.example", false},
		{"", "corp.example", false},
		{"corp.example", "", false},
	} {
		if got := aligned(tc.d, tc.from); got != tc.want {
			t.Errorf("aligned(%q, %q) = %v, want %v", tc.d, tc.from, got, tc.want)
		}
	}
}

// TestEmailLegacyReplyAddressNeedsDKIM: a reply address whose MAC binds the
// incident and no person (as made for long user ids before) proves the
// incident only, so the sender must be proven as for a thread reply.
func TestEmailLegacyReplyAddressNeedsDKIM(t *testing.T) {
	r := newMailRig(t)
	id, _ := r.page()
	// HMAC-SHA256(signingKey, "hikyaku-reply-v1\x00" "1" "\x00"), 80 bits, computed outside hikyaku.
	legacy := "hikyaku+1.2466e6px67njiwkc@reply.example.com"
	a := answer{from: "carol@example.com", rcpt: []string{legacy}, messageID: "legacy@example.com", text: "ack"}
	if err := r.send(a); err != nil {
		t.Fatal(err)
	}
	if ref := r.refusals(id); len(ref) != 1 || ref[0].Detail["reason"] != "dkim_none" {
		t.Fatalf("unsigned reply to a legacy address: refusals %+v, want one dkim_none", ref)
	}
	raw := dkimSign(t, a.build(t), "example.com", "s1", r.dns.publish(t, "example.com", "s1"), nil)
	if err := r.deliver(a.from, a.rcpt, raw); err != nil {
		t.Fatal(err)
	}
	if inc, _ := r.st.Get(context.Background(), id); inc.Status != store.StatusAcked || inc.AckedBy != "carol" {
		t.Errorf("signed reply to a legacy address: %s by %q", inc.Status, inc.AckedBy)
	}
}
