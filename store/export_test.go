package store

// UseCallerClock makes a Redis store claim on the caller's now, as the
// conformance suite's fake clock needs; production claims on Redis TIME.
func UseCallerClock(s Store) {
	if r, ok := s.(*Redis); ok {
		r.callerClock = true
	}
}
