package fatest

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
)

// changePasswordRecord is an outstanding changePasswordId.
type changePasswordRecord struct {
	userID   string
	state    map[string]any
	expires  time.Time
	viaEmail bool // sent in an email: completing it proves the address
}

// oneTimePasswordRecord is a one-time password returned by change password, usable once
// on POST /api/login.
type oneTimePasswordRecord struct {
	userID  string
	expires time.Time
}

// tenantSeconds reads an integer tenant setting (in seconds) with a default. Callers hold s.mu.
func (s *Server) tenantSeconds(tenantID, path string, def int64) time.Duration {
	v, _ := lookupPath(s.state.tenants[tenantID], path)
	if n, ok := asInt64(v); ok && n > 0 {
		return time.Duration(n) * time.Second
	}
	return time.Duration(def) * time.Second
}

// checkPassword applies the tenant's password rules; path is "user.password" for the
// User API and "password" for change password. Callers hold s.mu.
func (s *Server) checkPassword(tenantID, path, pw string, errs *apiErrors) {
	rm, minLen, maxLen := s.passwordRulesOf(tenantID)
	n := int64(len([]rune(pw)))
	switch {
	case pw == "":
		errs.field(path, "[blank]"+path, "You must specify the ["+path+"] property.")
		return
	case n < minLen:
		errs.field(path, "[tooShort]"+path, fmt.Sprintf("The [%s] property is shorter than the minimum of [%d] characters.", path, minLen))
	case n > maxLen:
		errs.field(path, "[tooLong]"+path, fmt.Sprintf("The [%s] property is longer than the maximum of [%d] characters.", path, maxLen))
	}
	hasUpper, hasLower, hasDigit, onlyAlpha := false, false, false, true
	for _, r := range pw {
		hasUpper = hasUpper || unicode.IsUpper(r)
		hasLower = hasLower || unicode.IsLower(r)
		hasDigit = hasDigit || unicode.IsDigit(r)
		onlyAlpha = onlyAlpha && unicode.IsLetter(r)
	}
	if truthy(rm["requireMixedCase"]) && !(hasUpper && hasLower) {
		errs.field(path, "[singleCase]"+path, "The ["+path+"] property must contain at least one upper and one lower case character.")
	}
	if truthy(rm["requireNonAlpha"]) && onlyAlpha {
		errs.field(path, "[onlyAlpha]"+path, "The ["+path+"] property must contain at least one non-alphabetic character.")
	}
	if truthy(rm["requireNumber"]) && !hasDigit {
		errs.field(path, "[requireNumber]"+path, "The ["+path+"] property must contain at least one number.")
	}
}

// passwordRulesOf reads the tenant's passwordValidationRules and its length bounds
// (FusionAuth's defaults 8 and 256). Callers hold s.mu.
func (s *Server) passwordRulesOf(tenantID string) (rules map[string]any, minLen, maxLen int64) {
	v, _ := lookupPath(s.state.tenants[tenantID], "passwordValidationRules")
	rules, _ = v.(map[string]any)
	minLen, maxLen = 8, 256
	if n, ok := asInt64(rules["minLength"]); ok {
		minLen = n
	}
	if n, ok := asInt64(rules["maxLength"]); ok {
		maxLen = n
	}
	return rules, minLen, maxLen
}

// passwordMatches compares a password in constant time.
func passwordMatches(u *userRecord, pw string) bool {
	return u.password != "" && subtle.ConstantTimeCompare([]byte(u.password), []byte(pw)) == 1
}

// newChangePasswordIDLocked stores a changePasswordId for u. Callers hold s.mu.
func (s *Server) newChangePasswordIDLocked(u *userRecord, id string, state map[string]any, ttl time.Duration, viaEmail bool) string {
	if id == "" {
		id = randomToken(32)
	}
	s.state.changePassword[id] = &changePasswordRecord{userID: u.id(), state: cloneMap(state), expires: s.now().Add(ttl), viaEmail: viaEmail}
	return id
}

// liveChangePasswordLocked returns a valid changePasswordId record, dropping it when it
// has expired. Callers hold s.mu (write).
func (s *Server) liveChangePasswordLocked(id string) (*changePasswordRecord, *userRecord) {
	cp := s.state.changePassword[id]
	if cp == nil {
		return nil, nil
	}
	if !s.now().Before(cp.expires) {
		delete(s.state.changePassword, id)
		return nil, nil
	}
	u := s.state.users[cp.userID]
	if u == nil {
		return nil, nil
	}
	return cp, u
}

