package config

import (
	"strings"
	"testing"
)

// TestLanguageIsOneTheCatalogHas: a language the catalog has no file for is
// refused where it is written, naming the ones there are.
func TestLanguageIsOneTheCatalogHas(t *testing.T) {
	_, err := Parse([]byte("global:\n  language: fr\nusers:\n  - id: alice\n    language: de\n    contacts: {email: alice@example.com}\n"), "h.yml")
	if err == nil {
		t.Fatal("languages fr and de loaded")
	}
	for _, want := range []string{
		`h.yml:2:13: language "fr": hikyaku speaks "en" and "ja"`,
		`h.yml:5:15: language "de": hikyaku speaks "en" and "ja"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
