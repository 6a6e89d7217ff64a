package main

import (
	"flag"
	"fmt"

	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"

	"github.com/hikyaku/hikyaku/store"
)

// The on-call commands read the configuration file; the covers people made
// at run time live in the running server's store. With --server they are
// fetched (GET /api/v1/overrides) and applied as the daemon applies them,
// so oncall and shifts answer what a page would do; without it they answer
// the file alone.

// storedFlags are --server and --token-file of oncall, shifts and check.
type storedFlags struct{ server, tokenFile string }

func addStoredFlags(fs *flag.FlagSet) *storedFlags {
	s := &storedFlags{}
	fs.StringVar(&s.server, "server", "", "also apply the stored overrides of the server at this public listener `URL` (token: env HIKYAKU_API_TOKEN or --token-file)")
	fs.StringVar(&s.tokenFile, "token-file", "", "`file` holding the API token for --server")
	return s
}

// overrides are the server's overrides not ended yet; none without --server.
func (s *storedFlags) overrides() ([]store.Override, error) {
	if s.server == "" {
		return nil, nil
	}
	c := &client{server: s.server, tokenFile: s.tokenFile}
	var os []store.Override
	if err := c.call("GET", "/api/v1/overrides", &os); err != nil {
		return nil, fmt.Errorf("--server: reading the stored overrides: %w", err)
	}
	return os, nil
}

// apply is set with the server's overrides on top.
func (s *storedFlags) apply(set *policies.Set) (*policies.Set, error) {
	os, err := s.overrides()
	if err != nil {
		return nil, err
	}
	covers := make([]policies.Cover, len(os))
	for i, o := range os {
		covers[i] = policies.Cover{ID: o.ID, For: o.For, By: o.By, Rotation: o.Rotation, Start: o.Start, End: o.End}
	}
	return set.WithStored(covers, nil), nil
}

// storedWarnings are the stored overrides cfg cannot apply as meant: a
// person or rotation the file no longer has (a cover by someone unknown
// pages nobody).
func storedWarnings(cfg *config.Config, server string, os []store.Override) []config.Error {
	var out []config.Error
	warn := func(o store.Override, format string, args ...any) {
		out = append(out, config.Error{File: server, Msg: fmt.Sprintf("stored override %s: ", o.ID) + fmt.Sprintf(format, args...)})
	}
	for _, o := range os {
		if cfg.User(o.By) == nil {
			warn(o, "the covering user %q is not in the configuration: nobody would be paged for %s", o.By, o.For)
		}
		if cfg.User(o.For) == nil {
			warn(o, "user %q is not in the configuration: the override covers nothing", o.For)
		}
		if o.Rotation != "" && cfg.Rotation(o.Rotation) == nil && cfg.Schedule(o.Rotation) == nil {
			warn(o, "rotation %q is not in the configuration: the override covers nothing", o.Rotation)
		}
	}
	return out
}
