package fatest

import (
	"context"
	"net"
	"net/http"
	"strings"
)

// loginInput is a login attempt, from the Login API or the hosted login page.
type loginInput struct {
	loginID, password, oneTimePassword, applicationID string
	loginIDTypes                                      []string
	noJWT                                             bool
	viaAPI                                            bool    // the Login API (requireAuthentication applies)
	key                                               *apiKey // the API key sent, nil for none
	tenantID                                          string  // from the tenant header or a tenant-locked key
	ipAddress, userAgent                              string
}

// loginResult is what the Login API answers.
type loginResult struct {
	status int
	body   any // map, *apiErrors or nil (empty body)
	userID string
}

// handleLogin serves POST /api/login (§11).
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request, rc *reqCtx, f fields) {
	errs := f.errs
	in := loginInput{
		loginID:         strings.TrimSpace(f.str("loginId")),
		password:        f.str("password"),
		oneTimePassword: f.str("oneTimePassword"),
		applicationID:   f.str("applicationId"),
		loginIDTypes:    f.strings("loginIdTypes"),
		viaAPI:          true,
		key:             rc.key,
		tenantID:        rc.tenantID,
		ipAddress:       f.str("ipAddress"),
		userAgent:       r.UserAgent(),
	}
	in.noJWT, _ = f.boolean("noJWT")
	if errs.has() {
		writeErrors(w, http.StatusBadRequest, errs)
		return
	}
	if in.ipAddress == "" {
		in.ipAddress = clientIP(r)
	}
	res := s.login(r.Context(), in)
	switch b := res.body.(type) {
	case nil:
		writeEmpty(w, res.status)
	case *apiErrors:
		writeErrors(w, res.status, b)
	default:
		writeJSON(w, res.status, b)
	}
}

