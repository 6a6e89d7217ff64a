package twilio

import (
	"context"
	"encoding/xml"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/internal/faketwilio"
)

// response is the TwiML of a call, as Twilio reads it.
type response struct {
	XMLName xml.Name
	Verbs   []verb `xml:",any"`
}

type verb struct {
	XMLName   xml.Name
	Action    string `xml:"action,attr"`
	Method    string `xml:"method,attr"`
	NumDigits string `xml:"numDigits,attr"`
	Input     string `xml:"input,attr"`
	Voice     string `xml:"voice,attr"`
	Language  string `xml:"language,attr"`
	Text      string `xml:",chardata"`
	Inner     []verb `xml:",any"`
}

func parseTwiML(t *testing.T, doc string) response {
	t.Helper()
	var r response
	if err := xml.Unmarshal([]byte(doc), &r); err != nil {
		t.Fatalf("TwiML does not parse: %v\n%s", err, doc)
	}
	if r.XMLName.Local != "Response" {
		t.Fatalf("root <%s>, want <Response>", r.XMLName.Local)
	}
	return r
}

func names(vs []verb) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.XMLName.Local)
	}
	return out
}

func TestVoiceWireFormat(t *testing.T) {
	for _, tc := range []struct {
		name            string
		msg             func(testing.TB) *channels.Message
		voice, language string
		spoken, prompt  string
		count           string
	}{
		{"ja", page, "Polly.Mizuki", "ja-JP", "決済APIのエラー率が5%を超えています。", "了解するには1を", "アラート2件"},
		{"en", pageEN, "Polly.Joanna", "en-US", "Disk on db-1 will fill within 4 hours.", "Press 1 to acknowledge", "1 alert firing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := faketwilio.Start(t)
			s := senders(t, fake, public)
			m := tc.msg(t)
			rc, err := s.Voice.Send(context.Background(), m)
			if err != nil {
				t.Fatal(err)
			}
			calls := fake.Calls()
			if len(calls) != 1 {
				t.Fatalf("%d calls reached Twilio, want 1", len(calls))
			}
			c := calls[0]
			if rc.ProviderID != c.SID || !strings.HasPrefix(rc.ProviderID, "CA") {
				t.Errorf("receipt %q, want the call SID %q", rc.ProviderID, c.SID)
			}
			if c.Form.Get("To") != m.To || c.Form.Get("From") != from {
				t.Errorf("To %q From %q, want %q %q", c.Form.Get("To"), c.Form.Get("From"), m.To, from)
			}
			key, id := url.QueryEscape(m.IdempotencyKey), strconv.FormatInt(m.IncidentID, 10)
			wantCB := public + StatusPath + "?key=" + key + "&incident=" + id
			wantAction := public + GatherPath + "?incident=" + id + "&key=" + key
			if c.Form.Get("StatusCallback") != wantCB || c.Form.Get("StatusCallbackMethod") != "POST" ||
				!slices.Equal(c.Form["StatusCallbackEvent"], []string{"initiated", "ringing", "completed"}) {
				t.Errorf("status callback %q %q %q, want %q POST [initiated completed]", c.Form.Get("StatusCallback"),
					c.Form.Get("StatusCallbackMethod"), c.Form["StatusCallbackEvent"], wantCB)
			}

			r := parseTwiML(t, c.Form.Get("Twiml"))
			if got := names(r.Verbs); !slices.Equal(got, []string{"Gather", "Gather", "Say", "Hangup"}) {
				t.Fatalf("verbs %v, want Gather Gather Say Hangup", got)
			}
			for _, g := range r.Verbs[:2] {
				if g.Action != wantAction || g.NumDigits != "1" || g.Method != "POST" || g.Input != "dtmf" {
					t.Errorf("Gather action=%q numDigits=%q method=%q input=%q, want %q 1 POST dtmf",
						g.Action, g.NumDigits, g.Method, g.Input, wantAction)
				}
				if got := names(g.Inner); !slices.Equal(got, []string{"Say", "Say"}) {
					t.Fatalf("Gather holds %v, want the page then the prompt", got)
				}
				for _, say := range g.Inner {
					if say.Voice != tc.voice || say.Language != tc.language {
						t.Errorf("Say voice=%q language=%q, want %q %q", say.Voice, say.Language, tc.voice, tc.language)
					}
				}
				if say := g.Inner[0].Text; !strings.Contains(say, tc.spoken) || !strings.Contains(say, m.Incident.Department) ||
					!strings.Contains(say, tc.count) {
					t.Errorf("page read as %q: want the summary %q, the department and %q", say, tc.spoken, tc.count)
				}
				if !strings.HasPrefix(g.Inner[1].Text, tc.prompt) {
					t.Errorf("prompt %q, want %q…", g.Inner[1].Text, tc.prompt)
				}
			}
		})
	}
}

func TestVoiceWithoutExternalURL(t *testing.T) {
	fake := faketwilio.Start(t)
	s := senders(t, fake, "")
	if _, err := s.Voice.Send(context.Background(), page(t)); err != nil {
		t.Fatal(err)
	}
	c := fake.Calls()[0]
	if _, ok := c.Form["StatusCallback"]; ok {
		t.Error("a StatusCallback was sent without external_url")
	}
	if got := names(parseTwiML(t, c.Form.Get("Twiml")).Verbs); !slices.Equal(got, []string{"Say", "Say", "Hangup"}) {
		t.Errorf("verbs %v, want the page read twice: a Gather needs an absolute action URL", got)
	}
}

func TestVoiceReportHasNothingToPress(t *testing.T) {
	fake := faketwilio.Start(t)
	s := senders(t, fake, public)
	m := page(t)
	m.Kind, m.Text = channels.KindReport, "[hikyaku #12] 決済 (状態: open)"
	doc, err := s.Voice.TwiML(m)
	if err != nil {
		t.Fatal(err)
	}
	r := parseTwiML(t, doc)
	if got := names(r.Verbs); !slices.Equal(got, []string{"Say", "Say", "Hangup"}) {
		t.Fatalf("verbs %v, want Say Say Hangup", got)
	}
	if r.Verbs[0].Text != m.Text {
		t.Errorf("report read as %q, want %q", r.Verbs[0].Text, m.Text)
	}
}

// TestVoiceLongSummaryFits checks a summary far past Twilio's 4000-character
// TwiML limit is cut, and that the call is placed.
func TestVoiceLongSummaryFits(t *testing.T) {
	fake := faketwilio.Start(t)
	s := senders(t, fake, public)
	m := page(t)
	m.Data = []byte(`{"commonAnnotations":{"summary":"` + strings.Repeat("データベース<遅延>&", 2000) + `"}}`)
	if _, err := s.Voice.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	doc := fake.Calls()[0].Form.Get("Twiml")
	if n := utf8.RuneCountInString(doc); n > maxTwiML {
		t.Fatalf("TwiML of %d characters", n)
	}
	if say := parseTwiML(t, doc).Verbs[0].Inner[0].Text; !strings.Contains(say, "データベース<遅延>&") || !strings.Contains(say, "…") {
		t.Errorf("page read as %q: want the summary, unescaped, cut with …", say)
	}
}
