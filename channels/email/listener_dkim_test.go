package email

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

	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-smtp"
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
	const id = 1
	pg := r.page(id, "carol")
	for i, msgID := range []string{"forged-1@evil.example", "forged-2@evil.example"} {
		if err := r.send(threadReply(pg, msgID, "resolve")); err != nil {
			t.Fatalf("forged reply %d: %v, want 250 (a forger learns nothing)", i, err)
		}
	}
	if got := r.rcv.Actions(); len(got) != 0 {
		t.Fatalf("a forged reply acted: %+v", got)
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
	const notice = "インシデント #1 へのあなたのアドレスからの返信は送信者を確認できなかったため（dkim_none）、何も変更していません。\n\n" +
		"メールで操作するには、このメールに返信してください（返信先アドレスがご本人であることを証明します）。" +
		"ページのリンク、Slack、SMS、hikyaku CLI でも操作できます。\n"
	if len(got) != 2 || !strings.Contains(strings.ReplaceAll(got[1].Text, "\r\n", "\n"), notice) || got[1].Subject != "[hikyaku #1] メールの返信を確認できませんでした" {
		t.Fatalf("want the page and one notice to carol, got %+v", got)
	}
	if got[1].ReplyTo == "" || got[1].ReplyTo != pg.ReplyTo {
		t.Errorf("the notice's Reply-To %q is not carol's reply address %q", got[1].ReplyTo, pg.ReplyTo)
	}
	if n := r.repliesCounted("refused", "dkim_none"); n != 2 {
		t.Errorf("hikyaku_email_replies_total{result=refused,reason=dkim_none} = %v, want 2", n)
	}
	if sent := r.rcv.Sent(); len(sent) != 1 || sent[0].Kind != kindRefusalNotice || sent[0].IdempotencyKey != "reply_refused/1/carol" {
		t.Errorf("the notice asked of the engine: %+v", sent)
	}
	// Answering the notice, through its reply address, works.
	if err := r.send(answer{from: "carol@example.com", rcpt: []string{got[1].ReplyTo}, messageID: "real@example.com", text: "ack"}); err != nil {
		t.Fatal(err)
	}
	if got := r.acted(); len(got) != 1 || got[0] != "1 ack carol" {
		t.Errorf("carol's reply to the notice: %q, want an ack by carol", got)
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
			const id = 1
			pg := r.page(id, "carol")
			raw := threadReply(pg, "signed@example.com", "了解").build(t)
			if err := r.deliver("carol@example.com", []string{"hikyaku@example.com"}, tc.sign(r, raw)); err != nil {
				t.Fatalf("reply: %v, want 250", err)
			}
			acted, refused := r.acted(), r.refusals(id)
			if tc.reason == "" {
				if len(acted) != 1 || acted[0] != "1 ack carol" || len(refused) != 0 {
					t.Fatalf("want acked by carol, got actions %q, refusals %+v", acted, refused)
				}
				return
			}
			if len(acted) != 0 {
				t.Fatalf("a refused reply acted: %q", acted)
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
	const id = 1
	pg := r.page(id, "carol")
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
	if got := r.acted(); len(got) != 1 || got[0] != "1 ack carol" {
		t.Errorf("the relay's retry: actions %q, want an ack by carol", got)
	}
}

// TestEmailStrangersCauseNoDNS: a thread reply from no one emailed about
// the incident is refused before any key is looked up, so the listener is
// no DNS amplifier for strangers.
func TestEmailStrangersCauseNoDNS(t *testing.T) {
	r := newMailRig(t)
	pg := r.page(1, "carol")
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
		return strings.Replace(cfg, "  - id: boss\n", "  - id: "+dave+"\n    contacts: {email: dave@example.com}\n  - id: boss\n", 1)
	})
	r.page(1, "carol")
	r.page(1, dave)
	pages := r.mailTo("dave@example.com")
	if len(pages) != 1 || pages[0].ReplyTo == "" || strings.Contains(pages[0].ReplyTo, "dave-from") {
		t.Fatalf("want one page to dave with a reply address not naming him, got %+v", pages)
	}
	if err := r.send(answer{from: "carol@example.com", rcpt: []string{pages[0].ReplyTo}, messageID: "c@example.com", text: "resolve"}); err != nil {
		t.Fatal(err)
	}
	if got := r.rcv.Actions(); len(got) != 0 {
		t.Fatalf("carol acted through dave's reply address: %+v", got)
	}
	// To carol the address does not verify: it proves no incident, so only
	// the log and the metric record it.
	if n := r.repliesCounted("refused", "bad_reply_address"); n != 1 {
		t.Errorf("refused/bad_reply_address = %v, want 1", n)
	}
	if err := r.send(answer{from: "dave@example.com", rcpt: []string{pages[0].ReplyTo}, messageID: "d@example.com", text: "ack"}); err != nil {
		t.Fatal(err)
	}
	if got := r.acted(); len(got) != 1 || got[0] != "1 ack "+dave {
		t.Errorf("dave's reply: actions %q, want an ack by dave", got)
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
	const id = 1
	r.page(id, "carol")
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
	if got := r.acted(); len(got) != 1 || got[0] != "1 ack carol" {
		t.Errorf("signed reply to a legacy address: actions %q, want an ack by carol", got)
	}
}

// TestEmailRefusalNoticeInEnglish: bob's unsigned thread reply is refused
// and he is told, in English, why and what to do instead.
func TestEmailRefusalNoticeInEnglish(t *testing.T) {
	r := newMailRig(t)
	pg := r.page(1, "bob")
	a := answer{from: "bob@example.com", rcpt: []string{"hikyaku@example.com"}, inReplyTo: pg.MessageID, messageID: "b@example.com", text: "ack"}
	if err := r.send(a); err != nil {
		t.Fatal(err)
	}
	const want = "A reply from your address about incident #1 could not be verified (it carries no DKIM signature of your mail domain), so nothing was changed.\n\n" +
		"To act by email, reply to this message: its reply address proves it is you. Or use the links in the page, Slack, SMS or the hikyaku CLI.\n"
	got := r.mailTo("bob@example.com")
	if len(got) != 2 || !strings.Contains(strings.ReplaceAll(got[1].Text, "\r\n", "\n"), want) ||
		got[1].Subject != "[hikyaku #1] Your email reply could not be verified" {
		t.Fatalf("want the page and the notice %q, got %+v", want, got)
	}
}
