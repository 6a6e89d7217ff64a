package e2e

import (
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/internal/faketwilio"
)

// TestFaultJudge checks the fault suite's verdict on literal sends: a lost
// send, a send made twice and three times, one the plan does not make, one
// naming no incident, and a refused request (not a send) are each counted
// as such.
func TestFaultJudge(t *testing.T) {
	faultAt := time.Date(2026, 12, 2, 4, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return faultAt.Add(time.Duration(s * float64(time.Second))) }
	sms := func(to, body string, s float64) faketwilio.Request {
		return faketwilio.Request{Resource: "Messages", SID: "SM1", At: at(s), Form: url.Values{"To": {to}, "Body": {body}}}
	}
	call := func(to, twiml string, s float64) faketwilio.Request {
		return faketwilio.Request{Resource: "Calls", SID: "CA1", At: at(s), Form: url.Values{"To": {to}, "Twiml": {twiml}}}
	}
	gather := func(id string) string {
		return `<Response><Gather action="http://h/api/v1/twilio/voice/gather?incident=` + id + `&amp;key=k"/></Response>`
	}
	// Incident 7 of team 1: +15551000001 (primary), +15552000001 (secondary).
	// Incident 8 of team 2: +15551000002, +15552000002.
	reqs := []faketwilio.Request{
		sms("+15551000001", "[hikyaku #7] CRITICAL Team 1: down", -1),
		sms("+15551000001", "[hikyaku #7] CRITICAL Team 1: down", 3.9), // twice
		call("+15551000001", gather("7"), -1),
		sms("+15552000001", "[hikyaku #7] CRITICAL Team 1: down", 1),
		// incident 7's voice to the secondary never went out: lost
		sms("+15551000002", "[hikyaku #8] x", 0),
		call("+15551000002", gather("8"), 0),
		call("+15551000002", gather("8"), 4),
		call("+15551000002", gather("8"), 8), // three times
		sms("+15552000002", "[hikyaku #8] x", 2),
		call("+15552000002", gather("8"), 2),
		sms("+15552000001", "[hikyaku #8] x", 2), // the wrong team's secondary: unplanned
		sms("+15551000001", "hello", 2),          // names no incident
		{Resource: "Messages", Status: 400, Code: 21211, At: at(2), Form: url.Values{"To": {"+1"}, "Body": {"[hikyaku #7]"}}}, // refused, not sent
	}
	team := map[int64]int{7: 1, 8: 2}
	accepted := []posted{{Name: "A", Team: 1, Incident: 7}, {Name: "B", Team: 2, Incident: 8}}
	var res faultResult
	sends, unnamed := twilioSends(reqs)
	problems, dups := judgeSends(&res, faultPlan{}, sends, unnamed, team, accepted, faultAt)

	want := faultResult{Lost: 1, LostPages: 1, Duplicated: 3, MaxCopies: 3, Unplanned: 2,
		DupByChannel: map[string]int{"sms": 1, "voice": 2}}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("counted %+v\nwant    %+v", res, want)
	}
	wantProblems := []string{
		`Messages to +15551000001 names no incident: map["Body":["hello"] "To":["+15551000001"]]`,
		"a sms to +15552000001 about incident 8 that the plan does not send",
		"group A (incident 7) was answered 2xx but its voice to +15552000001 never went out",
	}
	if !reflect.DeepEqual(problems, wantProblems) {
		t.Errorf("problems %q\nwant     %q", problems, wantProblems)
	}
	wantDups := []string{
		"incident 7 sms to +15551000001 sent 2 times, at -1.0s, +3.9s from the fault",
		"incident 8 voice to +15551000002 sent 3 times, at +0.0s, +4.0s, +8.0s from the fault",
	}
	if !reflect.DeepEqual(dups, wantDups) {
		t.Errorf("duplicates %q\nwant       %q", dups, wantDups)
	}
}

// TestFaultAfterTimeout: a duplicated send is said to follow a timeout only
// when a daemon logged a timed-out attempt for its incident and channel.
func TestFaultAfterTimeout(t *testing.T) {
	d := &daemon{log: &logSink{}}
	d.log.Write([]byte(`{"level":"WARN","msg":"notification failed; retrying","incident":7,"channel":"sms","reason":"timeout"}` + "\n" +
		`{"level":"WARN","msg":"notification failed; retrying","incident":8,"channel":"sms","reason":"server"}` + "\n" +
		`{"level":"WARN","msg":"notification failed; retrying","incident":9,"channel":"email","reason":"timeout"}` + "\n"))
	send := func(channel string, incident int64) made {
		return made{sendID: sendID{Channel: channel, To: "+15551000001", Incident: incident}}
	}
	sends := []made{
		send("sms", 7), send("sms", 7), send("sms", 7), // twice again after a timeout: 2
		send("sms", 8), send("sms", 8), // again after a server error: not counted
		send("voice", 9), send("voice", 9), // the timeout was email's: not counted
		send("email", 9), // once: nothing repeated
	}
	if n := afterTimeout([]*daemon{d}, sends); n != 2 {
		t.Errorf("afterTimeout = %d, want 2", n)
	}
}