// handleForgotPassword serves POST /api/user/forgot-password (§9.1).
func (s *Server) handleForgotPassword(w http.ResponseWriter, r *http.Request, rc *reqCtx, f fields) {
	errs := f.errs
	loginID := strings.TrimSpace(f.str("loginId"))
	state := f.object("state")
	types := f.strings("loginIdTypes")
	send := true
	customID := ""
	if rc.key != nil {
		if v, set := f.boolean("sendForgotPasswordMessage"); set {
			send = v
		} else if v, set := f.boolean("sendForgotPasswordEmail"); set {
			send = v
		}
		customID = f.str("changePasswordId")
	}
	appID := f.str("applicationId")
	if loginID == "" {
		errs.field("loginId", "[blank]loginId", "You must specify the [loginId] property.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var app map[string]any
	if appID != "" {
		id, ok := canonicalUUID(appID)
		if app = s.state.applications[id]; !ok || app == nil {
			errs.field("applicationId", "[invalid]applicationId", "The [applicationId] property does not reference an existing Application.")
		}
	}
	if customID != "" && s.state.changePassword[customID] != nil {
		errs.field("changePasswordId", "[duplicate]changePasswordId", "The [changePasswordId] is already in use.")
	}
	if errs.has() {
		writeErrors(w, http.StatusBadRequest, errs)
		return
	}
	tenantID, ok := s.answerTenant(w, rc)
	if !ok {
		return
	}
	u := s.findByLoginID(tenantID, loginID, types)
	if u == nil || !u.active() {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	templateID := ""
	if send {
		v, _ := lookupPath(app, "emailConfiguration.forgotPasswordEmailTemplateId")
		if templateID = asString(v); templateID == "" {
			v, _ = lookupPath(s.state.tenants[tenantID], "emailConfiguration.forgotPasswordEmailTemplateId")
			templateID = asString(v)
		}
		if templateID == "" || s.state.templates[templateID] == nil {
			// Forgot password is disabled for the tenant ("Feature disabled").
			writeEmpty(w, http.StatusForbidden)
			return
		}
		if recipient(u) == "" {
			writeEmpty(w, http.StatusUnprocessableEntity)
			return
		}
	}
	ttl := s.tenantSeconds(tenantID, "externalIdentifierConfiguration.changePasswordIdTimeToLiveInSeconds", 600)
	id := s.newChangePasswordIDLocked(u, customID, state, ttl, send)
	if send {
		vars := map[string]any{"changePasswordId": id}
		if state != nil {
			vars["state"] = cloneMap(state)
		}
		if app != nil {
			vars["application"] = cloneMap(app)
		}
		if _, err := s.sendTemplateLocked(templateID, u, vars); err != nil {
			s.log.Error("fatest: forgot-password email not sent", "user", u.id(), "err", err)
		}
	}
	if rc.key == nil {
		writeEmpty(w, http.StatusOK)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"changePasswordId": id})
}

// handleCheckChangePassword serves GET /api/user/change-password/{changePasswordId}:
// 200 empty when the id is usable, 404 otherwise.
func (s *Server) handleCheckChangePassword(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cp, _ := s.liveChangePasswordLocked(r.PathValue("changePasswordId")); cp == nil {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	writeEmpty(w, http.StatusOK)
}

// handleChangePassword serves POST /api/user/change-password[/{changePasswordId}] (§9.3)
// with a changePasswordId. The forms that change a password by loginId (API key) or by
// JWT are not implemented.
func (s *Server) handleChangePassword(w http.ResponseWriter, r *http.Request, rc *reqCtx, f fields) {
	errs := f.errs
	id := f.str("changePasswordId")
	if id == "" {
		id = r.PathValue("changePasswordId")
	}
	password := f.str("password")
	current := f.str("currentPassword")
	hasCurrent := f.present("currentPassword")
	if errs.has() {
		writeErrors(w, http.StatusBadRequest, errs)
		return
	}
	if id == "" {
		s.writeUnsupported(w, r, "changing a password without a changePasswordId")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	status, resp := s.changePasswordByIDLocked(id, password, current, hasCurrent, rc.key != nil)
	switch b := resp.(type) {
	case nil:
		writeEmpty(w, status)
	case *apiErrors:
		writeErrors(w, status, b)
	default:
		writeJSON(w, status, b)
	}
}

// changePasswordByIDLocked completes a change password with a changePasswordId and
// returns the status and body (a map, *apiErrors or nil for an empty body). Callers hold s.mu.
func (s *Server) changePasswordByIDLocked(id, password, current string, hasCurrent, withKey bool) (int, any) {
	cp, u := s.liveChangePasswordLocked(id)
	if cp == nil {
		return http.StatusNotFound, nil
	}
	errs := &apiErrors{}
	s.checkPassword(u.tenantID(), "password", password, errs)
	if errs.has() {
		return http.StatusBadRequest, errs
	}
	if hasCurrent && !passwordMatches(u, current) {
		if !withKey {
			return http.StatusNotFound, nil
		}
		return http.StatusBadRequest, fieldError("currentPassword", "[invalid]currentPassword", "The [currentPassword] does not match the current password.")
	}
	s.setPasswordLocked(u, password)
	if cp.viaEmail {
		allowed, _ := lookupPath(s.state.tenants[u.tenantID()], "emailConfiguration.implicitEmailVerificationAllowed")
		if (allowed == nil || truthy(allowed)) && u.doc["verified"] != true {
			u.doc["verified"] = true
			u.doc["verifiedInstant"] = s.now().UnixMilli()
		}
	}
	otp := randomToken(32)
	ttl := s.tenantSeconds(u.tenantID(), "externalIdentifierConfiguration.oneTimePasswordTimeToLiveInSeconds", 60)
	s.state.oneTimePassword[otp] = &oneTimePasswordRecord{userID: u.id(), expires: s.now().Add(ttl)}
	resp := map[string]any{"oneTimePassword": otp}
	if cp.state != nil {
		resp["state"] = cloneMap(cp.state)
	}
	return http.StatusOK, resp
}

// setPasswordLocked changes a user's password and revokes every outstanding
// changePasswordId of the user. Callers hold s.mu.
func (s *Server) setPasswordLocked(u *userRecord, password string) {
	now := s.now().UnixMilli()
	u.password = password
	u.doc["passwordLastUpdateInstant"] = now
	u.doc["lastUpdateInstant"] = now
	u.doc["passwordChangeRequired"] = false
	for id, cp := range s.state.changePassword {
		if cp.userID == u.id() {
			delete(s.state.changePassword, id)
		}
	}
}
