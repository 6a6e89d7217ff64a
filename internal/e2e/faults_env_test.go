package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	amtemplate "github.com/prometheus/alertmanager/template"

	"github.com/hikyaku/hikyaku/internal/faketwilio"
	"github.com/hikyaku/hikyaku/store"
)

// The fault suite's plan: faultTeams teams, each a department whose policy
// pages its primary (step 1, at once) and then its secondary (step 2,
// faultEscalateAfter later), once; every person is paged by SMS and by a
// call at the same moment. So each incident is four sends, and a send is
// named at the fake Twilio by (channel, number, incident): the number is
// the person and so the step.
const (
	faultTeams         = 8
	faultEscalateAfter = 2 * time.Second
	faultTwilioFrom    = "+15550009999"
	// twilioLatency is how long the fake Twilio takes to answer each
	// request, as the real API does: sends are in flight when a fault hits.
	twilioLatency = 250 * time.Millisecond
)

// faultLease is the engine's claim lease as serve runs it
// (router.Options.Lease's default): a dead holder's claim lapses after it.
const faultLease = 4 * time.Second

func primaryPhone(team int) string   { return fmt.Sprintf("+1555100%04d", team) }
func secondaryPhone(team int) string { return fmt.Sprintf("+1555200%04d", team) }

var faultConfigTemplate = template.Must(template.New("hikyaku.yml").Parse(`# written by internal/e2e's fault suite: Twilio, Slack, SMTP and the webhook endpoint are local fakes
global:
  external_url: {{.External}}
  timezone: UTC
  language: en
  api_token: {value: {{.APIToken}}}
  signing_key: {value: {{.SigningKey}}}
providers:
  twilio:
    account_sid: {{.TwilioSID}}
    auth_token: {value: {{.TwilioToken}}}
    from: "{{.From}}"
    api_url: {{.TwilioURL}}
  slack:
    bot_token: {value: {{.SlackToken}}}
    signing_secret: {value: faults-signing-secret}
    api_url: {{.SlackURL}}
  smtp:
    smarthost: {{.SMTP}}
    from: hikyaku@example.com
    tls: none
receivers:
  - name: hikyaku
    bearer_token: {value: {{.WebhookToken}}}
users:
{{- range .Teams}}
  - id: p{{.N}}
    name: Primary {{.N}}
    contacts: {sms: "{{.Primary}}", voice: "{{.Primary}}", {{.Extra}}: "{{.PrimaryExtra}}"}
    notify:
      - {after: 0s, channels: [sms, voice, {{.Extra}}]}
  - id: s{{.N}}
    name: Secondary {{.N}}
    contacts: {sms: "{{.Secondary}}", voice: "{{.Secondary}}", {{.Extra}}: "{{.SecondaryExtra}}"}
    notify:
      - {after: 0s, channels: [sms, voice, {{.Extra}}]}
{{- end}}
departments:
{{- range .Teams}}
  - id: d{{.N}}
    name: Team {{.N}}
    escalation_policy: faults{{.N}}
    rotations:
      - id: primary{{.N}}
        start: "2026-01-05 00:00"
        shift: 1d
        members: [p{{.N}}]
      - id: secondary{{.N}}
        start: "2026-01-05 00:00"
        shift: 1w
        members: [s{{.N}}]
{{- end}}
escalation_policies:
{{- range .Teams}}
  - id: faults{{.N}}
    steps:
      - targets: {rotations: [primary{{.N}}]}
        escalate_after: {{$.EscalateAfter}}
      - targets: {rotations: [secondary{{.N}}]}
        escalate_after: {{$.EscalateAfter}}
{{- end}}
routes:
{{- range .Teams}}
  - name: t{{.N}}
    matchers: ['team="t{{.N}}"']
    department: d{{.N}}
{{- end}}
default_route:
  department: d0
`))

// writeFaultConfig writes the fault suite's configuration, its Twilio the
// fake tw and its external_url external (the URL Twilio would call back).
func writeFaultConfig(t *testing.T, sinks *faultSinks, external string) string {
	t.Helper()
	type team struct {
		N                            int
		Primary, Secondary           string
		Extra                        string // the third channel: slack, email or webhook
		PrimaryExtra, SecondaryExtra string // their addresses on it
	}
	teams := make([]team, faultTeams)
	for i := range teams {
		extra := faultExtraChannels[i%len(faultExtraChannels)]
		teams[i] = team{N: i, Primary: primaryPhone(i), Secondary: secondaryPhone(i), Extra: extra,
			PrimaryExtra: faultAddress(extra, i, true), SecondaryExtra: faultAddress(extra, i, false)}
		if extra == "webhook" {
			teams[i].PrimaryExtra = sinks.hooks.URL + "/" + teams[i].PrimaryExtra
			teams[i].SecondaryExtra = sinks.hooks.URL + "/" + teams[i].SecondaryExtra
		}
	}
	tw := sinks.tw
	var b strings.Builder
	err := faultConfigTemplate.Execute(&b, map[string]any{
		"External": external, "APIToken": apiToken, "SigningKey": signingKey, "WebhookToken": webhookToken,
		"TwilioSID": tw.AccountSID, "TwilioToken": tw.AuthToken, "From": faultTwilioFrom, "TwilioURL": tw.URL,
		"SlackToken": faultSlackToken, "SlackURL": sinks.slack.URL(), "SMTP": sinks.mail.Addr,
		"Teams": teams, "EscalateAfter": fmt.Sprintf("%ds", int(faultEscalateAfter.Seconds())),
	})
	if err != nil {
		t.Fatalf("config template: %v", err)
	}
	path := filepath.Join(t.TempDir(), "hikyaku.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatalf("write config: %v", err)
	}
	return path
}

