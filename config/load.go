package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Load reads and validates the file at path. On failure the error is an
// Errors listing every problem found, each as FILE:LINE:COL: message.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data, path)
}

// Parse validates data as if read from file (file only names errors).
func Parse(data []byte, file string) (cfg *Config, err error) {
	// A reload must never take the running daemon down: should go-yaml panic
	// on some malformed input, the file is refused like any other bad file.
	defer func() {
		if r := recover(); r != nil {
			msg := fmt.Sprintf("YAML parser failed: %v", r)
			if where := panicSite(); !strings.HasPrefix(where, "github.com/goccy/go-yaml") {
				msg = fmt.Sprintf("internal error in %s: %v (a bug in hikyaku: please report it with this file)", where, r)
			}
			cfg, err = nil, Errors{{File: file, Line: 1, Column: 1, Msg: msg}}
		}
	}()
	l := &loader{file: file, positions: map[string]token.Position{}, undecodable: map[string]bool{},
		unsetCredential: map[string]unsetCredential{}, endpoints: map[string]Endpoint{}}
	cfg = l.decode(data)
	if len(l.errs) == 0 || cfg != nil {
		l.validate(cfg)
	}
	if len(l.errs) > 0 {
		l.errs.sort()
		return nil, l.errs
	}
	cfg.File = file
	cfg.Warnings = l.warns
	l.providerProblems.sort()
	l.receiverProblems.sort()
	cfg.ProviderProblems, cfg.ReceiverProblems = l.providerProblems, l.receiverProblems
	return cfg, nil
}

// panicSite names the function that panicked, called from a deferred recover.
func panicSite() string {
	pcs := make([]uintptr, 32)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	inPanic := false
	for {
		fr, more := frames.Next()
		if fr.Function == "runtime.gopanic" {
			inPanic = true
		} else if inPanic && !strings.HasPrefix(fr.Function, "runtime.") {
			return fr.Function
		}
		if !more {
			return "unknown"
		}
	}
}

// loader collects every error of one file instead of stopping at the first,
// and remembers where each YAML path is so semantic checks can point at it.
type loader struct {
	file      string
	positions map[string]token.Position
	errs      Errors
	warns     Errors
	// undecodable holds the paths whose value had the wrong shape, so the
	// checks for a missing value do not report them a second time.
	undecodable map[string]bool
	// unsetCredential is, by provider, the credential that did not resolve.
	unsetCredential                    map[string]unsetCredential
	providerProblems, receiverProblems Errors
	// endpoints are the contacts written as mappings, by path, until
	// validation moves them to their user.
	endpoints map[string]Endpoint
}

func (l *loader) decode(data []byte) *Config {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		l.yamlError(err, nil)
		return nil
	}
	cfg := &Config{}
	// go-yaml returns a %YAML or %TAG directive as a document of its own; it
	// belongs to the document that follows it.
	docs := f.Docs
	for len(docs) > 1 {
		if _, ok := docs[0].Body.(*ast.DirectiveNode); !ok {
			break
		}
		docs = docs[1:]
	}
	f.Docs = docs
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		l.errs = append(l.errs, Error{File: l.file, Line: 1, Column: 1, Msg: "empty configuration: at least users, departments and escalation_policies are needed"})
		return nil
	}
	if len(f.Docs) > 1 {
		// Point at the "---" that starts the second document; its GetToken
		// would dereference a body that an empty document does not have.
		e := Error{File: l.file, Line: 1, Column: 1, Msg: "only one YAML document is allowed"}
		if tk := f.Docs[1].Start; tk != nil && tk.Position != nil {
			e.Line, e.Column = tk.Position.Line, tk.Position.Column
		} else if f.Docs[1].Body != nil {
			if tk := firstToken(f.Docs[1].Body); tk != nil {
				e.Line, e.Column = tk.Position.Line, tk.Position.Column
			}
		}
		l.errs = append(l.errs, e)
	}
	root, ok := unwrap(f.Docs[0].Body).(*ast.MappingNode)
	if !ok {
		l.errAtNode(f.Docs[0].Body, "the configuration must be a mapping of sections (users:, departments:, …)")
		return nil
	}
	// Sections missing from the file are reported at its top.
	l.positions[""] = token.Position{Line: 1, Column: 1}
	l.index("", root)
	l.decodeStruct(root, reflect.ValueOf(cfg).Elem(), "")
	return cfg
}

