package config

import (
	"fmt"
	"strings"
	"time"
)

// Drill is a department's scheduled contact check (docs/drills.md): once a
// month, on the Week-th Weekday at At in the department's time zone, every
// responder gets a test page on each contact method, and after AnswerWithin
// the department's admins and stakeholders get the drill report.
type Drill struct {
	// Week is which Weekday of the month: first, second, third, fourth or last.
	Week string `yaml:"week"`
	// Weekday is monday … sunday.
	Weekday string `yaml:"weekday"`
	// At is the wall-clock time, "14:00", in the department's time zone.
	At string `yaml:"at"`
	// AnswerWithin is how long the test pages wait for their acks before
	// the report; default DefaultDrillAnswerWithin.
	AnswerWithin Duration `yaml:"answer_within"`
	// Derived by Load.
	Nth    int          `yaml:"-"` // 1 to 4, or -1 for the last
	Day    time.Weekday `yaml:"-"`
	Hour   int          `yaml:"-"`
	Minute int          `yaml:"-"`
}

// Drill defaults and bounds.
const (
	DefaultDrillAnswerWithin = 30 * time.Minute
	// MinDrillAnswerWithin keeps a typo (1ms) from reporting before any
	// page is out; MaxDrillAnswerWithin keeps a drill's report on the day it ran.
	MinDrillAnswerWithin = 10 * time.Second
	MaxDrillAnswerWithin = 24 * time.Hour
	// DefaultContactsVerifiedWithin is global.contacts_verified_within: a
	// monthly drill with a few days to spare.
	DefaultContactsVerifiedWithin = 35 * 24 * time.Hour
)

var drillWeeks = map[string]int{"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}

var drillWeekdays = map[string]time.Weekday{"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday,
	"wednesday": time.Wednesday, "thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday}

// DrillAnswerWithin is how long a drill of d waits for acks: its drill's
// answer_within, or the default for a department with no drill (run by hand).
func (d *Department) DrillAnswerWithin() time.Duration {
	if d.Drill != nil && d.Drill.AnswerWithin > 0 {
		return d.Drill.AnswerWithin.D()
	}
	return DefaultDrillAnswerWithin
}

func (l *loader) validateDrill(d *Department, p string) {
	dr := d.Drill
	if dr == nil {
		return
	}
	p += ".drill"
	if n, ok := drillWeeks[strings.ToLower(dr.Week)]; ok {
		dr.Nth = n
	} else if dr.Week == "" {
		l.errAt(p, "drill needs a week: first, second, third, fourth or last (of the month)")
	} else {
		l.errAt(p+".week", fmt.Sprintf("week %q: want first, second, third, fourth or last", dr.Week))
	}
	if wd, ok := drillWeekdays[strings.ToLower(dr.Weekday)]; ok {
		dr.Day = wd
	} else if dr.Weekday == "" {
		l.errAt(p, "drill needs a weekday: monday … sunday")
	} else {
		l.errAt(p+".weekday", fmt.Sprintf("weekday %q: want monday, tuesday, wednesday, thursday, friday, saturday or sunday", dr.Weekday))
	}
	if t, err := time.Parse("15:04", dr.At); err == nil && len(dr.At) == 5 {
		dr.Hour, dr.Minute = t.Hour(), t.Minute()
	} else if dr.At == "" {
		l.errAt(p, `drill needs at: the time of day in the department's time zone, "14:00"`)
	} else {
		l.errAt(p+".at", fmt.Sprintf("at %q: want a 24-hour time HH:MM, \"14:00\"", dr.At))
	}
	switch {
	case dr.AnswerWithin == 0:
		dr.AnswerWithin = Duration(DefaultDrillAnswerWithin)
	case dr.AnswerWithin.D() < MinDrillAnswerWithin || dr.AnswerWithin.D() > MaxDrillAnswerWithin:
		l.errAt(p+".answer_within", fmt.Sprintf("answer_within %s: want %s to %s", dr.AnswerWithin,
			Duration(MinDrillAnswerWithin), Duration(MaxDrillAnswerWithin)))
	}
}
