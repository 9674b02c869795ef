package fatest

import (
	"net/http"
	"strings"
)

// handleCreateApplication serves POST /api/application[/{applicationId}].
func (s *Server) handleCreateApplication(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	req, ok := readCreate(w, r, "applicationId", "application")
	if !ok {
		return
	}
	app, errs := req.obj, req.errs
	s.mu.Lock()
	defer s.mu.Unlock()
	id := newID(s.state.applications, req.id, "applicationId", "An Application", errs)
	tenantID := rc.tenantID
	if t := asString(app["tenantId"]); t != "" {
		if c, ok := canonicalUUID(t); ok && s.state.tenants[c] != nil {
			tenantID = c
		} else {
			errs.field("application.tenantId", "[invalid]application.tenantId", "The [application.tenantId] property does not reference an existing Tenant.")
		}
	}
	if tenantID == "" {
		tenantID = s.state.defaultTenantID
	}
	now := s.now().UnixMilli()
	app["id"] = id
	app["tenantId"] = tenantID
	app["active"] = true
	app["state"] = "Active"
	app["insertInstant"] = now
	app["lastUpdateInstant"] = now
	s.normalizeApplication(app, errs)
	if errs.has() {
		writeErrors(w, http.StatusBadRequest, errs)
		return
	}
	s.state.applications[id] = app
	writeJSON(w, http.StatusOK, map[string]any{"application": cloneMap(app)})
}

// normalizeApplication fills FusionAuth's defaults and validates the referenced keys.
// Callers hold s.mu.
func (s *Server) normalizeApplication(app map[string]any, errs *apiErrors) {
	af := fields{m: app, prefix: "application.", errs: errs}
	if strings.TrimSpace(af.str("name")) == "" {
		errs.field("application.name", "[blank]application.name", "You must specify the [application.name] property.")
	}
	oc := af.sub("oauthConfiguration")
	oc.m["clientId"] = app["id"]
	if asString(oc.m["clientSecret"]) == "" {
		oc.m["clientSecret"] = randomToken(32)
	}
	for _, list := range []string{"authorizedRedirectURLs", "authorizedOriginURLs"} {
		if v := oc.strings(list); v != nil {
			oc.m[list] = normalize(v)
		} else {
			oc.m[list] = []any{}
		}
	}
	if oc.m["enabledGrants"] == nil {
		oc.m["enabledGrants"] = []any{"authorization_code", "refresh_token"}
	}
	if b, ok := oc.boolean("requireRegistration"); ok {
		oc.m["requireRegistration"] = b
	} else {
		oc.m["requireRegistration"] = false
	}
	app["oauthConfiguration"] = oc.m
	lc := af.sub("loginConfiguration")
	for name, def := range map[string]bool{"requireAuthentication": true, "generateRefreshTokens": true, "allowTokenRefresh": false} {
		if b, ok := lc.boolean(name); ok {
			lc.m[name] = b
		} else {
			lc.m[name] = def
		}
	}
	app["loginConfiguration"] = lc.m
	rcfg := af.sub("registrationConfiguration")
	if b, ok := rcfg.boolean("enabled"); ok {
		rcfg.m["enabled"] = b
	} else {
		rcfg.m["enabled"] = false
	}
	app["registrationConfiguration"] = rcfg.m
	jc := af.sub("jwtConfiguration")
	if b, ok := jc.boolean("enabled"); ok {
		jc.m["enabled"] = b
	} else {
		jc.m["enabled"] = false
	}
	for _, name := range []string{"accessTokenKeyId", "idTokenKeyId"} {
		if jc.present(name) {
			kid, ok := canonicalUUID(jc.str(name))
			if !ok || s.state.keys[kid] == nil {
				errs.field(jc.path(name), "[invalid]"+jc.path(name), "The ["+jc.path(name)+"] property does not reference an existing Key.")
				continue
			}
			jc.m[name] = kid
		}
	}
	if jc.present("timeToLiveInSeconds") {
		if v, ok := jc.integer("timeToLiveInSeconds"); ok {
			jc.m["timeToLiveInSeconds"] = v
		}
	}
	app["jwtConfiguration"] = jc.m
	roles, _ := app["roles"].([]any)
	out := make([]any, 0, len(roles))
	for _, r := range roles {
		role, ok := r.(map[string]any)
		if !ok {
			errs.field("application.roles", "[invalidJSON]", "Unable to parse JSON. The property [application.roles] was invalid.")
			continue
		}
		if asString(role["id"]) == "" {
			role["id"] = newUUID()
		}
		out = append(out, role)
	}
	app["roles"] = out
	if _, ok := app["verifyRegistration"]; !ok {
		app["verifyRegistration"] = false
	}
}
