package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const dashboardFile = "../../examples/grafana/hikyaku.json"

// servedMetrics are the metrics hikyaku serve registers, as serve.go does
// (servedLabels, docs_metrics_test.go).
func servedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for n := range servedLabels(t) {
		names[n] = true
	}
	return names
}

// promqlKeywords are words of PromQL that are neither functions nor metrics.
var promqlKeywords = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true,
	"group_right": true, "offset": true, "bool": true, "and": true, "or": true, "unless": true, "atan2": true,
	"inf": true, "nan": true,
	// Aggregations, which may stand before by (…) rather than their (.
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true, "count": true,
	"count_values": true, "bottomk": true, "topk": true, "quantile": true, "limitk": true, "limit_ratio": true}

// labelLists are the keywords followed by a parenthesised list of label names.
var labelLists = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true}

// metricNames are the metric names expr selects: identifiers outside
// strings, label matchers ({…}), ranges ([…]), label lists (by (…)) and
// Grafana variables ($x, ${x}), that are not keywords and not called as
// functions. It is a tokenizer, not a parser: a syntax error it cannot
// see would still fail in Grafana, but a renamed metric fails here.
func metricNames(expr string) ([]string, error) {
	var out []string
	rs := []rune(expr)
	isStart := func(r rune) bool { return r == '_' || r == ':' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') }
	isPart := func(r rune) bool { return isStart(r) || (r >= '0' && r <= '9') }
	skipString := func(i int) (int, bool) { // i at the opening quote; returns the index after the closing one
		q := rs[i]
		for j := i + 1; j < len(rs); j++ {
			if rs[j] == '\\' && q != '`' {
				j++
				continue
			}
			if rs[j] == q {
				return j + 1, true
			}
		}
		return 0, false
	}
	skipTo := func(i int, closer rune) (int, bool) { // past the matching closer, strings skipped
		for j := i + 1; j < len(rs); {
			switch {
			case rs[j] == '"' || rs[j] == '\'' || rs[j] == '`':
				k, ok := skipString(j)
				if !ok {
					return 0, false
				}
				j = k
			case rs[j] == closer:
				return j + 1, true
			default:
				j++
			}
		}
		return 0, false
	}
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			i++
			continue
		case r == '#':
			for i < len(rs) && rs[i] != '\n' {
				i++
			}
			continue
		case r == '"' || r == '\'' || r == '`':
			j, ok := skipString(i)
			if !ok {
				return nil, errUnclosed(expr, i)
			}
			i = j
		case r == '{' || r == '[':
			closer := '}'
			if r == '[' {
				closer = ']'
			}
			j, ok := skipTo(i, closer)
			if !ok {
				return nil, errUnclosed(expr, i)
			}
			i = j
		case r == '$':
			i++
			if i < len(rs) && rs[i] == '{' {
				j, ok := skipTo(i, '}')
				if !ok {
					return nil, errUnclosed(expr, i)
				}
				i = j
			} else {
				for i < len(rs) && isPart(rs[i]) {
					i++
				}
			}
		case r >= '0' && r <= '9' || r == '.':
			for i < len(rs) && (isPart(rs[i]) || rs[i] == '.') {
				i++
			}
		case isStart(r):
			j := i
			for j < len(rs) && isPart(rs[j]) {
				j++
			}
			word := string(rs[i:j])
			k := j
			for k < len(rs) && (rs[k] == ' ' || rs[k] == '\t' || rs[k] == '\n') {
				k++
			}
			call := k < len(rs) && rs[k] == '('
			lower := strings.ToLower(word)
			switch {
			case labelLists[lower] && call:
				end, ok := skipTo(k, ')')
				if !ok {
					return nil, errUnclosed(expr, k)
				}
				j = end
			case promqlKeywords[lower], call:
			default:
				out = append(out, word)
			}
			i = j
			continue
		default:
			i++
		}
	}
	return out, nil
}

func errUnclosed(expr string, at int) error {
	return fmt.Errorf("unclosed bracket or quote at offset %d of %q", at, expr)
}

func TestMetricNamesTokenizer(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`histogram_quantile(0.9, sum by (department, le) (rate(hikyaku_time_to_ack_seconds_bucket{department=~"$department", x="a}b"}[$__rate_interval])))`,
			[]string{"hikyaku_time_to_ack_seconds_bucket"}},
		{`sum(rate(a_total[5m])) by (job) / on (job) group_left (team) b_info offset 1h > bool 0.5e3`, []string{"a_total", "b_info"}},
		{`time() - max(hikyaku_config_last_reload_success_timestamp_seconds)`, []string{"hikyaku_config_last_reload_success_timestamp_seconds"}},
		{`min(up{job="hikyaku"}) or vector(0) # a comment naming not_a_metric`, []string{"up"}},
		{`x and ${y} unless z:recorded`, []string{"x", "z:recorded"}},
		{`max without (instance) (m1) / count by(le)(m2)`, []string{"m1", "m2"}},
	} {
		got, err := metricNames(tc.expr)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v %v, want %v", tc.expr, got, err, tc.want)
		}
	}
	for _, bad := range []string{`a{b="c"`, `rate(a[5m)`, `a{b="c}`} {
		if _, err := metricNames(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// TestDashboardUsesRegisteredMetrics: every PromQL expression of the
// Grafana dashboard names only metrics hikyaku serve registers (a
// histogram's _bucket, _sum and _count through its name), or up, so a
// renamed metric fails here rather than as an empty panel.
func TestDashboardUsesRegisteredMetrics(t *testing.T) {
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Type  string `json:"type"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	served := servedMetrics(t)
	if !served["hikyaku_time_to_ack_seconds"] || !served["hikyaku_store_up"] || !served["hikyaku_build_info"] {
		t.Fatalf("the capture missed metrics serve registers: %v", served)
	}
	known := func(name string) bool {
		if served[name] || name == "up" {
			return true
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && served[base] {
				return true
			}
		}
		return false
	}
	check := func(where, expr string) {
		names, err := metricNames(expr)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			return
		}
		if len(names) == 0 {
			t.Errorf("%s: %q selects no metric", where, expr)
		}
		for _, n := range names {
			if !known(n) {
				t.Errorf("%s: %q names %s, which hikyaku does not register", where, expr, n)
			}
		}
	}
	exprs := 0
	for _, p := range dash.Panels {
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			check("panel "+p.Title, tg.Expr)
			exprs++
		}
	}
	labelValues := regexp.MustCompile(`^label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*), *[a-zA-Z_][a-zA-Z0-9_]*\)$`)
	for _, v := range dash.Templating.List {
		if v.Type != "query" {
			continue
		}
		q, _ := v.Query.(map[string]any)
		s, _ := q["query"].(string)
		m := labelValues.FindStringSubmatch(s)
		if m == nil {
			t.Errorf("variable %s: query %q is not label_values(METRIC, LABEL)", v.Name, s)
			continue
		}
		check("variable "+v.Name, m[1])
	}
	if exprs < 20 {
		t.Errorf("%d expressions: the dashboard lost its panels", exprs)
	}
}
