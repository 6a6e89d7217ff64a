package router

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	ics "github.com/arran4/golang-ical"
)

// feedEvent is one final shift in a calendar feed.
type feedEvent struct {
	Source  string // the rotation or schedule id, part of the UID
	User    string
	Start   time.Time
	End     time.Time
	Summary string
}

// feedRefresh is how often the feed asks calendar apps to fetch it again
// (Google Calendar decides for itself, about every few hours; Outlook and
// Apple Calendar honour it).
const feedRefresh = "PT1H"

// icsLocal is DTSTART's and DTEND's form with a TZID: wall time in the zone.
const icsLocal = "20060102T150405"

// writeFeed writes an RFC 5545 calendar of events, their times in loc
// (TZID with the IANA name and a VTIMEZONE of loc's offsets over
// [from, to)), stamped now.
func writeFeed(w io.Writer, name string, loc *time.Location, now, from, to time.Time, events []feedEvent) error {
	cal := ics.NewCalendar()
	cal.SetProductId("-//hikyaku//on-call calendar feed//EN")
	cal.SetMethod(ics.MethodPublish)
	cal.SetName(name)
	cal.SetXWRCalName(name)
	cal.SetXWRTimezone(loc.String())
	cal.SetRefreshInterval(feedRefresh)
	cal.SetXPublishedTTL(feedRefresh)
	addTimezone(cal, loc, from, to)
	for _, ev := range events {
		e := cal.AddEvent(eventUID(ev))
		e.SetDtStampTime(now)
		setTime(&e.ComponentBase, ics.ComponentPropertyDtStart, ev.Start, loc)
		setTime(&e.ComponentBase, ics.ComponentPropertyDtEnd, ev.End, loc)
		e.SetSummary(ev.Summary)
		// A shift is not a meeting: it must not make the person look busy
		// to whoever books time with them.
		e.SetTimeTransparency(ics.TransparencyTransparent)
	}
	// The library ends lines in LF unless told; RFC 5545 wants CRLF.
	if err := cal.SerializeTo(w, ics.WithNewLine("\r\n")); err != nil {
		return fmt.Errorf("router: writing the calendar feed: %w", err)
	}
	return nil
}

// eventUID is stable per shift: the same source, person and start give
// the same UID on every fetch, so a calendar app updates the event (its
// end moved by an override) rather than adding another.
func eventUID(ev feedEvent) string {
	h := sha256.Sum256([]byte(ev.Source + "\x00" + ev.User + "\x00" + ev.Start.UTC().Format(time.RFC3339)))
	return hex.EncodeToString(h[:16]) + "@hikyaku"
}

// setTime writes t as wall time in loc with its TZID. A wall time that
// the zone repeats (the hour a DST change turns the clock back) names two
// instants and RFC 5545 reads it as the first; such a t is written in UTC
// instead, which is exact.
func setTime(c *ics.ComponentBase, p ics.ComponentProperty, t time.Time, loc *time.Location) {
	local := t.In(loc).Format(icsLocal)
	if back, err := time.ParseInLocation(icsLocal, local, loc); err == nil && back.Equal(t) && !repeated(t, loc) {
		c.SetProperty(p, local, ics.WithTZID(loc.String()))
		return
	}
	c.SetProperty(p, t.UTC().Format("20060102T150405Z"))
}

// repeated says whether t's wall time in loc also names another instant
// (an offset change within the hours around t turned the clock back over it).
func repeated(t time.Time, loc *time.Location) bool {
	wall := t.In(loc)
	for _, d := range []time.Duration{-3 * time.Hour, -2 * time.Hour, -time.Hour, -30 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 3 * time.Hour} {
		o := t.Add(d).In(loc)
		if o.Format(icsLocal) == wall.Format(icsLocal) {
			return true
		}
	}
	return false
}

// addTimezone adds loc's VTIMEZONE: one observance for each offset loc
// has from the one in force at from until to, taken from Go's zone data,
// so the feed says exactly the offsets its wall times were written with.
func addTimezone(cal *ics.Calendar, loc *time.Location, from, to time.Time) {
	tz := cal.AddTimezone(loc.String())
	at := from.In(loc)
	for range 1000 { // a zone changes offset a few times a year; the horizon is weeks
		name, off := at.Zone()
		start, end := at.ZoneBounds()
		before, onset := off, "19700101T000000" // no known change: in force since ever
		if !start.IsZero() {
			_, before = start.Add(-time.Second).Zone()
			// DTSTART is the change's wall time on the clock before it.
			onset = start.UTC().Add(time.Duration(before) * time.Second).Format(icsLocal)
		}
		var c *ics.ComponentBase
		if at.IsDST() {
			d := &ics.Daylight{}
			tz.Components = append(tz.Components, d)
			c = &d.ComponentBase
		} else {
			s := tz.AddStandard()
			c = &s.ComponentBase
		}
		c.SetProperty(ics.ComponentPropertyDtStart, onset)
		c.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetfrom), utcOffset(before))
		c.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetto), utcOffset(off))
		c.SetProperty(ics.ComponentProperty(ics.PropertyTzname), name)
		if end.IsZero() || !end.Before(to) {
			return
		}
		at = end.In(loc)
	}
}

// utcOffset is RFC 5545's UTC-OFFSET: ±hhmm, with ss only when not 0.
func utcOffset(secs int) string {
	sign := '+'
	if secs < 0 {
		sign, secs = '-', -secs
	}
	s := fmt.Sprintf("%c%02d%02d", sign, secs/3600, secs/60%60)
	if secs%60 != 0 {
		s += fmt.Sprintf("%02d", secs%60)
	}
	return s
}
