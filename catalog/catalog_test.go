package catalog

import (
	"regexp"
	"slices"
	"testing"
)

var verb = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)

// TestEveryLanguageHasEveryKey: a key one language lacks would be said in
// English to a Japanese reader, and a verb one lacks would print %!(EXTRA…).
func TestEveryLanguageHasEveryKey(t *testing.T) {
	ref := langs[Fallback]
	for _, lang := range Languages() {
		m := langs[lang]
		for k, s := range ref {
			got, ok := m[k]
			if !ok {
				t.Errorf("%s lacks %q", lang, k)
				continue
			}
			if a, b := verbs(s), verbs(got); !slices.Equal(a, b) {
				t.Errorf("%s %q takes %v, English %v", lang, k, b, a)
			}
		}
		for k := range m {
			if _, ok := ref[k]; !ok {
				t.Errorf("%s has %q, which English lacks", lang, k)
			}
		}
	}
}

func verbs(s string) []string {
	var out []string
	for _, v := range verb.FindAllString(s, -1) {
		if v != "%%" {
			out = append(out, v[len(v)-1:])
		}
	}
	return out
}

func TestTextFallsBackAndNamesWhatIsMissing(t *testing.T) {
	mu.Lock()
	langs["xx"] = Messages{"test.only": "xx %d"}
	langs[Fallback]["test.fallback"] = "en %s"
	mu.Unlock()
	t.Cleanup(func() {
		mu.Lock()
		delete(langs, "xx")
		delete(langs[Fallback], "test.fallback")
		mu.Unlock()
	})
	if got := Text("xx", "test.only", 3); got != "xx 3" {
		t.Errorf("own text: %q", got)
	}
	if got := Text("xx", "test.fallback", "a"); got != "en a" {
		t.Errorf("fallback: %q", got)
	}
	if got := Text("zz", "no.such"); got != "[no.such]" {
		t.Errorf("missing: %q", got)
	}
}
