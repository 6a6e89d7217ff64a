package ntfy

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/internal/fakentfy"
)

const (
	globalToken = "tk_global0000000000000000000000"
	aliceToken  = "tk_alice00000000000000000000000"
	daveToken   = "tk_dave000000000000000000000000"
)

// ownConfig: providers.ntfy on global; alice on her own server with her
// own token; bob a topic on global; carol a URL on a third, open server;
// dave a topic on global with his own token; erin global's topic URL.
func ownConfig(global, alice, carol *fakentfy.Server) *config.Config {
	user := func(id, contact string, ep *config.Endpoint) *config.User {
		u := &config.User{ID: id, Contacts: config.Contacts{"ntfy": contact}}
		if ep != nil {
			u.Endpoints = map[config.Channel]config.Endpoint{"ntfy": *ep}
		}
		return u
	}
	cfg := &config.Config{Users: []*config.User{
		user("alice", alice.URL()+"/alice-pager", &config.Endpoint{Server: alice.URL() + "/", Token: config.NewSecret(aliceToken)}),
		user("bob", "bob-pager", nil),
		user("carol", carol.URL()+"/carol-pager", &config.Endpoint{Server: carol.URL()}),
		user("dave", "dave-pager", &config.Endpoint{Token: config.NewSecret(daveToken)}),
		user("erin", "erin-pager", nil),
	}}
	if global != nil {
		// Erin names providers.ntfy's server as her own, without a token: its token applies.
		cfg.Users[4].Contacts["ntfy"] = global.URL() + "/erin-pager"
		cfg.Users[4].Endpoints = map[config.Channel]config.Endpoint{"ntfy": {Server: global.URL()}}
	}
	if global != nil {
		cfg.Providers.Others = map[string]*config.ProviderSettings{"ntfy": {URL: global.URL(), Token: config.NewSecret(globalToken)}}
	}
	return cfg
}

func pageFor(user, to string) *channels.Message {
	m := page("critical")
	m.UserID, m.To = user, to
	return m
}

func TestEachContactsOwnServerAndToken(t *testing.T) {
	global, alice, carol := fakentfy.New(globalToken), fakentfy.New(aliceToken), fakentfy.New("")
	defer global.Close()
	defer alice.Close()
	defer carol.Close()
	global.Accept(daveToken)
	cfg := ownConfig(global, alice, carol)
	snd, err := Provider{}.NewSender(cfg)
	if err != nil || snd == nil {
		t.Fatalf("sender: %v, %v", snd, err)
	}
	s := snd.(*Sender)
	for _, u := range cfg.Users {
		if _, err := s.Send(context.Background(), pageFor(u.ID, u.Contacts.Get("ntfy"))); err != nil {
			t.Fatalf("%s: %v", u.ID, err)
		}
	}
	topics := func(f *fakentfy.Server) []string {
		var out []string
		for _, m := range f.Messages("") {
			out = append(out, m.Topic)
		}
		return out
	}
	if got := topics(alice); !slices.Equal(got, []string{"alice-pager"}) {
		t.Errorf("alice's server got %v", got)
	}
	if got := topics(global); !slices.Equal(got, []string{"bob-pager", "dave-pager", "erin-pager"}) {
		t.Errorf("the global server got %v", got)
	}
	if got := topics(carol); !slices.Equal(got, []string{"carol-pager"}) {
		t.Errorf("carol's server got %v", got)
	}
	if got := alice.Authorizations(); !slices.Equal(got, []string{"Bearer " + aliceToken}) {
		t.Errorf("alice's server saw %q", got)
	}
	if got := global.Authorizations(); !slices.Equal(got, []string{"Bearer " + globalToken, "Bearer " + daveToken, "Bearer " + globalToken}) {
		t.Errorf("the global server saw %q", got)
	}
	// Carol's server is open and not providers.ntfy's: it gets no token at all.
	if got := carol.Authorizations(); !slices.Equal(got, []string{""}) {
		t.Errorf("carol's server saw %q", got)
	}

	// The update goes where the page went, with the same token.
	receipt := alice.URL() + "/alice-pager/" + alice.Messages("")[0].ID
	m := pageFor("alice", alice.URL()+"/alice-pager")
	m.Incident.Status = "acked"
	if err := s.Update(context.Background(), receipt, m); err != nil {
		t.Fatal(err)
	}
	if n, _ := alice.Notification("alice-pager", alice.Messages("")[0].ID); n.Revisions != 2 {
		t.Errorf("alice's page after the update: %+v", n)
	}
	if got := alice.Authorizations(); len(got) != 2 || got[1] != "Bearer "+aliceToken || len(global.Authorizations()) != 3 {
		t.Errorf("update: alice's server saw %q, global %d requests", got, len(global.Authorizations()))
	}
}

