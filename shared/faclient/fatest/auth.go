package fatest

import (
	"net/http"
	"slices"
	"strings"
)

// authMode says how a route authenticates its caller.
type authMode int

const (
	// authKey requires an API key whose permissions cover the route's root and method.
	authKey authMode = iota
	// authOptional lets the handler serve callers without a key differently (forgot and
	// change password, login); a key that is present must still be valid and permitted.
	authOptional
	// authNone needs no key (JWKS, public keys, status).
	authNone
	// authPage is a hosted HTML page: no key, not counted in TotalCalls.
	authPage
)

// apiKey is a FusionAuth API key.
type apiKey struct {
	id          string
	key         string
	description string
	tenantID    string              // "" = not tenant-locked
	endpoints   map[string][]string // permission root -> methods; nil = super key
	keyManager  bool                // may create and delete other keys (API Keys API)
}

// permits reports whether the key may call method on the permission root.
func (k *apiKey) permits(root, method string) bool {
	if k.endpoints == nil {
		return true
	}
	return slices.Contains(k.endpoints[root], method)
}

// route is one endpoint: a ServeMux pattern, its permission root and its handler.
type route struct {
	pattern string
	root    string // permission key, e.g. "/api/user" for "GET /api/user/{userId}"
	auth    authMode
	global  bool // a "global API key" API: tenant-locked keys and the tenant header are refused
	form    bool // takes a form body (the OAuth token endpoint), not JSON
	handle  handler
}

// handler serves a request once it is authenticated.
type handler func(w http.ResponseWriter, r *http.Request, rc *reqCtx)

// reqCtx is what authentication learned about a request.
type reqCtx struct {
	key      *apiKey // nil when no key was sent (authOptional/authNone routes)
	tenantID string  // from X-FusionAuth-TenantId or a tenant-locked key; "" = unscoped
}

// authenticate checks the API key and the tenant header. It writes the refusal itself and
// returns false when the request must not proceed: 401 with an empty body for a missing,
// unknown or insufficient key, and on a global API for a tenant-locked key or any key sent
// with X-FusionAuth-TenantId (fusionauth-issues #3452, 2026-04: "endpoints that operate
// outside of a tenant scope will reject any tenant scoped request", answered 401 with an
// empty body; FusionAuth never answers 403 here); 400 for a bad tenant.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, rt route) (*reqCtx, bool) {
	rc := &reqCtx{}
	if rt.auth == authNone || rt.auth == authPage {
		return rc, true
	}
	header := r.Header.Get("Authorization")
	if header != "" || rt.auth == authKey {
		s.mu.RLock()
		k := s.state.apiKeys[header]
		s.mu.RUnlock()
		// A tenant-locked key cannot call a global API (Key Master, webhooks, email
		// templates, system configuration): FusionAuth documents these as needing a
		// global key and answers 401 like any other insufficient key.
		if k == nil || !k.permits(rt.root, r.Method) || (rt.global && (k.tenantID != "" || r.Header.Get("X-FusionAuth-TenantId") != "")) {
			w.WriteHeader(http.StatusUnauthorized)
			return nil, false
		}
		rc.key = k
		rc.tenantID = k.tenantID
	}
	if t := r.Header.Get("X-FusionAuth-TenantId"); t != "" {
		id, ok := canonicalUUID(t)
		if !ok {
			writeErrors(w, http.StatusBadRequest, fieldError("X-FusionAuth-TenantId", "[couldNotConvert]tenantId",
				"Invalid tenantId ["+t+"]. This must be a valid UUID String (e.g. 25a872da-bb44-4af8-a43d-e7bcb5351ebc)."))
			return nil, false
		}
		s.mu.RLock()
		_, exists := s.state.tenants[id]
		s.mu.RUnlock()
		if !exists {
			writeErrors(w, http.StatusBadRequest, generalError("[InvalidTenantId]",
				"The provided tenant Id ["+id+"] is not valid. A valid tenant Id is required to complete this request."))
			return nil, false
		}
		if rc.tenantID != "" && rc.tenantID != id {
			// A tenant-locked key cannot reach into another tenant.
			w.WriteHeader(http.StatusUnauthorized)
			return nil, false
		}
		rc.tenantID = id
	}
	return rc, true
}

// requireTenant resolves the tenant of an operation that needs one (creating a user,
// looking one up by email): the request's tenant, else the only tenant. With several
// tenants and none given it is FusionAuth's [TenantIdRequired]. Callers hold s.mu.
func (s *Server) requireTenant(rc *reqCtx) (string, *apiErrors) {
	if rc.tenantID != "" {
		return rc.tenantID, nil
	}
	if len(s.state.tenants) == 1 {
		return s.state.defaultTenantID, nil
	}
	return "", generalError("[TenantIdRequired]", "A Tenant Id is required to complete this request. To complete this request, you may assign a Tenant to your API key, or add the X-FusionAuth-TenantId HTTP request header with the Tenant Id.")
}

// answerTenant is requireTenant for a handler: a missing tenant is answered here.
// Callers hold s.mu.
func (s *Server) answerTenant(w http.ResponseWriter, rc *reqCtx) (string, bool) {
	tenantID, terr := s.requireTenant(rc)
	if terr != nil {
		writeErrors(w, http.StatusBadRequest, terr)
	}
	return tenantID, terr == nil
}

// inTenant reports whether an object of tenant id is visible to the request.
func (rc *reqCtx) inTenant(id string) bool {
	return rc.tenantID == "" || strings.EqualFold(rc.tenantID, id)
}
