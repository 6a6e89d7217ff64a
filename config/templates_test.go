package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// loadErrs parses snippet as file and returns its errors (nil when it loads).
func loadErrs(t *testing.T, snippet, file string) (*Config, Errors) {
	t.Helper()
	cfg, err := Parse([]byte(complete(snippet)), file)
	if err == nil {
		return cfg, nil
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("err = %v, want Errors", err)
	}
	return nil, es
}

func TestTemplateFilesAreReadAtLoad(t *testing.T) {
	dir := t.TempDir()
	tmpl := `{{ define "hikyaku.sms.page.ja" }}至急 {{ .Incident.ID }}{{ end }}`
	if err := os.WriteFile(filepath.Join(dir, "pages.tmpl"), []byte(tmpl), 0o600); err != nil {
		t.Fatal(err)
	}
	// A relative glob is relative to the configuration file.
	cfg, errs := loadErrs(t, "templates:\n  files: [\"*.tmpl\", \"none/*.tmpl\"]\n", filepath.Join(dir, "hikyaku.yml"))
	if errs != nil {
		t.Fatal(errs)
	}
	if len(cfg.Templates.Loaded) != 1 || cfg.Templates.Loaded[0].Text != tmpl || cfg.Templates.Loaded[0].Path != filepath.Join(dir, "pages.tmpl") {
		t.Errorf("loaded = %+v", cfg.Templates.Loaded)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0].Msg, "no file matches") {
		t.Errorf("warnings = %v, want one for the glob matching nothing", cfg.Warnings)
	}
}

func TestABrokenTemplateFileIsAnErrorInThatFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pages.tmpl")
	tmpl := "{{ define \"hikyaku.sms.page.en\" }}\nPage {{ .Incident.ID }}\n  {{ shout .Title }}\n{{ end }}\n"
	if err := os.WriteFile(path, []byte(tmpl), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errs := loadErrs(t, "templates:\n  files: ["+path+"]\n", "hikyaku.yml")
	if len(errs) != 1 {
		t.Fatalf("errors = %v, want one", errs)
	}
	e := errs[0]
	if e.File != path || e.Line != 3 || e.Column != 6 || !strings.Contains(e.Msg, `function "shout" not defined`) {
		t.Errorf("error = %v, want %s:3:6: function \"shout\" not defined", e, path)
	}
}

func TestAMissingTemplateFileIsAnError(t *testing.T) {
	_, errs := loadErrs(t, "templates:\n  files: [/nonexistent/hikyaku.tmpl]\n", "hikyaku.yml")
	if len(errs) != 1 || errs[0].Line != 2 || !strings.Contains(errs[0].Msg, "does not exist") {
		t.Errorf("errors = %v, want one at line 2 saying the file does not exist", errs)
	}
}

func TestABrokenChatChannelTemplateIsAnErrorInTheYAML(t *testing.T) {
	tests := []struct {
		name, yaml string
		line, col  int
	}{
		{"block", `chat_channels:
  - id: teams
    webhook: https://example.com/hook
    template: |
      {"text": {{ .Text | toJson }},
       "title": {{ .Title | toJSON }}}
`, 6, 29},
		{"quoted", `chat_channels:
  - id: teams
    webhook: https://example.com/hook
    template: '{"text": {{ .Text | tojson }}}'
`, 4, 36},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := loadErrs(t, tt.yaml, "hikyaku.yml")
			if len(errs) != 1 {
				t.Fatalf("errors = %v, want one", errs)
			}
			if e := errs[0]; e.File != "hikyaku.yml" || e.Line != tt.line || e.Column != tt.col || !strings.Contains(e.Msg, "not defined") {
				t.Errorf("error = %v, want hikyaku.yml:%d:%d: function … not defined", e, tt.line, tt.col)
			}
		})
	}
}

func TestATemplateNeedsAWebhook(t *testing.T) {
	_, errs := loadErrs(t, `chat_channels:
  - id: ops
    slack: C012AB3CD
    template: '{"text": "x"}'
`, "hikyaku.yml")
	if len(errs) != 1 || errs[0].Line != 4 || !strings.Contains(errs[0].Msg, "needs webhook") {
		t.Errorf("errors = %v", errs)
	}
}
