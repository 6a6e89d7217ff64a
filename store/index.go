package store

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"reflect"
	"time"
)

// MaxPage caps one Query page, so one request cannot read the whole store.
const MaxPage = 500

// scanBudget bounds the index entries one Query examines when filters the
// chosen index does not cover reject most of them. A page that runs out of
// budget comes back short, with a Next to continue from where it stopped.
const scanBudget = 10_000

// ErrBadCursor is a Query cursor that is not one of this store's, or that
// was made for other filters or another order.
var ErrBadCursor = errors.New("store: bad cursor")

// Page is one page of a Query.
type Page struct {
	Incidents []*Incident
	// Next is the cursor of the page after this one; "" when there is none.
	Next string
}

// facet is one index: incidents with one value of one field.
type facet struct{ name, value string }

var facetAll = facet{name: "all"}

// resolvedFacet indexes resolved incidents by when they were resolved: the
// resolved-time queries and retention walk it.
var resolvedFacet = facet{name: "resolved"}

// indexMeta is what the indexes know of an incident: enough to filter a page
// and to find its index entries again, without decoding the incident (whose
// Alertmanager message may be megabytes).
type indexMeta struct {
	Status     Status `json:"s"`
	Department string `json:"d,omitempty"`
	Severity   string `json:"v,omitempty"`
	Route      string `json:"r,omitempty"`
	Policy     string `json:"p,omitempty"`
	AckedBy    string `json:"a,omitempty"`
	Drill      bool   `json:"k,omitempty"` // a drill's own incident (Incident.Drill)
	Created    int64  `json:"c"`           // CreatedAt, unix nanos
	Resolved   int64  `json:"z,omitempty"` // resolvedTime, unix nanos; 0 unless resolved
	// Ix lists the Redis index keys and scores the incident sits in, so the
	// write script can move it without knowing the rules above.
	Ix [][2]string `json:"ix,omitempty"`
}

func metaOf(inc *Incident) indexMeta {
	m := indexMeta{Status: inc.Status, Department: inc.Department, Severity: inc.Severity,
		Route: inc.Route, Policy: inc.Policy, AckedBy: inc.AckedBy, Drill: inc.Drill != nil, Created: nanos(inc.CreatedAt)}
	if inc.Status == StatusResolved {
		m.Resolved = nanos(resolvedTime(inc))
	}
	return m
}

// sameEntries says whether m and o put an incident in the same index entries.
func (m indexMeta) sameEntries(o indexMeta) bool {
	m.Ix, o.Ix = nil, nil
	return reflect.DeepEqual(m, o)
}

// resolvedTime is when a resolved incident counts as resolved for queries and
// retention: ResolvedAt, or for one written without it, its last update.
func resolvedTime(inc *Incident) time.Time {
	switch {
	case !inc.ResolvedAt.IsZero():
		return inc.ResolvedAt
	case !inc.UpdatedAt.IsZero():
		return inc.UpdatedAt
	}
	return inc.CreatedAt
}

// nanos maps t onto the indexes' order; times before 1970 count as 1970.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return max(t.UnixNano(), 0)
}

// drillFacet indexes drills' own incidents: a few among the test pages,
// which a listing of drills would otherwise page through.
var drillFacet = facet{"kind", "drill"}

// facets are the created-time indexes m sits in.
func (m indexMeta) facets() []facet {
	out := []facet{facetAll, {"status", string(m.Status)}}
	if m.Drill {
		out = append(out, drillFacet)
	}
	for _, f := range []facet{{"acked_by", m.AckedBy}, {"route", m.Route}, {"policy", m.Policy},
		{"department", m.Department}, {"severity", m.Severity}} {
		if f.value != "" {
			out = append(out, f)
		}
	}
	return out
}

// candidates are the indexes covering opt's filters, most selective first
// as a rule of thumb (bbolt walks the first; Redis counts them all): the
// open or acked incidents are few in a store that keeps a year; drills are
// few among the test pages; a person's acks are fewer than a route's
// incidents, which are fewer than a severity's; the resolved are nearly
// all, so that status comes last.
func candidates(opt ListOptions) []facet {
	var out []facet
	status := facet{"status", string(opt.Status)}
	if opt.Status == StatusOpen || opt.Status == StatusAcked {
		out = append(out, status)
	}
	if opt.Drills {
		out = append(out, drillFacet)
	}
	for _, f := range []facet{{"acked_by", opt.AckedBy}, {"route", opt.Route}, {"policy", opt.Policy},
		{"department", opt.Department}, {"severity", opt.Severity}} {
		if f.value != "" {
			out = append(out, f)
		}
	}
	if opt.Status == StatusResolved {
		out = append(out, status)
	}
	return append(out, facetAll)
}

// position is a place in an index: its time, then the id breaking ties.
type position struct{ at, id int64 }

// before says whether p sorts before q in ascending order.
func (p position) before(q position) bool { return p.at < q.at || (p.at == q.at && p.id < q.id) }

// plan is how a Query walks the indexes.
type plan struct {
	// candidates are indexes that cover a filter, best first; the store
	// walks one and checks every filter on each entry.
	candidates []facet
	lo, hi     int64 // the walked axis's range, [lo, hi) in unix nanos
	desc       bool
	resolved   bool      // the axis is resolved time (the resolved index)
	after      *position // the cursor: start strictly past it
	limit      int
	opt        ListOptions
	lastPos    position // the last entry the walk examined
}