// decodeStruct decodes a mapping into a struct field by field, and sequences
// element by element, so one bad entry does not hide the errors of the others.
func (l *loader) decodeStruct(m *ast.MappingNode, v reflect.Value, path string) {
	fields := yamlFields(v.Type())
	seen := map[string]bool{}
	for _, mv := range m.Values {
		key := keyString(mv.Key)
		if key == "<<" {
			l.errAtNode(mv.Key, "merge keys (<<) are not supported; write the keys out")
			continue
		}
		if seen[key] {
			l.errAtNode(mv.Key, fmt.Sprintf("duplicate key %q", key))
			l.undecodable[join(path, key)] = true
			continue
		}
		seen[key] = true
		idx, ok := fields[key]
		if !ok && v.Type() == providersType && openProvider(key) {
			l.decodeOpenProvider(v.Addr().Interface().(*Providers), key, unwrap(mv.Value), join(path, key))
			continue
		}
		if !ok {
			l.errAtNode(mv.Key, fmt.Sprintf("unknown key %q%s", key, suggest(key, fields)))
			continue
		}
		fv := v.Field(idx)
		sub := join(path, key)
		val := unwrap(mv.Value)
		if _, null := val.(*ast.NullNode); null || val == nil {
			continue
		}
		if _, alias := val.(*ast.AliasNode); alias {
			l.errAtNode(val, "aliases (*name) are not supported; write the value out")
			l.undecodable[sub] = true
			continue
		}
		if fv.Type() == contactsType {
			l.decodeContacts(val, fv, sub)
			continue
		}
		switch {
		case fv.Kind() == reflect.Slice && isStructLike(fv.Type().Elem()):
			seq, ok := val.(*ast.SequenceNode)
			if !ok {
				l.errAtNode(val, fmt.Sprintf("%s must be a list", key))
				l.undecodable[sub] = true
				continue
			}
			et := fv.Type().Elem()
			for i, el := range seq.Values {
				em, ok := unwrap(el).(*ast.MappingNode)
				if _, alias := unwrap(el).(*ast.AliasNode); alias {
					l.errAtNode(el, "aliases (*name) are not supported; write the value out")
					l.undecodable[sub] = true
					continue
				}
				if !ok {
					l.errAtNode(el, fmt.Sprintf("each entry of %s must be a mapping", key))
					l.undecodable[sub] = true
					continue
				}
				elem := reflect.New(et)
				target := elem.Elem()
				if et.Kind() == reflect.Pointer {
					target.Set(reflect.New(et.Elem()))
					target = target.Elem()
				}
				l.decodeStruct(em, target, fmt.Sprintf("%s[%d]", sub, i))
				fv.Set(reflect.Append(fv, elem.Elem()))
			}
		case fv.Kind() == reflect.Struct && isStructLike(fv.Type()):
			mm, ok := val.(*ast.MappingNode)
			if !ok {
				l.errAtNode(val, fmt.Sprintf("%s must be a mapping", key))
				l.undecodable[sub] = true
				continue
			}
			l.decodeStruct(mm, fv, sub)
		case fv.Kind() == reflect.Pointer && isStructLike(fv.Type()):
			mm, ok := val.(*ast.MappingNode)
			if !ok {
				l.errAtNode(val, fmt.Sprintf("%s must be a mapping", key))
				l.undecodable[sub] = true
				continue
			}
			fv.Set(reflect.New(fv.Type().Elem()))
			l.decodeStruct(mm, fv.Elem(), sub)
		default:
			// go-yaml leaves a pointer nil when decoding a bare scalar into it: allocate first.
			target := fv.Addr()
			if fv.Kind() == reflect.Pointer {
				fv.Set(reflect.New(fv.Type().Elem()))
				target = fv
			}
			if !l.scalarShape(key, val, fv.Type()) {
				l.undecodable[sub] = true
				continue
			}
			if err := yaml.NodeToValue(val, target.Interface(), yaml.DisallowUnknownField()); err != nil {
				l.yamlError(err, val)
				l.undecodable[sub] = true
			}
		}
	}
}

