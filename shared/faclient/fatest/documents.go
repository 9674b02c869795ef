package fatest

import "net/http"

// A document is a kind of configuration object the server keeps as the JSON FusionAuth
// answers with: applications, tenants, themes and webhooks. Each is created by
// POST /api/<key>[/{<param>}] (createDocument), answered as {"<key>": {…}} and stamped
// with its id and instants; tenants and themes are also patched (patchDocument).
type document struct {
	key   string // "tenant": the object's name in requests, answers and error paths
	param string // "tenantId": the id's path parameter
	noun  string // "A Tenant": FusionAuth's name for it in a duplicate-id error
	// stored returns the documents of this kind by id.
	stored func(st *state) map[string]map[string]any
	// build makes a new document from a create request, adding what it refuses to
	// cr.errs; createDocument stamps it. Callers hold s.mu.
	build func(s *Server, rc *reqCtx, cr createRequest, id string) map[string]any
	// check validates a document about to be stored, created or patched, and fills
	// FusionAuth's defaults. Callers hold s.mu.
	check func(s *Server, doc map[string]any, errs *apiErrors)
	// tenantScoped: a tenant-locked key may not create one (inferred: the key's authority
	// is its own tenant; the 401 every insufficient key gets) and reaches only its own.
	tenantScoped bool
	// created, when set, runs once a new document is stored. Callers hold s.mu.
	created func(st *state, id string)
}

// createDocument serves POST /api/<key>[/{<param>}] for documents of kind d: the
// requested id or a fresh one; a 400 lists every refusal of newID, build and check.
func (s *Server) createDocument(d document) handler {
	return creates(d.param, d.key, func(w http.ResponseWriter, r *http.Request, rc *reqCtx, cr createRequest) {
		if d.tenantScoped && rc.key.tenantID != "" {
			writeEmpty(w, http.StatusUnauthorized)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		docs := d.stored(s.state)
		id := newID(docs, cr.id, d.param, d.noun, cr.errs)
		doc := d.build(s, rc, cr, id)
		now := s.now().UnixMilli()
		doc["id"], doc["insertInstant"], doc["lastUpdateInstant"] = id, now, now
		d.check(s, doc, cr.errs)
		if cr.errs.has() {
			writeErrors(w, http.StatusBadRequest, cr.errs)
			return
		}
		docs[id] = doc
		if d.created != nil {
			d.created(s.state, id)
		}
		writeJSON(w, http.StatusOK, map[string]any{d.key: cloneMap(doc)})
	})
}

// patchDocument serves PATCH /api/<key>/{<param>} for documents of kind d, in
// FusionAuth's application/json flavour or as a JSON Patch (RFC 6902): the patched
// document is checked as a new one is and keeps its id and insert instant.
func (s *Server) patchDocument(d document) handler {
	return func(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
		id, kind, raw, ok := s.readPatch(w, r, d.param)
		if !ok {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		docs := d.stored(s.state)
		cur := docs[id]
		if cur == nil || (d.tenantScoped && !rc.inTenant(id)) {
			writeEmpty(w, http.StatusNotFound)
			return
		}
		doc, errs, ok := patchObject(w, kind, d.key, cur, raw)
		if !ok {
			return
		}
		d.check(s, doc, errs)
		if errs.has() {
			writeErrors(w, http.StatusBadRequest, errs)
			return
		}
		doc["id"], doc["insertInstant"], doc["lastUpdateInstant"] = id, cur["insertInstant"], s.now().UnixMilli()
		docs[id] = doc
		writeJSON(w, http.StatusOK, map[string]any{d.key: cloneMap(doc)})
	}
}
