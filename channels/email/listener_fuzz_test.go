package email

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"html"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
	"golang.org/x/text/encoding/japanese"

	"github.com/hikyaku/hikyaku/channels/reply"
)

// FuzzReadReply feeds the reply reader any bytes, as the listener may
// receive: it never panics, and what it returns is bounded UTF-8 text and
// addresses without line breaks (they go to the log). The seed corpus in
// testdata/fuzz/FuzzReadReply holds replies as Gmail, Outlook, iOS Mail and
// Japanese phones write them, an out-of-office notice and broken messages.
func FuzzReadReply(f *testing.F) {
	f.Add([]byte("From: carol@example.com\r\nSubject: Re: page\r\n\r\nack\r\n> quoted\r\n"))
	f.Add([]byte("Content-Type: text/html\r\n\r\n<p>resolve</p><blockquote>ack</blockquote>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := readReply(bytes.NewReader(data))
		if err != nil {
			return
		}
		if !utf8.ValidString(r.Text) {
			t.Errorf("text is not UTF-8: %q", r.Text)
		}
		// Invalid bytes become U+FFFD (3 bytes); HTML entities only shrink.
		if len(r.Text) > 3*maxReplyText {
			t.Errorf("text of %d bytes from a %d-byte part limit", len(r.Text), maxReplyText)
		}
		for _, a := range append([]string{r.From, r.MessageID}, append(r.To, r.Thread...)...) {
			if strings.ContainsAny(a, "\r\n") {
				t.Errorf("a header value carries a line break: %q", a)
			}
		}
		for _, k := range r.Present {
			if !slices.Contains(threadHeaders, k) {
				t.Errorf("Present names %q, no thread header", k)
			}
		}
		if r.Duplicate != "" && !slices.Contains(singleHeaders, r.Duplicate) {
			t.Errorf("Duplicate names %q", r.Duplicate)
		}
		if len(r.Thread) > 0 && len(r.Present) == 0 {
			t.Errorf("thread ids %q read from no thread header", r.Thread)
		}
		reply.Parse(r.Text) // must not panic on whatever the reader makes
	})
}

// FuzzReplyRoundTrip writes an answer as a mail client would (plain text
// in quoted-printable, base64 or ISO-2022-JP, or HTML with the quote in a
// blockquote) and checks the reader finds the same command a person
// reading the answer would.
func FuzzReplyRoundTrip(f *testing.F) {
	f.Add("ack", uint8(0))
	f.Add("了解", uint8(2))
	f.Add("\n  1234r\nthanks", uint8(1))
	f.Add("エスカレーション 12", uint8(3))
	f.Add("> ack 9\nresolve", uint8(4))
	f.Add("ｒｅｓｏｌｖｅ　１２", uint8(5))
	f.Fuzz(func(t *testing.T, answer string, mode uint8) {
		if !utf8.ValidString(answer) || strings.ContainsAny(answer, "\r\x00") {
			t.Skip() // mail clients write neither
		}
		var h mail.Header
		h.SetAddressList("From", []*mail.Address{{Address: "carol@example.com"}})
		want := answer
		var buf bytes.Buffer
		switch mode % 6 {
		case 0, 1, 2: // plain text, with the page quoted below
			body := answer + "\n\n> ack 999\n> [hikyaku #999] page\n"
			h.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
			h.Set("Content-Transfer-Encoding", []string{"quoted-printable", "base64", "8bit"}[mode%6])
			w, err := mail.CreateSingleInlineWriter(&buf, h)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(w, strings.ReplaceAll(body, "\n", "\r\n"))
			w.Close()
		case 3: // ISO-2022-JP, as older Japanese clients and phones send
			enc, err := japanese.ISO2022JP.NewEncoder().String(answer)
			if err != nil || strings.ContainsAny(answer, "\u00a5\u203e") {
				t.Skip() // not encodable, or JIS X 0201 Roman that decodes to other characters
			}
			h.SetContentType("text/plain", map[string]string{"charset": "iso-2022-jp"})
			h.Set("Content-Transfer-Encoding", "7bit")
			textproto.WriteHeader(&buf, h.Header.Header)
			buf.WriteString(strings.ReplaceAll(enc, "\n", "\r\n"))
		default: // HTML only: lines become <br>, the page a blockquote
			lines := strings.Split(answer, "\n")
			for i, l := range lines {
				lines[i] = html.EscapeString(l)
			}
			body := "<html><head><style>p { margin: 0 }</style></head><body><div>" + strings.Join(lines, "<br>") +
				"</div><div class=\"gmail_quote\"><blockquote>ack 999</blockquote></div></body></html>"
			h.SetContentType("text/html", map[string]string{"charset": "utf-8"})
			h.Set("Content-Transfer-Encoding", "quoted-printable")
			w, err := mail.CreateSingleInlineWriter(&buf, h)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(w, body)
			w.Close()
		}
		r, err := readReply(&buf)
		if err != nil {
			t.Fatalf("reading a well-formed reply: %v", err)
		}
		wantCmd, wantOK := reply.Parse(want)
		gotCmd, gotOK := reply.Parse(r.Text)
		if wantCmd != gotCmd || wantOK != gotOK {
			t.Errorf("answer %q (mode %d): read %q → %+v %v, want %+v %v", answer, mode%6, r.Text, gotCmd, gotOK, wantCmd, wantOK)
		}
		if r.From != "carol@example.com" {
			t.Errorf("From: %q", r.From)
		}
	})
}