// faultGroup is the webhook body of a one-alert group of team's, named name.
func faultGroup(t testing.TB, name string, team int) []byte {
	t.Helper()
	m := fixture(t)
	m.Receiver = "hikyaku"
	tm := "t" + strconv.Itoa(team)
	labels := amtemplate.KV{"alertname": name, "team": tm, "severity": "critical", "instance": "faults:9100"}
	a := m.Alerts[0]
	a.Labels = labels
	a.Annotations = amtemplate.KV{"summary": "fault suite alert " + name}
	a.StartsAt = time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	a.Status, a.EndsAt = "firing", time.Time{}
	h := sha256.Sum256([]byte(name))
	a.Fingerprint = hex.EncodeToString(h[:8])
	m.Status = "firing"
	m.Alerts = amtemplate.Alerts{a}
	m.GroupLabels = amtemplate.KV{"alertname": name, "team": tm}
	m.CommonLabels = labels
	m.CommonAnnotations = a.Annotations
	m.GroupKey = fmt.Sprintf("{}:{alertname=%q, team=%q}", name, tm)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("encode webhook: %v", err)
	}
	return b
}

// faultGroupKey is the incident key hikyaku derives from faultGroup(name, team).
func faultGroupKey(name string, team int) string {
	return fmt.Sprintf("hikyaku/{}:{alertname=%q, team=\"t%d\"}", name, team)
}

// posted is what Alertmanager got for one group: the incident a 2xx named,
// or the last refusal when no replica ever took it.
type posted struct {
	Name     string
	Team     int
	Incident int64 // 0: never answered 2xx
	Tries    int
	Last     string // the last refusal
}

// postGroups posts groups from..from+n like an Alertmanager HA pair that
// retries: each group goes to one replica (round robin) and, refused or
// unanswered, to the next one after a backoff, until a 2xx or until within
// has passed.
func postGroups(t *testing.T, addrs []string, from, n int, within time.Duration) []posted {
	t.Helper()
	out := make([]posted, n)
	deadline := time.Now().Add(within)
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Go(func() {
			for g := range work {
				p := &out[g-from]
				p.Name, p.Team = fmt.Sprintf("Fault%04d", g), g%faultTeams
				body := faultGroup(t, p.Name, p.Team)
				wait := 100 * time.Millisecond
				for ; ; p.Tries++ {
					id, err := postForIncident(addrs[(g+p.Tries)%len(addrs)], body)
					if err == nil {
						p.Incident = id
						break
					}
					p.Last = err.Error()
					if time.Now().After(deadline) {
						break
					}
					time.Sleep(wait)
					wait = min(2*wait, 2*time.Second)
				}
			}
		})
	}
	for g := from; g < from+n; g++ {
		work <- g
	}
	close(work)
	wg.Wait()
	return out
}

// postForIncident posts one webhook and returns the incident its 2xx names.
func postForIncident(addr string, body []byte) (int64, error) {
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/alertmanager", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+webhookToken)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return 0, fmt.Errorf("%s answered %d: %s", addr, resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	var ans struct{ Incidents []int64 }
	if err := json.Unmarshal(raw, &ans); err != nil || len(ans.Incidents) != 1 {
		return 0, fmt.Errorf("%s answered %d with %q: want one incident", addr, resp.StatusCode, raw)
	}
	return ans.Incidents[0], nil
}

// sendID names one send at a fake provider: its channel, the address it
// went to (the person, and so the step), and the incident it is about.
type sendID struct {
	Channel  string // sms, voice, slack, email or webhook
	To       string
	Incident int64
}

var (
	smsIncidentRE  = regexp.MustCompile(`\[hikyaku #(\d+)\]`)
	callIncidentRE = regexp.MustCompile(`[?&]incident=(\d+)`)
)

// sendOf reads a created request's identity from what Twilio received: the
// incident is in the SMS text ("[hikyaku #N]") or the call's keypad URL.
func sendOf(r faketwilio.Request) (sendID, error) {
	id := sendID{To: r.Form.Get("To")}
	var m []string
	switch r.Resource {
	case "Messages":
		id.Channel = "sms"
		m = smsIncidentRE.FindStringSubmatch(r.Form.Get("Body"))
	case "Calls":
		id.Channel = "voice"
		m = callIncidentRE.FindStringSubmatch(r.Form.Get("Twiml"))
	}
	if m == nil {
		return id, fmt.Errorf("%s to %s names no incident: %q", r.Resource, id.To, r.Form)
	}
	id.Incident, _ = strconv.ParseInt(m[1], 10, 64)
	return id, nil
}

// faultPlan is what the suite's configuration pages: SMS and a call to
// each step's person, and with extra their team's third channel too
// (faultExtraChannels).
type faultPlan struct{ extra bool }

// sends is what the plan sends for incident id of team.
func (p faultPlan) sends(id int64, team int) []sendID {
	var out []sendID
	for step, to := range []string{primaryPhone(team), secondaryPhone(team)} {
		for _, ch := range []string{"sms", "voice"} {
			out = append(out, sendID{Channel: ch, To: to, Incident: id})
		}
		if p.extra {
			ch := faultExtraChannels[team%len(faultExtraChannels)]
			out = append(out, sendID{Channel: ch, To: faultAddress(ch, team, step == 0), Incident: id})
		}
	}
	return out
}

// pendingTimers is how many timers the Redis at url holds (claimed or not).
func pendingTimers(url string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := store.Open(ctx, url, "")
	if err != nil {
		return 0, err
	}
	defer st.Close()
	return st.Pending(ctx)
}
