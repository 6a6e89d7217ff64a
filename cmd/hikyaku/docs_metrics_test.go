package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/all"
	"github.com/hikyaku/hikyaku/channels/email"
	"github.com/hikyaku/hikyaku/router"
	"github.com/hikyaku/hikyaku/store"
)

// notMetrics are the hikyaku_ names the docs use that are not metrics:
// Slack block and action ids, cookies, Slack message metadata.
var notMetrics = map[string]bool{
	"hikyaku_ack": true, "hikyaku_resolve": true, "hikyaku_escalate": true, "hikyaku_actions": true,
	"hikyaku_links": true, "hikyaku_context": true, "hikyaku_roles": true, "hikyaku_incident": true,
	"hikyaku_role_ic": true, "hikyaku_role_ops": true, "hikyaku_role_comm": true, "hikyaku_role_rec": true,
	"hikyaku_runbook_": true, "hikyaku_dashboard_": true, "hikyaku_message": true,
	"hikyaku_oidc": true, "hikyaku_session": true,
}

// servedLabels are the metrics hikyaku serve registers, as serve.go does,
// each with its label names, variable and constant: every metric, histograms
// and labelled series included, before any is observed.
func servedLabels(t *testing.T) map[string][]string {
	t.Helper()
	st, err := store.OpenBolt(filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg := &labelCapture{Registerer: prometheus.NewRegistry(), labels: map[string][]string{}}
	reg.MustRegister(buildInfoCollector())
	router.NewMetrics(reg)
	email.NewMetrics(reg)
	access.NewMetrics(reg)
	reg.MustRegister(router.NewStoreMetrics(st), router.NewDeadLetterGauge(st), router.NewMuteGauge(st, time.Now))
	return reg.labels
}

// labelCapture is a Registerer that notes what each collector describes.
type labelCapture struct {
	prometheus.Registerer
	labels map[string][]string
}

var descParts = regexp.MustCompile(`fqName: "([^"]+)".*constLabels: \{([^}]*)\}, variableLabels: \{([^}]*)\}`)

func (c *labelCapture) note(col prometheus.Collector) {
	ch := make(chan *prometheus.Desc)
	go func() { col.Describe(ch); close(ch) }()
	for d := range ch {
		m := descParts.FindStringSubmatch(d.String())
		if m == nil {
			continue
		}
		var names []string
		for _, p := range strings.Split(m[2], ",") {
			if n, _, _ := strings.Cut(p, "="); n != "" {
				names = append(names, n)
			}
		}
		for _, n := range strings.Split(m[3], ",") {
			if n = strings.TrimSuffix(strings.TrimPrefix(n, "c("), ")"); n != "" {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		c.labels[m[1]] = names
	}
}

func (c *labelCapture) Register(col prometheus.Collector) error {
	c.note(col)
	return c.Registerer.Register(col)
}

func (c *labelCapture) MustRegister(cols ...prometheus.Collector) {
	for _, col := range cols {
		c.note(col)
	}
	c.Registerer.MustRegister(cols...)
}

// docFiles are README.md and docs/*.md.
func docFiles(t *testing.T) map[string]string {
	t.Helper()
	paths, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range append(paths, "../../README.md") {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimPrefix(p, "../../")] = string(b)
	}
	return out
}

// TestDocsNameServedMetrics keeps the docs to the metrics serve registers:
// every hikyaku_ metric a doc names exists, with the labels the doc gives it
// (`name{a, b}` or `name{a="x"}`), and docs/operations.md's metrics table
// lists every metric with exactly its labels.
func TestDocsNameServedMetrics(t *testing.T) {
	labels := servedLabels(t)
	if len(labels) < 40 || labels["hikyaku_notifications_total"] == nil {
		t.Fatalf("the capture missed metrics serve registers: %v", labels)
	}
	base := func(name string) (string, bool) {
		if _, ok := labels[name]; ok {
			return name, true
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if b, ok := strings.CutSuffix(name, suffix); ok {
				if _, ok := labels[b]; ok {
					return b, true
				}
			}
		}
		return "", false
	}
	mention := regexp.MustCompile(`\bhikyaku_[a-z0-9_]+(\{[^}]*\})?`)
	labelName := regexp.MustCompile(`([a-z_]+)\s*(=|,|$)`)
	for file, doc := range docFiles(t) {
		for _, m := range mention.FindAllStringSubmatch(doc, -1) {
			name := strings.TrimSuffix(m[0], m[1])
			if notMetrics[name] {
				continue
			}
			b, ok := base(name)
			if !ok {
				t.Errorf("%s names %s, which hikyaku serve does not register", file, name)
				continue
			}
			if m[1] == "" {
				continue
			}
			for _, l := range labelName.FindAllStringSubmatch(strings.Trim(m[1], "{}"), -1) {
				if l[1] == "le" && b != name {
					continue
				}
				if !slices.Contains(labels[b], l[1]) {
					t.Errorf("%s: %s has no label %s (it has %v)", file, m[0], l[1], labels[b])
				}
			}
		}
	}

	ops := docFiles(t)["docs/operations.md"]
	_, table, ok := strings.Cut(ops, "\n## Metrics\n")
	if !ok {
		t.Fatal("docs/operations.md has no Metrics section")
	}
	row := regexp.MustCompile("(?m)^\\| `(hikyaku_[a-z0-9_]+)` \\|([^|]*)\\|")
	ident := regexp.MustCompile("`([a-z_]+)`")
	listed := map[string]bool{}
	for _, r := range row.FindAllStringSubmatch(table, -1) {
		name := r[1]
		listed[name] = true
		var documented []string
		// Values in parentheses (`channel` (`sms`)) are examples, not labels.
		cell := regexp.MustCompile(`\([^)]*\)`).ReplaceAllString(r[2], "")
		for _, l := range ident.FindAllStringSubmatch(cell, -1) {
			documented = append(documented, l[1])
		}
		sort.Strings(documented)
		got, ok := labels[name]
		if !ok {
			t.Errorf("docs/operations.md's metrics table lists %s, which serve does not register", name)
			continue
		}
		if !slices.Equal(documented, got) {
			t.Errorf("docs/operations.md: %s has labels %v, the table says %v", name, got, documented)
		}
	}
	for name := range labels {
		if !listed[name] {
			t.Errorf("docs/operations.md's metrics table does not list %s", name)
		}
	}
}

// TestDocsCountNotificationSeries: the series docs/operations.md says exist
// at 0 from the start are as many as the registry's channels make: per
// channel, sent, recorded and rate_limited, and retried, failed and given_up
// by each reason; found, not_found and unknown reconciled.
func TestDocsCountNotificationSeries(t *testing.T) {
	ops := docFiles(t)["docs/operations.md"]
	n := len(all.Registry.Providers())
	perChannel := 3 + 3*len(channels.Reasons)
	for _, want := range []string{
		fmt.Sprintf("`hikyaku_notifications_total` (%d series: %d for each of the registry's %d channels)", perChannel*n, perChannel, n),
		fmt.Sprintf("`hikyaku_notifications_reconciled_total` (%d series)", 3*n),
	} {
		if !strings.Contains(ops, want) {
			t.Errorf("docs/operations.md does not say %s", want)
		}
	}
}

// TestDocsListAlertRules: docs/operations.md ("Alerting on hikyaku") names
// every rule of docs/alerts.yml, and no rule it does not have.
func TestDocsListAlertRules(t *testing.T) {
	rules, err := os.ReadFile("../../docs/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var inFile []string
	for _, m := range regexp.MustCompile(`(?m)^\s*- alert: (\w+)`).FindAllStringSubmatch(string(rules), -1) {
		inFile = append(inFile, m[1])
	}
	_, sec, _ := strings.Cut(docFiles(t)["docs/operations.md"], "\n### Alerting on hikyaku\n")
	sec, _, _ = strings.Cut(sec, "\n## ")
	var named []string
	for _, m := range regexp.MustCompile("`(Hikyaku\\w+)`").FindAllStringSubmatch(sec, -1) {
		named = append(named, m[1])
	}
	sort.Strings(inFile)
	sort.Strings(named)
	named = slices.Compact(named)
	if len(inFile) < 10 || !slices.Equal(inFile, named) {
		t.Errorf("docs/alerts.yml has %v; docs/operations.md names %v", inFile, named)
	}
}