func planQuery(opt ListOptions) (plan, error) {
	switch opt.Status {
	case "", StatusOpen, StatusAcked, StatusResolved:
	default:
		return plan{}, fmt.Errorf("store: query: status %q is not open, acked or resolved", opt.Status)
	}
	if opt.Limit < 0 {
		return plan{}, fmt.Errorf("store: query: negative limit %d", opt.Limit)
	}
	p := plan{desc: !opt.Oldest, limit: opt.Limit, opt: opt, lo: 0, hi: math.MaxInt64}
	if p.limit == 0 || p.limit > MaxPage {
		p.limit = MaxPage
	}
	p.resolved = !opt.ResolvedAfter.IsZero() || !opt.ResolvedBefore.IsZero()
	lo, hi := opt.OpenedAfter, opt.OpenedBefore
	if p.resolved {
		lo, hi = opt.ResolvedAfter, opt.ResolvedBefore
		p.candidates = []facet{resolvedFacet}
	} else {
		p.candidates = candidates(opt)
	}
	if !lo.IsZero() {
		p.lo = nanos(lo)
	}
	if !hi.IsZero() {
		p.hi = nanos(hi)
	}
	if opt.Cursor != "" {
		pos, err := decodeCursor(opt.Cursor, opt)
		if err != nil {
			return plan{}, err
		}
		p.after = &pos
	}
	return p, nil
}

// match checks every filter of the query against m.
func (p *plan) match(m indexMeta) bool {
	o := p.opt
	switch {
	case o.Status != "" && m.Status != o.Status,
		o.Department != "" && m.Department != o.Department,
		o.Severity != "" && m.Severity != o.Severity,
		o.Route != "" && m.Route != o.Route,
		o.Policy != "" && m.Policy != o.Policy,
		o.AckedBy != "" && m.AckedBy != o.AckedBy,
		o.Drills && !m.Drill,
		!o.OpenedAfter.IsZero() && m.Created < nanos(o.OpenedAfter),
		!o.OpenedBefore.IsZero() && m.Created >= nanos(o.OpenedBefore):
		return false
	}
	if p.resolved {
		if m.Status != StatusResolved {
			return false
		}
		if (!o.ResolvedAfter.IsZero() && m.Resolved < nanos(o.ResolvedAfter)) ||
			(!o.ResolvedBefore.IsZero() && m.Resolved >= nanos(o.ResolvedBefore)) {
			return false
		}
	}
	return true
}

// axis is m's place on the walked axis.
func (p *plan) axis(m indexMeta, id int64) position {
	if p.resolved {
		return position{m.Resolved, id}
	}
	return position{m.Created, id}
}

// past says whether pos comes after the cursor in the walk's order.
func (p *plan) past(pos position) bool {
	if p.after == nil {
		return true
	}
	if p.desc {
		return pos.before(*p.after)
	}
	return p.after.before(pos)
}

// cursorVersion changes when the cursor's layout does.
const cursorVersion = 1

// encodeCursor makes the opaque cursor of pos: its layout version, a digest
// of the filters and order it belongs to, and the position.
func encodeCursor(pos position, opt ListOptions) string {
	b := make([]byte, 0, 1+8+16)
	b = append(b, cursorVersion)
	b = binary.BigEndian.AppendUint64(b, filterDigest(opt))
	b = binary.BigEndian.AppendUint64(b, uint64(pos.at))
	b = binary.BigEndian.AppendUint64(b, uint64(pos.id))
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, opt ListOptions) (position, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 25 || b[0] != cursorVersion {
		return position{}, fmt.Errorf("%w: not a cursor this version made", ErrBadCursor)
	}
	if binary.BigEndian.Uint64(b[1:9]) != filterDigest(opt) {
		return position{}, fmt.Errorf("%w: it was made for other filters or another order", ErrBadCursor)
	}
	return position{int64(binary.BigEndian.Uint64(b[9:17])), int64(binary.BigEndian.Uint64(b[17:25]))}, nil
}

// filterDigest identifies a query's filters and order, not its page.
func filterDigest(opt ListOptions) uint64 {
	opt.Cursor, opt.Limit = "", 0
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%d\x00%d\x00%d\x00%d\x00%t\x00%t",
		opt.Status, opt.Department, opt.Severity, opt.Route, opt.Policy, opt.AckedBy,
		nanos(opt.OpenedAfter), nanos(opt.OpenedBefore), nanos(opt.ResolvedAfter), nanos(opt.ResolvedBefore), opt.Oldest, opt.Drills)
	return h.Sum64()
}

// listPages is List on top of Query: every page up to opt.Limit (0: all).
func listPages(ctx context.Context, q func(context.Context, ListOptions) (Page, error), opt ListOptions) ([]*Incident, error) {
	want := opt.Limit
	var out []*Incident
	for {
		opt.Limit = MaxPage
		if want > 0 {
			opt.Limit = min(MaxPage, want-len(out))
		}
		page, err := q(ctx, opt)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Incidents...)
		if page.Next == "" || (want > 0 && len(out) >= want) {
			return out, nil
		}
		opt.Cursor = page.Next
	}
}
