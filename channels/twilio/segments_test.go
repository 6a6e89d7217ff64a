package twilio

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEncode(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want Encoding
	}{
		{"", GSM7},
		{"CRITICAL payments: error rate > 5% @ api-1", GSM7},
		{"Ça coûte 5€ {x} [y] ~z^ |\\", UCS2}, // û is not GSM-7
		{"Ça a coûté", UCS2},
		{"Ça é à ñ ü Ø ß Δ Ω €", GSM7},
		{"back`tick", UCS2},
		{"…", UCS2},
		{"決済APIのエラー率", UCS2},
		{"page 😀", UCS2},
	} {
		if got := Encode(tc.s); got != tc.want {
			t.Errorf("Encode(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

func TestSegments(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	for _, tc := range []struct {
		name string
		s    string
		want int
	}{
		{"empty", "", 1},
		{"gsm single full", a(160), 1},
		{"gsm one over", a(161), 2},
		{"gsm two parts full", a(306), 2},
		{"gsm two parts one over", a(307), 3},
		{"extension counts twice", strings.Repeat("€", 80), 1},
		{"extension over single", strings.Repeat("€", 81), 2},
		// 152 + an escape would straddle parts 1 and 2, so it moves to part 2,
		// which then overflows by one septet a naive count would not see.
		{"escape never straddles", a(152) + "€" + a(152), 3},
		{"ucs2 single full", strings.Repeat("あ", 70), 1},
		{"ucs2 one over", strings.Repeat("あ", 71), 2},
		{"ucs2 two parts full", strings.Repeat("あ", 134), 2},
		{"ucs2 two parts one over", strings.Repeat("あ", 135), 3},
		{"surrogate pairs single", strings.Repeat("😀", 35), 1},
		{"surrogate pairs over", strings.Repeat("😀", 36), 2},
		{"surrogate pair never straddles", strings.Repeat("あ", 66) + "😀" + strings.Repeat("あ", 66), 3},
		{"one non-GSM char makes it all UCS-2", a(100) + "…", 2},
	} {
		if got := Segments(tc.s); got != tc.want {
			t.Errorf("%s: Segments = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestSplitTail(t *testing.T) {
	for _, tc := range []struct{ text, body, tail string }{
		{"no newline", "no newline", ""},
		{"body\ntail", "body", "tail"},
		{"a\nb\nReply \"12 ack\"", "a\nb", "Reply \"12 ack\""},
		{"body\n", "body", ""},
	} {
		body, tail := SplitTail(tc.text)
		if body != tc.body || tail != tc.tail {
			t.Errorf("SplitTail(%q) = %q, %q; want %q, %q", tc.text, body, tail, tc.body, tc.tail)
		}
	}
}

func TestFit(t *testing.T) {
	long := strings.Repeat("checkout-api error rate above 5% on api-1. ", 20)
	ja := strings.Repeat("決済APIのエラー率が5%を超えています。", 20)
	for _, tc := range []struct {
		name       string
		body, tail string
		max        int
		ellipsis   string // "" when the text must come back whole
		enc        Encoding
	}{
		{"fits", "CRITICAL payments", "Reply \"12 ack\"", 1, "", GSM7},
		{"gsm cut to one", long, "Reply \"12 ack\" #12", 1, ellipsisGSM, GSM7},
		{"gsm cut to three", long, "Reply \"12 ack\" #12", 3, ellipsisGSM, GSM7},
		{"extension chars", strings.Repeat("{€} ", 200), "#12 ack", 2, ellipsisGSM, GSM7},
		{"japanese cut to two", ja, "了解は「12 ack」と返信 #12", 2, ellipsisUCS2, UCS2},
		{"japanese tail makes gsm body ucs2", long, "了解は「12 ack」と返信", 3, ellipsisUCS2, UCS2},
		{"emoji at the cut", strings.Repeat("🔥", 100), "#12 ack", 1, ellipsisUCS2, UCS2},
		{"no tail", long, "", 2, ellipsisGSM, GSM7},
		{"zero max is one", long, "#12", 0, ellipsisGSM, GSM7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Fit(tc.body, tc.tail, tc.max)
			limit := max(tc.max, 1)
			if n := Segments(got); n > limit {
				t.Fatalf("Fit gave %d segments, max %d: %q", n, limit, got)
			}
			if !utf8.ValidString(got) {
				t.Fatalf("Fit gave invalid UTF-8: %q", got)
			}
			if e := Encode(got); e != tc.enc {
				t.Errorf("encoding %v, want %v", e, tc.enc)
			}
			if tc.ellipsis == "" {
				if want := join(tc.body, tc.tail); got != want {
					t.Fatalf("Fit changed a text that fits: %q, want %q", got, want)
				}
				return
			}
			kept, ok := strings.CutSuffix(got, join(tc.ellipsis, tc.tail))
			if !ok {
				t.Fatalf("Fit = %q: want it to end with %q then the tail", got, tc.ellipsis)
			}
			if !strings.HasPrefix(tc.body, kept) {
				t.Fatalf("Fit kept %q, not a prefix of the body", kept)
			}
			// Maximal: the body's next character would not have fitted.
			r, size := utf8.DecodeRuneInString(tc.body[len(kept):])
			if r == ' ' {
				return // trimmed before the ellipsis; the bisection measured it alike
			}
			if more := join(tc.body[:len(kept)+size]+tc.ellipsis, tc.tail); Segments(more) <= limit {
				t.Errorf("Fit cut too much: %q also fits in %d", more, limit)
			}
		})
	}
}

func TestFitKeepsTailThatAloneIsTooLong(t *testing.T) {
	tail := strings.Repeat("ack ", 50)
	if got := Fit("body", tail, 1); got != tail {
		t.Fatalf("Fit = %q, want the tail alone", got)
	}
}

func TestFitInvalidUTF8(t *testing.T) {
	got := Fit(strings.Repeat("\xff\xfe", 100), "#12 \xff", 1)
	if !utf8.ValidString(got) || !strings.HasSuffix(got, "#12 \uFFFD") {
		t.Fatalf("Fit = %q", got)
	}
}

// FuzzFit checks Fit's promises on any text: valid UTF-8 out, the tail kept
// whole at the end, within maxSegments whenever the tail alone fits, and
// untouched when the whole already fits.
func FuzzFit(f *testing.F) {
	f.Add("CRITICAL payments: error rate", "Reply \"12 ack\"", uint8(1))
	f.Add(strings.Repeat("決済APIのエラー率が5%を超えています。", 10), "了解は「12 ack」と返信", uint8(2))
	f.Add(strings.Repeat("a", 152)+"€"+strings.Repeat("b", 200), "#1", uint8(2))
	f.Add(strings.Repeat("😀", 80), "", uint8(1))
	f.Add("\xff\xfe", "\xc3", uint8(0))
	f.Fuzz(func(t *testing.T, body, tail string, maxSeg uint8) {
		n := int(maxSeg % 11)
		got := Fit(body, tail, n)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8: %q", got)
		}
		vb, vt := strings.ToValidUTF8(body, "\uFFFD"), strings.ToValidUTF8(tail, "\uFFFD")
		if !strings.HasSuffix(got, vt) {
			t.Fatalf("tail %q lost: %q", vt, got)
		}
		if Segments(vt) <= max(n, 1) && Segments(got) > max(n, 1) {
			t.Fatalf("%d segments, max %d: %q", Segments(got), max(n, 1), got)
		}
		if whole := join(vb, vt); Segments(whole) <= max(n, 1) && got != whole {
			t.Fatalf("changed a text that fits: %q, want %q", got, whole)
		}
	})
}
