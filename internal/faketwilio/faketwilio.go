// Package faketwilio is Twilio's REST API and webhooks as hikyaku's tests meet
// them: an httptest server that checks the wire format, records, fails on cue and signs callbacks.
package faketwilio

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hikyaku/hikyaku/config"
)

// The credentials the fake accepts unless told otherwise. Twilio's SIDs are
// "AC" and 32 hex digits; its auth tokens 32 hex digits.
const (
	AccountSID = "AC0123456789abcdef0123456789abcdef"
	AuthToken  = "fedcba9876543210fedcba9876543210"
)

// Twilio's own limits, checked as Twilio checks them.
const (
	maxBody  = 1600 // characters of an SMS Body
	maxTwiML = 4000 // characters of a call's inline Twiml
)

var (
	e164Re = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	pathRe = regexp.MustCompile(`^/2010-04-01/Accounts/([^/]+)/(Messages|Calls)\.json$`)
)

// Request is one API request the fake answered.
type Request struct {
	Resource string // "Messages" or "Calls"
	Form     url.Values
	Header   http.Header  // without Authorization
	Status   int          // HTTP status answered
	SID      string       // SM… or CA… when created, else empty
	Code     int          // Twilio error code answered, else 0
	At       time.Time    // when the request arrived (when a created message exists), UTC
	progress CallProgress // a call's stages, as set when it was created
}

// Fault is how the fake answers requests to one number instead of accepting them.
type Fault struct {
	Status  int           // HTTP status; 0 accepts (after Delay)
	Code    int           // Twilio error code in the JSON body
	Message string        // Twilio's message; a generic one when empty
	Body    string        // a raw body instead of Twilio's JSON (a proxy's error page)
	Delay   time.Duration // wait before answering (the client's context ends it)
	Times   int           // how many requests it applies to; 0 for all
	// Hold accepts and records the message (or call) at once, then waits
	// this long before answering: Twilio has it, the client does not know yet.
	Hold time.Duration
}

// Server is the fake. It is safe for concurrent use.
type Server struct {
	URL        string
	AccountSID string
	AuthToken  string

	srv    *httptest.Server
	client *http.Client

	mu       sync.Mutex
	latency  time.Duration
	requests []Request
	lists    []url.Values
	faults   map[string]*Fault
	seq      int
	// progress is when each call reaches each stage (SetCallProgress).
	progress  CallProgress
	callbacks sync.WaitGroup
	// Progress are the call-progress callbacks posted, with what they got.
	progressLog []Progress
}

// CallProgress is how long after Twilio creates a call it reaches each
// stage: Twilio dials (initiated), the phone rings, someone answers, the
// call ends. The fake posts the call-progress callback of each stage the
// call asked for (StatusCallbackEvent: initiated, ringing, answered,
// completed) at that moment, and its Calls list shows the stage reached
// (queued, ringing, in-progress, completed; no-answer for a call that ended
// unanswered). A negative stage never comes, and no later one either.
type CallProgress struct {
	Initiated, Ringing, Answered, Completed time.Duration
}

// stages are the call-progress events in order, with the CallStatus each
// callback carries ("completed" is decided by whether it was answered).
var stages = []string{"initiated", "ringing", "answered", "completed"}

func (p CallProgress) at(stage int) time.Duration {
	return [...]time.Duration{p.Initiated, p.Ringing, p.Answered, p.Completed}[stage]
}

// reached says how many stages a call created elapsed ago has reached.
func (p CallProgress) reached(elapsed time.Duration) int {
	n := 0
	for i := range stages {
		if d := p.at(i); d < 0 || d > elapsed {
			break
		}
		n++
	}
	return n
}

// Progress is one call-progress callback the fake posted by itself.
type Progress struct {
	SID, Status string
	Answered    int // the HTTP status hikyaku answered; 0 when the post failed
	Err         string
}

// New starts a fake with AccountSID and AuthToken; Close stops it.
func New() *Server {
	s := &Server{AccountSID: AccountSID, AuthToken: AuthToken, faults: map[string]*Fault{},
		progress: CallProgress{Initiated: 50 * time.Millisecond, Ringing: -1, Answered: -1, Completed: -1},
		client:   &http.Client{Timeout: 10 * time.Second}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.srv.URL
	return s
}

// Start is New, closed when tb ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s := New()
	tb.Cleanup(s.Close)
	return s
}

// SetLatency makes every API request take d to answer, as the real API
// takes a few hundred milliseconds. A message or call is created when its
// request arrives, before the wait: Twilio queues it whether or not the
// client is still there for the answer, so a client killed during the wait
// has sent it.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetProgressDelay is how long after a call is created the fake posts its
// "initiated" callback when the call asked for it, as Twilio does once it
// hands the call to a carrier (default 50 ms); a negative d posts none.
// By default a call goes no further: it never rings, nobody answers.
func (s *Server) SetProgressDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.progress.Initiated = d
}

