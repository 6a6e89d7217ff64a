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
	// Fields are the report fields the note's field lines set; "" where
	// none did.
	Fields Fields
	// Severity is the current severity a "severity: major" line sets, ""
	// for none, and SeverityReason why: the rest of that line ("major
	// (only retries fail)"), else the note's own text; "" when the note
	// says nothing else, which a severity change does not take.
	Severity       string
	SeverityReason string
}

// Fields are the report fields a note may set, as the API's note names
// them (router.NoteFields).
type Fields struct {
	Impact            string
	Cause             string
	ActionProvisional string
	ActionPermanent   string
	Prevention        string
}

// IsZero says no field is set.
func (f Fields) IsZero() bool { return f == Fields{} }

// decisionWords open a note that records a decision, in each language of
// the catalog; the API's note says the same with "decision": true.
var decisionWords = []string{"decision", "決定"}

// fieldWords are the words a field line starts with, folded (fold): the
// API's field names, the labels the catalog gives the fields in reports
// (incident.field.*, en and ja; TestFieldWordsCoverCatalog keeps them in
// step) and the short words people type. "action" and 対応 alone are the
// provisional action: that is the one taken during the incident.
var fieldWords = map[string]string{
	"impact": "impact", "影響範囲": "impact", "影響": "impact",
	"cause": "cause", "原因": "cause",
	"action": "action_provisional", "actionprovisional": "action_provisional",
	"actiontaken(provisional)": "action_provisional", "action(provisional)": "action_provisional",
	"provisional": "action_provisional", "暫定対応": "action_provisional", "対応(暫定)": "action_provisional",
	"対応":        "action_provisional",
	"permanent": "action_permanent", "actionpermanent": "action_permanent",
	"actiontaken(permanent)": "action_permanent", "action(permanent)": "action_permanent",
	"恒久対応": "action_permanent", "対応(恒久)": "action_permanent",
	"prevention": "prevention", "preventionticket": "prevention", "再発防止": "prevention",
	"再発防止(チケット)": "prevention",
	// The current severity (現在のSeverity), as the API's severity change
	// sets it; the provisional one is the routed one and is no field.
	"severity": "severity", "currentseverity": "severity", "現在のseverity": "severity",
	"重大度": "severity", "現在の重大度": "severity",
}

// maxHead bounds the part of a line before its colon that is read as a
// word: the longest label, full width, is 33 bytes.
const maxHead = 64

// ParseNote reads a note: the text without the blank lines around it,
// marked a decision when it starts with one of decisionWords and a colon
// ("decision: fail over", "決定：切り戻す"), case- and width-insensitively;
// the word and the colon are not part of the text. Then every line that
// starts with a field word and a colon and has a value after it
// ("impact: checkout", "原因：ディスク満杯") sets that field, the last such
// line of a field winning, and is taken out of the text; a line starting
// with any other word is text. A note of field lines only keeps them as its
// text, since a note has text. ok is false when no text is left.
func ParseNote(text string) (n Note, ok bool) {
	text = strings.TrimFunc(text, unicode.IsSpace)
	if rest, found := cutDecision(text); found {
		n.Decision = true
		text = strings.TrimFunc(rest, unicode.IsSpace)
	}
	var kept []string
	lines := strings.Split(text, "\n")
	for _, l := range lines {
		key, v, ok := fieldLine(l)
		switch {
		case !ok:
			kept = append(kept, l)
		case key == "severity":
			n.Severity, n.SeverityReason = cutSeverity(v)
		default:
			n.Fields.set(key, v)
		}
	}
	own := true // the text is the person's own, not their field lines
	if len(kept) < len(lines) {
		if rest := strings.TrimFunc(strings.Join(kept, "\n"), unicode.IsSpace); rest != "" {
			text = rest
		} else {
			own = false
		}
	}
	if n.Severity != "" && n.SeverityReason == "" && own {
		n.SeverityReason = text
	}
	n.Text = text
	return n, text != ""
}

// cutSeverity reads a severity line's value: the severity, the first word,
// and the reason after it, without the brackets or dash around it
// ("major (only retries fail)", "major - only retries fail",
// "minor（一部のみ）").
func cutSeverity(v string) (severity, reason string) {
	severity = v
	if i := strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || r == '(' || r == '（' }); i >= 0 {
		severity, reason = v[:i], v[i:]
	}
	reason = strings.TrimFunc(reason, unicode.IsSpace)
	if r, ok := strings.CutPrefix(reason, "("); ok {
		reason = strings.TrimSuffix(r, ")")
	} else if r, ok := strings.CutPrefix(reason, "（"); ok {
		reason = strings.TrimSuffix(r, "）")
	} else {
		reason = strings.TrimLeft(reason, "-–—:：")
	}
	return severity, strings.TrimFunc(reason, unicode.IsSpace)
}

func (f *Fields) set(key, v string) {
	switch key {
	case "impact":
		f.Impact = v
	case "cause":
		f.Cause = v
	case "action_provisional":
		f.ActionProvisional = v
	case "action_permanent":
		f.ActionPermanent = v
	case "prevention":
		f.Prevention = v
	}
}

// fieldLine reads a line "word: value" whose word is a field's: the
// field's API name and the value, trimmed. A line without a value is no
// field line.
func fieldLine(line string) (key, value string, ok bool) {
	head, rest, found := cutColon(line, maxHead)
	if !found {
		return "", "", false
	}
	key, ok = fieldWords[fold(head)]
	value = strings.TrimFunc(rest, unicode.IsSpace)
	if !ok || value == "" {
		return "", "", false
	}
	if sev, _ := cutSeverity(value); key == "severity" && sev == "" {
		return "", "", false // "severity: (why)" names none
	}
	return key, value, true
}

// cutDecision removes a leading decision word and its colon. Only the
// head of the text is folded (NFKC, lower case), so the text itself stays
// as written.
func cutDecision(text string) (rest string, ok bool) {
	head, rest, found := cutColon(text, 32)
	if !found {
		return text, false
	}
	head = strings.TrimFunc(strings.ToLower(norm.NFKC.String(head)), unicode.IsSpace)
	for _, w := range decisionWords {
		if head == w {
			return rest, true
		}
	}
	return text, false
}

// cutColon cuts s at its first colon, ASCII or full width, when that comes
// within limit bytes.
func cutColon(s string, limit int) (head, rest string, ok bool) {
	colon := strings.IndexFunc(s, func(r rune) bool { return r == ':' || r == '：' })
	if colon < 0 || colon > limit {
		return "", s, false
	}
	_, size := utf8.DecodeRuneInString(s[colon:])
	return s[:colon], s[colon+size:], true
}

// fold is a field word as fieldWords keeps it: NFKC (full-width letters
// and brackets become ASCII), lower case, without spaces, _ and -, so
// "Action taken (provisional)", "action_provisional" and "対応（暫定）" are
// each one word.
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '_' || r == '-' {
			return -1
		}
		return r
	}, strings.ToLower(norm.NFKC.String(s)))
}