// clientIP is the caller's address: the first X-Forwarded-For entry, else the peer.
func clientIP(r *http.Request) string {
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
		first, _, _ := strings.Cut(xff, ",")
		return strings.TrimSpace(first)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// login authenticates a user, fires user.login.success, whose webhooks are delivered
// without the lock held, and then records the login.
func (s *Server) login(ctx context.Context, in loginInput) loginResult {
	errs := &apiErrors{}
	if in.oneTimePassword == "" {
		if in.loginID == "" {
			errs.field("loginId", "[blank]loginId", "You must specify the [loginId] property.")
		}
		if in.password == "" {
			errs.field("password", "[blank]password", "You must specify the [password] property.")
		}
	}
	if errs.has() {
		return loginResult{status: http.StatusBadRequest, body: errs}
	}
	s.mu.Lock()
	var app map[string]any
	appID := ""
	if in.applicationID != "" {
		var ok bool
		appID, ok = canonicalUUID(in.applicationID)
		if app = s.state.applications[appID]; !ok || app == nil {
			s.mu.Unlock()
			return loginResult{status: http.StatusBadRequest, body: fieldError("applicationId", "[invalid]applicationId", "The [applicationId] property does not reference an existing Application.")}
		}
	}
	tenantID := in.tenantID
	if tenantID == "" && app != nil {
		tenantID = asString(app["tenantId"])
	}
	if tenantID == "" {
		var terr *apiErrors
		if tenantID, terr = s.requireTenant(&reqCtx{}); terr != nil {
			s.mu.Unlock()
			return loginResult{status: http.StatusBadRequest, body: terr}
		}
	}
	if in.viaAPI && in.key == nil {
		var require any = true
		if app != nil {
			require, _ = lookupPath(app, "loginConfiguration.requireAuthentication")
		} else if v, ok := lookupPath(s.state.tenants[tenantID], "loginConfiguration.requireAuthentication"); ok {
			require = v
		}
		if require == nil || truthy(require) {
			s.mu.Unlock()
			return loginResult{status: http.StatusUnauthorized}
		}
	}
	var u *userRecord
	authType := "PASSWORD"
	if in.oneTimePassword != "" {
		authType = "ONE_TIME_PASSWORD"
		otp := s.state.oneTimePassword[in.oneTimePassword]
		delete(s.state.oneTimePassword, in.oneTimePassword)
		if otp != nil && s.now().Before(otp.expires) {
			u = s.state.users[otp.userID]
		}
	} else if cand := s.findByLoginID(tenantID, in.loginID, in.loginIDTypes); cand != nil && passwordMatches(cand, in.password) {
		u = cand
	}
	if u == nil {
		s.mu.Unlock()
		return loginResult{status: http.StatusNotFound}
	}
	if !u.active() {
		s.mu.Unlock()
		return loginResult{status: http.StatusLocked}
	}
	if exp, ok := asInt64(u.doc["expiry"]); ok && exp <= s.now().UnixMilli() {
		s.mu.Unlock()
		return loginResult{status: http.StatusGone}
	}
	if u.doc["passwordChangeRequired"] == true {
		ttl := s.tenantSeconds(tenantID, "externalIdentifierConfiguration.changePasswordIdTimeToLiveInSeconds", 600)
		id := s.newChangePasswordIDLocked(u, "", nil, ttl, false)
		s.mu.Unlock()
		return loginResult{status: 203, body: map[string]any{"changePasswordId": id, "changePasswordReason": "Administrative"}}
	}
	registered := app != nil && registrationFor(u, appID) != nil
	status := http.StatusOK
	if app != nil && !registered {
		status = http.StatusAccepted
	}
	now := s.now().UnixMilli()
	after := cloneMap(u.doc)
	stampLogin(after, appID, now)
	resp := map[string]any{}
	if !in.noJWT {
		tokenApp := app
		if !registered {
			tokenApp = nil
		}
		tmp := &userRecord{doc: after}
		if tok, exp, err := s.issueUserToken(tmp, tokenApp, authType); err == nil {
			resp["token"], resp["tokenExpirationInstant"] = tok, exp
		} else {
			s.log.Error("fatest: sign login token", "err", err)
			s.mu.Unlock()
			return loginResult{status: http.StatusInternalServerError}
		}
	}
	targets := s.eventRoutingLocked(tenantID, "user.login.success")
	eventFields := map[string]any{
		"authenticationType": authType,
		"connectorId":        connectorID,
		"info":               map[string]any{"ipAddress": in.ipAddress, "userAgent": in.userAgent},
		"user":               cloneMap(after),
	}
	if registered {
		eventFields["applicationId"] = appID
	}
	userID := u.id()
	s.mu.Unlock()

	if len(targets) > 0 {
		body, err := s.eventBody("user.login.success", tenantID, eventFields)
		if err != nil {
			s.log.Error("fatest: build login event", "err", err)
			return loginResult{status: http.StatusInternalServerError}
		}
		s.deliverEvent(ctx, targets, "user.login.success", body)
	}
	// The login is committed after its webhooks ran, as FusionAuth persists an
	// operation's final state only once they finish ("Writing a webhook"): a webhook
	// that reads the user sees it as before the login. Only the login's own fields are
	// written, onto the user as it is now (a webhook may have written it meanwhile).
	s.mu.Lock()
	if cur := s.state.users[userID]; cur != nil {
		stampLogin(cur.doc, appID, now)
	}
	s.mu.Unlock()
	resp["user"] = after
	return loginResult{status: status, body: resp, userID: userID}
}

// stampLogin records a login in a user document (and its registration for appID).
func stampLogin(doc map[string]any, appID string, now int64) {
	doc["lastLoginInstant"] = now
	if appID == "" {
		return
	}
	regs, _ := doc["registrations"].([]any)
	for _, r := range regs {
		if reg, ok := r.(map[string]any); ok && reg["applicationId"] == appID {
			reg["lastLoginInstant"] = now
		}
	}
}