// SetCallProgress sets when calls created from now on reach each stage.
func (s *Server) SetCallProgress(p CallProgress) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.progress = p
}

// ProgressPosted are the call-progress callbacks posted so far.
func (s *Server) ProgressPosted() []Progress {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Progress(nil), s.progressLog...)
}

// Close stops the server, ending requests still waiting on a Delay, and
// waits for the callbacks it is posting.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
	s.callbacks.Wait()
}

// postProgress posts, each at its stage's time, the call-progress
// callbacks req asked for: Twilio posts them whether or not the client is
// still waiting for the API's answer, and whether or not anyone is there
// to take them (it does not retry a callback that failed).
func (s *Server) postProgress(req Request) {
	if req.Resource != "Calls" || req.Form.Get("StatusCallback") == "" {
		return
	}
	p := req.progress
	asked := map[string]bool{}
	for _, ev := range req.Form["StatusCallbackEvent"] {
		asked[ev] = true
	}
	n := p.reached(time.Duration(1<<63 - 1))
	s.callbacks.Go(func() {
		for i := range n {
			if !asked[stages[i]] {
				continue
			}
			time.Sleep(time.Until(req.At.Add(p.at(i))))
			status := stages[i]
			switch {
			case status == "answered":
				status = "in-progress"
			case status == "completed" && p.Answered < 0:
				status = "no-answer"
			}
			pr := Progress{SID: req.SID, Status: status}
			resp, err := s.SendStatus(req.SID, status, 0)
			if err != nil {
				pr.Err = err.Error()
			} else {
				pr.Answered = resp.StatusCode
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			s.mu.Lock()
			s.progressLog = append(s.progressLog, pr)
			s.mu.Unlock()
		}
	})
}

// Config is providers.twilio pointing at the fake, sending from from.
func (s *Server) Config(from string) *config.Twilio {
	return &config.Twilio{AccountSID: s.AccountSID, AuthToken: config.NewSecret(s.AuthToken), From: from,
		APIURL: s.URL, MaxSMSSegments: config.DefaultMaxSMSSegments}
}

// Fail makes requests to number to (or to any number, for "*") answer f.
func (s *Server) Fail(to string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[to] = &f
}

// Heal removes the fault of to.
func (s *Server) Heal(to string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.faults, to)
}

// Requests is every API request so far, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Lists is the query of every list request (GET Messages.json or Calls.json) so far.
func (s *Server) Lists() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.lists...)
}

// Messages is the SMS Twilio accepted.
func (s *Server) Messages() []Request { return s.created("Messages") }

// Calls is the calls Twilio accepted.
func (s *Server) Calls() []Request { return s.created("Calls") }

func (s *Server) created(resource string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Resource == resource && r.SID != "" {
			out = append(out, r)
		}
	}
	return out
}

// Find is the accepted request that was given sid.
func (s *Server) Find(sid string) (Request, bool) {
	for _, r := range s.Requests() {
		if r.SID == sid {
			return r, true
		}
	}
	return Request{}, false
}

// apiError is Twilio's JSON error body.
type apiError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if user, pass, ok := r.BasicAuth(); !ok || user != s.AccountSID || pass != s.AuthToken {
		writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	m := pathRe.FindStringSubmatch(r.URL.Path)
	if m == nil || m[1] != s.AccountSID {
		writeError(w, http.StatusNotFound, 20404, fmt.Sprintf("The requested resource %s was not found", r.URL.Path))
		return
	}
	if r.Method == http.MethodGet {
		s.serveList(w, r, m[2])
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
		return
	}
	// Like Twilio, read parameters from a form body only: another content
	// type leaves them missing, and the answer says which.
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, 20001, "Unable to parse request: "+err.Error())
		return
	}
	req := Request{Resource: m[2], Form: r.PostForm, Header: r.Header.Clone(), At: time.Now().UTC()}
	req.Header.Del("Authorization")

	status, code, msg, raw, hold := s.answer(r, &req)
	req.Status, req.Code = status, code
	if status == http.StatusCreated {
		req.SID = s.newSID(req.Resource)
	}
	s.mu.Lock()
	req.progress = s.progress
	s.requests = append(s.requests, req)
	latency := s.latency
	s.mu.Unlock()
	if status == http.StatusCreated {
		s.postProgress(req)
	}
	// A created message exists before the answer, as at Twilio: a client
	// killed while waiting has sent. latency is every answer's delay, hold a
	// fault's extra one for this number.
	if wait := latency + hold; wait > 0 && (hold == 0 || status == http.StatusCreated) {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return // the client gave up; Twilio still has the message
		}
	}

	switch {
	case raw != "":
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		io.WriteString(w, raw)
	case status != http.StatusCreated:
		writeError(w, status, code, msg)
	default:
		writeJSON(w, status, s.resource(&req))
	}
}

