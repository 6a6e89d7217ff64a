package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/channels/email"
	"github.com/hikyaku/hikyaku/internal/fakeslack"
	"github.com/hikyaku/hikyaku/internal/fakesmtp"
	"github.com/hikyaku/hikyaku/internal/faketwilio"
)

// faultSlackToken is the fault suite's Slack bot token at the fake.
const faultSlackToken = "xoxb-faults-0000"

// made is one send that reached a provider, and when.
type made struct {
	sendID
	At time.Time
	// Key is what a receiver can drop a repeat by: the webhook's
	// Idempotency-Key header, the mail's Message-ID; empty elsewhere.
	Key string
}

// faultSinks are the providers the suite's daemons send to, each a local
// fake answering in providerLatency after it has the message, as the real
// services do: a sender killed while waiting has sent.
type faultSinks struct {
	tw    *faketwilio.Server
	slack *fakeslack.Server
	mail  *fakesmtp.Server
	hooks *hookSink
}

func startFaultSinks(t *testing.T) *faultSinks {
	t.Helper()
	s := &faultSinks{tw: faketwilio.Start(t), slack: fakeslack.New(faultSlackToken),
		mail: fakesmtp.Start(t, fakesmtp.Options{Latency: twilioLatency}), hooks: startHookSink(t, twilioLatency)}
	t.Cleanup(s.slack.Close)
	s.tw.SetLatency(twilioLatency)
	// Calls go on as Twilio's do: dialed at once, ringing a second later,
	// answered, over: each stage a signed callback (voice.go asks for
	// initiated, ringing and completed), so a call whose first callback
	// found no daemon up is still named by a later one.
	s.tw.SetCallProgress(faketwilio.CallProgress{Initiated: 50 * time.Millisecond, Ringing: time.Second,
		Answered: 3 * time.Second, Completed: 8 * time.Second})
	s.slack.SetLatency(twilioLatency)
	return s
}

// setLatency makes every provider take d to answer, from the next request on.
func (s *faultSinks) setLatency(d time.Duration) {
	s.tw.SetLatency(d)
	s.slack.SetLatency(d)
	s.mail.SetLatency(d)
	s.hooks.setLatency(d)
}

// sends are every send the providers took, and a problem for each thing
// they took that names no incident of the suite.
func (s *faultSinks) sends() (out []made, problems []string) {
	out, problems = twilioSends(s.tw.Requests())
	for _, c := range s.slack.Calls() {
		if c.Method != "chat.postMessage" || c.Error != "" {
			continue
		}
		id, err := slackSendOf(c)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		out = append(out, made{sendID: id, At: c.At})
	}
	for _, m := range s.mail.Messages() {
		id, err := mailSendOf(m)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		out = append(out, made{sendID: id, At: m.At, Key: mailKey(m)})
	}
	hooks, bad := s.hooks.sends()
	return append(out, hooks...), append(problems, bad...)
}

// twilioSends are the SMS and calls Twilio created (refused requests sent nothing).
func twilioSends(reqs []faketwilio.Request) (out []made, problems []string) {
	for _, rq := range reqs {
		if rq.SID == "" {
			continue
		}
		id, err := sendOf(rq)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		out = append(out, made{sendID: id, At: rq.At})
	}
	return out, problems
}

// slackSendOf reads a posted message's incident from its metadata, which
// hikyaku posts with every message (channels/slack).
func slackSendOf(c fakeslack.Call) (sendID, error) {
	id := sendID{Channel: "slack", To: c.Channel}
	if dm, ok := strings.CutPrefix(c.Channel, "D"); ok {
		id.To = "U" + dm // a person's DM, opened by conversations.open: the fake names it after the user
	}
	if c.Metadata == nil {
		return id, fmt.Errorf("slack message to %s carries no metadata: %q", c.Channel, c.Text)
	}
	var n int64
	switch v := c.Metadata.EventPayload["incident"].(type) {
	case float64:
		n = int64(v)
	case string:
		n, _ = strconv.ParseInt(v, 10, 64)
	}
	if n <= 0 {
		return id, fmt.Errorf("slack message to %s names no incident in its metadata %v", c.Channel, c.Metadata.EventPayload)
	}
	id.Incident = n
	return id, nil
}

