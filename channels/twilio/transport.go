package twilio

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/hikyaku/hikyaku/channels"
)

// defaultTimeout bounds a request whose context has no deadline, as
// twilio-go's own client does.
const defaultTimeout = 10 * time.Second

// call is one request to Twilio. twilio-go builds its requests on
// context.Background() and always aims at https://api.twilio.com, so each
// send gets a client whose transport puts the caller's context on the
// request and sends it to the configured API URL instead. It also remembers
// the HTTP status, which twilio-go drops when an error body is not JSON.
type call struct {
	ctx    context.Context
	api    *url.URL
	next   http.RoundTripper
	status int
}

func (c *call) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(c.ctx)
	r.URL.Scheme, r.URL.Host = c.api.Scheme, c.api.Host
	r.URL.Path = c.api.Path + r.URL.Path
	r.URL.RawPath = ""
	r.Host = ""
	resp, err := c.next.RoundTrip(r)
	if err == nil {
		c.status = resp.StatusCode
	}
	return resp, err
}

// service returns twilio-go's API client for one send, bound to ctx. The
// client's own Timeout cannot be used: it lives in the request's context,
// which the transport replaces; so the caller bounds ctx with deadline.
func (a *account) service(ctx context.Context) (*openapi.ApiService, *call, error) {
	token, ok := a.token.Reveal()
	if !ok {
		return nil, nil, channels.Permanent("", errors.New("twilio: providers.twilio.auth_token is not set"))
	}
	next := a.http.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c := &call{ctx: ctx, api: a.api, next: next}
	cl := &client.Client{
		Credentials: client.NewCredentials(a.sid, token),
		HTTPClient: &http.Client{
			Transport: c,
			// A redirect from Twilio's API is not expected; following one
			// would resend the credentials elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	cl.SetAccountSid(a.sid)
	h := client.NewRequestHandler(cl)
	// TWILIO_EDGE and TWILIO_REGION would rename the host; api_url decides.
	h.Edge, h.Region = "", ""
	return openapi.NewApiService(h), c, nil
}

// deadline bounds ctx by the HTTP client's timeout; a sooner deadline of
// the caller's (the engine gives about 4 s) wins.
func (a *account) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if a.http.Timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, a.http.Timeout)
}
