package store

import (
	"fmt"
	"slices"
)

// nextState checks what an update's fn returned against the current state and
// returns the incident to write, with Key, Status and Version filled in. It
// returns nil when there is nothing to write. Both implementations call it so
// they enforce the same rules.
//
// key is the dedup key the caller looked up by (UpdateByKey), or cur.Key (Update).
// The returned incident has ID 0 when the store must assign one.
func nextState(cur *Incident, ch *Change, key string) (*Incident, error) {
	if ch == nil || ch.Incident == nil {
		return nil, nil
	}
	next := *ch.Incident
	if next.Key == "" {
		next.Key = key
	}
	if next.Status == "" {
		next.Status = StatusOpen
	}
	switch next.Status {
	case StatusOpen, StatusAcked, StatusResolved:
	default:
		return nil, fmt.Errorf("store: incident status %q is not open, acked or resolved", next.Status)
	}
	if next.Key != key {
		// The key index would point at the wrong incident; re-keying is a new incident.
		return nil, fmt.Errorf("store: incident key %q differs from %q: %w", errKey(next.Key), errKey(key), ErrKeyConflict)
	}
	if cur == nil {
		if next.ID != 0 {
			return nil, fmt.Errorf("store: new incident for key %q must have ID 0, got %d", errKey(key), next.ID)
		}
		next.Version = 1
	} else {
		if next.ID != cur.ID {
			return nil, fmt.Errorf("store: update of incident %d returned incident %d; resolve it first to start a new one", cur.ID, next.ID)
		}
		next.Version = cur.Version + 1
	}
	for _, t := range ch.Schedule {
		if t.ID == "" {
			return nil, fmt.Errorf("store: timer for incident %d has no ID", next.ID)
		}
	}
	return &next, nil
}

// scheduleFor returns ch.Schedule with IncidentID filled in for timers that lack it.
func scheduleFor(ch *Change, incidentID int64) []Timer {
	out := make([]Timer, len(ch.Schedule))
	for i, t := range ch.Schedule {
		if t.IncidentID == 0 {
			t.IncidentID = incidentID
		}
		out[i] = t
	}
	return out
}

// holdsKey reports whether an incident in this status keeps its dedup key reserved.
func holdsKey(s Status) bool { return s != StatusResolved }

// cloneIncident copies inc so an update's fn can modify what it is given
// without touching the state a retry starts from.
func cloneIncident(inc *Incident) *Incident {
	if inc == nil {
		return nil
	}
	c := *inc
	c.Message = slices.Clone(inc.Message)
	c.Handled = slices.Clone(inc.Handled)
	c.Continued = slices.Clone(inc.Continued)
	if inc.Wait != nil {
		w := *inc.Wait
		c.Wait = &w
	}
	return &c
}
