package fatest

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// AdminApplicationID is the fixed id of FusionAuth's own admin application
// (kickstart's FUSIONAUTH_APPLICATION_ID).
const AdminApplicationID = "3c219e58-ed0e-4b18-ad48-f4f92793ae32"

// initialState is a fresh FusionAuth: the Default tenant, the admin application and
// the HMAC "Default signing key" its tenant signs tokens with (never published in JWKS).
func (s *Server) initialState() (*state, error) {
	now := s.now().UnixMilli()
	tenantID := newUUID()
	signing := newHMACKey(newUUID(), "Default signing key", "HS256", now)
	st := &state{
		defaultTenantID: tenantID,
		tenants:         map[string]map[string]any{tenantID: defaultTenant(tenantID, signing.id, now)},
		apiKeys:         map[string]*apiKey{},
		users:           map[string]*userRecord{},
		byEmail:         map[string]string{},
		byUsername:      map[string]string{},
		keys:            map[string]*keyRecord{signing.id: signing},
		keyOrder:        []string{signing.id},
		applications:    map[string]map[string]any{},
		templates:       map[string]*emailTemplate{},
		webhooks:        map[string]map[string]any{},
		changePassword:  map[string]*changePasswordRecord{},
		oneTimePassword: map[string]*oneTimePasswordRecord{},
		authCodes:       map[string]string{},
		systemConfig: map[string]any{
			"corsConfiguration": map[string]any{"enabled": false},
			"data":              map[string]any{},
		},
		variables: map[string]string{
			"FUSIONAUTH_APPLICATION_ID":         AdminApplicationID,
			"FUSIONAUTH_TENANT_ID":              tenantID,
			"FUSIONAUTH_DEFAULT_SIGNING_KEY_ID": signing.id,
		},
	}
	st.applications[AdminApplicationID] = map[string]any{
		"id":       AdminApplicationID,
		"name":     "FusionAuth",
		"tenantId": tenantID,
		"active":   true,
		"state":    "Active",
		"roles": []any{
			map[string]any{"id": newUUID(), "name": "admin", "isSuperRole": true, "isDefault": false},
		},
		"loginConfiguration":        map[string]any{"requireAuthentication": true, "generateRefreshTokens": false, "allowTokenRefresh": false},
		"jwtConfiguration":          map[string]any{"enabled": false},
		"registrationConfiguration": map[string]any{"enabled": false},
		"oauthConfiguration": map[string]any{
			"clientId":               AdminApplicationID,
			"authorizedRedirectURLs": []any{"/admin/login"},
			"enabledGrants":          []any{"authorization_code", "refresh_token"},
			"requireRegistration":    true,
		},
		"verifyRegistration": false,
		"insertInstant":      now,
		"lastUpdateInstant":  now,
	}
	return st, nil
}

