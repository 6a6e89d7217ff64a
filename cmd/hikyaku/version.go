package main

import (
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	promversion "github.com/prometheus/common/version"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version string

// versionInfo is version's JSON output.
type versionInfo struct {
	Version  string `json:"version"`
	Commit   string `json:"commit,omitempty"`
	Time     string `json:"commit_time,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

func runVersion(e *env, args []string) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: hikyaku version [--output text|json]\n\nFlags:\n")
		fs.PrintDefaults()
	}
	output := fs.String("output", "text", "output format: text or json")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 || (*output != "text" && *output != "json") {
		fs.Usage()
		return exitUsage
	}
	v := buildVersion()
	if *output == "json" {
		if err := writeJSON(e.stdout, v); err != nil {
			fmt.Fprintf(e.stderr, "hikyaku version: %v\n", err)
			return exitFail
		}
		return exitOK
	}
	fmt.Fprintf(e.stdout, "hikyaku %s", v.Version)
	if v.Commit != "" {
		fmt.Fprintf(e.stdout, " (commit %s", v.Commit)
		if v.Modified {
			fmt.Fprint(e.stdout, ", modified")
		}
		if v.Time != "" {
			fmt.Fprintf(e.stdout, ", %s", v.Time)
		}
		fmt.Fprint(e.stdout, ")")
	}
	fmt.Fprintf(e.stdout, " %s %s\n", v.Go, v.Platform)
	return exitOK
}

// buildVersion prefers the linker-set version, then the module version and
// VCS stamp the go command records (go install …@v1.2.3, builds in a checkout).
func buildVersion() versionInfo {
	v := versionInfo{Version: version, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		if v.Version == "" {
			v.Version = "unknown"
		}
		return v
	}
	if v.Version == "" {
		v.Version = bi.Main.Version
	}
	if v.Version == "" {
		v.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// buildInfoCollector is hikyaku_build_info, 1 with the build in its labels
// (version, revision, branch, goversion, goos, goarch, tags) as every
// Prometheus exporter has it. The revision is the VCS stamp, with
// -modified for a dirty tree; the version is the one `hikyaku version` shows.
func buildInfoCollector() prometheus.Collector {
	promversion.Version = buildVersion().Version
	return versioncollector.NewCollector("hikyaku")
}