// mailSendOf reads a mail's incident from its Message-ID (channels/email).
func mailSendOf(m fakesmtp.Message) (sendID, error) {
	id := sendID{Channel: "email"}
	if len(m.To) > 0 {
		id.To = m.To[0]
	}
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return id, fmt.Errorf("mail to %s unreadable: %v", id.To, err)
	}
	n, ok := email.IncidentFromMessageID(strings.Trim(msg.Header.Get("Message-ID"), "<>"))
	if !ok {
		return id, fmt.Errorf("mail to %s names no incident in its Message-ID %q", id.To, msg.Header.Get("Message-ID"))
	}
	id.Incident = n
	return id, nil
}

// mailKey is a mail's Message-ID.
func mailKey(m fakesmtp.Message) string {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return ""
	}
	return msg.Header.Get("Message-ID")
}

// repeatsWithoutKey are the sends made more than once whose copies a
// receiver could not tell for one: on channels hikyaku cannot ask (email,
// webhooks) a repeat after a crash carries the first copy's key.
func repeatsWithoutKey(sends []made) []string {
	keys := map[sendID]map[string]bool{}
	for _, s := range sends {
		if s.Channel != "email" && s.Channel != "webhook" {
			continue
		}
		if keys[s.sendID] == nil {
			keys[s.sendID] = map[string]bool{}
		}
		keys[s.sendID][s.Key] = true
	}
	var out []string
	for id, ks := range keys {
		if len(ks) > 1 || ks[""] {
			out = append(out, fmt.Sprintf("incident %d %s to %s: copies carry keys %v, want one", id.Incident, id.Channel, id.To, slices.Sorted(maps.Keys(ks))))
		}
	}
	slices.Sort(out)
	return out
}

// hookSink is the endpoint of the people's webhook contacts: it takes the
// default JSON body (channels/webhook) at /{person}.
type hookSink struct {
	URL     string
	mu      sync.Mutex
	latency time.Duration
	got     []made
	bad     []string
}

// setLatency changes how long the endpoint takes to answer, from the next request on.
func (h *hookSink) setLatency(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.latency = d
}

func startHookSink(t *testing.T, latency time.Duration) *hookSink {
	t.Helper()
	h := &hookSink{latency: latency}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		var body struct {
			Kind     string `json:"kind"`
			Incident struct {
				ID int64 `json:"id"`
			} `json:"incident"`
		}
		if err == nil {
			err = json.Unmarshal(raw, &body)
		}
		to := strings.TrimPrefix(r.URL.Path, "/")
		h.mu.Lock()
		switch {
		case err != nil:
			h.bad = append(h.bad, fmt.Sprintf("webhook to %s: unreadable body: %v", to, err))
		case body.Incident.ID <= 0:
			h.bad = append(h.bad, fmt.Sprintf("webhook to %s names no incident: %s", to, raw))
		default:
			h.got = append(h.got, made{sendID: sendID{Channel: "webhook", To: to, Incident: body.Incident.ID}, At: time.Now().UTC(),
				Key: r.Header.Get("Idempotency-Key")})
		}
		latency := h.latency
		h.mu.Unlock()
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return // the sender gave up; the body was taken all the same
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	h.URL = srv.URL
	return h
}

func (h *hookSink) sends() ([]made, []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.got), slices.Clone(h.bad)
}

// faultExtraChannels is the channel each team's people are paged on beside
// SMS and a call, by team number modulo its length: every channel hikyaku
// has is in every run.
var faultExtraChannels = []string{"slack", "email", "webhook"}

// faultAddress is a person's address on an extra channel: primary is
// step 1's person, else step 2's.
func faultAddress(channel string, team int, primary bool) string {
	who := "s"
	if primary {
		who = "p"
	}
	switch channel {
	case "slack":
		return fmt.Sprintf("U%s%04d", strings.ToUpper(who), team)
	case "email":
		return fmt.Sprintf("%s%d@example.com", who, team)
	case "webhook":
		return fmt.Sprintf("%s%d", who, team)
	}
	panic("no extra channel " + channel)
}
