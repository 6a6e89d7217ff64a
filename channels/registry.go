package channels

import (
	"fmt"
	"log/slog"

	"github.com/hikyaku/hikyaku/config"
)

// Registry holds the providers hikyaku knows, in the order failover tries
// a person's contacts. It is built once, at start (channels/all), and hands
// config the specs it validates contacts with.
type Registry struct {
	providers []Provider
}

// NewRegistry makes a registry of ps; two providers of one name are a bug.
func NewRegistry(ps ...Provider) *Registry {
	seen := map[string]bool{}
	for _, p := range ps {
		if seen[p.Name()] {
			panic(fmt.Sprintf("channels: provider %q registered twice", p.Name()))
		}
		seen[p.Name()] = true
	}
	return &Registry{providers: ps}
}

// Providers are the providers in failover order.
func (r *Registry) Providers() []Provider { return r.providers }

// Provider returns the provider of channel name, nil when there is none.
func (r *Registry) Provider(name string) Provider {
	for _, p := range r.providers {
		if p.Name() == name {
			return p
		}
	}
	return nil
}

// Specs are what config knows of each channel, read off the providers'
// capabilities.
func (r *Registry) Specs() []config.ChannelSpec {
	out := make([]config.ChannelSpec, 0, len(r.providers))
	for _, p := range r.providers {
		s := config.ChannelSpec{Name: config.Channel(p.Name()), Provider: p.Account()}
		if w, ok := p.(Written); ok {
			s.ReportRank = w.ReportRank()
		}
		if m, ok := p.(Metered); ok {
			s.Metered = m.Metered()
		}
		if n, ok := p.(NoAccount); ok {
			s.NoAccount = n.NoAccount()
		}
		if c, ok := p.(ContactChecker); ok {
			s.Check = c.CheckContact
		}
		if e, ok := p.(OwnEndpoint); ok {
			s.Endpoint = e.EndpointKey()
		}
		out = append(out, s)
	}
	return out
}

// Senders builds every provider's sender from cfg, by channel name; a
// provider cfg does not configure has none.
func (r *Registry) Senders(cfg *config.Config) (map[string]Sender, error) {
	out := map[string]Sender{}
	for _, p := range r.providers {
		s, err := p.NewSender(cfg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Name(), err)
		}
		if s != nil {
			out[p.Name()] = s
		}
	}
	return out, nil
}

// Routes are the inbound endpoints of every provider that serves some.
func (r *Registry) Routes(rc Receiver, log *slog.Logger) []Route {
	var out []Route
	for _, p := range r.providers {
		if in, ok := p.(Inbound); ok {
			out = append(out, in.Routes(rc, log)...)
		}
	}
	return out
}
