package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/store"
)

// DrillView is a drill as the API shows it. Before its report, Targets
// carry the results so far (waiting for a page still out).
type DrillView struct {
	ID               int64               `json:"id"`
	Department       string              `json:"department"`
	Status           string              `json:"status"` // running, reported
	StartedAt        time.Time           `json:"started_at"`
	Until            time.Time           `json:"until"`
	Scheduled        time.Time           `json:"scheduled,omitzero"`
	RequestedBy      string              `json:"requested_by,omitempty"`
	ReportedAt       time.Time           `json:"reported_at,omitzero"`
	Targets          []store.DrillTarget `json:"targets"`
	NoContact        []string            `json:"no_contact"`
	NoWorkingContact []string            `json:"no_working_contact"`
}

// DrillList is GET /api/v1/drills's answer, newest first.
type DrillList struct {
	Items []DrillView `json:"items"`
}

// ViewDrill is the drill inc as it stands.
func (e *Engine) ViewDrill(ctx context.Context, inc *store.Incident) (DrillView, error) {
	dr := *inc.Drill
	v := DrillView{ID: inc.ID, Department: inc.Department, Status: "reported", StartedAt: inc.CreatedAt, Until: dr.Until,
		Scheduled: dr.Scheduled, RequestedBy: dr.RequestedBy, ReportedAt: dr.ReportedAt, NoContact: dr.NoContact}
	if inc.Status != store.StatusResolved {
		v.Status = "running"
		results, err := e.drillResults(ctx, inc, false)
		if err != nil {
			return DrillView{}, err
		}
		dr.Targets = results
	}
	v.Targets, v.NoWorkingContact = dr.Targets, noWorkingContact(&dr)
	if v.Targets == nil {
		v.Targets = []store.DrillTarget{}
	}
	if v.NoContact == nil {
		v.NoContact = []string{}
	}
	return v, nil
}

func (s *Server) drillRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/drills", s.api(s.listDrills))
	mux.Handle("GET /api/v1/drills/{id}", s.api(s.getDrill))
	mux.Handle("POST /api/v1/drills", s.api(s.runDrill))
}

// mayReadDrills: a department's drills are read as its health report is.
func (s *Server) mayReadDrills(r *http.Request, dept string) error {
	d := access.Decide(s.Engine.Policies().Config(), access.Request{User: requestActor(r), Action: access.Report, Department: dept})
	if !d.Allowed {
		return &ForbiddenError{Reason: d.Reason}
	}
	return nil
}

// listDrills is GET /api/v1/drills[?department=D][&limit=N]: the latest
// drills (20 by default, at most 100) of the departments the caller may read.
func (s *Server) listDrills(_ http.ResponseWriter, r *http.Request) (any, error) {
	q := r.URL.Query()
	dept := q.Get("department")
	limit := 20
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 100 {
			return nil, &httpError{http.StatusBadRequest, "limit: want 1 to 100"}
		}
		limit = n
	}
	if dept != "" {
		if s.Engine.Policies().Config().Department(dept) == nil {
			return nil, &httpError{http.StatusNotFound, fmt.Sprintf("department %q: no such department", dept)}
		}
		if err := s.mayReadDrills(r, dept); err != nil {
			return nil, err
		}
	}
	out := DrillList{Items: []DrillView{}}
	// The drills' own index: test pages are not read. A page may still hold
	// drills of departments the caller may not read: read on until enough.
	opt := store.ListOptions{Drills: true, Department: dept, Limit: limit}
	for len(out.Items) < limit {
		page, err := s.Engine.Store().Query(r.Context(), opt)
		if err != nil {
			return nil, err
		}
		for _, inc := range page.Incidents {
			if inc.Drill == nil || len(out.Items) == limit || (dept == "" && s.mayReadDrills(r, inc.Department) != nil) {
				continue
			}
			v, err := s.Engine.ViewDrill(r.Context(), inc)
			if err != nil {
				return nil, err
			}
			out.Items = append(out.Items, v)
		}
		if page.Next == "" {
			break
		}
		opt.Cursor = page.Next
	}
	return out, nil
}

// getDrill is GET /api/v1/drills/ID.
func (s *Server) getDrill(_ http.ResponseWriter, r *http.Request) (any, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return nil, &httpError{http.StatusBadRequest, "drill id must be a number"}
	}
	inc, err := s.Engine.Store().Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && inc.Drill == nil) {
		return nil, &httpError{http.StatusNotFound, fmt.Sprintf("there is no drill %d", id)}
	}
	if err != nil {
		return nil, err
	}
	if err := s.mayReadDrills(r, inc.Department); err != nil {
		return nil, err
	}
	return s.Engine.ViewDrill(r.Context(), inc)
}

// DrillBody is POST /api/v1/drills's body.
type DrillBody struct {
	Department string `json:"department"`
}

// runDrill is POST /api/v1/drills: a drill of the department now, for its admins.
func (s *Server) runDrill(w http.ResponseWriter, r *http.Request) (any, error) {
	var b DrillBody
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, &httpError{http.StatusBadRequest, fmt.Sprintf("drill body: %v (want {\"department\": ...})", err)}
	}
	inc, err := s.Engine.RunDrill(r.Context(), DrillRequest{Actor: requestActor(r), Department: b.Department, Via: "api"})
	if err != nil {
		return nil, err
	}
	return s.Engine.ViewDrill(r.Context(), inc)
}
