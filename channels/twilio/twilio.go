// Package twilio pages people by SMS and voice call through Twilio's REST API,
// and serves the signed webhooks Twilio calls back: replies, keys, delivery reports.
package twilio

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
)

// Paths under global.external_url that Twilio calls back; Routes serves them.
const (
	StatusPath = "/api/v1/twilio/status"
	GatherPath = "/api/v1/twilio/voice/gather"
)

// Senders are the two channels one Twilio account provides.
type Senders struct {
	SMS   *SMS   // channel "sms"
	Voice *Voice // channel "voice"
}

// Option changes how New builds the senders.
type Option func(*options)

type options struct {
	httpClient *http.Client
	statusURL  func(m *channels.Message) string
	gatherURL  func(m *channels.Message) string
}

// WithHTTPClient sends through c's Transport and Timeout (tests, proxies);
// the default is a copy of http.DefaultTransport keeping more idle
// connections, with a 10 s timeout.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithStatusCallbackURL sets where Twilio reports the fate of an SMS or call
// (the router puts its callback token in it). An empty result asks for no
// callback. The default is external_url + StatusPath + "?key=…&incident=…".
func WithStatusCallbackURL(f func(m *channels.Message) string) Option {
	return func(o *options) { o.statusURL = f }
}

// WithGatherURL sets where Twilio posts the digit a callee pressed. The
// default is external_url + GatherPath + "?incident=…&key=…".
func WithGatherURL(f func(m *channels.Message) string) Option {
	return func(o *options) { o.gatherURL = f }
}

// account is what both senders need to reach Twilio. The auth token stays a
// config.Secret so that printing a sender never shows it.
type account struct {
	sid   string
	token config.Secret
	from  string
	api   *url.URL
	http  *http.Client
}

// New builds the SMS and voice senders of one Twilio account. externalURL is
// global.external_url: without it Twilio cannot call back, so SMS go out
// without status callbacks and calls cannot take an answer by keypad.
func New(cfg *config.Twilio, externalURL string, opts ...Option) (*Senders, error) {
	if cfg == nil {
		return nil, errors.New("twilio: no providers.twilio configuration")
	}
	api := cfg.APIURL
	if api == "" {
		api = config.DefaultTwilioAPIURL
	}
	u, err := url.Parse(api)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("twilio: api_url %q: want an http(s) URL with a host", api)
	}
	u.Path = strings.TrimRight(u.Path, "/")

	o := options{httpClient: &http.Client{Timeout: defaultTimeout, Transport: pooled()}}
	base := strings.TrimRight(externalURL, "/")
	if base != "" {
		o.statusURL = func(m *channels.Message) string {
			return base + StatusPath + "?key=" + url.QueryEscape(m.IdempotencyKey) +
				"&incident=" + strconv.FormatInt(m.IncidentID, 10)
		}
		o.gatherURL = func(m *channels.Message) string {
			return base + GatherPath + "?incident=" + strconv.FormatInt(m.IncidentID, 10) +
				"&key=" + url.QueryEscape(m.IdempotencyKey)
		}
	}
	for _, opt := range opts {
		opt(&o)
	}
	acct := &account{sid: cfg.AccountSID, token: cfg.AuthToken, from: cfg.From, api: u, http: o.httpClient}
	segs := cfg.MaxSMSSegments
	if segs == 0 {
		segs = config.DefaultMaxSMSSegments
	}
	return &Senders{
		SMS:   &SMS{acct: acct, maxSegments: segs, statusURL: o.statusURL},
		Voice: &Voice{acct: acct, statusURL: o.statusURL, gatherURL: o.gatherURL},
	}, nil
}

// callbackURL is f(m), or nothing when no callback is possible.
func callbackURL(f func(m *channels.Message) string, m *channels.Message) string {
	if f == nil {
		return ""
	}
	return f(m)
}

// pooled keeps enough idle connections to Twilio for a burst of pages:
// http.DefaultTransport keeps 2 per host, so the other sends of a burst
// would each open a TLS connection.
func pooled() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 32
	return t
}
