package twilio

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/twilio/twilio-go/client"

	"github.com/hikyaku/hikyaku/channels"
)

// Twilio error codes that say the address itself is wrong for this channel.
// They come with a 400 like any other refusal; they are named because they
// are what an admin will meet in the timeline.
const (
	CodeInvalidTo       = 21211 // the 'To' number is not a valid phone number
	CodeRegionForbidden = 21408 // permission to send to this region is not enabled
	CodeUnsubscribed    = 21610 // the recipient replied STOP
	CodeNotMobile       = 21614 // the 'To' number is not a mobile number
)

// Twilio error codes that refuse hikyaku's account itself: every message
// fails until an admin acts, so they are auth failures (provider down).
const (
	CodeAuthFailed        = 20003 // authentication failed: wrong SID or auth token
	CodeAccountNotActive  = 20005 // the account is suspended or closed
	CodeAccountSuspended  = 10001 // account is not active
	CodeAccountRestricted = 30002 // account suspended (message status)
	CodeTooManyRequests   = 20429 // the account is throttled
)

// classify turns what twilio-go returned into the engine's two classes:
// a refusal (4xx, or one of the codes above) is permanent so the engine fails
// over at once, and one of the account (the auth codes, or a bare 401/403
// from whatever answered) says the provider is down; throttling (429), Twilio's own failures (5xx) and anything
// on the network are transient and retried. status is the HTTP status the
// transport saw, which matters when the error body was not Twilio's JSON
// (a proxy's HTML page, say).
func classify(op string, err error, status int) error {
	code := 0
	var rest *client.TwilioRestError
	var v1 *client.RestErrorV1
	switch {
	case errors.As(err, &rest):
		code = rest.Code
		if rest.Status != 0 {
			status = rest.Status
		}
	case errors.As(err, &v1):
		code = v1.Code
		if v1.HttpStatusCode != 0 {
			status = v1.HttpStatusCode
		}
	}
	err = fmt.Errorf("twilio: %s: %w", op, err)
	if status == 0 && code == 0 {
		return err // no answer read: channels.ReasonOf tells a timeout from a refused connection
	}
	reason := reasonOf(code, status)
	switch code {
	case CodeInvalidTo, CodeRegionForbidden, CodeUnsubscribed, CodeNotMobile:
		return channels.WithReason(reason, channels.Permanent(strconv.Itoa(code), err))
	case CodeAuthFailed, CodeAccountNotActive, CodeAccountSuspended, CodeAccountRestricted:
		return channels.WithReason(channels.ReasonAuth, channels.AuthFailure(strconv.Itoa(code), err))
	}
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		if code == 0 {
			return channels.WithReason(channels.ReasonAuth, channels.AuthFailure("http "+strconv.Itoa(status), err))
		}
		return channels.WithReason(channels.ReasonAuth, channels.AuthFailure(strconv.Itoa(code), err))
	}
	if status >= 400 && status < 500 && status != http.StatusTooManyRequests && status != http.StatusRequestTimeout {
		if code == 0 {
			return channels.WithReason(reason, channels.Permanent("http "+strconv.Itoa(status), err))
		}
		return channels.WithReason(reason, channels.Permanent(strconv.Itoa(code), err))
	}
	return channels.WithReason(reason, err)
}

// reasonOf is why Twilio refused: its code when it names the account, else the HTTP status.
func reasonOf(code, status int) channels.Reason {
	switch code {
	case CodeAuthFailed, CodeAccountNotActive, CodeAccountSuspended, CodeAccountRestricted:
		return channels.ReasonAuth
	case CodeTooManyRequests:
		return channels.ReasonRateLimited
	}
	if status == 0 {
		return channels.ReasonUnknown
	}
	return channels.ReasonForStatus(status)
}
