package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"

	"github.com/hikyaku/hikyaku/store"
)

const storeUsage = `Usage: hikyaku store compact [--data-dir DIR]
       hikyaku store reindex --store URL`

// runStore: hikyaku store compact|reindex, maintenance of a store.
func runStore(e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, storeUsage)
		return exitUsage
	}
	fs := flag.NewFlagSet("store "+args[0], flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	switch args[0] {
	case "compact":
		dataDir := fs.String("data-dir", "data", "`directory` of the embedded store (the daemon must be stopped)")
		if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 {
			return exitUsage
		}
		before, after, err := store.CompactBolt(filepath.Join(*dataDir, store.BoltFileName))
		if err != nil {
			fmt.Fprintf(e.stderr, "hikyaku store compact: %v\n", err)
			return exitFail
		}
		fmt.Fprintf(e.stdout, "compacted %s: %d bytes, was %d\n", filepath.Join(*dataDir, store.BoltFileName), after, before)
		return exitOK
	case "reindex":
		url := fs.String("store", "", "Redis store `URL`, as serve's --store")
		if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 || *url == "" {
			fmt.Fprintln(e.stderr, storeUsage)
			return exitUsage
		}
		ctx := context.Background()
		st, err := store.Open(ctx, *url, "")
		if err != nil {
			fmt.Fprintf(e.stderr, "hikyaku store reindex: %v\n", err)
			return exitFail
		}
		defer st.Close()
		r, ok := st.(reindexer)
		if !ok {
			fmt.Fprintln(e.stderr, "hikyaku store reindex: this store indexes itself when it opens")
			return exitUsage
		}
		n, err := r.Reindex(ctx)
		if err != nil {
			fmt.Fprintf(e.stderr, "hikyaku store reindex: %d indexed, then: %v\n", n, err)
			return exitFail
		}
		fmt.Fprintf(e.stdout, "reindexed %d incidents\n", n)
		return exitOK
	}
	fmt.Fprintln(e.stderr, storeUsage)
	return exitUsage
}
