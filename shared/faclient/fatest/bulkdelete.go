package fatest

import (
	"net/http"
	"strconv"

	"github.com/changebank/anonuser/shared/faclient/fatest/esquery"
)

// bulkDeleteRequest is DELETE /api/user/bulk in either form.
type bulkDeleteRequest struct {
	userIDs     []string
	query       string
	queryString string
	dryRun      bool
	hardDelete  bool
	limit       int64
}

// handleBulkDelete serves DELETE /api/user/bulk (§7): ids, else query, else queryString;
// at most limit (default 10,000) users per call.
func (s *Server) handleBulkDelete(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	q := r.URL.Query()
	req := bulkDeleteRequest{
		userIDs:     q["userId"],
		query:       q.Get("query"),
		queryString: q.Get("queryString"),
		dryRun:      q.Get("dryRun") == "true",
		hardDelete:  q.Get("hardDelete") == "true",
		limit:       maxResultWindow,
	}
	if q.Has("limit") {
		v, err := strconv.ParseInt(q.Get("limit"), 10, 64)
		if err != nil {
			writeErrors(w, http.StatusBadRequest, fieldError("limit", "[couldNotConvert]limit", "Invalid limit ["+q.Get("limit")+"]. This must be an integer."))
			return
		}
		req.limit = v
	}
	// The body's properties override the query's; an empty body is an empty object.
	body, ok := readRequest(w, r)
	if !ok {
		return
	}
	errs := &apiErrors{}
	f := fields{m: body, errs: errs}
	if f.present("userIds") {
		req.userIDs = f.strings("userIds")
	}
	if f.present("query") {
		req.query = f.str("query")
	}
	if f.present("queryString") {
		req.queryString = f.str("queryString")
	}
	if v, ok := f.boolean("dryRun"); ok {
		req.dryRun = v
	}
	if v, ok := f.boolean("hardDelete"); ok {
		req.hardDelete = v
	}
	if v, ok := f.integer("limit"); ok {
		req.limit = v
	}
	if errs.has() {
		writeErrors(w, http.StatusBadRequest, errs)
		return
	}
	if req.limit <= 0 {
		writeErrors(w, http.StatusBadRequest, fieldError("limit", "[invalid]limit", "The [limit] property must be greater than 0."))
		return
	}
	if len(req.userIDs) == 0 && req.query == "" && req.queryString == "" {
		writeErrors(w, http.StatusBadRequest, fieldError("userIds", "[blank]userIds", "You must specify either the [userIds], [query] or [queryString] property."))
		return
	}
	var query *esquery.Query
	if len(req.userIDs) == 0 {
		var status int
		var body *apiErrors
		if query, status, body = s.compileQuery(req.query, req.queryString, ""); query == nil {
			writeErrors(w, status, body)
			return
		}
	}
	s.mu.Lock()
	var targets []*userRecord
	if query == nil {
		seen := map[string]bool{}
		for _, raw := range req.userIDs {
			id, ok := canonicalUUID(raw)
			if !ok || seen[id] {
				continue
			}
			seen[id] = true
			if u := s.visibleUser(rc, id); u != nil {
				targets = append(targets, u)
			}
		}
	} else {
		targets = s.matchUsersLocked(rc, query)
	}
	if int64(len(targets)) > req.limit {
		targets = targets[:req.limit]
	}
	ids := make([]any, 0, len(targets))
	for _, u := range targets {
		ids = append(ids, u.id())
		if !req.dryRun {
			s.deleteUserLocked(u, req.hardDelete)
		}
	}
	s.mu.Unlock()
	resp := map[string]any{"dryRun": req.dryRun, "hardDelete": req.hardDelete, "total": len(ids)}
	if len(ids) > 0 {
		resp["userIds"] = ids
	}
	writeJSON(w, http.StatusOK, resp)
}
