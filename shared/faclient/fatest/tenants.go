package fatest

import (
	"slices"
	"strings"
)

// defaultTenant is the Default tenant of a fresh install (the settings this server uses).
func defaultTenant(id, signingKeyID string, now int64) map[string]any {
	return map[string]any{
		"id":      id,
		"name":    "Default",
		"issuer":  "acme.com",
		"themeId": DefaultThemeID,
		"state":   "Active",
		"data":    map[string]any{},
		"emailConfiguration": map[string]any{
			"host":                             "localhost",
			"port":                             int64(25),
			"security":                         "NONE",
			"defaultFromEmail":                 "change-me@example.com",
			"defaultFromName":                  "FusionAuth",
			"verifyEmail":                      false,
			"verifyEmailWhenChanged":           false,
			"verificationStrategy":             "ClickableLink",
			"implicitEmailVerificationAllowed": true,
		},
		"eventConfiguration": map[string]any{"events": map[string]any{}},
		"externalIdentifierConfiguration": map[string]any{
			"authorizationGrantIdTimeToLiveInSeconds": int64(30),
			"changePasswordIdTimeToLiveInSeconds":     int64(600),
			"oneTimePasswordTimeToLiveInSeconds":      int64(60),
			"setupPasswordIdTimeToLiveInSeconds":      int64(86400),
		},
		"jwtConfiguration": map[string]any{
			"enabled":                         true,
			"accessTokenKeyId":                signingKeyID,
			"idTokenKeyId":                    signingKeyID,
			"timeToLiveInSeconds":             int64(3600),
			"refreshTokenTimeToLiveInMinutes": int64(43200),
		},
		"loginConfiguration": map[string]any{"requireAuthentication": true},
		"passwordValidationRules": map[string]any{
			"minLength": int64(8), "maxLength": int64(256),
			"requireMixedCase": false, "requireNonAlpha": false, "requireNumber": false,
			"validateOnLogin": false,
		},
		"insertInstant":     now,
		"lastUpdateInstant": now,
	}
}

// setDefaultTenantID re-keys the Default tenant (kickstart's defaultTenantId), before
// anything refers to it but the admin application. Callers hold s.mu.
func (s *Server) setDefaultTenantID(id string) {
	st := s.state
	old := st.defaultTenantID
	if old == id {
		return
	}
	t := st.tenants[old]
	delete(st.tenants, old)
	t["id"] = id
	st.tenants[id] = t
	st.defaultTenantID = id
	st.variables["FUSIONAUTH_TENANT_ID"] = id
	for _, app := range st.applications {
		if app["tenantId"] == old {
			app["tenantId"] = id
		}
	}
}

// tenants are created by POST /api/tenant[/{tenantId}] with the Default tenant's settings
// (its signing keys included) under the request's, and patched by PATCH
// /api/tenant/{tenantId}.
var tenants = document{key: "tenant", param: "tenantId", noun: "A Tenant", tenantScoped: true,
	stored: func(st *state) map[string]map[string]any { return st.tenants },
	build:  (*Server).newTenant, check: (*Server).normalizeTenant}

// newTenant is a new tenant: the Default tenant's settings under the request's. Callers
// hold s.mu.
func (s *Server) newTenant(_ *reqCtx, cr createRequest, id string) map[string]any {
	keyID, _ := lookupPath(s.state.tenants[s.state.defaultTenantID], "jwtConfiguration.accessTokenKeyId")
	return mergeOriginal(defaultTenant(id, asString(keyID), 0), cr.obj) // createDocument stamps the instants
}

// normalizeTenant coerces and validates the tenant fields this server uses. Callers hold s.mu.
func (s *Server) normalizeTenant(t map[string]any, errs *apiErrors) {
	tf := fields{m: t, prefix: "tenant.", errs: errs}
	if strings.TrimSpace(tf.str("name")) == "" {
		errs.field("tenant.name", "[blank]tenant.name", "You must specify the [tenant.name] property.")
	}
	ec := tf.sub("emailConfiguration")
	ec.keepInt("port")
	for _, b := range []string{"verifyEmail", "verifyEmailWhenChanged", "implicitEmailVerificationAllowed"} {
		ec.keepBool(b)
	}
	for _, name := range []string{"forgotPasswordEmailTemplateId", "setPasswordEmailTemplateId", "verificationEmailTemplateId"} {
		ec.reference(name, "email template", func(id string) bool { return s.state.templates[id] != nil })
	}
	if len(ec.m) > 0 {
		t["emailConfiguration"] = ec.m
	}
	events := tf.sub("eventConfiguration").sub("events")
	for _, name := range sortedKeys(events.m) {
		ev := events.sub(name)
		ev.keepBool("enabled")
		if ev.present("transactionType") {
			switch tt := ev.str("transactionType"); {
			case tt == "None":
			case slices.Contains([]string{"Any", "SimpleMajority", "SuperMajority", "AbsoluteMajority"}, tt):
				// Transactional webhooks (504 and roll back) are not implemented.
				s.countUnsupported()
				errs.general("[UnsupportedRequest]", "This FusionAuth-compatible test server does not implement transactional webhooks ("+ev.path("transactionType")+" "+tt+"); use None.")
			default:
				errs.field(ev.path("transactionType"), "[invalid]"+ev.path("transactionType"), "The ["+ev.path("transactionType")+"] property must be one of None, Any, SimpleMajority, SuperMajority or AbsoluteMajority.")
			}
		}
		events.m[name] = ev.m
	}
	if ecfg, ok := t["eventConfiguration"].(map[string]any); ok {
		ecfg["events"] = events.m
	} else {
		t["eventConfiguration"] = map[string]any{"events": events.m}
	}
	s.keyReferences(tf.sub("jwtConfiguration"))
	tf.reference("themeId", "Theme", func(id string) bool { return s.state.themes[id] != nil })
	eic := tf.sub("externalIdentifierConfiguration")
	if v, ok := eic.keepInt("changePasswordIdTimeToLiveInSeconds"); ok && v <= 0 {
		errs.field(eic.path("changePasswordIdTimeToLiveInSeconds"), "[invalid]"+eic.path("changePasswordIdTimeToLiveInSeconds"), "The value must be greater than 0.")
	}
}

// keyReferences checks a jwtConfiguration's signing keys (a tenant's or an application's):
// each set one must be an existing Key. Callers hold s.mu.
func (s *Server) keyReferences(jc fields) {
	for _, name := range []string{"accessTokenKeyId", "idTokenKeyId"} {
		jc.reference(name, "Key", func(id string) bool { return s.state.keys[id] != nil })
	}
}
