package faketwilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Sign is the X-Twilio-Signature Twilio puts on a POST to rawURL: HMAC-SHA1
// with the auth token over the URL followed by each parameter's name and
// value, names sorted. It is written from Twilio's description, apart from
// twilio-go's validator, so each checks the other.
func Sign(authToken, rawURL string, params url.Values) string {
	var b strings.Builder
	b.WriteString(rawURL)
	for _, k := range slices.Sorted(maps.Keys(params)) {
		for _, v := range params[k] {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// SignedPost posts params to rawURL as Twilio posts a webhook: a form body
// signed with the fake's auth token. The inbound SMS (From, Body, MessageSid)
// and keypad (CallSid, Digits) tests use it as much as status callbacks do.
// The caller closes the response body.
func (s *Server) SignedPost(rawURL string, params url.Values) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(params.Encode()))
	if err != nil {
		return nil, fmt.Errorf("faketwilio: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set("X-Twilio-Signature", Sign(s.AuthToken, rawURL, params))
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("faketwilio: post %s: %w", rawURL, err)
	}
	return resp, nil
}

// StatusParams is the form of the status callback Twilio would post for the
// message or call sid reaching status (errorCode 0 for none).
func (s *Server) StatusParams(sid, status string, errorCode int) (callbackURL string, params url.Values, err error) {
	r, ok := s.Find(sid)
	if !ok {
		return "", nil, fmt.Errorf("faketwilio: no message or call %s", sid)
	}
	callbackURL = r.Form.Get("StatusCallback")
	if callbackURL == "" {
		return "", nil, fmt.Errorf("faketwilio: %s was sent without a StatusCallback", sid)
	}
	params = url.Values{
		"AccountSid": {s.AccountSID},
		"ApiVersion": {"2010-04-01"},
		"To":         {r.Form.Get("To")},
		"From":       {r.Form.Get("From")},
	}
	if r.Resource == "Messages" {
		params.Set("MessageSid", sid)
		params.Set("SmsSid", sid)
		params.Set("MessageStatus", status)
		params.Set("SmsStatus", status)
	} else {
		params.Set("CallSid", sid)
		params.Set("CallStatus", status)
		params.Set("Direction", "outbound-api")
		params.Set("CallbackSource", "call-progress-events")
		params.Set("SequenceNumber", "0")
	}
	if errorCode != 0 {
		params.Set("ErrorCode", strconv.Itoa(errorCode))
	}
	return callbackURL, params, nil
}

// SendStatus posts, signed, the status callback of sid reaching status to
// the StatusCallback it was sent with. The caller closes the response body.
func (s *Server) SendStatus(sid, status string, errorCode int) (*http.Response, error) {
	u, params, err := s.StatusParams(sid, status, errorCode)
	if err != nil {
		return nil, err
	}
	return s.SignedPost(u, params)
}
