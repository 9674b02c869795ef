package fatest

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/changebank/anonuser/shared/faclient/fatest/esquery"
)

// maxResultWindow is Elasticsearch's index.max_result_window, which FusionAuth keeps:
// startRow + numberOfResults may not exceed it, and total is capped at it unless
// accurateTotal is set.
const maxResultWindow = 10000

// searchCriteria is a user search (§8).
type searchCriteria struct {
	ids             []string
	query           string
	queryString     string
	numberOfResults int64
	startRow        int64
	sortFields      []esquery.SortField
	accurateTotal   bool
	nextResults     string
	expand          []string        // the top-level expand parameter, when set
	set             map[string]bool // which criteria the request named (and "expand")
}

// handleSearch serves POST and GET /api/user/search: ids, else query (Elasticsearch JSON),
// else queryString (Lucene syntax), paged by startRow/numberOfResults or nextResults, sorted
// by sortFields, trimmed by expand.
func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	errs := &apiErrors{}
	var c searchCriteria
	if r.Method == http.MethodPost {
		body, ok := readRequest(w, r)
		if !ok {
			return
		}
		c = parseSearchBody(body, errs)
	} else {
		c = parseSearchQuery(r.URL.Query(), errs)
	}
	if errs.has() {
		writeErrors(w, http.StatusBadRequest, errs)
		return
	}
	if e := s.checkExpand(c.expand); e != nil {
		writeErrors(w, http.StatusBadRequest, e)
		return
	}
	status, resp := s.search(rc, c)
	s.answerSearch(w, c, status, resp)
}

// handleFlushSearch serves PUT /api/user/search, which flushes FusionAuth's search index.
// The in-memory index is always current, so there is nothing to do.
func (s *Server) handleFlushSearch(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	writeEmpty(w, http.StatusOK)
}

// search runs a search and returns the status and response body (a map or *apiErrors).
func (s *Server) search(rc *reqCtx, c searchCriteria) (int, any) {
	if !c.set["numberOfResults"] {
		c.numberOfResults = 25
	}
	if c.numberOfResults < 0 {
		return http.StatusBadRequest, fieldError("search.numberOfResults", "[invalid]search.numberOfResults", "The [search.numberOfResults] property must be zero or greater.")
	}
	if c.startRow < 0 {
		return http.StatusBadRequest, fieldError("search.startRow", "[invalid]search.startRow", "The [search.startRow] property must be zero or greater.")
	}
	var cur *cursor
	if c.set["nextResults"] {
		// The docs: nextResults "cannot be used with the ids, query, queryString, or
		// sortFields parameters. The startRow parameter must be 0 or omitted." Whether
		// accurateTotal may come with it is not said; it is refused.
		for _, k := range []string{"ids", "query", "queryString", "startRow", "sortFields", "accurateTotal"} {
			if c.set[k] && (k != "startRow" || c.startRow != 0) {
				return http.StatusBadRequest, fieldError("search.nextResults", "[invalid]search.nextResults",
					"The [search.nextResults] property may only be combined with [search.numberOfResults]; [search."+k+"] is not allowed with it.")
			}
		}
		var err error
		if cur, err = decodeCursor(c.nextResults); err != nil {
			return http.StatusBadRequest, fieldError("search.nextResults", "[invalid]search.nextResults", "The [search.nextResults] token is invalid.")
		}
		c.query, c.queryString, c.sortFields, c.accurateTotal = cur.Query, cur.QueryString, cur.SortFields, cur.AccurateTotal
	} else if c.startRow+c.numberOfResults > maxResultWindow && len(c.ids) == 0 {
		return http.StatusBadRequest, fieldError("search.numberOfResults", "[tooLarge]search.numberOfResults",
			fmt.Sprintf("The sum of [search.startRow] and [search.numberOfResults] may not exceed %d. Use [search.nextResults] to page beyond it.", maxResultWindow))
	}
	if len(c.ids) > 0 {
		return s.searchIDs(rc, c.ids)
	}
	q, status, errBody := s.compileQuery(c.query, c.queryString, "search.")
	if q == nil {
		return status, errBody
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	matched := s.matchUsersLocked(rc, q)
	total := len(matched)
	n := int(c.numberOfResults)
	var page []map[string]any
	next := cursor{Query: c.query, QueryString: c.queryString, SortFields: c.sortFields, AccurateTotal: c.accurateTotal}
	if len(c.sortFields) == 0 {
		// Without sortFields results come in insertion order: no sort needed, and the
		// cursor is the last hit's position in that order.
		start := int(c.startRow)
		switch {
		case cur != nil && cur.End:
			start = len(matched)
		case cur != nil:
			start = sort.Search(len(matched), func(i int) bool { return matched[i].seq > cur.LastSeq })
		}
		end := min(start+n, len(matched))
		start = min(start, end)
		for _, u := range matched[start:end] {
			page = append(page, u.doc)
		}
		if end > start {
			next.LastSeq = matched[end-1].seq
		}
	} else {
		rows := make([]map[string]any, len(matched), len(matched)+1)
		for i, u := range matched {
			rows[i] = u.doc
		}
		if cur != nil && !cur.End {
			synthetic := map[string]any{cursorMarker: true, "id": cur.LastID}
			for k, v := range cur.LastValues {
				synthetic[k] = v
			}
			rows = append(rows, synthetic)
		}
		if err := esquery.Sort(rows, c.sortFields); err != nil {
			status, body := s.queryError(err, "search.sortFields")
			return status, body
		}
		start := int(c.startRow)
		if cur != nil {
			start = len(rows)
			for i, d := range rows {
				if d[cursorMarker] == true {
					start = i + 1
					break
				}
			}
		}
		end := min(start+n, len(rows))
		start = min(start, end)
		page = rows[start:end]
		if end > start {
			next.LastValues = sortValues(rows[end-1], c.sortFields)
		}
	}
	users := make([]any, 0, len(page))
	for _, d := range page {
		users = append(users, cloneMap(d))
	}
	if !c.accurateTotal && total > maxResultWindow {
		total = maxResultWindow
	}
	resp := map[string]any{"total": total, "users": users}
	// Elasticsearch answers every search with a nextResults token, an empty page too
	// (§8); after an empty page the token leads to another empty page.
	if len(page) > 0 {
		next.LastID = asString(page[len(page)-1]["id"])
	} else {
		next.End = true
	}
	if token, err := encodeCursor(next); err == nil {
		resp["nextResults"] = token
	}
	return http.StatusOK, resp
}

// searchIDs answers an ids search: those users, in the order asked, unknown ids ignored.
func (s *Server) searchIDs(rc *reqCtx, ids []string) (int, any) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	users := []any{}
	seen := map[string]bool{}
	for _, raw := range ids {
		id, ok := canonicalUUID(raw)
		if !ok || seen[id] {
			continue
		}
		seen[id] = true
		if u := s.visibleUser(rc, id); u != nil {
			users = append(users, cloneMap(u.doc))
		}
	}
	return http.StatusOK, map[string]any{"total": len(users), "users": users}
}