func TestOwnServerRefusalIsThatContacts(t *testing.T) {
	global, alice, carol := fakentfy.New(globalToken), fakentfy.New("tk_rotated0000000000000000000000"), fakentfy.New("")
	defer global.Close()
	defer alice.Close()
	defer carol.Close()
	snd, _ := Provider{}.NewSender(ownConfig(global, alice, carol))
	_, err := snd.Send(context.Background(), pageFor("alice", alice.URL()+"/alice-pager"))
	if !channels.IsPermanent(err) || channels.IsAuthFailure(err) || channels.ReasonOf(err) != channels.ReasonAuth {
		t.Errorf("alice's token refused: %v (auth failure %v, reason %q); want her contact failed, ntfy not marked down",
			err, channels.IsAuthFailure(err), channels.ReasonOf(err))
	}
	global.Close() // a refused token on providers.ntfy's own server is hikyaku's
	other := fakentfy.New("tk_other000000000000000000000000")
	defer other.Close()
	cfg := ownConfig(other, alice, carol)
	cfg.Providers.Others["ntfy"].Token = config.NewSecret(globalToken)
	snd, _ = Provider{}.NewSender(cfg)
	if _, err := snd.Send(context.Background(), pageFor("bob", "bob-pager")); !channels.IsAuthFailure(err) {
		t.Errorf("providers.ntfy's token refused: %v, want an auth failure", err)
	}
}

func TestOwnServersWithoutProvidersNtfy(t *testing.T) {
	alice, carol := fakentfy.New(aliceToken), fakentfy.New("")
	defer alice.Close()
	defer carol.Close()
	snd, err := Provider{}.NewSender(ownConfig(nil, alice, carol))
	if err != nil || snd == nil {
		t.Fatalf("sender: %v, %v; want one for the contacts with their own server", snd, err)
	}
	if _, err := snd.Send(context.Background(), pageFor("alice", alice.URL()+"/alice-pager")); err != nil {
		t.Error(err)
	}
	_, err = snd.Send(context.Background(), pageFor("bob", "bob-pager"))
	if !channels.IsPermanent(err) || !strings.Contains(err.Error(), "providers.ntfy is not configured") {
		t.Errorf("a bare topic without providers.ntfy: %v", err)
	}
}

func TestAddresses(t *testing.T) {
	for _, tc := range []struct{ in, server, topic, err string }{
		{in: "alice-pager", topic: "alice-pager"},
		{in: "https://ntfy.example.com/alice-pager", server: "https://ntfy.example.com", topic: "alice-pager"},
		{in: "http://ntfy.example.com:8080/base/alice", server: "http://ntfy.example.com:8080/base", topic: "alice"},
		{in: "https://ntfy.example.com/alice/", server: "https://ntfy.example.com", topic: "alice"},
		{in: "https://ntfy.example.com/", err: "names no topic"},
		{in: "https://ntfy.example.com", err: "names no topic"},
		{in: "https://u:p@ntfy.example.com/alice", err: "give the access token as token: instead"},
		{in: "https://ntfy.example.com/alice?x=1", err: "no query"},
		{in: "https://ntfy.example.com/al.ice", err: "a topic is 1 to 64"},
		{in: "https:///alice", err: "with a host"},
		{in: "alice/pager", err: "a topic is 1 to 64"},
	} {
		server, topic, err := parseAddress(tc.in)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v, want %q", tc.in, err, tc.err)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case topic != tc.topic || (server == nil) != (tc.server == "") || (server != nil && server.String() != tc.server):
			t.Errorf("%q: server %v topic %q, want %q %q", tc.in, server, topic, tc.server, tc.topic)
		}
	}
}
