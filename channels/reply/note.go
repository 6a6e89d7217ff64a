package reply

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Note is what a person wrote to an incident's decision log by replying
// to one of its messages (an email, a Slack thread).
type Note struct {
	Text     string
	Decision bool
}

// decisionWords open a note that records a decision, in each language of
// the catalog; the API's note says the same with "decision": true.
var decisionWords = []string{"decision", "決定"}

// ParseNote reads a note: the text without the blank lines around it,
// marked a decision when it starts with one of decisionWords and a colon
// ("decision: fail over", "決定：切り戻す"), case- and width-insensitively;
// the word and the colon are not part of the text. ok is false when no
// text is left.
func ParseNote(text string) (n Note, ok bool) {
	text = strings.TrimFunc(text, unicode.IsSpace)
	if rest, found := cutDecision(text); found {
		n.Decision = true
		text = strings.TrimFunc(rest, unicode.IsSpace)
	}
	n.Text = text
	return n, text != ""
}

// cutDecision removes a leading decision word and its colon. Only the
// head of the text is folded (NFKC, lower case), so the text itself stays
// as written.
func cutDecision(text string) (rest string, ok bool) {
	colon := strings.IndexFunc(text, func(r rune) bool { return r == ':' || r == '：' })
	if colon < 0 || colon > 32 {
		return text, false
	}
	head := strings.TrimFunc(strings.ToLower(norm.NFKC.String(text[:colon])), unicode.IsSpace)
	for _, w := range decisionWords {
		if head == w {
			_, size := utf8.DecodeRuneInString(text[colon:])
			return text[colon+size:], true
		}
	}
	return text, false
}
