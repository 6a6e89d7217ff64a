// Package template renders hikyaku's messages with Alertmanager's template engine:
// built-in Japanese and English texts, each of which the admin's files may redefine.
package template

import (
	"embed"
	"errors"
	"fmt"
	tmplhtml "html/template"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	tmpltext "text/template"

	amtemplate "github.com/prometheus/alertmanager/template"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
)

//go:embed defaults/*.tmpl
var defaultFiles embed.FS

// Templates are the built-in templates with the admin's files parsed over
// them. They are safe for concurrent use.
type Templates struct {
	am   *amtemplate.Template
	text *tmpltext.Template // am's text template, to look names up
	// base is the built-in set alone: the fallback when an admin's
	// definition fails to execute, so a page never goes out empty.
	base *Templates
}

// FallbackError says an admin's template failed and the built-in text was
// rendered instead. The text returned with it is good to send.
type FallbackError struct {
	Name string // the template that failed ("" when the message data was unreadable)
	Err  error
}

func (e *FallbackError) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("rendered without alert details: %v", e.Err)
	}
	return fmt.Sprintf("template %q failed, the built-in text was sent instead: %v", e.Name, e.Err)
}

func (e *FallbackError) Unwrap() error { return e.Err }

// Default is the built-in templates alone.
var Default = sync.OnceValue(func() *Templates {
	t, err := parse(nil)
	if err != nil {
		panic(fmt.Sprintf("hikyaku's built-in templates do not parse: %v", err))
	}
	return t
})

// New parses the files the globs match over the built-in templates, as
// templates.files does. A glob that matches nothing is not an error.
func New(globs []string) (*Templates, error) {
	files, err := ReadFiles(globs)
	if err != nil {
		return nil, err
	}
	return Parse(files)
}

// ReadFiles reads the files the globs match, in order.
func ReadFiles(globs []string) ([]config.TemplateFile, error) {
	var files []config.TemplateFile
	for _, g := range globs {
		paths, err := filepath.Glob(g)
		if err != nil {
			return nil, fmt.Errorf("template files %q: %w", g, err)
		}
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("template file: %w", err)
			}
			files = append(files, config.TemplateFile{Path: p, Text: string(b)})
		}
	}
	return files, nil
}

// Parse parses files (as config.Load read them) over the built-in templates.
func Parse(files []config.TemplateFile) (*Templates, error) {
	if len(files) == 0 {
		return Default(), nil
	}
	t, err := parse(files)
	if err != nil {
		return nil, err
	}
	t.base = Default()
	return t, nil
}

func parse(files []config.TemplateFile) (*Templates, error) {
	t := &Templates{}
	// Alertmanager's Template hides its text/template; its options see it,
	// and Parse keeps the same pointer, so names can be looked up.
	am, err := amtemplate.New(func(text *tmpltext.Template, _ *tmplhtml.Template) { t.text = text })
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	t.am = am
	defaults, err := fs.Glob(defaultFiles, "defaults/*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("built-in templates: %w", err)
	}
	for _, name := range defaults {
		b, err := defaultFiles.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("built-in templates: %w", err)
		}
		if err := am.Parse(strings.NewReader(string(b))); err != nil {
			return nil, fmt.Errorf("built-in template %s: %w", name, err)
		}
	}
	for _, f := range files {
		if err := am.Parse(strings.NewReader(f.Text)); err != nil {
			return nil, fmt.Errorf("template file %s: %w", f.Path, err)
		}
	}
	return t, nil
}

// Render writes m's subject and text with the templates for its channel,
// kind and language; see Names for the order they are looked up in. On a
// *FallbackError the texts are still good to send.
func (t *Templates) Render(m *channels.Message) (subject, text string, err error) {
	d, derr := NewData(m)
	var fallback error
	if derr != nil {
		fallback = &FallbackError{Err: derr}
	}
	kind, ch := string(m.Kind), m.Channel
	subject, err = t.execute(Names(ch, kind+".subject", d.Language), d)
	if err != nil && !isFallback(err) {
		return "", "", err
	}
	fallback = cmpErr(fallback, err)
	d.Subject = subject
	text, err = t.execute(Names(ch, kind, d.Language), d)
	if err != nil && !isFallback(err) {
		return "", "", err
	}
	return subject, text, cmpErr(fallback, err)
}

// RenderBody executes body (a chat channel's own template, such as a
// webhook's JSON) with m's data; m.Subject and m.Text are available to it.
func (t *Templates) RenderBody(m *channels.Message, body string) (string, error) {
	d, derr := NewData(m)
	out, err := t.am.ExecuteTextString(body, d)
	if err != nil {
		return "", fmt.Errorf("body template: %w", err)
	}
	if derr != nil {
		return out, &FallbackError{Err: derr}
	}
	return out, nil
}

// channelRe keeps names well-formed whatever a message's channel says.
var channelRe = regexp.MustCompile(`^[a-z0-9_]+$`)

// Names are the templates tried for one text, most specific first: the
// channel's own in the language, the kind's in the language, then both in
// English, so an admin who only writes English templates still covers everyone.
func Names(channel, kind, lang string) []string {
	var names []string
	for i, l := range []string{lang, "en"} {
		if i > 0 && l == lang {
			break
		}
		if channelRe.MatchString(channel) {
			names = append(names, fmt.Sprintf("hikyaku.%s.%s.%s", channel, kind, l))
		}
		names = append(names, fmt.Sprintf("hikyaku.%s.%s", kind, l))
	}
	return names
}

func (t *Templates) execute(names []string, d *Data) (string, error) {
	name := t.lookup(names)
	if name == "" {
		return "", fmt.Errorf("no template defines any of %s", strings.Join(names, ", "))
	}
	out, err := t.am.ExecuteTextString(`{{ template "`+name+`" . }}`, d)
	if err == nil {
		return strings.TrimSpace(out), nil
	}
	if t.base == nil {
		return "", fmt.Errorf("template %s: %w", name, err)
	}
	fb, berr := t.base.execute(names, d)
	if berr != nil {
		return "", fmt.Errorf("template %s: %w (and the built-in one: %v)", name, err, berr)
	}
	return fb, &FallbackError{Name: name, Err: err}
}

func (t *Templates) lookup(names []string) string {
	for _, n := range names {
		if t.text.Lookup(n) != nil {
			return n
		}
	}
	return ""
}

func isFallback(err error) bool {
	var fe *FallbackError
	return errors.As(err, &fe)
}

// cmpErr keeps the first of two fallback errors: both texts were sent anyway.
func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
