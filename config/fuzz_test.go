package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds Parse arbitrary bytes: a reload of a half-written file must
// be refused with positioned errors, never crash the daemon or load a config
// the rest of hikyaku cannot use.
func FuzzParse(f *testing.F) {
	for _, path := range []string{
		filepath.Join("..", "examples", "hikyaku.yml"),
		filepath.Join("testdata", "many-errors.yml"),
		// Alertmanager's own file, which admins will paste from.
		"/work/shared/testdata/alertmanager/alertmanager.yml",
	} {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(minimal))
	for _, tt := range brokenConfigs {
		if tt.raw {
			f.Add([]byte(tt.yaml))
		} else {
			f.Add([]byte(complete(tt.yaml)))
		}
	}
	for _, tt := range brokenHeartbeats {
		f.Add([]byte(complete(tt.yaml)))
	}
	for _, tt := range brokenDrills {
		f.Add([]byte(complete(tt.yaml)))
	}
	// Contacts written as mappings with their own server and token.
	f.Add([]byte(contactsHead + `users:
  - {id: alice, contacts: {push: {topic: alice-pager, server: "https://push.example.com", token: {value: tk_x}}}}
  - {id: bob, contacts: {push: "https://push.example.org/base/bob"}}
`))
	f.Add([]byte(contactsHead + "users:\n  - {id: alice, contacts: {push: {topic: a, tokn: {env: X}, server: 1}}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, "hikyaku.yml")
		if err != nil {
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error is %T, want config.Errors: %v", err, err)
			}
			if len(es) == 0 {
				t.Fatal("empty Errors returned as an error")
			}
			for _, e := range es {
				if e.File != "hikyaku.yml" || e.Line < 1 || e.Column < 1 || strings.TrimSpace(e.Msg) == "" {
					t.Errorf("error without a usable position or message: %#v", e)
				}
				// Parse recovers from every panic so a reload cannot kill the
				// daemon; one of go-yaml's is a refused file, one of ours a bug.
				if strings.HasPrefix(e.Msg, "internal error") {
					t.Error(e.Msg)
				}
			}
			return
		}
		if cfg.DefaultRoute == nil || len(cfg.Policies) == 0 {
			t.Fatal("a config without default_route or escalation_policies loaded")
		}
		for _, d := range cfg.Departments {
			for _, r := range d.Rotations {
				if len(r.Members) == 0 || r.StartTime.IsZero() || r.Location == nil || r.Shift.D() <= 0 {
					t.Errorf("rotation %q loaded unusable: members %v, start %v, shift %v", r.ID, r.Members, r.StartTime, r.Shift)
				}
				if cfg.Rotation(r.ID) != r {
					t.Errorf("rotation %q is not indexed", r.ID)
				}
			}
		}
		for _, u := range cfg.Users {
			if len(u.Notify) == 0 || u.Location == nil || cfg.User(u.ID) != u {
				t.Errorf("user %q loaded without notify rules, location or index entry", u.ID)
			}
			for ch, ep := range u.Endpoints {
				spec, ok := cfg.ChannelSpec(ch)
				if !u.Contacts.Has(ch) || !ok || spec.Endpoint == "" || (spec.Check != nil && spec.Check(u.Contacts.Get(ch)) != nil) {
					t.Errorf("user %q: endpoint %+v for %s, whose contact %q is missing or refused", u.ID, ep, ch, u.Contacts.Get(ch))
				}
			}
		}
		for _, p := range cfg.Policies {
			for _, s := range p.Steps {
				if s.EscalateAfter.D() <= 0 {
					t.Errorf("policy %q has a step that escalates after %v", p.ID, s.EscalateAfter)
				}
			}
		}
	})
}
