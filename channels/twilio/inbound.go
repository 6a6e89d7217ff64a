package twilio

import (
	"fmt"

	"github.com/twilio/twilio-go/twiml"
)

// InboundSMSPath, under global.external_url, is the webhook to set as the
// Twilio number's "A message comes in" URL; Routes serves it.
const InboundSMSPath = "/api/v1/twilio/sms"

// ContentType is what TwiML answers are served as.
const ContentType = "text/xml; charset=utf-8"

// SMSReply is the TwiML answering an inbound SMS: Twilio sends text back to
// the sender as the reply. An empty text answers with no message.
func SMSReply(text string) (string, error) {
	var verbs []twiml.Element
	if text != "" {
		verbs = append(verbs, &twiml.MessagingMessage{Body: text})
	}
	doc, err := twiml.Messages(verbs)
	if err != nil {
		return "", fmt.Errorf("twilio: build SMS reply: %w", err)
	}
	return doc, nil
}

// SayAndHangUp answers a keypad press: text read in the person's language,
// then the call ends. An empty text only hangs up.
func SayAndHangUp(language, text string) (string, error) {
	sp := speechFor(language)
	var verbs []twiml.Element
	if text != "" {
		verbs = append(verbs, &twiml.VoiceSay{Message: text, Voice: sp.voice, Language: sp.language})
	}
	verbs = append(verbs, &twiml.VoiceHangup{})
	doc, err := twiml.Voice(verbs)
	if err != nil {
		return "", fmt.Errorf("twilio: build keypad answer: %w", err)
	}
	return doc, nil
}

// Goodbye ends a call whose callee pressed nothing usable, in their language.
func Goodbye(language string) (string, error) {
	return SayAndHangUp(language, speechFor(language).noAnswer)
}

// Reprompt asks for a key again after a wrong one or none: first (optional)
// the text, then the keypad prompt inside a Gather that posts to action even
// when nothing is pressed, so the keypad endpoint counts the silences and ends the
// call after a few. The verbs after the Gather are reached only if Twilio
// ignores actionOnEmptyResult.
func Reprompt(language, action, first string) (string, error) {
	sp := speechFor(language)
	say := func(text string) twiml.Element {
		return &twiml.VoiceSay{Message: text, Voice: sp.voice, Language: sp.language}
	}
	inner := []twiml.Element{say(sp.prompt)}
	if first != "" {
		inner = append([]twiml.Element{say(first)}, inner...)
	}
	doc, err := twiml.Voice([]twiml.Element{
		&twiml.VoiceGather{
			Input: "dtmf", NumDigits: "1", Action: action, Method: "POST", Timeout: "5",
			ActionOnEmptyResult: "true", InnerElements: inner,
		},
		say(sp.noAnswer),
		&twiml.VoiceHangup{},
	})
	if err != nil {
		return "", fmt.Errorf("twilio: build keypad prompt: %w", err)
	}
	return doc, nil
}
