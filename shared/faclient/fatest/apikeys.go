package fatest

import (
	"maps"
	"net/http"
	"slices"
	"strings"
)

// handleCreateAPIKey serves POST /api/api-key[/{keyId}], the API Keys API. As FusionAuth
// documents it, only a key manager may call it, a key can only create a key of equal or
// lesser authority (a restricted caller only keys whose permissions it holds itself), and
// a tenant-locked caller only keys locked to its own tenant; anything else is the 401
// every insufficient key gets.
func (s *Server) handleCreateAPIKey(w http.ResponseWriter, r *http.Request, rc *reqCtx, cr createRequest) {
	errs := cr.errs
	f := fields{m: cr.obj, prefix: "apiKey.", errs: errs}
	k := &apiKey{key: f.str("key"), keyManager: false}
	k.description = asString(fields{m: f.sub("metaData").object("attributes")}.m["description"])
	if v, ok := f.boolean("keyManager"); ok {
		k.keyManager = v
	}
	if k.key == "" {
		k.key = randomToken(48)
	}
	endpoints, perr := parseEndpoints(f.sub("permissions").object("endpoints"))
	if perr != "" {
		errs.field("apiKey.permissions.endpoints", "[invalid]apiKey.permissions.endpoints", perr)
	}
	k.endpoints = endpoints
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := f.str("tenantId"); t != "" {
		if c, ok := canonicalUUID(t); ok && s.state.tenants[c] != nil {
			k.tenantID = c
		} else {
			errs.field("apiKey.tenantId", "[invalid]apiKey.tenantId", "The [apiKey.tenantId] property does not reference an existing Tenant.")
		}
	}
	if !rc.key.keyManager || !rc.key.covers(k) {
		writeEmpty(w, http.StatusUnauthorized)
		return
	}
	k.id = newID(s.apiKeysByID(), cr.id, "keyId", "An API key", errs)
	if _, dup := s.state.apiKeys[k.key]; dup {
		errs.field("apiKey.key", "[duplicate]apiKey.key", "An API key with that value already exists.")
	}
	if errs.has() {
		writeErrors(w, http.StatusBadRequest, errs)
		return
	}
	s.state.apiKeys[k.key] = k
	writeJSON(w, http.StatusOK, map[string]any{"apiKey": k.toJSON()})
}

// handleDeleteAPIKey serves DELETE /api/api-key/{keyId}: a key manager of equal or greater
// authority removes the key.
func (s *Server) handleDeleteAPIKey(w http.ResponseWriter, r *http.Request, rc *reqCtx, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.apiKeysByID()[id]
	switch {
	case !rc.key.keyManager || (k != nil && !rc.key.covers(k)):
		writeEmpty(w, http.StatusUnauthorized)
	case k == nil:
		writeEmpty(w, http.StatusNotFound)
	default:
		delete(s.state.apiKeys, k.key)
		writeEmpty(w, http.StatusOK)
	}
}

// apiKeysByID indexes the keys by id. Callers hold s.mu.
func (s *Server) apiKeysByID() map[string]*apiKey {
	out := make(map[string]*apiKey, len(s.state.apiKeys))
	for _, k := range s.state.apiKeys {
		out[k.id] = k
	}
	return out
}

// covers reports whether key k has at least the authority of other: the same tenant or
// none, and every permission of other (a super key has them all).
func (k *apiKey) covers(other *apiKey) bool {
	if k.tenantID != "" && k.tenantID != other.tenantID {
		return false
	}
	if k.endpoints == nil {
		return true
	}
	if other.endpoints == nil {
		return false
	}
	for root, methods := range other.endpoints {
		for _, m := range methods {
			if !k.permits(root, m) {
				return false
			}
		}
	}
	return true
}

// toJSON is the APIKey object of the API Keys API.
func (k *apiKey) toJSON() map[string]any {
	m := map[string]any{"id": k.id, "key": k.key, "keyManager": k.keyManager}
	if k.description != "" {
		m["metaData"] = map[string]any{"attributes": map[string]any{"description": k.description}}
	}
	if k.tenantID != "" {
		m["tenantId"] = k.tenantID
	}
	if k.endpoints != nil {
		eps := map[string]any{}
		for root, methods := range k.endpoints {
			eps[root] = normalize(slices.Clone(methods))
		}
		m["permissions"] = map[string]any{"endpoints": eps}
	}
	return m
}

// parseEndpoints reads permissions.endpoints (root -> list of methods); nil means a key
// without restrictions. It returns a message naming the first bad entry.
func parseEndpoints(perms map[string]any) (map[string][]string, string) {
	if perms == nil {
		return nil, ""
	}
	out := map[string][]string{}
	for _, root := range slices.Sorted(maps.Keys(perms)) {
		list, ok := perms[root].([]any)
		if !ok {
			return nil, "permissions.endpoints[" + root + "] must be a list of methods"
		}
		for _, mth := range list {
			ms := strings.ToUpper(asString(mth))
			if !slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, ms) {
				return nil, "permissions.endpoints[" + root + "] holds something that is not an HTTP method"
			}
			out[root] = append(out[root], ms)
		}
	}
	return out, ""
}
