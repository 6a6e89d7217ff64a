package twilio

import (
	"encoding/xml"
	"slices"
	"testing"
)

func TestSMSReplyEscapes(t *testing.T) {
	for _, text := range []string{"#12 acknowledged. Escalation stopped.", "a < b & c > d ]]> \"'", "#12 了解しました。"} {
		doc, err := SMSReply(text)
		if err != nil {
			t.Fatal(err)
		}
		r := parseTwiML(t, doc)
		if !slices.Equal(names(r.Verbs), []string{"Message"}) || r.Verbs[0].Text != text {
			t.Errorf("SMSReply(%q) = %s", text, doc)
		}
	}
	doc, err := SMSReply("")
	if err != nil {
		t.Fatal(err)
	}
	if r := parseTwiML(t, doc); len(r.Verbs) != 0 {
		t.Errorf("an empty reply sends a message: %s", doc)
	}
}

func TestSayAndHangUpSpeaksTheLanguage(t *testing.T) {
	for lang, want := range map[string]string{"ja": "ja-JP", "en": "en-US", "fr": "en-US", "": "en-US"} {
		doc, err := SayAndHangUp(lang, "text")
		if err != nil {
			t.Fatal(err)
		}
		r := parseTwiML(t, doc)
		if !slices.Equal(names(r.Verbs), []string{"Say", "Hangup"}) || r.Verbs[0].Language != want || r.Verbs[0].Text != "text" {
			t.Errorf("%q: %s", lang, doc)
		}
	}
	doc, _ := Goodbye("ja")
	if r := parseTwiML(t, doc); r.Verbs[0].Text != speechFor("ja").noAnswer {
		t.Errorf("Goodbye(ja) = %s", doc)
	}
}

// TestRepromptReportsSilence: the re-prompt's Gather must post even when
// nothing is pressed (or the router could not count silences), to exactly
// the action given, query and all.
func TestRepromptReportsSilence(t *testing.T) {
	const action = "https://hikyaku.example.com/api/v1/twilio/voice/gather?incident=12&key=a%2Fb&repeat=1"
	doc, err := Reprompt("en", action, "Sorry.")
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Gather struct {
			Action              string   `xml:"action,attr"`
			ActionOnEmptyResult string   `xml:"actionOnEmptyResult,attr"`
			NumDigits           string   `xml:"numDigits,attr"`
			Say                 []string `xml:"Say"`
		}
	}
	if err := xml.Unmarshal([]byte(doc), &r); err != nil {
		t.Fatal(err)
	}
	g := r.Gather
	if g.Action != action || g.ActionOnEmptyResult != "true" || g.NumDigits != "1" {
		t.Fatalf("gather %+v", g)
	}
	if !slices.Equal(g.Say, []string{"Sorry.", speechFor("en").prompt}) {
		t.Fatalf("said %q", g.Say)
	}
	if got := names(parseTwiML(t, doc).Verbs); !slices.Equal(got, []string{"Gather", "Say", "Hangup"}) {
		t.Fatalf("verbs %v", got)
	}
}
