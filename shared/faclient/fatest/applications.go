package fatest

import (
	"cmp"
	"strings"
)

// applications are created by POST /api/application[/{applicationId}].
var applications = document{key: "application", param: "applicationId", noun: "An Application",
	stored: func(st *state) map[string]map[string]any { return st.applications },
	build:  (*Server).newApplication, check: (*Server).normalizeApplication}

// newApplication is the requested application, active, in the request's tenant, else
// the caller's, else the Default tenant. Callers hold s.mu.
func (s *Server) newApplication(rc *reqCtx, cr createRequest, _ string) map[string]any {
	app := cr.obj
	tenantID := rc.tenantID
	if t := asString(app["tenantId"]); t != "" {
		if c, ok := canonicalUUID(t); ok && s.state.tenants[c] != nil {
			tenantID = c
		} else {
			cr.errs.field("application.tenantId", "[invalid]application.tenantId", "The [application.tenantId] property does not reference an existing Tenant.")
		}
	}
	app["tenantId"] = cmp.Or(tenantID, s.state.defaultTenantID)
	app["active"] = true
	app["state"] = "Active"
	return app
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
	oc.setBool("requireRegistration", false)
	app["oauthConfiguration"] = oc.m
	lc := af.sub("loginConfiguration")
	lc.setBool("requireAuthentication", true)
	lc.setBool("generateRefreshTokens", true)
	lc.setBool("allowTokenRefresh", false)
	app["loginConfiguration"] = lc.m
	rcfg := af.sub("registrationConfiguration")
	rcfg.setBool("enabled", false)
	app["registrationConfiguration"] = rcfg.m
	jc := af.sub("jwtConfiguration")
	jc.setBool("enabled", false)
	s.keyReferences(jc)
	jc.keepInt("timeToLiveInSeconds")
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
