// Package catalog holds every fixed text hikyaku says to people, one file
// per language: adding a language is adding one file that calls Add.
//
// The configuration accepts a language once it is here. The default message
// templates are the one other place texts live (Alertmanager templates that
// admins override, channels/template/defaults/<lang>.tmpl); a language with
// no such file is paged with the English ones until it has one.
package catalog

import (
	"fmt"
	"slices"
	"sync"
)

// Key names one text. Keys are dotted by where the text is said:
// "sms.…" for SMS answers, "voice.…" for what a call says, "email.…",
// "slack.…", "link.…" for the action-link pages, "report.…" and so on.
type Key string

// Messages is one language's texts. A text may hold fmt verbs; every
// language's text of a key takes the same arguments in the same order
// (catalog_test checks the verbs agree).
type Messages map[Key]string

var (
	mu    sync.RWMutex
	langs = map[string]Messages{}
)

// Fallback is the language used for a key a language lacks, and for a
// language nobody added.
const Fallback = "en"

// Add registers a language's texts; a language file calls it from init.
func Add(lang string, m Messages) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := langs[lang]; dup {
		panic("catalog: language " + lang + " added twice")
	}
	langs[lang] = m
}

// Languages are the languages added, sorted.
func Languages() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(langs))
	for l := range langs {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

// Has says whether lang was added.
func Has(lang string) bool {
	mu.RLock()
	defer mu.RUnlock()
	_, ok := langs[lang]
	return ok
}

// Text is key's text in lang with args filled in, falling back to
// English. A key no language has is a bug: its name is returned, so the
// text says what is missing instead of saying nothing.
func Text(lang string, key Key, args ...any) string {
	mu.RLock()
	s, ok := langs[lang][key]
	if !ok {
		s, ok = langs[Fallback][key]
	}
	mu.RUnlock()
	if !ok {
		return "[" + string(key) + "]"
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// For is lang's texts, for code that says several of them.
type For string

// T is Text in the language f names.
func (f For) T(key Key, args ...any) string { return Text(string(f), key, args...) }