// compileQuery compiles the query of a search or bulk delete (prefix is "search." or ""):
// query (Elasticsearch JSON) wins over queryString (Lucene syntax, after FusionAuth's
// pre-processing), as in FusionAuth. On failure it returns a nil query with the status and
// Errors body to answer; constructs outside package esquery are refused and counted as
// unsupported.
func (s *Server) compileQuery(query, queryString, prefix string) (*esquery.Query, int, *apiErrors) {
	var q *esquery.Query
	var err error
	field := prefix + "query"
	switch {
	case query != "":
		q, err = esquery.ParseAt([]byte(query), s.now())
	case queryString != "":
		field = prefix + "queryString"
		q, err = esquery.ParseQueryStringAt(esquery.PrepareQueryString(queryString), s.now())
	default:
		const msg = "You must specify either the [%[1]sids], [%[1]squery] or [%[1]squeryString] property."
		return nil, http.StatusBadRequest, fieldError(prefix+"queryString", "[blank]"+prefix+"queryString", fmt.Sprintf(msg, prefix))
	}
	if err != nil {
		status, body := s.queryError(err, field)
		return nil, status, body
	}
	return q, 0, nil
}

// queryError turns an esquery error into a 400: unsupported constructs are general errors
// naming what is unsupported (and counted), malformed queries field errors.
func (s *Server) queryError(err error, field string) (int, *apiErrors) {
	var unsupported *esquery.UnsupportedError
	if errors.As(err, &unsupported) {
		s.countUnsupported()
		s.log.Warn("fatest: unsupported search query", "err", err)
		return http.StatusBadRequest, generalError("[UnsupportedRequest]",
			"This FusionAuth-compatible test server cannot evaluate the request: "+err.Error()+". Rewrite the query with the supported subset (see package esquery) rather than relying on a wider match.")
	}
	if strings.HasSuffix(field, "query") {
		// FusionAuth validates a query with Elasticsearch before running it and answers a
		// query Elasticsearch refuses with the field error [invalid]query.
		field = "query"
	}
	return http.StatusBadRequest, fieldError(field, "[invalid]"+field, "The ["+field+"] property is invalid: "+err.Error())
}

// matchUsersLocked returns the users in the request's tenant matching q, in insertion
// order. Callers hold s.mu and must not modify the returned users' documents.
func (s *Server) matchUsersLocked(rc *reqCtx, q *esquery.Query) []*userRecord {
	var out []*userRecord
	for _, u := range s.state.order {
		if u.removed || (rc.tenantID != "" && u.tenantID() != rc.tenantID) {
			continue
		}
		if q.Match(u.doc) {
			out = append(out, u)
		}
	}
	return out
}