// defaultTenant is the Default tenant of a fresh install (the settings this server uses).
func defaultTenant(id, signingKeyID string, now int64) map[string]any {
	return map[string]any{
		"id":     id,
		"name":   "Default",
		"issuer": "acme.com",
		"state":  "Active",
		"data":   map[string]any{},
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

// serveGet answers GET …/{param}: {key: a copy of the object find returns for the id in
// the path}, or 404 when find returns nil. find runs under the read lock and returns the
// stored object, nil when there is none or the request may not see it.
func (s *Server) serveGet(w http.ResponseWriter, r *http.Request, param, key string, find func(id string) map[string]any) {
	id, ok := pathUUID(w, r, param)
	if !ok {
		return
	}
	s.mu.RLock()
	obj := cloneMap(find(id))
	s.mu.RUnlock()
	if obj == nil {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{key: obj})
}

// ----- tenants -----

// handleGetTenant serves GET /api/tenant/{tenantId}.
func (s *Server) handleGetTenant(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.serveGet(w, r, "tenantId", "tenant", func(id string) map[string]any {
		if !rc.inTenant(id) {
			return nil
		}
		return s.state.tenants[id]
	})
}

// handlePatchTenant serves PATCH /api/tenant/{tenantId} (application/json or merge patch).
func (s *Server) handlePatchTenant(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id, ok := pathUUID(w, r, "tenantId")
	if !ok {
		return
	}
	kind, raw, ok := readPatch(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.state.tenants[id]
	if cur == nil || !rc.inTenant(id) {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	body, t, errs, ok := patchObject(w, kind, "tenant", cur, raw)
	if !ok {
		return
	}
	s.normalizeTenant(t, errs)
	webhookIDs := fields{m: body, errs: errs}.strings("webhookIds")
	for _, wid := range webhookIDs {
		if c, ok := canonicalUUID(wid); !ok || s.state.webhooks[c] == nil {
			errs.field("webhookIds", "[invalid]webhookIds", "The [webhookIds] property contains an unknown webhook Id ["+wid+"].")
		}
	}
	if errs.has() {
		writeErrors(w, http.StatusBadRequest, errs)
		return
	}
	t["id"] = id
	t["insertInstant"] = cur["insertInstant"]
	t["lastUpdateInstant"] = s.now().UnixMilli()
	s.state.tenants[id] = t
	for _, wid := range webhookIDs {
		c, _ := canonicalUUID(wid)
		wh := s.state.webhooks[c]
		ids, _ := wh["tenantIds"].([]any)
		if !slices.Contains(ids, any(id)) {
			wh["tenantIds"] = append(ids, id)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tenant": cloneMap(t)})
}

// normalizeTenant coerces and validates the tenant fields this server uses. Callers hold s.mu.
func (s *Server) normalizeTenant(t map[string]any, errs *apiErrors) {
	tf := fields{m: t, prefix: "tenant.", errs: errs}
	if strings.TrimSpace(tf.str("name")) == "" {
		errs.field("tenant.name", "[blank]tenant.name", "You must specify the [tenant.name] property.")
	}
	ec := tf.sub("emailConfiguration")
	if ec.present("port") {
		if v, ok := ec.integer("port"); ok {
			ec.m["port"] = v
		}
	}
	for _, b := range []string{"verifyEmail", "verifyEmailWhenChanged", "implicitEmailVerificationAllowed"} {
		if ec.present(b) {
			if v, ok := ec.boolean(b); ok {
				ec.m[b] = v
			}
		}
	}
	for _, name := range []string{"forgotPasswordEmailTemplateId", "setPasswordEmailTemplateId", "verificationEmailTemplateId"} {
		if ec.present(name) {
			tid, ok := canonicalUUID(ec.str(name))
			if !ok || s.state.templates[tid] == nil {
				errs.field(ec.path(name), "[invalid]"+ec.path(name), "The ["+ec.path(name)+"] property does not reference an existing email template.")
				continue
			}
			ec.m[name] = tid
		}
	}
	if len(ec.m) > 0 {
		t["emailConfiguration"] = ec.m
	}
	events := tf.sub("eventConfiguration").sub("events")
	for _, name := range sortedKeys(events.m) {
		ev := events.sub(name)
		if ev.present("enabled") {
			if v, ok := ev.boolean("enabled"); ok {
				ev.m["enabled"] = v
			}
		}
		if ev.present("transactionType") {
			tt := ev.str("transactionType")
			if !slices.Contains([]string{"None", "Any", "SimpleMajority", "SuperMajority", "AbsoluteMajority"}, tt) {
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
	jc := tf.sub("jwtConfiguration")
	for _, name := range []string{"accessTokenKeyId", "idTokenKeyId"} {
		if jc.present(name) {
			kid, ok := canonicalUUID(jc.str(name))
			if !ok || s.state.keys[kid] == nil {
				errs.field(jc.path(name), "[invalid]"+jc.path(name), "The ["+jc.path(name)+"] property does not reference an existing Key.")
			}
		}
	}
	eic := tf.sub("externalIdentifierConfiguration")
	if eic.present("changePasswordIdTimeToLiveInSeconds") {
		if v, ok := eic.integer("changePasswordIdTimeToLiveInSeconds"); ok {
			if v <= 0 {
				errs.field(eic.path("changePasswordIdTimeToLiveInSeconds"), "[invalid]"+eic.path("changePasswordIdTimeToLiveInSeconds"), "The value must be greater than 0.")
			}
			eic.m["changePasswordIdTimeToLiveInSeconds"] = v
		}
	}
}

// ----- applications -----

// handleCreateApplication serves POST /api/application[/{applicationId}].
func (s *Server) handleCreateApplication(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id, ok := optionalPathUUID(w, r, "applicationId")
	if !ok {
		return
	}
	body, ok := readRequest(w, r)
	if !ok {
		return
	}
	errs := &apiErrors{}
	app := cloneMap(fields{m: body, errs: errs}.object("application"))
	if app == nil {
		app = map[string]any{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "" {
		id = newUUID()
	} else if s.state.applications[id] != nil {
		errs.field("applicationId", "[duplicate]applicationId", "An Application with Id ["+id+"] already exists.")
	}
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

// handleGetApplication serves GET /api/application/{applicationId}.
func (s *Server) handleGetApplication(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.serveGet(w, r, "applicationId", "application", func(id string) map[string]any {
		app := s.state.applications[id]
		if app == nil || !rc.inTenant(asString(app["tenantId"])) {
			return nil
		}
		return app
	})
}

// handlePatchApplication serves PATCH /api/application/{applicationId}.
func (s *Server) handlePatchApplication(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id, ok := pathUUID(w, r, "applicationId")
	if !ok {
		return
	}
	kind, raw, ok := readPatch(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.state.applications[id]
	if cur == nil || !rc.inTenant(asString(cur["tenantId"])) {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	_, app, errs, ok := patchObject(w, kind, "application", cur, raw)
	if !ok {
		return
	}
	for _, k := range []string{"id", "tenantId", "insertInstant", "active", "state"} {
		app[k] = cur[k]
	}
	app["lastUpdateInstant"] = s.now().UnixMilli()
	s.normalizeApplication(app, errs)
	if errs.has() {
		writeErrors(w, http.StatusBadRequest, errs)
		return
	}
	s.state.applications[id] = app
	writeJSON(w, http.StatusOK, map[string]any{"application": cloneMap(app)})
}

// ----- email templates -----

// emailTemplate is a stored template with its parsed parts.
type emailTemplate struct {
	doc                         map[string]any
	subject, html, text, sender *ftlTemplate
}

// handleCreateEmailTemplate serves POST /api/email/template[/{emailTemplateId}]. The
// templates are parsed on save: anything outside the supported FreeMarker subset is a
// 400 naming it (and so stops a kickstart).
func (s *Server) handleCreateEmailTemplate(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id, ok := optionalPathUUID(w, r, "emailTemplateId")
	if !ok {
		return
	}
	body, ok := readRequest(w, r)
	if !ok {
		return
	}
	errs := &apiErrors{}
	doc := cloneMap(fields{m: body, errs: errs}.object("emailTemplate"))
	if doc == nil {
		doc = map[string]any{}
	}
	tf := fields{m: doc, prefix: "emailTemplate.", errs: errs}
	et := &emailTemplate{doc: doc}
	parse := func(name string, required bool) *ftlTemplate {
		src := tf.str(name)
		if strings.TrimSpace(src) == "" {
			if required {
				errs.field(tf.path(name), "[blank]"+tf.path(name), "You must specify the ["+tf.path(name)+"] property.")
			}
			return nil
		}
		t, err := parseFTL(src)
		if err != nil {
			errs.field(tf.path(name), "[invalidTemplate]"+tf.path(name), "The ["+tf.path(name)+"] property is not a template this server can render: "+err.Error())
			return nil
		}
		return t
	}
	if strings.TrimSpace(tf.str("name")) == "" {
		errs.field("emailTemplate.name", "[blank]emailTemplate.name", "You must specify the [emailTemplate.name] property.")
	}
	et.subject = parse("defaultSubject", true)
	et.html = parse("defaultHtmlTemplate", true)
	et.text = parse("defaultTextTemplate", true)
	et.sender = parse("defaultFromName", false)
	for _, loc := range []string{"localizedSubjects", "localizedHtmlTemplates", "localizedTextTemplates", "localizedFromNames"} {
		for lang, v := range tf.object(loc) {
			src, _ := v.(string)
			if _, err := parseFTL(src); err != nil {
				errs.field(tf.path(loc), "[invalidTemplate]"+tf.path(loc), "The ["+tf.path(loc)+"] template for ["+lang+"] is not a template this server can render: "+err.Error())
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "" {
		id = newUUID()
	} else if s.state.templates[id] != nil {
		errs.field("emailTemplateId", "[duplicate]emailTemplateId", "An Email Template with Id ["+id+"] already exists.")
	}
	if errs.has() {
		writeErrors(w, http.StatusBadRequest, errs)
		return
	}
	now := s.now().UnixMilli()
	doc["id"] = id
	doc["insertInstant"] = now
	doc["lastUpdateInstant"] = now
	s.state.templates[id] = et
	writeJSON(w, http.StatusOK, map[string]any{"emailTemplate": cloneMap(doc)})
}

// handleGetEmailTemplate serves GET /api/email/template/{emailTemplateId}.
func (s *Server) handleGetEmailTemplate(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.serveGet(w, r, "emailTemplateId", "emailTemplate", func(id string) map[string]any {
		if et := s.state.templates[id]; et != nil {
			return et.doc
		}
		return nil
	})
}

// ----- webhooks -----

// handleCreateWebhook serves POST /api/webhook[/{webhookId}].
func (s *Server) handleCreateWebhook(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id, ok := optionalPathUUID(w, r, "webhookId")
	if !ok {
		return
	}
	body, ok := readRequest(w, r)
	if !ok {
		return
	}
	errs := &apiErrors{}
	wh := cloneMap(fields{m: body, errs: errs}.object("webhook"))
	if wh == nil {
		wh = map[string]any{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "" {
		id = newUUID()
	} else if s.state.webhooks[id] != nil {
		errs.field("webhookId", "[duplicate]webhookId", "A Webhook with Id ["+id+"] already exists.")
	}
	now := s.now().UnixMilli()
	wh["id"] = id
	wh["insertInstant"] = now
	wh["lastUpdateInstant"] = now
	s.normalizeWebhook(wh, errs)
	if errs.has() {
		writeErrors(w, http.StatusBadRequest, errs)
		return
	}
	s.state.webhooks[id] = wh
	s.state.webhookOrder = append(s.state.webhookOrder, id)
	writeJSON(w, http.StatusOK, map[string]any{"webhook": cloneMap(wh)})
}

// normalizeWebhook validates a webhook and coerces its typed fields. Callers hold s.mu.
func (s *Server) normalizeWebhook(wh map[string]any, errs *apiErrors) {
	wf := fields{m: wh, prefix: "webhook.", errs: errs}
	raw := strings.TrimSpace(wf.str("url"))
	if raw == "" {
		errs.field("webhook.url", "[blank]webhook.url", "You must specify the [webhook.url] property.")
	} else if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs.field("webhook.url", "[invalid]webhook.url", "The [webhook.url] property must be an absolute http or https URL.")
	}
	for _, name := range []string{"connectTimeout", "readTimeout"} {
		v, ok := wf.integer(name)
		switch {
		case !ok:
			errs.field(wf.path(name), "[blank]"+wf.path(name), "You must specify the ["+wf.path(name)+"] property.")
		case v <= 0:
			errs.field(wf.path(name), "[invalid]"+wf.path(name), "The ["+wf.path(name)+"] property must be greater than 0.")
		default:
			wh[name] = v
		}
	}
	if b, ok := wf.boolean("global"); ok {
		wh["global"] = b
	} else {
		wh["global"] = false
	}
	enabled := map[string]any{}
	ev := wf.sub("eventsEnabled")
	for _, name := range sortedKeys(ev.m) {
		if b, ok := ev.boolean(name); ok {
			enabled[name] = b
		}
	}
	wh["eventsEnabled"] = enabled
	tenantIDs := []any{}
	for _, t := range wf.strings("tenantIds") {
		c, ok := canonicalUUID(t)
		if !ok || s.state.tenants[c] == nil {
			errs.field("webhook.tenantIds", "[invalid]webhook.tenantIds", "The [webhook.tenantIds] property contains an unknown Tenant Id ["+t+"].")
			continue
		}
		tenantIDs = append(tenantIDs, c)
	}
	wh["tenantIds"] = tenantIDs
	headers := map[string]any{}
	for k, v := range wf.object("headers") {
		sv, ok := v.(string)
		if !ok {
			errs.field("webhook.headers", "[invalidJSON]", "Unable to parse JSON. The property [webhook.headers."+k+"] must be a string.")
			continue
		}
		headers[k] = sv
	}
	wh["headers"] = headers
	sc := wf.sub("signatureConfiguration")
	if b, ok := sc.boolean("enabled"); ok && b {
		sc.m["enabled"] = true
		kid := sc.str("signingKeyId")
		switch c, ok := canonicalUUID(kid); {
		case kid == "":
			errs.field(sc.path("signingKeyId"), "[blank]"+sc.path("signingKeyId"), "You must specify the ["+sc.path("signingKeyId")+"] property when signing is enabled.")
		case !ok || s.state.keys[c] == nil:
			errs.field(sc.path("signingKeyId"), "[invalid]"+sc.path("signingKeyId"), "The ["+sc.path("signingKeyId")+"] property does not reference an existing Key.")
		default:
			sc.m["signingKeyId"] = c
		}
	} else {
		sc.m["enabled"] = false
	}
	wh["signatureConfiguration"] = sc.m
}

// handleGetWebhook serves GET /api/webhook/{webhookId}.
func (s *Server) handleGetWebhook(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.serveGet(w, r, "webhookId", "webhook", func(id string) map[string]any { return s.state.webhooks[id] })
}

// handleListWebhooks serves GET /api/webhook.
func (s *Server) handleListWebhooks(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.mu.RLock()
	list := make([]any, 0, len(s.state.webhookOrder))
	for _, id := range s.state.webhookOrder {
		list = append(list, cloneMap(s.state.webhooks[id]))
	}
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{"webhooks": list})
}

// handlePatchWebhook serves PATCH /api/webhook/{webhookId}.
func (s *Server) handlePatchWebhook(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id, ok := pathUUID(w, r, "webhookId")
	if !ok {
		return
	}
	kind, raw, ok := readPatch(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.state.webhooks[id]
	if cur == nil {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	_, wh, errs, ok := patchObject(w, kind, "webhook", cur, raw)
	if !ok {
		return
	}
	wh["id"] = id
	wh["insertInstant"] = cur["insertInstant"]
	wh["lastUpdateInstant"] = s.now().UnixMilli()
	s.normalizeWebhook(wh, errs)
	if errs.has() {
		writeErrors(w, http.StatusBadRequest, errs)
		return
	}
	s.state.webhooks[id] = wh
	writeJSON(w, http.StatusOK, map[string]any{"webhook": cloneMap(wh)})
}

// handleDeleteWebhook serves DELETE /api/webhook/{webhookId}.
func (s *Server) handleDeleteWebhook(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id, ok := pathUUID(w, r, "webhookId")
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.webhooks[id] == nil {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	delete(s.state.webhooks, id)
	s.state.webhookOrder = slices.DeleteFunc(s.state.webhookOrder, func(v string) bool { return v == id })
	writeEmpty(w, http.StatusOK)
}

// ----- system configuration and status -----

func (s *Server) handleGetSystemConfiguration(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.mu.RLock()
	cfg := cloneMap(s.state.systemConfig)
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{"systemConfiguration": cfg})
}

func (s *Server) handlePatchSystemConfiguration(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	kind, raw, ok := readPatch(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	body, errs := applyPatch(kind, map[string]any{"systemConfiguration": cloneMap(s.state.systemConfig)}, raw)
	if errs != nil {
		writeErrors(w, http.StatusBadRequest, errs)
		return
	}
	cfg, _ := body["systemConfiguration"].(map[string]any)
	if cfg == nil {
		cfg = map[string]any{}
	}
	s.state.systemConfig = cfg
	writeJSON(w, http.StatusOK, map[string]any{"systemConfiguration": cloneMap(cfg)})
}

// handleStatus serves GET /api/status, the health check (no key needed).
func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
}
