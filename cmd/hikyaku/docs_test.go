package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestJSONMatchesDocs keeps docs/cli.md honest: every field a command's JSON
// output has must appear in that command's documented example.
func TestJSONMatchesDocs(t *testing.T) {
	doc, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	runs := map[string][]string{
		"check":    {"check", "--config", "testdata/gap.yml", "--from", "2026-11-23 00:00", "--horizon", "2d"},
		"oncall":   {"oncall", "--config", exampleConfig, "--at", "2026-12-29 18:00"},
		"shifts":   {"shifts", "--config", exampleConfig, "--rotation", "eng-follow-the-sun", "--from", "2026-12-28 00:00", "--to", "2026-12-31 00:00"},
		"simulate": {"simulate", "--config", exampleConfig, "--alert", twoAlerts, "--for", "45m"},
		"version":  {"version"},
	}
	for _, c := range commands {
		args, ok := runs[c.name]
		if !ok {
			continue // a command without JSON output (serve)
		}
		example := docExample(t, string(doc), c.name)
		if example == nil {
			continue
		}
		code, stdout, stderr := runCmd(t, append(args, "--output", "json")...)
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", c.name, code, stderr)
		}
		var got any
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("%s: output is not JSON: %v\n%s", c.name, err, stdout)
		}
		documented := keyPaths(example, "")
		for _, k := range keyPaths(got, "") {
			if !slices.Contains(documented, k) {
				t.Errorf("%s: JSON field %s is not in the docs/cli.md example", c.name, k)
			}
		}
	}
}

// docExample is the first ```json block in the "## hikyaku NAME" section.
func docExample(t *testing.T, doc, name string) any {
	t.Helper()
	_, section, ok := strings.Cut(doc, "\n## hikyaku "+name+"\n")
	if !ok {
		t.Errorf("docs/cli.md has no section for %s", name)
		return nil
	}
	section, _, _ = strings.Cut(section, "\n## ")
	m := regexp.MustCompile("(?s)```json\n(.*?)```").FindStringSubmatch(section)
	if m == nil {
		t.Errorf("docs/cli.md: %s has no JSON example", name)
		return nil
	}
	var v any
	if err := json.Unmarshal([]byte(m[1]), &v); err != nil {
		t.Errorf("docs/cli.md: %s's JSON example does not parse: %v", name, err)
		return nil
	}
	return v
}

// keyPaths lists the object keys in v as paths: "decisions[].plan.steps[].at".
// Maps keyed by data (labels) are opaque: their keys are values, not schema.
func keyPaths(v any, prefix string) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			p := prefix + "." + k
			out = append(out, p)
			if k != "labels" {
				out = append(out, keyPaths(sub, p)...)
			}
		}
	case []any:
		for _, sub := range v {
			out = append(out, keyPaths(sub, prefix+"[]")...)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// TestTextExamplesMatchDocs keeps docs/cli.md's text examples true: each
// "$ hikyaku …" block run on examples/ prints what the doc shows, a line
// "…" standing for any number of lines. Examples on files the repository
// does not have (support.yml) or whose output is the build's (version)
// are left out.
func TestTextExamplesMatchDocs(t *testing.T) {
	doc, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)```\n\\$ hikyaku ([^\n]*)\n(.*?)```")
	word := regexp.MustCompile(`"[^"]*"|\S+`)
	n := 0
	for _, m := range block.FindAllStringSubmatch(string(doc), -1) {
		if !strings.Contains(m[1], "examples/hikyaku.yml") {
			continue
		}
		var args []string
		for _, w := range word.FindAllString(m[1], -1) {
			w = strings.Trim(w, `"`)
			switch {
			case strings.HasPrefix(w, "examples/"):
				w = "../../" + w
			case strings.HasSuffix(w, ".json"):
				w = "../../examples/alerts/" + w
			}
			args = append(args, w)
		}
		code, stdout, stderr := runCmd(t, args...)
		if code != exitOK {
			t.Errorf("hikyaku %s: exit %d: %s", m[1], code, stderr)
			continue
		}
		n++
		if !matchElided(strings.Split(strings.TrimRight(m[2], "\n"), "\n"), strings.Split(strings.TrimRight(stdout, "\n"), "\n")) {
			t.Errorf("docs/cli.md: hikyaku %s prints\n%s\nbut the doc shows\n%s", m[1], stdout, m[2])
		}
	}
	if n < 3 {
		t.Errorf("%d text examples checked: docs/cli.md lost them, or this test its way to them", n)
	}
}

// matchElided tells whether got is want with each line of want that is
// only "…" (with its indentation) standing for zero or more lines of got.
func matchElided(want, got []string) bool {
	if len(want) == 0 {
		return len(got) == 0
	}
	if strings.TrimSpace(want[0]) == "…" {
		for i := 0; i <= len(got); i++ {
			if matchElided(want[1:], got[i:]) {
				return true
			}
		}
		return false
	}
	return len(got) > 0 && got[0] == want[0] && matchElided(want[1:], got[1:])
}

// TestDocLinksResolve: every relative link of README.md and docs/*.md
// names a file that exists and, for a Markdown file, a heading it has
// (GitHub's anchors: lower case, punctuation dropped, spaces as hyphens).
func TestDocLinksResolve(t *testing.T) {
	fence := regexp.MustCompile("(?s)```.*?```")
	heading := regexp.MustCompile(`(?m)^#+ (.*)$`)
	drop := regexp.MustCompile(`[^\p{L}\p{N}_\- ]`)
	anchors := map[string]map[string]bool{}
	docs := docFiles(t)
	for name, text := range docs {
		seen := map[string]int{}
		anchors[name] = map[string]bool{}
		for _, m := range heading.FindAllStringSubmatch(fence.ReplaceAllString(text, ""), -1) {
			s := strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(strings.TrimSpace(m[1])), ""), " ", "-")
			if n := seen[s]; n > 0 {
				anchors[name][fmt.Sprintf("%s-%d", s, n)] = true
			} else {
				anchors[name][s] = true
			}
			seen[s]++
		}
	}
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	n := 0
	for name, text := range docs {
		for _, m := range link.FindAllStringSubmatch(fence.ReplaceAllString(text, ""), -1) {
			target := m[1]
			if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			n++
			file, anchor, _ := strings.Cut(target, "#")
			path := name
			if file != "" {
				path = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(name), file)))
			}
			if _, err := os.Stat(filepath.Join("../..", path)); err != nil {
				t.Errorf("%s links to %s: %v", name, target, err)
				continue
			}
			if anchor != "" && strings.HasSuffix(path, ".md") && !anchors[path][anchor] {
				t.Errorf("%s links to %s: %s has no heading #%s", name, target, path, anchor)
			}
		}
	}
	if n < 100 {
		t.Errorf("%d links checked: the pattern lost them", n)
	}
}