// TestReadReplySeeds reads the seed corpus, replies as real clients write
// them, and checks each yields the command its writer meant.
func TestReadReplySeeds(t *testing.T) {
	want := map[string]struct {
		cmd  reply.Command
		ok   bool
		auto bool
	}{
		"gmail-multipart":       {reply.Command{Action: reply.Ack}, true, false},
		"outlook-html-only":     {reply.Command{Action: reply.Resolve, IncidentID: 7}, true, false},
		"ios-base64":            {reply.Command{Action: reply.Ack, IncidentID: 1}, true, false},
		"docomo-iso-2022-jp":    {reply.Command{Action: reply.Ack}, true, false},
		"out-of-office":         {reply.Command{Action: reply.Ack}, true, true},
		"unknown-charset":       {reply.Command{Action: reply.Ack}, true, false},
		"truncated-multipart":   {reply.Command{Action: reply.Escalate}, true, false},
		"nested-multipart":      {reply.Command{Action: reply.Ack}, true, false},
		"unclosed-comment-html": {reply.Command{Action: reply.Ack}, true, false},
	}
	for name, w := range want {
		raw, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzReadReply", name))
		if err != nil {
			t.Fatal(err)
		}
		_, lit, _ := strings.Cut(string(raw), "[]byte(")
		data, err := strconv.Unquote(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(lit), ")")))
		if err != nil {
			t.Fatalf("%s: corpus file: %v", name, err)
		}
		r, err := readReply(strings.NewReader(data))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		cmd, ok := reply.Parse(r.Text)
		if cmd != w.cmd || ok != w.ok || r.Auto != w.auto {
			t.Errorf("%s: read %q → %+v %v auto=%v, want %+v %v auto=%v", name, r.Text, cmd, ok, r.Auto, w.cmd, w.ok, w.auto)
		}
	}
}

// fuzzDKIMKey is a fixed Ed25519 key at s1._domainkey.example.com, so the
// seed corpus can hold messages it signed.
var fuzzDKIMKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

func fuzzDNS() LookupTXT {
	txt := "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(fuzzDKIMKey.Public().(ed25519.PublicKey))
	return func(_ context.Context, name string) ([]string, error) {
		if name == "s1._domainkey.example.com" {
			return []string{txt}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
}

// FuzzVerifySender feeds DKIM verification any message, as the listener may
// receive: it never panics, answers with a known reason, and proves a sender
// only for a message with no repeated identifying header whose signature,
// checked again, still proves it. The seed corpus in
// testdata/fuzz/FuzzVerifySender holds a reply signed by the fuzz key.
func FuzzVerifySender(f *testing.F) {
	f.Add([]byte("From: carol@example.com\r\nIn-Reply-To: <hikyaku.1@reply.example.com>\r\n\r\nack\r\n"))
	f.Add([]byte("DKIM-Signature: v=1; a=ed25519-sha256; d=example.com; s=s1; h=from; bh=; b=\r\nFrom: carol@example.com\r\n\r\nack\r\n"))
	lookup := fuzzDNS()
	known := []string{"", reasonDuplicateHeader, reasonDKIMNone, reasonDKIMInvalid, reasonDKIMMisaligned, reasonDKIMThreadUnsigned}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := readReply(bytes.NewReader(data))
		if err != nil {
			return
		}
		reason, err := verifySender(context.Background(), lookup, data, r, domainOf(r.From))
		if err != nil {
			t.Fatalf("a local DNS table failed temporarily: %v", err)
		}
		if !slices.Contains(known, reason) {
			t.Fatalf("reason %q", reason)
		}
		if reason != "" {
			return
		}
		if r.Duplicate != "" {
			t.Errorf("proven with a repeated %s header", r.Duplicate)
		}
		if !aligned("example.com", domainOf(r.From)) {
			t.Errorf("proven for From %q, which example.com's key cannot sign", r.From)
		}
	})
}

// TestVerifySenderSeed checks the signed seed proves its sender, so the
// fuzzer starts from a message that passes.
func TestVerifySenderSeed(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzVerifySender", "signed-reply"))
	if err != nil {
		t.Fatal(err)
	}
	_, lit, _ := strings.Cut(string(raw), "[]byte(")
	data, err := strconv.Unquote(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(lit), ")")))
	if err != nil {
		t.Fatal(err)
	}
	r, err := readReply(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if reason, err := verifySender(context.Background(), fuzzDNS(), []byte(data), r, domainOf(r.From)); reason != "" || err != nil {
		t.Fatalf("signed seed: %q %v, want proven", reason, err)
	}
}
