package config

import (
	"fmt"
	"net/url"
	"reflect"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// Endpoint is a contact's own server and access token, for a channel whose
// provider lets each person use their own (ntfy): they take the place of
// the provider's section for that one contact.
type Endpoint struct {
	Server string // base URL; "" for the provider's
	Token  Secret // zero: the provider's token on its server, none on another
}

var contactsType = reflect.TypeFor[Contacts]()

// decodeContacts reads a person's contacts: each an address as text, or,
// for a channel that has ChannelSpec.Endpoint, a mapping of the address
// under that key with server: and token: (kept by path until validation
// moves them to the user).
func (l *loader) decodeContacts(val ast.Node, fv reflect.Value, path string) {
	m, ok := val.(*ast.MappingNode)
	if !ok {
		l.errAtNode(val, "contacts must be a mapping")
		l.undecodable[path] = true
		return
	}
	ct := Contacts{}
	seen := map[string]bool{}
	for _, mv := range m.Values {
		key := keyString(mv.Key)
		sub := join(path, key)
		if key == "<<" {
			l.errAtNode(mv.Key, "merge keys (<<) are not supported; write the keys out")
			continue
		}
		if seen[key] {
			l.errAtNode(mv.Key, fmt.Sprintf("duplicate key %q", key))
			l.undecodable[sub] = true
			continue
		}
		seen[key] = true
		switch v := unwrap(mv.Value).(type) {
		case nil, *ast.NullNode:
			ct[key] = ""
		case *ast.AliasNode:
			l.errAtNode(v, "aliases (*name) are not supported; write the value out")
			l.undecodable[sub] = true
		case *ast.MappingNode:
			addrKey := endpointKey(key)
			if addrKey == "" {
				l.errAtNode(v, fmt.Sprintf("%s must be text", key))
				l.undecodable[sub] = true
				continue
			}
			ep, addr, ok := l.decodeEndpoint(v, addrKey, sub)
			if !ok {
				l.undecodable[sub] = true
				continue
			}
			ct[key] = addr
			l.endpoints[sub] = ep
		case *ast.SequenceNode:
			l.errAtNode(v, fmt.Sprintf("%s must be text", key))
			l.undecodable[sub] = true
		default:
			s, ok := l.text(key, v)
			if !ok {
				l.undecodable[sub] = true
				continue
			}
			ct[key] = s
		}
	}
	fv.Set(reflect.ValueOf(ct))
}

// endpointKey is the address's key in a mapping contact of channel ch, ""
// when its contact is text alone.
func endpointKey(ch string) string {
	for _, s := range knownChannels() {
		if string(s.Name) == ch {
			return s.Endpoint
		}
	}
	return ""
}

// text decodes a scalar that must be text (a quoted number is text).
func (l *loader) text(key string, n ast.Node) (string, bool) {
	if _, ok := n.(*ast.MappingNode); ok {
		l.errAtNode(n, fmt.Sprintf("%s must be text", key))
		return "", false
	}
	if _, ok := n.(*ast.SequenceNode); ok {
		l.errAtNode(n, fmt.Sprintf("%s must be text", key))
		return "", false
	}
	if !l.textScalar(key, n) {
		return "", false
	}
	var s string
	if err := yaml.NodeToValue(n, &s); err != nil {
		l.yamlError(err, n)
		return "", false
	}
	return s, true
}

// decodeEndpoint reads {<addrKey>: …, server: …, token: {file|env|value: …}}.
func (l *loader) decodeEndpoint(m *ast.MappingNode, addrKey, path string) (Endpoint, string, bool) {
	var ep Endpoint
	var addr string
	ok := true
	seen := map[string]bool{}
	keys := map[string]int{addrKey: 0, "server": 1, "token": 2}
	for _, mv := range m.Values {
		key := keyString(mv.Key)
		if seen[key] {
			l.errAtNode(mv.Key, fmt.Sprintf("duplicate key %q", key))
			ok = false
			continue
		}
		seen[key] = true
		v := unwrap(mv.Value)
		if _, null := v.(*ast.NullNode); null || v == nil {
			continue
		}
		if _, alias := v.(*ast.AliasNode); alias {
			l.errAtNode(v, "aliases (*name) are not supported; write the value out")
			ok = false
			continue
		}
		switch key {
		case addrKey, "server":
			s, good := l.text(key, v)
			ok = ok && good
			if key == "server" {
				ep.Server = s
			} else {
				addr = s
			}
		case "token":
			tm, isMap := v.(*ast.MappingNode)
			if !isMap {
				l.errAtNode(v, "token must be a mapping: give file:, env: or value:")
				ok = false
				continue
			}
			before := len(l.errs)
			l.decodeStruct(tm, reflect.ValueOf(&ep.Token).Elem(), join(path, key))
			ok = ok && len(l.errs) == before
		default:
			l.errAtNode(mv.Key, fmt.Sprintf("unknown key %q%s: a contact mapping has %s, server and token", key, suggest(key, keys), addrKey))
			ok = false
		}
	}
	if addr == "" && ok {
		l.errAtNode(m, fmt.Sprintf("%s is required in a contact written as a mapping", addrKey))
		ok = false
	}
	return ep, addr, ok
}

// validateEndpoint settles contact k of u, of a channel with endpoints:
// the address becomes the topic's URL on the contact's own server when it
// names one, the token resolves as any secret (one that does not is a
// provider problem: serve refuses to start), and the endpoint is kept in
// u.Endpoints. An address written as a URL names its server too: all of
// it but the last path segment.
func (l *loader) validateEndpoint(u *User, k string, spec ChannelSpec, path string) {
	ep, mapped := l.endpoints[path]
	addr := u.Contacts[k]
	if mapped {
		if strings.HasPrefix(addr, "http://") || strings.HasPrefix(addr, "https://") {
			l.errAt(path+"."+spec.Endpoint, fmt.Sprintf("%s %q: give the %s alone and its server as server:", spec.Endpoint, addr, spec.Endpoint))
			return
		}
		if spec.Check != nil {
			// The address alone first: "a/b" must not pass as a path on the server.
			if err := spec.Check(addr); err != nil {
				l.errAt(path+"."+spec.Endpoint, err.Error())
				return
			}
		}
		if ep.Server != "" {
			if err := CheckHTTPURL(ep.Server); err != nil {
				l.errAt(path+".server", err.Error())
				return
			}
			addr = strings.TrimRight(ep.Server, "/") + "/" + addr
		}
		if err := l.secret(path+".token", &ep.Token, false, "token"); err != nil {
			l.providerProblems = append(l.providerProblems, l.at(path+".token",
				fmt.Sprintf("user %q: contacts.%s.token: %v: hikyaku serve refuses to start unless --dry-run (nothing is sent, every message is recorded)", u.ID, k, err)))
		}
	} else if strings.HasPrefix(addr, "http://") || strings.HasPrefix(addr, "https://") {
		if v, err := url.Parse(addr); err == nil {
			v.Path = v.Path[:strings.LastIndex(v.Path, "/")+1]
			ep.Server = strings.TrimRight(v.String(), "/")
		}
	}
	u.Contacts[k] = addr
	if spec.Check != nil {
		if err := spec.Check(addr); err != nil {
			where := path
			if mapped {
				where = path + "." + spec.Endpoint
			}
			l.errAt(where, err.Error())
			return
		}
	}
	if ep.Server != "" || !ep.Token.IsZero() {
		if u.Endpoints == nil {
			u.Endpoints = map[Channel]Endpoint{}
		}
		u.Endpoints[Channel(k)] = ep
	}
}
