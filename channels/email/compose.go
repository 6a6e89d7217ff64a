package email

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"

	"github.com/hikyaku/hikyaku/channels"
)

// composed is one message ready for DATA.
type composed struct {
	id   string // Message-ID without angle brackets
	data []byte
}

// compose writes m as a multipart/alternative message (text, then HTML) with
// go-message, which encodes non-ASCII headers per RFC 2047 and refuses raw
// line breaks in header values.
func (s *Sender) compose(m *channels.Message, to *mail.Address, now time.Time) (*composed, error) {
	var h mail.Header
	h.SetDate(now)
	h.SetAddressList("From", []*mail.Address{s.from})
	h.SetAddressList("To", []*mail.Address{{Name: oneLine(m.Name), Address: to.Address}})
	h.SetSubject(oneLine(m.Subject))
	id := MessageID(m.IncidentID, m.IdempotencyKey, s.idDomain)
	h.SetMessageID(id)
	// The thread root lets mail clients group an incident's mails, and lets a
	// reply name the incident even when the client drops In-Reply-To. A mail
	// about no incident (a scheduled health report) has neither: there is
	// nothing to thread or to answer.
	if m.IncidentID != 0 {
		h.SetMsgIDList("References", []string{ThreadID(m.IncidentID, s.idDomain)})
		if s.replyKey != nil {
			reply := ReplyAddress(s.replyKey, m.IncidentID, m.UserID, s.fromLocal, s.replyDomain)
			h.SetAddressList("Reply-To", []*mail.Address{{Address: reply}})
		}
	}
	// RFC 3834: automatic mail; vacation responders must not answer it (their
	// replies would reach the acknowledgement address). Exchange reads the X- one.
	h.Set("Auto-Submitted", "auto-generated")
	h.Set("X-Auto-Response-Suppress", "All")
	if m.IncidentID != 0 {
		h.Set("X-Hikyaku-Incident", strconv.FormatInt(m.IncidentID, 10))
	}
	if m.Kind != "" {
		h.Set("X-Hikyaku-Kind", string(m.Kind))
	}
	if m.Kind == channels.KindPage {
		h.Set("Importance", "high")
		h.Set("X-Priority", "1")
	}

	b := newBody(m)
	htmlText, err := b.html()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w, err := mail.CreateInlineWriter(&buf, h)
	if err != nil {
		return nil, fmt.Errorf("write header: %w", err)
	}
	if err := writePart(w, "text/plain", b.plain()); err != nil {
		return nil, err
	}
	if err := writePart(w, "text/html", htmlText); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("close message: %w", err)
	}
	return &composed{id: id, data: buf.Bytes()}, nil
}

// writePart adds one alternative in UTF-8, quoted-printable: 7-bit safe for
// any relay and still readable as ASCII where the text is.
func writePart(w *mail.InlineWriter, contentType, text string) error {
	var ph mail.InlineHeader
	ph.SetContentType(contentType, map[string]string{"charset": "utf-8"})
	ph.Set("Content-Transfer-Encoding", "quoted-printable")
	pw, err := w.CreatePart(ph)
	if err != nil {
		return fmt.Errorf("create %s part: %w", contentType, err)
	}
	if _, err := io.WriteString(pw, text); err != nil {
		return fmt.Errorf("write %s part: %w", contentType, err)
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("close %s part: %w", contentType, err)
	}
	return nil
}

// oneLine turns control characters into spaces: a subject or a name is one
// line, and a CR or LF smuggled in from alert labels must not even look like
// a header after decoding.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r < ' ' || r == 0x7f || r == '\u2028' || r == '\u2029' || r == 0x85
	}), " ")
}
