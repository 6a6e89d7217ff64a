package router

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hikyaku/hikyaku/catalog"
)

// reportLayout writes the report's instants, in the department's zone.
const reportLayout = "2006-01-02 15:04 MST"

// Text is the report as plain text in lang, for a terminal or a mail.
func (r *HealthReport) Text(lang string) string {
	t := catalog.For(lang)
	loc := r.location()
	var b strings.Builder
	fmt.Fprintln(&b, t.T("health.title", r.departmentLabel()))
	fmt.Fprintln(&b, t.T("health.period", r.From.In(loc).Format(reportLayout), r.To.In(loc).Format(reportLayout)))
	fmt.Fprintln(&b, t.T("health.business_hours", r.businessHours(t)))
	fmt.Fprintln(&b)
	for _, l := range r.summary(t) {
		fmt.Fprintf(&b, "%s: %s\n", l[0], l[1])
	}
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, t.T("health.people"))
	if len(r.People) == 0 {
		fmt.Fprintln(&b, "  "+t.T("health.none"))
	} else {
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "  %s\n", strings.Join(personHeader(t), "\t"))
		for _, p := range r.People {
			fmt.Fprintf(tw, "  %s\n", strings.Join(personRow(p), "\t"))
		}
		tw.Flush()
	}
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, t.T("health.gaps"))
	if len(r.Gaps) == 0 {
		fmt.Fprintln(&b, "  "+t.T("health.none"))
	}
	for _, g := range r.Gaps {
		fmt.Fprintf(&b, "  %s: %s – %s (%s)\n", g.Policy, g.Start.In(loc).Format(reportLayout),
			g.End.In(loc).Format(reportLayout), g.End.Sub(g.Start))
	}
	return b.String()
}

// Markdown is the report as a Markdown document in lang.
func (r *HealthReport) Markdown(lang string) string {
	t := catalog.For(lang)
	loc := r.location()
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", mdText(t.T("health.title", r.departmentLabel())))
	fmt.Fprintf(&b, "%s  \n", mdText(t.T("health.period", r.From.In(loc).Format(reportLayout), r.To.In(loc).Format(reportLayout))))
	fmt.Fprintf(&b, "%s\n\n", mdText(t.T("health.business_hours", r.businessHours(t))))
	fmt.Fprintf(&b, "| %s | %s |\n|---|---|\n", mdText(t.T("health.col.figure")), mdText(t.T("health.col.value")))
	for _, l := range r.summary(t) {
		fmt.Fprintf(&b, "| %s | %s |\n", mdText(l[0]), mdText(l[1]))
	}
	fmt.Fprintf(&b, "\n## %s\n\n", mdText(t.T("health.people")))
	if len(r.People) == 0 {
		fmt.Fprintf(&b, "%s\n", mdText(t.T("health.none")))
	} else {
		h := personHeader(t)
		for i := range h {
			h[i] = mdText(h[i])
		}
		fmt.Fprintf(&b, "| %s |\n|%s\n", strings.Join(h, " | "), strings.Repeat("---|", len(h)))
		for _, p := range r.People {
			row := personRow(p)
			for i := range row {
				row[i] = mdText(row[i])
			}
			fmt.Fprintf(&b, "| %s |\n", strings.Join(row, " | "))
		}
	}
	fmt.Fprintf(&b, "\n## %s\n\n", mdText(t.T("health.gaps")))
	if len(r.Gaps) == 0 {
		fmt.Fprintf(&b, "%s\n", mdText(t.T("health.none")))
	}
	for _, g := range r.Gaps {
		fmt.Fprintf(&b, "- %s: %s – %s (%s)\n", mdText(g.Policy), g.Start.In(loc).Format(reportLayout),
			g.End.In(loc).Format(reportLayout), g.End.Sub(g.Start))
	}
	return b.String()
}

func (r *HealthReport) location() *time.Location {
	loc, err := time.LoadLocation(r.TimeZone)
	if err != nil {
		return time.UTC // TimeZone is the department's loaded zone: this does not happen
	}
	return loc
}

func (r *HealthReport) departmentLabel() string {
	if r.DepartmentName == "" || r.DepartmentName == r.Department {
		return r.Department
	}
	return fmt.Sprintf("%s (%s)", r.DepartmentName, r.Department)
}

func (r *HealthReport) businessHours(t catalog.For) string {
	if r.BusinessHours == "" {
		return t.T("health.business_hours_default", r.TimeZone)
	}
	return r.BusinessHours
}

// summary is the report's figures, each a label and its value.
func (r *HealthReport) summary(t catalog.For) [][2]string {
	return [][2]string{
		{t.T("health.incidents"), t.T("health.incidents_value", r.Incidents, r.Acked, r.Resolved)},
		{t.T("health.mtta"), spread(t, r.MTTA)},
		{t.T("health.mttr"), spread(t, r.MTTR)},
		{t.T("health.pages"), t.T("health.pages_value", r.Pages, r.PagesOutsideBusinessHours, r.PagesAtNight)},
		{t.T("health.step2"), fmt.Sprint(r.ReachedStep2)},
		{t.T("health.exhausted"), fmt.Sprint(r.Exhausted)},
		{t.T("health.gap_total"), t.T("health.gap_value", len(r.Gaps), secondsText(r.GapSeconds))},
	}
}

func spread(t catalog.For, p Percentiles) string {
	if p.Count == 0 {
		return t.T("health.no_data")
	}
	return t.T("health.spread", secondsText(*p.P50), secondsText(*p.P90), secondsText(*p.Max), p.Count)
}

func secondsText(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Second).String()
}

func personHeader(t catalog.For) []string {
	return []string{t.T("health.col.user"), t.T("health.col.pages"), t.T("health.col.outside"),
		t.T("health.col.night"), t.T("health.col.on_call")}
}

func personRow(p PersonHealth) []string {
	who := p.User
	if p.Name != "" && p.Name != p.User {
		who = fmt.Sprintf("%s (%s)", p.Name, p.User)
	}
	return []string{who, fmt.Sprint(p.Pages), fmt.Sprint(p.OutsideBusinessHours), fmt.Sprint(p.AtNight),
		fmt.Sprintf("%.1f", p.OnCallSeconds/3600)}
}
