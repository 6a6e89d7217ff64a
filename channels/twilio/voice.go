package twilio

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/template"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
	"github.com/twilio/twilio-go/twiml"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/channels"
)

// Twilio refuses a call whose inline TwiML is longer than this.
const maxTwiML = 4000

// maxSpoken caps the alert's summary read aloud: past a sentence or two a
// listener stops following, and the TwiML must stay under maxTwiML.
const maxSpoken = 200

// Voice sends channel "voice" as Twilio calls that read the page and take
// 1 (acknowledge), 2 (escalate) or 3 (resolve) on the keypad. It is safe for
// concurrent use.
type Voice struct {
	acct      *account
	statusURL func(m *channels.Message) string
	gatherURL func(m *channels.Message) string
}

// Send places the call. Twilio accepting it says nothing of whether it is
// answered: busy, no-answer and failed arrive later at the status callback
// (see ParseStatus). The receipt carries the call SID (CA…).
func (v *Voice) Send(ctx context.Context, m *channels.Message) (channels.Receipt, error) {
	doc, err := v.TwiML(m)
	if err != nil {
		return channels.Receipt{}, channels.Permanent("", fmt.Errorf("twilio: call %s: %w", m.To, err))
	}
	ctx, cancel := v.acct.deadline(ctx)
	defer cancel()
	api, c, err := v.acct.service(ctx)
	if err != nil {
		return channels.Receipt{}, err
	}
	p := &openapi.CreateCallParams{}
	p.SetTo(m.To).SetFrom(v.acct.from).SetTwiml(doc)
	if cb := callbackURL(v.statusURL, m); cb != "" {
		// "completed" carries the final CallStatus: busy, no-answer,
		// failed and canceled are how an unanswered page shows.
		// "initiated" says within a second that Twilio has the call, and
		// "ringing" a few seconds later: the call's own record names
		// nothing of the page, so these are how a replica taking the page
		// over after a crash knows it went out. Twilio does not retry a
		// callback nobody took: "ringing" is the second chance when the
		// only daemon died in the instant after placing the call.
		p.SetStatusCallback(cb).SetStatusCallbackEvent([]string{"initiated", "ringing", "completed"}).SetStatusCallbackMethod("POST")
	}
	call, err := api.CreateCall(p)
	if err != nil {
		if accepted(c.status) {
			return channels.Receipt{}, nil // placed; calling again would ring twice
		}
		return channels.Receipt{}, classify("call "+m.To, err, c.status)
	}
	var rc channels.Receipt
	if call.Sid != nil {
		rc.ProviderID = *call.Sid
	}
	return rc, nil
}

// speech is what a call says in one language, from the catalog: the
// text-to-speech voice and language are a language's texts too, so adding a
// language is adding its catalog file.
type speech struct {
	voice, language string
	intro           func(m *channels.Message, summary string) string
	prompt          string
	noAnswer        string
}

// speechFor is language's speech; the catalog falls back to English for a
// language it does not have.
func speechFor(language string) speech {
	t := catalog.For(language)
	return speech{
		voice: t.T("voice.tts.voice"), language: t.T("voice.tts.language"),
		intro: func(m *channels.Message, summary string) string {
			alerts := t.T("voice.alerts.other", m.Incident.FiringAlerts)
			if m.Incident.FiringAlerts == 1 {
				alerts = t.T("voice.alerts.one", m.Incident.FiringAlerts)
			}
			return t.T("voice.intro", m.Incident.Department, m.Incident.Severity, summary, alerts, m.IncidentID)
		},
		prompt:   t.T("voice.prompt"),
		noAnswer: t.T("voice.no_answer"),
	}
}

// TwiML is the call's script: the page read in the person's language with
// the keypad prompt, twice, then a hang-up. The page is read inside the
// <Gather> so a key pressed while it is still being read counts. Without a
// gather URL (no external_url) the call can only read the page.
func (v *Voice) TwiML(m *channels.Message) (string, error) {
	sp := speechFor(m.Language)
	say := func(text string) twiml.Element {
		return &twiml.VoiceSay{Message: text, Voice: sp.voice, Language: sp.language}
	}
	page := m.Kind == channels.KindPage || m.Kind == ""
	action := ""
	// The intro ends the summary's sentence itself.
	sum := strings.TrimRight(truncateRunes(summary(m), maxSpoken), ".。!！ ")
	intro := sp.intro(m, sum)
	if page {
		action = callbackURL(v.gatherURL, m)
	} else {
		// Reports only inform: there is nothing to press.
		intro = truncateRunes(strings.ReplaceAll(m.Text, "\n", " "), 2*maxSpoken)
	}
	var verbs []twiml.Element
	for range 2 {
		if action == "" {
			verbs = append(verbs, say(intro))
			continue
		}
		verbs = append(verbs, &twiml.VoiceGather{
			Input: "dtmf", NumDigits: "1", Action: action, Method: "POST", Timeout: "5",
			InnerElements: []twiml.Element{say(intro), say(sp.prompt)},
		})
	}
	if action != "" {
		verbs = append(verbs, say(sp.noAnswer))
	}
	verbs = append(verbs, &twiml.VoiceHangup{})
	doc, err := twiml.Voice(verbs)
	if err != nil {
		return "", fmt.Errorf("build TwiML: %w", err)
	}
	if n := utf8.RuneCountInString(doc); n > maxTwiML {
		return "", fmt.Errorf("TwiML is %d characters, Twilio takes at most %d", n, maxTwiML)
	}
	return doc, nil
}

// summary is what the alert group is about: its common summary annotation,
// else its alert name, else the subject the router wrote.
func summary(m *channels.Message) string {
	if m.Incident.Test {
		return catalog.Text(m.Language, "test.title") // said first, so nobody takes a drill for an outage
	}
	var d template.Data
	if len(m.Data) > 0 && json.Unmarshal(m.Data, &d) == nil {
		if s := d.CommonAnnotations["summary"]; s != "" {
			return s
		}
		if s := d.CommonLabels["alertname"]; s != "" {
			return s
		}
	}
	return m.Subject
}

func truncateRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i] + "…"
		}
		n--
	}
	return s
}
