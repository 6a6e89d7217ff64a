package router

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
)

// The horizon of a calendar feed: a week back, so the shift just done is
// still there, and eight weeks ahead.
const (
	feedBack  = 7 * 24 * time.Hour
	feedAhead = 8 * 7 * 24 * time.Hour
)

// feedMe is the Feed of a person's own shifts; any other Feed is
// "DEPARTMENT/ROTATION" (a rotation or a schedule of that department).
const feedMe = "me"

// errNoFeed is a feed that names no rotation or schedule of its department.
var errNoFeed = errors.New("no such rotation or schedule in that department")

// parseFeed checks feed against cfg: "me", or a rotation or schedule of
// the department it names. It returns the department and source (both ""
// for "me").
func parseFeed(cfg *config.Config, feed string) (dept *config.Department, src string, err error) {
	if feed == feedMe {
		return nil, "", nil
	}
	d, id, ok := strings.Cut(feed, "/")
	dept = cfg.Department(d)
	if !ok || dept == nil || !hasSource(dept, id) {
		return nil, "", fmt.Errorf("rotation %q: %w (want DEPARTMENT/ROTATION, e.g. %s)", feed, errNoFeed, exampleFeed(cfg))
	}
	return dept, id, nil
}

func hasSource(d *config.Department, id string) bool {
	return slices.ContainsFunc(d.Rotations, func(r *config.Rotation) bool { return r.ID == id }) ||
		slices.ContainsFunc(d.Schedules, func(s *config.Schedule) bool { return s.ID == id })
}

func exampleFeed(cfg *config.Config) string {
	for _, d := range cfg.Departments {
		for _, r := range d.Rotations {
			return d.ID + "/" + r.ID
		}
	}
	return "ops/primary"
}

// feedSources are the department's rotations, then its schedules.
func feedSources(d *config.Department) []string {
	ids := make([]string, 0, len(d.Rotations)+len(d.Schedules))
	for _, r := range d.Rotations {
		ids = append(ids, r.ID)
	}
	for _, s := range d.Schedules {
		ids = append(ids, s.ID)
	}
	return ids
}

// buildFeed is the calendar's name and events of feed for user over
// [from, to): their own shifts in every rotation and schedule, or every
// shift of one. Texts are in tr.
func buildFeed(set *policies.Set, tr catalog.For, user, feed string, from, to time.Time) (string, []feedEvent, error) {
	cfg := set.Config()
	dept, src, err := parseFeed(cfg, feed)
	if err != nil {
		return "", nil, err
	}
	var events []feedEvent
	add := func(d *config.Department, id string, mine bool) error {
		shifts, err := wholeShifts(set, id, from, to)
		if err != nil {
			return err
		}
		for _, sh := range shifts {
			if mine && sh.User != user {
				continue
			}
			summary := tr.T("calendar.shift_of", personName(cfg, sh.User), nameOr(d.Name, d.ID), sourceName(cfg, id))
			if mine {
				summary = tr.T("calendar.shift_mine", nameOr(d.Name, d.ID), sourceName(cfg, id))
			}
			if sh.Override {
				summary += tr.T("calendar.override")
			}
			events = append(events, feedEvent{Source: id, User: sh.User, Start: sh.Start, End: sh.End, Summary: summary})
		}
		return nil
	}
	if dept != nil {
		if err := add(dept, src, false); err != nil {
			return "", nil, err
		}
		return tr.T("calendar.name_feed", nameOr(dept.Name, dept.ID), sourceName(cfg, src)), events, nil
	}
	for _, d := range cfg.Departments {
		for _, id := range feedSources(d) {
			if err := add(d, id, true); err != nil {
				return "", nil, err
			}
		}
	}
	slices.SortStableFunc(events, func(a, b feedEvent) int { return a.Start.Compare(b.Start) })
	return tr.T("calendar.name_mine"), events, nil
}

// wholeShifts is Shifts over [from, to) with the first and last shift
// whole rather than clipped to the horizon, so an event's start (and so
// its UID) does not move as the horizon slides day by day.
func wholeShifts(set *policies.Set, id string, from, to time.Time) ([]policies.Shift, error) {
	shifts, err := set.Shifts(id, from, to)
	if err != nil || len(shifts) == 0 {
		return shifts, err
	}
	if first := &shifts[0]; first.Start.Equal(from) {
		if sh, ok := set.OnCall(id, from); ok && sh.User == first.User && sh.Start.Before(first.Start) {
			first.Start = sh.Start
		}
	}
	if last := &shifts[len(shifts)-1]; last.End.Equal(to) {
		if sh, ok := set.OnCall(id, to.Add(-time.Nanosecond)); ok && sh.User == last.User && sh.End.After(last.End) {
			last.End = sh.End
		}
	}
	return shifts, nil
}

func sourceName(cfg *config.Config, id string) string {
	if r := cfg.Rotation(id); r != nil {
		return nameOr(r.Name, id)
	}
	if s := cfg.Schedule(id); s != nil {
		return nameOr(s.Name, id)
	}
	return id
}

func nameOr(name, id string) string {
	if name != "" {
		return name
	}
	return id
}
