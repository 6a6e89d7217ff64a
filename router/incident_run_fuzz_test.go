package router

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzRunRequests: whatever arrives as a role, note or severity request is
// decoded and checked or refused with an error, never a panic; what is
// taken keeps within the limits the checks promise.
func FuzzRunRequests(f *testing.F) {
	for _, s := range []string{
		`{"role":"ic","user":"alice"}`, `{"role":"ops","unassign":true}`,
		`{"text":"fail over","decision":true,"impact":"checkout","prevention":"OPS-1"}`,
		`{"severity":"major","reason":"only retries fail"}`, `{"text":"a\u0000b"}`, `{} {}`, `[`, `{"text":"\xff"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var rq roleRequest
		if decodeJSON(body, &rq) == nil && rq.check() == nil && rq.Unassign == (rq.User != "") {
			t.Fatalf("role request %q taken with user %q and unassign %v", body, rq.User, rq.Unassign)
		}
		var nq noteRequest
		if decodeJSON(body, &nq) == nil {
			n := Note{Text: nq.Text, Fields: nq.NoteFields}
			err := n.check()
			if err != nil && !errors.Is(err, ErrBadNote) {
				t.Fatalf("note %q: error %v is not ErrBadNote", body, err)
			}
			if err == nil && (strings.TrimSpace(n.Text) == "" || !utf8.ValidString(n.Text) || utf8.RuneCountInString(n.Text) > maxNoteText) {
				t.Fatalf("note %q taken", body)
			}
			for _, p := range n.Fields.pairs() {
				if err == nil && strings.ContainsAny(p[1], "\n\r") {
					t.Fatalf("note %q: field %s taken with a line break", body, p[0])
				}
			}
		}
		var sq severityRequest
		if decodeJSON(body, &sq) == nil && severityRe.MatchString(sq.Severity) && len(sq.Severity) > 32 {
			t.Fatalf("severity %q taken", sq.Severity)
		}
	})
}

// FuzzMDText: a person's text stays in its table cell and its line, and
// carries no HTML into the Markdown.
func FuzzMDText(f *testing.F) {
	for _, s := range []string{"disk | full", "a\\|b", "<script>x</script>", "**bold**\nline", "`code` [link](x) #h", "\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := mdText(s)
		if strings.ContainsAny(strings.ReplaceAll(got, "<br>", ""), "\n\r<>") {
			t.Fatalf("mdText(%q) = %q: a line break or HTML is left", s, got)
		}
		// Every pipe is escaped: preceded by an odd run of backslashes.
		for i := 0; i < len(got); i++ {
			if got[i] != '|' {
				continue
			}
			n := 0
			for j := i - 1; j >= 0 && got[j] == '\\'; j-- {
				n++
			}
			if n%2 == 0 {
				t.Fatalf("mdText(%q) = %q: pipe at %d not escaped", s, got, i)
			}
		}
	})
}
