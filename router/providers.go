package router

import (
	"slices"
	"sync"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
)

// providerHealth is what the engine last learnt of each provider in use: a
// provider that refused hikyaku's own credentials or account is down until
// a message on it succeeds. Every message on a down provider still fails
// over at once (the failure is permanent): the state only tells people.
type providerHealth struct {
	mu      sync.Mutex
	watched []string          // the providers the config in force uses
	down    map[string]string // provider → its refusal
}

// watchProviders reports the providers cfg configures (webhooks always),
// at 1 unless already known down; providers no longer configured are
// forgotten. In dry run nothing is sent, so no provider is reported.
func (e *Engine) watchProviders(cfg *config.Config) {
	var now []string
	if !e.opts.DryRun && cfg != nil {
		for _, spec := range cfg.Channels() {
			if (spec.NoAccount || cfg.Providers.Configured(spec.Provider)) && !slices.Contains(now, spec.Provider) {
				now = append(now, spec.Provider)
			}
		}
		slices.Sort(now)
	}
	h := &e.health
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, name := range h.watched {
		if !slices.Contains(now, name) {
			e.metrics.providerUp.DeleteLabelValues(name)
			delete(h.down, name)
		}
	}
	h.watched = now
	for _, name := range now {
		if _, down := h.down[name]; !down {
			e.metrics.providerUp.WithLabelValues(name).Set(1)
		}
	}
}

// providerAnswered marks channel's provider up: it just took a message.
func (e *Engine) providerAnswered(channel string) {
	name := e.Policies().Config().ProviderOf(config.Channel(channel))
	h := &e.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if !slices.Contains(h.watched, name) {
		return
	}
	if _, down := h.down[name]; down {
		delete(h.down, name)
		e.log.Info("provider up again: it took a message", "provider", name, "channel", channel)
	}
	e.metrics.providerUp.WithLabelValues(name).Set(1)
}

// providerRefused marks m's provider down: it refused hikyaku itself, so
// every message on it fails until an admin acts. ERROR, every time: each
// is a person not reached on this channel.
func (e *Engine) providerRefused(m *channels.Message, err error) {
	name := e.Policies().Config().ProviderOf(config.Channel(m.Channel))
	e.log.Error("provider refused hikyaku's credentials or account: messages on it fail over to the next contact method until it is fixed",
		"provider", name, "channel", m.Channel, "incident", m.IncidentID, "user", m.UserID, "err", err)
	h := &e.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if !slices.Contains(h.watched, name) {
		return
	}
	if h.down == nil {
		h.down = map[string]string{}
	}
	h.down[name] = err.Error()
	e.metrics.providerUp.WithLabelValues(name).Set(0)
}

// ProviderDown is one provider that refused hikyaku, and why.
type ProviderDown struct {
	Provider, Reason string
}

// ProvidersDown lists the providers down now, by name.
func (e *Engine) ProvidersDown() []ProviderDown {
	h := &e.health
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []ProviderDown
	for _, name := range h.watched {
		if reason, down := h.down[name]; down {
			out = append(out, ProviderDown{Provider: name, Reason: reason})
		}
	}
	return out
}
