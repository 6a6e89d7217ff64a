package router

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// Timer kinds. Every timer carries the escalation generation it was made in;
// ack, escalate and re-route bump the generation, so a timer from before is
// recognised as stale and dropped even if cancelling it raced with its firing.
const (
	kindStep       = "step"        // an escalation step comes due
	kindNotify     = "notify"      // the outbox: one message to one address
	kindExhaust    = "exhaust"     // the last step of the last round waited out
	kindAckTimeout = "ack_timeout" // an acked incident was not resolved in time
	kindReport     = "report"      // a periodic stakeholder update
	kindRecheck    = "recheck"     // a muted or held incident is routed again
)

type stepPayload struct {
	Gen   int `json:"gen"`
	Round int `json:"round"`
	Step  int `json:"step"`
}

// notifyPayload is one outbox entry. Failed lists the channels already tried
// for this page, so failover walks on instead of in circles.
type notifyPayload struct {
	Gen         int      `json:"gen"`
	Kind        string   `json:"kind"` // page, report, resolved
	User        string   `json:"user,omitempty"`
	ChatChannel string   `json:"chat,omitempty"`
	Channel     string   `json:"channel"`
	Step        int      `json:"step"`
	Round       int      `json:"round"`
	Failed      []string `json:"failed,omitempty"`
	// Paged is when the step paged this person: failover skips the channels
	// their rules had already fired by now.
	Paged time.Time `json:"paged,omitzero"`
	// Only keeps the page on its channel: a test of one contact method
	// must not pass for a success by failing over to another.
	Only bool `json:"only,omitempty"`
	// AsIC says the page asks the person to lead the incident: the policy's
	// incident_commander rotation pages them (incident_commander.go).
	AsIC bool `json:"as_ic,omitempty"`
	// Report is what a report or resolved message says (reports.go).
	Report *reportNote `json:"report,omitempty"`
}

type genPayload struct {
	Gen int `json:"gen"`
}

func payload(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("router: timer payload: %v", err)) // plain structs: cannot happen
	}
	return b
}

func stepTimer(inc *store.Incident, round, step int, due time.Time) store.Timer {
	g := inc.Escalation.Generation
	return store.Timer{
		ID:   fmt.Sprintf("%s/g%d/r%d/s%d/step", ref(inc), g, round, step),
		Kind: kindStep, IncidentID: inc.ID, Due: due,
		Payload: payload(stepPayload{Gen: g, Round: round, Step: step}),
	}
}

func notifyTimer(inc *store.Incident, p notifyPayload, rule int, due time.Time) store.Timer {
	who := "u:" + p.User
	if p.ChatChannel != "" {
		who = "c:" + p.ChatChannel
	}
	id := fmt.Sprintf("%s/g%d/r%d/s%d/%s/%s/%d", ref(inc), p.Gen, p.Round, p.Step, who, p.Channel, rule)
	if p.Kind != "page" {
		id = fmt.Sprintf("%s/%s/%d/%s/%s", ref(inc), p.Kind, due.UnixMilli(), who, p.Channel)
	}
	for _, f := range p.Failed {
		id += "/fo:" + f
	}
	return store.Timer{ID: id, Kind: kindNotify, IncidentID: inc.ID, Due: due, Payload: payload(p)}
}

func genTimer(inc *store.Incident, kind string, due time.Time) store.Timer {
	g := inc.Escalation.Generation
	return store.Timer{
		ID:   fmt.Sprintf("%s/g%d/%s", ref(inc), g, kind),
		Kind: kind, IncidentID: inc.ID, Due: due,
		Payload: payload(genPayload{Gen: g}),
	}
}

// recheckTimer routes inc again at due. The due time is in the id, so a
// reload's recheck now and the one at the window's end are two timers.
func recheckTimer(inc *store.Incident, due time.Time) store.Timer {
	g := inc.Escalation.Generation
	return store.Timer{
		ID:   fmt.Sprintf("%s/g%d/recheck/%d", ref(inc), g, due.UnixMilli()),
		Kind: kindRecheck, IncidentID: inc.ID, Due: due,
		Payload: payload(genPayload{Gen: g}),
	}
}

func reportTimer(inc *store.Incident, due time.Time) store.Timer {
	return store.Timer{
		ID:   fmt.Sprintf("%s/report/%d", ref(inc), due.UnixMilli()),
		Kind: kindReport, IncidentID: inc.ID, Due: due,
	}
}

func event(at time.Time, typ, actor string, kv ...string) store.Event {
	ev := store.Event{At: at, Type: typ, Actor: actor}
	if len(kv) > 0 {
		ev.Detail = make(map[string]string, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] != "" {
				ev.Detail[kv[i]] = kv[i+1]
			}
		}
	}
	return ev
}
