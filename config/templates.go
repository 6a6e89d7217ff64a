package config

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	tmpltext "text/template"

	amtemplate "github.com/prometheus/alertmanager/template"
)

// TemplateFile is one file of templates.files as read when the configuration
// was loaded: the daemon renders what was checked, not what the file says later.
type TemplateFile struct {
	Path string
	Text string
}

// validateTemplates reads and parses templates.files and each chat channel's
// template, so a broken template refuses the file (and a reload keeps the
// running configuration) instead of failing at the first page.
func (l *loader) validateTemplates(c *Config) {
	c.Templates.Loaded = nil
	for i, g := range c.Templates.Files {
		p := fmt.Sprintf("templates.files[%d]", i)
		if !filepath.IsAbs(g) && l.file != "" {
			// Relative to the configuration file, like Alertmanager's templates.
			g = filepath.Join(filepath.Dir(l.file), g)
		}
		paths, err := filepath.Glob(g)
		if err != nil {
			l.errAt(p, fmt.Sprintf("bad pattern %q: %v", g, err))
			continue
		}
		if len(paths) == 0 {
			if strings.ContainsAny(g, `*?[\`) {
				l.warnAt(p, fmt.Sprintf("no file matches %q", g))
			} else {
				l.errAt(p, fmt.Sprintf("template file %q does not exist", g))
			}
			continue
		}
		for _, path := range paths {
			b, err := os.ReadFile(path)
			if err != nil {
				l.errAt(p, fmt.Sprintf("template file: %v", err))
				continue
			}
			f := TemplateFile{Path: path, Text: string(b)}
			if err := parseTemplate(path, f.Text); err != nil {
				line, col, msg := templateErrorAt(path, f.Text, err)
				l.errs = append(l.errs, Error{File: path, Line: line, Column: col, Msg: msg})
				continue
			}
			c.Templates.Loaded = append(c.Templates.Loaded, f)
		}
	}
	for i, ch := range c.ChatChannels {
		if ch.Template == "" {
			continue
		}
		p := fmt.Sprintf("chat_channels[%d].template", i)
		if ch.Webhook == "" {
			l.errAt(p, "template shapes a webhook's body: it needs webhook (a Slack channel's message is built by hikyaku)")
		}
		if err := parseTemplate(p, ch.Template); err != nil {
			line, col, msg := templateErrorAt(p, ch.Template, err)
			e := l.at(p, msg)
			if strings.Contains(strings.TrimRight(ch.Template, "\n"), "\n") || strings.HasSuffix(ch.Template, "\n") {
				// A block scalar (template: |): the position is the "|", the text
				// starts on the next line, indented (conventionally) two past its key.
				e.Line += line
				if key, ok := l.positions[p+"#key"]; ok {
					e.Column = key.Column + 2 + col - 1
				}
			} else {
				// A quoted one-line value: past the opening quote.
				e.Column += col
			}
			l.errs = append(l.errs, e)
		}
	}
}

// parseTemplate parses text as Alertmanager would, with its functions, so
// an unknown function is caught here.
func parseTemplate(name, text string) error {
	_, err := tmpltext.New(name).Option("missingkey=zero").Funcs(tmpltext.FuncMap(amtemplate.DefaultFuncs)).Parse(text)
	return err
}

var quotedRe = regexp.MustCompile(`"([^"]+)"`)

// templateErrorAt turns text/template's "template: NAME:LINE: msg" into a
// line, a column and the message. text/template gives no column: the column
// is where the name the message quotes appears on that line, else where the
// line's first action starts.
func templateErrorAt(name, text string, err error) (line, col int, msg string) {
	msg = err.Error()
	line, col = 1, 1
	rest, ok := strings.CutPrefix(msg, "template: "+name+":")
	if !ok {
		return line, col, msg
	}
	num, after, ok := strings.Cut(rest, ": ")
	n, nerr := strconv.Atoi(num)
	if !ok || nerr != nil {
		return line, col, msg
	}
	line, msg = n, after
	lines := strings.Split(text, "\n")
	if line < 1 || line > len(lines) {
		return line, col, msg
	}
	src := lines[line-1]
	if m := quotedRe.FindStringSubmatch(msg); m != nil {
		if i := strings.Index(src, m[1]); i >= 0 {
			return line, i + 1, msg
		}
	}
	if i := strings.Index(src, "{{"); i >= 0 {
		col = i + 1
	}
	return line, col, msg
}
