package channels

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/hikyaku/hikyaku/config"
)

type plain struct{ name string }

func (p plain) Name() string    { return p.name }
func (p plain) Account() string { return "acct-" + p.name }
func (p plain) NewSender(*config.Config) (Sender, error) {
	if p.name == "broken" {
		return nil, errors.New("no client")
	}
	if p.name == "unset" {
		return nil, nil
	}
	return nopSender{}, nil
}

type rich struct{ plain }

func (rich) ReportRank() int                       { return 7 }
func (rich) Metered() bool                         { return true }
func (rich) NoAccount() bool                       { return true }
func (rich) CheckContact(a string) error           { return errors.New("bad " + a) }
func (rich) Routes(Receiver, *slog.Logger) []Route { return []Route{{Pattern: "POST /rich"}} }

type nopSender struct{}

func (nopSender) Send(context.Context, *Message) (Receipt, error) { return Receipt{}, nil }

func TestRegistrySpecsReadCapabilities(t *testing.T) {
	r := NewRegistry(plain{"call"}, rich{plain{"text"}})
	specs := r.Specs()
	if len(specs) != 2 {
		t.Fatalf("specs = %+v", specs)
	}
	call, text := specs[0], specs[1]
	if call.Name != "call" || call.Provider != "acct-call" || call.Written() || call.Metered || call.NoAccount || call.Check != nil {
		t.Errorf("a provider with no capability: %+v", call)
	}
	if text.Name != "text" || text.ReportRank != 7 || !text.Metered || !text.NoAccount || text.Check == nil {
		t.Fatalf("a provider with every capability: %+v", text)
	}
	if err := text.Check("x"); err == nil || err.Error() != "bad x" {
		t.Errorf("Check = %v, want the provider's own error", err)
	}
	if routes := r.Routes(nil, nil); len(routes) != 1 || routes[0].Pattern != "POST /rich" {
		t.Errorf("routes = %+v", routes)
	}
}

func TestRegistrySenders(t *testing.T) {
	s, err := NewRegistry(plain{"a"}, plain{"unset"}).Senders(&config.Config{})
	if err != nil || len(s) != 1 || s["a"] == nil {
		t.Errorf("senders = %v, %v: want a alone (unset has none)", s, err)
	}
	_, err = NewRegistry(plain{"a"}, plain{"broken"}).Senders(&config.Config{})
	if err == nil || !strings.HasPrefix(err.Error(), "broken: ") {
		t.Errorf("err = %v, want it named after the provider", err)
	}
}

func TestRegistryRefusesTwoOfOneName(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for a name registered twice")
		}
	}()
	NewRegistry(plain{"a"}, rich{plain{"a"}})
}
