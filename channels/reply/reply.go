// Package reply reads what a person answered to a page — "ack 1234", "1234r",
// "了解" — from an SMS or an email, so every channel understands the same words.
package reply

import (
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Action is what the person asked for.
type Action string

// The actions a reply can ask for.
const (
	Ack      Action = "ack"
	Resolve  Action = "resolve"
	Escalate Action = "escalate"
	Help     Action = "help"
	Stop     Action = "stop"  // opt out of SMS (Twilio enforces it too)
	Start    Action = "start" // opt back in
)

// Command is a parsed reply. IncidentID is 0 when the reply named none
// ("ack" alone acts on the sender's most recent open page).
type Command struct {
	Action     Action
	IncidentID int64
}

var words = map[string]Action{
	"ack": Ack, "a": Ack, "acknowledge": Ack, "了解": Ack, "りょうかい": Ack, "承知": Ack,
	"resolve": Resolve, "res": Resolve, "resolved": Resolve, "解決": Resolve,
	"escalate": Escalate, "esc": Escalate, "エスカレ": Escalate, "エスカレーション": Escalate, "エスカレート": Escalate,
	"help": Help, "?": Help, "？": Help, "ヘルプ": Help,
	"stop": Stop, "stopall": Stop, "unsubscribe": Stop, "cancel": Stop, "end": Stop, "quit": Stop,
	"start": Start, "unstop": Start, "yes": Start,
}

// compact letters after an id: "1234a", "1234r", "1234e".
var compact = map[byte]Action{'a': Ack, 'r': Resolve, 'e': Escalate}

// Parse reads the first line of text. It accepts an action word with an
// optional incident id before or after it ("ack 1234", "1234 ack", "#1234 ack"),
// the compact "1234a", and the Japanese words, case- and width-insensitively.
// ok is false when the text says none of these.
func Parse(text string) (c Command, ok bool) {
	line := firstLine(text)
	// NFKC folds full-width digits and letters ("１２３４ ＡＣＫ") to ASCII.
	line = strings.ToLower(norm.NFKC.String(line))
	fields := strings.FieldsFunc(line, func(r rune) bool {
		return unicode.IsSpace(r) || r == ',' || r == '.' || r == '!' || r == '。' || r == '、' || r == ':' || r == '#'
	})
	switch len(fields) {
	case 1:
		f := fields[0]
		if a, ok := words[f]; ok {
			return Command{Action: a}, true
		}
		if n := len(f); n >= 2 {
			if a, ok := compact[f[n-1]]; ok {
				if id, ok := parseID(f[:n-1]); ok {
					return Command{Action: a, IncidentID: id}, true
				}
			}
		}
		// A Japanese word glued to the id: "1234了解", "了解1234".
		return gluedJapanese(f)
	case 2:
		if a, ok := words[fields[0]]; ok && takesID(a) {
			if id, ok := parseID(fields[1]); ok {
				return Command{Action: a, IncidentID: id}, true
			}
		}
		if a, ok := words[fields[1]]; ok && takesID(a) {
			if id, ok := parseID(fields[0]); ok {
				return Command{Action: a, IncidentID: id}, true
			}
		}
	}
	return Command{}, false
}

func takesID(a Action) bool { return a == Ack || a == Resolve || a == Escalate }

func gluedJapanese(f string) (Command, bool) {
	for w, a := range words {
		if w == "" || w[0] < 0x80 { // only the Japanese words glue without a space
			continue
		}
		if !takesID(a) {
			continue
		}
		if rest, ok := strings.CutPrefix(f, w); ok {
			if id, ok := parseID(rest); ok {
				return Command{Action: a, IncidentID: id}, true
			}
		}
		if rest, ok := strings.CutSuffix(f, w); ok {
			if id, ok := parseID(rest); ok {
				return Command{Action: a, IncidentID: id}, true
			}
		}
	}
	return Command{}, false
}

func parseID(s string) (int64, bool) {
	if s == "" || len(s) > 12 {
		return 0, false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// firstLine is the first non-empty line that is not quoted ("> …"), so an
// email reply's quoted page below the answer is not read as the answer.
func firstLine(text string) string {
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, ">") || strings.HasPrefix(l, "＞") {
			continue
		}
		return l
	}
	return ""
}