// answer decides the response: the fault set for the number, else Twilio's
// validation of the parameters, else 201.
func (s *Server) answer(r *http.Request, req *Request) (status, code int, msg, raw string, hold time.Duration) {
	to := req.Form.Get("To")
	if f := s.fault(to); f != nil {
		if f.Delay > 0 {
			select {
			case <-time.After(f.Delay):
			case <-r.Context().Done():
				return 499, 0, "client went away", "", 0
			}
		}
		if f.Status != 0 {
			if f.Message == "" {
				f.Message = http.StatusText(f.Status)
			}
			return f.Status, f.Code, f.Message, f.Body, 0
		}
		hold = f.Hold
	}
	if code, msg := validate(req.Resource, req.Form); code != 0 {
		return http.StatusBadRequest, code, msg, "", 0
	}
	return http.StatusCreated, 0, "", "", hold
}

// fault returns the fault for to and counts its use; a copy, as it is read unlocked.
func (s *Server) fault(to string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := to
	f := s.faults[key]
	if f == nil {
		key, f = "*", s.faults["*"]
	}
	if f == nil {
		return nil
	}
	c := *f
	if f.Times > 0 {
		if f.Times--; f.Times == 0 {
			delete(s.faults, key)
		}
	}
	return &c
}

// validate is Twilio's check of a create request, with its error codes.
func validate(resource string, f url.Values) (int, string) {
	to, from := f.Get("To"), f.Get("From")
	if resource == "Messages" {
		switch {
		case to == "":
			return 21604, "A 'To' phone number is required."
		case from == "" && f.Get("MessagingServiceSid") == "":
			return 21603, "A 'From' phone number is required."
		case f.Get("Body") == "" && f.Get("MediaUrl") == "" && f.Get("ContentSid") == "":
			return 21602, "Message body is required."
		case utf8.RuneCountInString(f.Get("Body")) > maxBody:
			return 21658, "Parameter exceeded character limit: Body"
		}
	} else {
		switch {
		case to == "":
			return 21201, "No 'To' number is specified"
		case from == "":
			return 21213, "No 'From' number is specified"
		case f.Get("Url") == "" && f.Get("Twiml") == "" && f.Get("ApplicationSid") == "":
			return 21205, "Url parameter is required."
		case utf8.RuneCountInString(f.Get("Twiml")) > maxTwiML:
			return 21658, "Parameter exceeded character limit: Twiml"
		case f.Get("Twiml") != "" && !wellFormed(f.Get("Twiml")):
			// Twilio would take the call and fail it with 12100 once
			// answered; failing here makes a test's mistake loud.
			return 12100, "Document parse failure"
		}
		for _, ev := range f["StatusCallbackEvent"] {
			switch ev {
			case "initiated", "ringing", "answered", "completed":
			default:
				return 21626, fmt.Sprintf("Invalid StatusCallbackEvent %q", ev)
			}
		}
	}
	if !e164Re.MatchString(to) {
		return 21211, fmt.Sprintf("The 'To' number %s is not a valid phone number.", to)
	}
	if from != "" && !e164Re.MatchString(from) {
		return 21212, fmt.Sprintf("The 'From' number %s is not a valid phone number, shortcode, or alphanumeric sender ID.", from)
	}
	if cb := f.Get("StatusCallback"); cb != "" {
		if u, err := url.Parse(cb); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return 21609, "Invalid StatusCallback URL"
		}
	}
	return 0, ""
}

func wellFormed(doc string) bool {
	d := xml.NewDecoder(strings.NewReader(doc))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return true
		}
		if err != nil {
			return false
		}
	}
}

func (s *Server) newSID(resource string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	prefix := "SM"
	if resource == "Calls" {
		prefix = "CA"
	}
	return fmt.Sprintf("%s%032x", prefix, s.seq)
}

// resource is the created Message or Call as Twilio returns it (the fields
// clients read; Twilio sends more).
func (s *Server) resource(req *Request) map[string]any {
	now := time.Now().UTC().Format(time.RFC1123Z)
	out := map[string]any{
		"sid":          req.SID,
		"account_sid":  s.AccountSID,
		"to":           req.Form.Get("To"),
		"from":         req.Form.Get("From"),
		"status":       "queued",
		"direction":    "outbound-api",
		"api_version":  "2010-04-01",
		"date_created": now,
		"date_updated": now,
		"uri":          fmt.Sprintf("/2010-04-01/Accounts/%s/%s/%s.json", s.AccountSID, req.Resource, req.SID),
	}
	if req.Resource == "Messages" {
		out["body"] = req.Form.Get("Body")
	}
	return out
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, apiError{Code: code, Message: msg, Status: status,
		MoreInfo: fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
