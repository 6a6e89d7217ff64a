package all

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hikyaku/hikyaku/config"
)

const tail = `receivers: [{name: am, allow_unauthenticated: true}]
departments: [{id: ops, escalation_policy: p, rotations: [{id: r, start: "2026-01-05 09:00", shift: 24h, members: [alice]}]}]
escalation_policies: [{id: p, steps: [{targets: {rotations: [r]}, escalate_after: 5m}]}]
default_route: {department: ops}
`

// TestEachProviderChecksItsContact: config asks the registered provider,
// and shows its answer at the contact's FILE:LINE:COL.
func TestEachProviderChecksItsContact(t *testing.T) {
	_, err := config.Parse([]byte(`users:
  - id: alice
    contacts:
      sms: "090-1111-0001"
      ntfy: "alice/pager"
      slack: "@alice"
`+tail), "hikyaku.yml")
	var es config.Errors
	if !errors.As(err, &es) {
		t.Fatalf("err = %v", err)
	}
	want := []string{
		`hikyaku.yml:4:12: invalid phone number "090-1111-0001": use E.164, e.g. +819012345678`,
		`hikyaku.yml:5:13: topic "alice/pager": a topic is 1 to 64 letters, digits, - or _`,
		`hikyaku.yml:6:14: invalid Slack user id "@alice": it looks like U012AB3CD`,
	}
	if len(es) != len(want) {
		t.Fatalf("errors = %v, want %v", es, want)
	}
	for i := range want {
		if es[i].Error() != want[i] {
			t.Errorf("error %d = %q, want %q", i, es[i].Error(), want[i])
		}
	}
}

// TestNtfyFromTheRegistry: a user with only ntfy is paged by it at once,
// and reports prefer it to SMS; without providers.ntfy serve refuses.
func TestNtfyFromTheRegistry(t *testing.T) {
	cfg, err := config.Parse([]byte(`users: [{id: alice, contacts: {ntfy: alice-pager, sms: "+819011110001", voice: "+819011110001"}}]
`+tail), "hikyaku.yml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(cfg.User("alice").Notify), "[{0s [sms ntfy]} {3m [voice]}]"; got != want {
		t.Errorf("default notify = %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(cfg.ReportChannels()), "[email slack webhook ntfy sms]"; got != want {
		t.Errorf("report channels = %s, want %s", got, want)
	}
	var names []string
	for _, p := range cfg.ProviderProblems {
		names = append(names, p.Msg)
	}
	if len(names) != 2 || !contains(names, "providers.ntfy is not configured") || !contains(names, "providers.twilio is not configured") {
		t.Errorf("provider problems = %q, want twilio and ntfy missing", names)
	}
}

func contains(list []string, part string) bool {
	return slices.ContainsFunc(list, func(s string) bool { return strings.Contains(s, part) })
}

// TestInboundRoutesFromTheRegistry: the public listener serves each
// provider's endpoints once, Twilio's with the sms provider.
func TestInboundRoutesFromTheRegistry(t *testing.T) {
	var got []string
	for _, r := range Registry.Routes(nil, nil) {
		got = append(got, r.Pattern)
	}
	want := []string{"POST /api/v1/twilio/status", "POST /api/v1/twilio/sms", "POST /api/v1/twilio/voice/gather", "POST /api/v1/slack/interactions", "POST /api/v1/slack/events"}
	if !slices.Equal(got, want) {
		t.Errorf("routes = %q, want %q", got, want)
	}
}