// scalarShape checks a value's YAML kind against its field's before decoding,
// for messages that name the key. Numbers and booleans are refused where text
// is expected, as yaml.v2 does: go-yaml would silently read sms: +819012345678
// as "819012345678" and id: 0x1F as "31". It tells whether the value fits.
func (l *loader) scalarShape(key string, n ast.Node, t reflect.Type) bool {
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return true
	}
	switch t.Kind() {
	case reflect.String:
		return l.textScalar(key, n)
	case reflect.Int, reflect.Int64:
		if _, ok := n.(*ast.IntegerNode); !ok {
			l.errAtNode(n, fmt.Sprintf("%s must be a whole number", key))
			return false
		}
	case reflect.Bool:
		if _, ok := n.(*ast.BoolNode); !ok {
			l.errAtNode(n, fmt.Sprintf("%s must be true or false", key))
			return false
		}
	case reflect.Map:
		m, ok := n.(*ast.MappingNode)
		if !ok {
			l.errAtNode(n, fmt.Sprintf("%s must be a mapping", key))
			return false
		}
		if t.Elem().Kind() != reflect.String {
			return true
		}
		for _, mv := range m.Values {
			switch unwrap(mv.Value).(type) {
			case *ast.AliasNode:
				l.errAtNode(mv.Value, "aliases (*name) are not supported; write the value out")
				ok = false
				continue
			case *ast.MappingNode, *ast.SequenceNode:
				l.errAtNode(mv.Value, fmt.Sprintf("%s must be text", keyString(mv.Key)))
				ok = false
				continue
			}
			ok = l.textScalar(keyString(mv.Key), unwrap(mv.Value)) && ok
		}
		return ok
	case reflect.Slice:
		seq, ok := n.(*ast.SequenceNode)
		if !ok {
			l.errAtNode(n, fmt.Sprintf("%s must be a list", key))
			return false
		}
		if t.Elem().Kind() != reflect.String || reflect.PointerTo(t.Elem()).Implements(unmarshalerType) {
			return true
		}
		ok = true
		for _, el := range seq.Values {
			ok = l.textScalar(key, unwrap(el)) && ok
		}
		return ok
	}
	return true
}

func (l *loader) textScalar(key string, n ast.Node) bool {
	what := ""
	switch n.(type) {
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		what = "a number"
	case *ast.BoolNode:
		what = "a boolean"
	default:
		return true
	}
	text := n.GetToken().Value
	l.errAtNode(n, fmt.Sprintf("%s: %s is %s, not text: quote it (\"%s\") if it is meant as text", key, text, what, text))
	return false
}

// undecoded tells whether path, or anything under it, had the wrong shape.
func (l *loader) undecoded(path string) bool {
	for p := range l.undecodable {
		if p == path || strings.HasPrefix(p, path+".") || strings.HasPrefix(p, path+"[") {
			return true
		}
	}
	return false
}

// unknownRef reports a reference to an id of section that does not exist,
// unless an entry of that section lost its id to a decoding error: the
// reference may well be to it, and that error already says what to fix.
func (l *loader) unknownRef(section, path, msg string) {
	for p := range l.undecodable {
		if p != section && !strings.HasPrefix(p, section+"[") && !strings.HasPrefix(p, section+".") {
			continue
		}
		last := p[strings.LastIndexAny(p, ".")+1:]
		switch last {
		case section, "id", "name", "rotations", "schedules":
			return
		}
	}
	l.errAt(path, msg)
}

// isStructLike tells whether t (or *t) is a struct decoded key by key.
func isStructLike(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct && !reflect.PointerTo(t).Implements(unmarshalerType)
}

var unmarshalerType = reflect.TypeFor[interface{ UnmarshalYAML(func(any) error) error }]()

// yamlFields maps yaml keys to struct field indexes; fields tagged "-" or
// unexported are not keys.
func yamlFields(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || name == "" {
			continue
		}
		out[name] = i
	}
	return out
}

