package twilio

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Encoding is how an SMS is carried: GSM-7 when every character is in the
// GSM 03.38 alphabet, UCS-2 (UTF-16 on the wire) as soon as one is not.
type Encoding int

// The two SMS encodings.
const (
	GSM7 Encoding = iota
	UCS2
)

func (e Encoding) String() string {
	if e == GSM7 {
		return "GSM-7"
	}
	return "UCS-2"
}

// Capacities of one SMS: a single message uses all 140 octets; a part of a
// concatenated one gives 6 of them to the header that reassembles it.
const (
	gsmSingle  = 160 // septets
	gsmPart    = 153
	ucs2Single = 70 // UTF-16 code units
	ucs2Part   = 67
)

// gsmBasic is the GSM 03.38 default alphabet; ESC (0x1B) is left out since it
// only introduces the extension table.
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsmExtension is reached through ESC, so each costs two septets.
const gsmExtension = "\f^{}\\[~]|€"

// The marks for cut text: "…" is not in GSM-7, and one would turn a whole
// GSM-7 message into UCS-2 and cut its capacity by more than half.
const (
	ellipsisGSM  = "..."
	ellipsisUCS2 = "…"
)

var gsmCost = func() map[rune]int {
	m := make(map[rune]int, len(gsmBasic)+len(gsmExtension))
	for _, r := range gsmBasic {
		m[r] = 1
	}
	for _, r := range gsmExtension {
		m[r] = 2
	}
	return m
}()

// Encode tells which encoding s needs.
func Encode(s string) Encoding {
	for _, r := range s {
		if gsmCost[r] == 0 {
			return UCS2
		}
	}
	return GSM7
}

// cost is what r takes in enc: septets in GSM-7, UTF-16 code units in UCS-2
// (a character outside the BMP is a surrogate pair).
func cost(r rune, enc Encoding) int {
	if enc == GSM7 {
		return gsmCost[r]
	}
	return utf16Len(r)
}

func utf16Len(r rune) int {
	if r >= 0x10000 && r <= utf8.MaxRune {
		return 2
	}
	return 1
}

// Segments is how many SMS s is sent as. A character never straddles two
// parts (neither an extension escape nor a surrogate pair), so a part may
// carry a unit less than its capacity.
func Segments(s string) int {
	if s == "" {
		return 1
	}
	enc := Encode(s)
	single, part := gsmSingle, gsmPart
	if enc == UCS2 {
		single, part = ucs2Single, ucs2Part
	}
	total := 0
	for _, r := range s {
		total += cost(r, enc)
	}
	if total <= single {
		return 1
	}
	n, used := 1, 0
	for _, r := range s {
		c := cost(r, enc)
		if used+c > part {
			n, used = n+1, 0
		}
		used += c
	}
	return n
}

// SplitTail splits an SMS text at its last newline. The router writes a
// page's text as body, "\n", tail, where the tail is the line that must reach
// the phone whole: the incident id and how to acknowledge. A text without a
// newline is all body.
func SplitTail(text string) (body, tail string) {
	i := strings.LastIndexByte(text, '\n')
	if i < 0 {
		return text, ""
	}
	return text[:i], text[i+1:]
}

// Fit returns body and tail joined by a newline, cutting the body and marking
// the cut with an ellipsis when the whole would exceed maxSegments SMS. The
// tail is never cut: when it alone leaves no room, the body is dropped and
// only the tail is sent, even if that exceeds maxSegments. Invalid UTF-8 is
// replaced with U+FFFD, as a phone could not show it anyway.
func Fit(body, tail string, maxSegments int) string {
	body, tail = strings.ToValidUTF8(body, "\uFFFD"), strings.ToValidUTF8(tail, "\uFFFD")
	maxSegments = max(maxSegments, 1)
	whole := join(body, tail)
	if Segments(whole) <= maxSegments {
		return whole
	}
	ellipsis := ellipsisUCS2
	if Encode(whole) == GSM7 {
		ellipsis = ellipsisGSM
	}
	// Cutting the body never makes the text need more segments, so the
	// longest prefix that fits is found by bisection over rune boundaries.
	bounds := make([]int, 0, len(body)+1)
	for i := range body {
		bounds = append(bounds, i)
	}
	bounds = append(bounds, len(body))
	lo, hi := 0, len(bounds)-1 // bounds[lo] fits or is 0; bounds[hi] is known not to fit
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if Segments(join(cut(body[:bounds[mid]], ellipsis), tail)) <= maxSegments {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	prefix := strings.TrimRightFunc(body[:bounds[lo]], unicode.IsSpace)
	if prefix == "" || Segments(join(prefix+ellipsis, tail)) > maxSegments {
		if tail == "" {
			return ellipsis
		}
		return tail
	}
	return join(prefix+ellipsis, tail)
}

// cut is the candidate body while bisecting: trailing spaces are trimmed as
// in the result so both are measured alike.
func cut(prefix, ellipsis string) string {
	return strings.TrimRightFunc(prefix, unicode.IsSpace) + ellipsis
}

func join(body, tail string) string {
	if tail == "" {
		return body
	}
	return body + "\n" + tail
}
