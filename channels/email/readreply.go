package email

import (
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"strings"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // ISO-2022-JP, Shift_JIS, Windows-125x… to UTF-8
	"github.com/emersion/go-message/mail"
)

// Bounds on what a reply's body may cost to read: the answer is in the first
// lines, so a long thread or an attached photo is never read in full.
const (
	maxReplyParts = 64
	maxReplyText  = 256 << 10
)

// mailReply is what hikyaku reads from an emailed answer: who it says it is
// from, what it answers, whether a machine wrote it, and the person's text.
type mailReply struct {
	From      string   // the From header's address; "" unless it names exactly one
	To        []string // To and Cc addresses: the reply address survives there when a forwarder rewrites the envelope
	Subject   string
	MessageID string   // without angle brackets
	Thread    []string // In-Reply-To, then References: the messages it answers
	// Auto is set for vacation notices, bounces and other mail no person wrote.
	Auto bool
	Text string // the text/plain part, else the text of the HTML part, in UTF-8
	// Present lists the thread headers (In-Reply-To, References) the message
	// has; Duplicate names the first of From, In-Reply-To and References
	// that it has more than once (DKIM signs one instance of each, and the
	// reader must not read an unsigned one).
	Present   []string
	Duplicate string
}

// singleHeaders identify the sender and the thread: each may appear once.
var singleHeaders = []string{"From", "In-Reply-To", "References"}

// readReply parses a message with go-message: transfer encodings and
// charsets are decoded, a part in an unknown charset is read as it is.
func readReply(r io.Reader) (*mailReply, error) {
	mr, err := mail.CreateReader(r)
	if err != nil && !message.IsUnknownCharset(err) {
		return nil, fmt.Errorf("read message header: %w", err)
	}
	defer mr.Close()
	h := mr.Header
	out := &mailReply{Auto: isAutomatic(h)}
	if from, err := h.AddressList("From"); err == nil && len(from) == 1 {
		out.From = from[0].Address
	}
	for _, k := range []string{"To", "Cc"} {
		list, _ := h.AddressList(k) // a malformed list still yields what parsed before the error
		for _, a := range list {
			out.To = append(out.To, a.Address)
		}
	}
	out.Subject, _ = h.Subject()
	out.MessageID, _ = h.MessageID()
	for _, k := range threadHeaders {
		ids, _ := h.MsgIDList(k)
		out.Thread = append(out.Thread, ids...)
		if h.Has(k) {
			out.Present = append(out.Present, k)
		}
	}
	for _, k := range singleHeaders {
		if len(h.Values(k)) > 1 && out.Duplicate == "" {
			out.Duplicate = k
		}
	}

	var plain, htmlPart string
	var havePlain, haveHTML bool
	for range maxReplyParts {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !message.IsUnknownCharset(err) {
			if havePlain || haveHTML {
				break // a broken later part (a truncated attachment) does not hide the answer above it
			}
			return out, fmt.Errorf("read message body: %w", err)
		}
		if disp, _, _ := mime.ParseMediaType(p.Header.Get("Content-Disposition")); disp == "attachment" {
			continue
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if p.Header.Get("Content-Type") == "" {
			ct = "text/plain" // RFC 2045's default
		}
		switch {
		case ct == "text/plain" && !havePlain:
			plain, havePlain = readText(p.Body), true
		case ct == "text/html" && !haveHTML:
			htmlPart, haveHTML = readText(p.Body), true
		}
		if havePlain && haveHTML {
			break
		}
	}
	switch {
	case havePlain && strings.TrimSpace(plain) != "":
		out.Text = plain
	case haveHTML:
		out.Text = htmlText(htmlPart)
	default:
		out.Text = plain
	}
	return out, nil
}

// readText reads at most maxReplyText bytes as UTF-8 with LF line ends.
func readText(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, maxReplyText)) // a decoding error keeps what was read
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	return strings.ReplaceAll(s, "\r\n", "\n")
}

// isAutomatic recognises mail that no person wrote (RFC 3834's
// Auto-Submitted, the X- headers of older responders, bulk precedence), so
// an out-of-office notice quoting "ack" never acknowledges anything.
func isAutomatic(h mail.Header) bool {
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" {
		if kw, _, _ := strings.Cut(v, ";"); strings.TrimSpace(kw) != "no" {
			return true
		}
	}
	for _, k := range []string{"X-Autoreply", "X-Autorespond", "X-Auto-Response", "X-Autoresponse"} {
		if h.Has(k) {
			return true
		}
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "bulk", "junk", "list", "auto_reply":
		return true
	}
	return false
}

// htmlText is the visible text of an HTML reply, one line per block, with
// quoted parts (blockquote) and head, style and script left out. It is no
// HTML parser: it only has to find the person's first line, which clients
// put before any quote.
func htmlText(s string) string {
	var b strings.Builder
	skip := 0 // depth inside elements whose text is not the person's answer
	for s != "" {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			i = len(s)
		}
		if skip == 0 {
			b.WriteString(html.UnescapeString(strings.ReplaceAll(s[:i], "\n", " ")))
		}
		s = s[i:]
		if s == "" {
			break
		}
		if rest, ok := strings.CutPrefix(s, "<!--"); ok {
			_, s, _ = strings.Cut(rest, "-->")
			continue
		}
		j := strings.IndexByte(s, '>')
		if j < 0 {
			break
		}
		tag := s[1:j]
		s = s[j+1:]
		closing := strings.HasPrefix(tag, "/")
		switch name := tagName(tag); name {
		case "head", "style", "script", "blockquote", "title":
			switch {
			case closing && skip > 0:
				skip--
			case !closing && !strings.HasSuffix(tag, "/"):
				skip++
			}
		case "br", "p", "div", "tr", "li", "hr", "table", "pre", "h1", "h2", "h3", "h4", "h5", "h6":
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// tagName is the lower-case element name of a tag's inside ("/Div class=x" → "div").
func tagName(tag string) string {
	tag = strings.TrimPrefix(tag, "/")
	end := strings.IndexFunc(tag, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '/' || r == '\f'
	})
	if end >= 0 {
		tag = tag[:end]
	}
	return strings.ToLower(tag)
}