// suggest offers the closest known key for a typo.
func suggest(key string, fields map[string]int) string {
	best, bestD := "", 3
	for k := range fields {
		if d := editDistance(key, k); d < bestD || (d == bestD && best != "" && k < best) {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// index records the position of every value under path.
func (l *loader) index(path string, n ast.Node) {
	n = unwrap(n)
	if n == nil {
		return
	}
	if tk := firstToken(n); tk != nil {
		if _, ok := l.positions[path]; !ok {
			l.positions[path] = *tk.Position
		}
	}
	switch n := n.(type) {
	case *ast.MappingNode:
		for _, mv := range n.Values {
			sub := join(path, keyString(mv.Key))
			if tk := mv.Key.GetToken(); tk != nil {
				l.positions[sub+"#key"] = *tk.Position
			}
			v := unwrap(mv.Value)
			if _, null := v.(*ast.NullNode); null || v == nil {
				if tk := mv.Key.GetToken(); tk != nil {
					l.positions[sub] = *tk.Position
				}
				continue
			}
			l.index(sub, v)
		}
	case *ast.SequenceNode:
		for i, el := range n.Values {
			l.index(path+"["+strconv.Itoa(i)+"]", el)
		}
	}
}

// firstToken is where n starts: a mapping's own token is the ':' of its first
// key, but an editor should jump to the key.
func firstToken(n ast.Node) *token.Token {
	if m, ok := n.(*ast.MappingNode); ok && len(m.Values) > 0 && m.Values[0].Key != nil {
		if tk := m.Values[0].Key.GetToken(); tk != nil && tk.Position != nil {
			return tk
		}
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk
	}
	return nil
}

func unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		case *ast.MappingValueNode:
			// A one-key mapping written without indentation parses to a bare value node.
			return &ast.MappingNode{BaseNode: v.BaseNode, Start: v.GetToken(), Values: []*ast.MappingValueNode{v}}
		default:
			return n
		}
	}
}

func keyString(k ast.MapKeyNode) string {
	if k == nil {
		return ""
	}
	if s, ok := k.(*ast.StringNode); ok {
		return s.Value
	}
	return strings.Trim(k.String(), `"'`)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// errAt reports msg at the YAML path, or at the nearest enclosing path that
// exists (a missing key is reported where its mapping starts).
func (l *loader) errAt(path, msg string) { l.errs = append(l.errs, l.at(path, msg)) }

// warnAt is errAt for problems that do not stop the config from loading.
func (l *loader) warnAt(path, msg string) { l.warns = append(l.warns, l.at(path, msg)) }

func (l *loader) at(path, msg string) Error {
	for p := path; ; {
		if pos, ok := l.positions[p]; ok {
			return Error{File: l.file, Line: pos.Line, Column: pos.Column, Msg: msg}
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return Error{File: l.file, Line: 1, Column: 1, Msg: msg}
		}
		p = p[:i]
	}
}

func (l *loader) errAtNode(n ast.Node, msg string) {
	e := Error{File: l.file, Line: 1, Column: 1, Msg: msg}
	if n != nil {
		if tk := firstToken(n); tk != nil {
			e.Line, e.Column = tk.Position.Line, tk.Position.Column
		}
	}
	l.errs = append(l.errs, e)
}

// yamlError turns a go-yaml error into a positioned Error; errors without a
// token (those of our own UnmarshalYAML methods) take the node's position.
func (l *loader) yamlError(err error, n ast.Node) {
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil && ye.GetToken().Position != nil {
		pos := ye.GetToken().Position
		l.errs = append(l.errs, Error{File: l.file, Line: pos.Line, Column: pos.Column, Msg: cleanYAMLMessage(ye.GetMessage())})
		return
	}
	l.errAtNode(n, cleanYAMLMessage(err.Error()))
}

// cleanYAMLMessage drops go-yaml's own "[line:col]" prefix and source excerpt:
// the position is already in front of the message.
func cleanYAMLMessage(s string) string {
	if i := strings.Index(s, "\n"); i >= 0 {
		s = s[:i]
	}
	if strings.HasPrefix(s, "[") {
		if i := strings.Index(s, "] "); i > 0 {
			s = s[i+2:]
		}
	}
	return strings.TrimSpace(s)
}

var providersType = reflect.TypeFor[Providers]()

// decodeOpenProvider decodes providers.name, a section Providers has no
// field for, into its Others.
func (l *loader) decodeOpenProvider(p *Providers, name string, val ast.Node, path string) {
	if _, null := val.(*ast.NullNode); null || val == nil {
		return
	}
	mm, ok := val.(*ast.MappingNode)
	if !ok {
		l.errAtNode(val, fmt.Sprintf("%s must be a mapping", name))
		l.undecodable[path] = true
		return
	}
	if p.Others == nil {
		p.Others = map[string]*ProviderSettings{}
	}
	ps := &ProviderSettings{}
	l.decodeStruct(mm, reflect.ValueOf(ps).Elem(), path)
	p.Others[name] = ps
}
