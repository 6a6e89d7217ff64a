package catalog

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// keyLike is what a key, or the prefix of keys built from parts, looks like.
var keyLike = regexp.MustCompile(`^[a-z_]+(\.[a-z_0-9]+)*\.?$`)

// codeStrings are the string literals of the module's non-test Go files
// outside this package, with where each is.
func codeStrings(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "testdata" || n == "catalog" || (strings.HasPrefix(n, ".") && p != "..") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if bl, ok := n.(*ast.BasicLit); ok && bl.Kind == token.STRING {
				if s, err := strconv.Unquote(bl.Value); err == nil && keyLike.MatchString(s) {
					out[s] = fset.Position(bl.Pos()).String()
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestKeysTheCodeNamesExist: a key the code names that no language has is
// said as "[key]" to someone being paged. Any literal under one of the
// catalog's namespaces ("sms.", "email.", …) must be a key, or, ending in a
// dot, the prefix of one (the few keys built from a verb or role name).
func TestKeysTheCodeNamesExist(t *testing.T) {
	keys := langs[Fallback]
	spaces := map[string]bool{}
	for k := range keys {
		spaces[strings.SplitN(string(k), ".", 2)[0]] = true
	}
	checked := 0
	for s, at := range codeStrings(t) {
		space, _, dotted := strings.Cut(s, ".")
		if !dotted || !spaces[space] {
			continue
		}
		checked++
		if strings.HasSuffix(s, ".") {
			if !hasPrefix(keys, s) {
				t.Errorf("%s: no key starts with %q", at, s)
			}
		} else if _, ok := keys[Key(s)]; !ok {
			t.Errorf("%s: %q is no key of the catalog", at, s)
		}
	}
	if checked < 100 {
		t.Fatalf("only %d keys found in the code: the scan is broken", checked)
	}
}

// TestEveryKeyIsSaid: a key nothing names is a text nobody reads, or one
// whose caller builds a name the catalog no longer matches.
func TestEveryKeyIsSaid(t *testing.T) {
	lits := codeStrings(t)
	var prefixes []string
	for s := range lits {
		if strings.HasSuffix(s, ".") && strings.Contains(s, ".") {
			prefixes = append(prefixes, s)
		}
	}
	for k := range langs[Fallback] {
		if _, ok := lits[string(k)]; ok {
			continue
		}
		said := false
		for _, p := range prefixes {
			if strings.HasPrefix(string(k), p) {
				said = true
				break
			}
		}
		if !said {
			t.Errorf("%q is named by no code", k)
		}
	}
}

func hasPrefix(m Messages, p string) bool {
	for k := range m {
		if strings.HasPrefix(string(k), p) {
			return true
		}
	}
	return false
}
