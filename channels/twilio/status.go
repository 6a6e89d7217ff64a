package twilio

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/twilio/twilio-go/client"
)

// ErrSignature is returned for a request that Twilio did not sign with the
// account's auth token: its endpoint answers it 403.
var ErrSignature = errors.New("twilio: request is not signed by Twilio")

// Status is what a status callback says about one SMS or call.
type Status struct {
	Channel  string // "sms" or "voice"
	Key      string // the outbox entry's idempotency key, from the callback URL
	Incident int64
	SID      string // SM… or CA…
	// Status is Twilio's MessageStatus (queued, sent, delivered, undelivered,
	// failed…) or CallStatus (ringing, completed, busy, no-answer, failed, canceled…).
	Status    string
	ErrorCode string // Twilio's error code when the message failed, else empty
	// Failed says the page did not reach the person: the router fails over.
	Failed bool
}

// Verify checks the X-Twilio-Signature of a webhook Twilio posted and returns
// its form. publicURL is the externally visible base (global.external_url):
// Twilio signs the URL it called, and behind a proxy r.Host is not that.
func Verify(r *http.Request, authToken, publicURL string) (url.Values, error) {
	if r.Method != http.MethodPost {
		return nil, fmt.Errorf("twilio webhook: method %s, want POST", r.Method)
	}
	sig := r.Header.Get("X-Twilio-Signature")
	if sig == "" {
		return nil, fmt.Errorf("%w: no X-Twilio-Signature header", ErrSignature)
	}
	if authToken == "" {
		// Without the token nothing can be verified, and nothing unverified is trusted.
		return nil, fmt.Errorf("%w: providers.twilio.auth_token is not set", ErrSignature)
	}
	if err := r.ParseForm(); err != nil {
		return nil, fmt.Errorf("twilio webhook: read form: %w", err)
	}
	params := make(map[string]string, len(r.PostForm))
	for k, v := range r.PostForm {
		params[k] = v[0]
	}
	v := client.NewRequestValidator(authToken)
	if !v.Validate(strings.TrimRight(publicURL, "/")+r.URL.RequestURI(), params, sig) {
		return nil, fmt.Errorf("%w: signature does not match %s", ErrSignature, r.URL.Path)
	}
	return r.PostForm, nil
}

// ParseStatus reads a status callback of an SMS or call sent by this
// package, after checking Twilio signed it (see Verify). An error wrapping
// ErrSignature means forged or unsigned; any other error, malformed.
func ParseStatus(r *http.Request, authToken, publicURL string) (Status, error) {
	form, err := Verify(r, authToken, publicURL)
	if err != nil {
		return Status{}, err
	}
	q := r.URL.Query()
	st := Status{Key: q.Get("key"), ErrorCode: form.Get("ErrorCode")}
	if st.ErrorCode == "0" {
		st.ErrorCode = ""
	}
	if inc := q.Get("incident"); inc != "" {
		if st.Incident, err = strconv.ParseInt(inc, 10, 64); err != nil {
			return Status{}, fmt.Errorf("twilio status callback: incident %q: not a number", inc)
		}
	}
	switch {
	case form.Get("CallSid") != "":
		st.Channel, st.SID, st.Status = "voice", form.Get("CallSid"), form.Get("CallStatus")
		switch st.Status {
		case "busy", "no-answer", "failed", "canceled":
			st.Failed = true
		}
	case form.Get("MessageSid") != "" || form.Get("SmsSid") != "":
		st.Channel, st.SID, st.Status = "sms", form.Get("MessageSid"), form.Get("MessageStatus")
		if st.SID == "" {
			st.SID = form.Get("SmsSid")
		}
		if st.Status == "" {
			st.Status = form.Get("SmsStatus")
		}
		st.Failed = st.Status == "failed" || st.Status == "undelivered"
	default:
		return Status{}, errors.New("twilio status callback: neither MessageSid nor CallSid")
	}
	if st.Status == "" {
		return Status{}, fmt.Errorf("twilio status callback for %s: no status", st.SID)
	}
	return st, nil
}
