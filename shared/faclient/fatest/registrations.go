package fatest

import (
	"net/http"
)

// registrationFor returns the user's registration for an application, or nil.
func registrationFor(u *userRecord, applicationID string) map[string]any {
	regs, _ := u.doc["registrations"].([]any)
	for _, r := range regs {
		if reg, ok := r.(map[string]any); ok && reg["applicationId"] == applicationID {
			return reg
		}
	}
	return nil
}

// handleRegister serves POST /api/user/registration[/{userId}]: with a "user" in the body
// it creates the user and the registration in one call, as FusionAuth does; without one
// it registers the existing user.
func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request, rc *reqCtx, cr createRequest) {
	id, body, errs := cr.id, cr.body, cr.errs
	top := fields{m: body, errs: errs}
	rf := fields{m: cr.obj, prefix: "registration.", errs: errs}
	appID, appOK := canonicalUUID(rf.str("applicationId"))
	skipRegistrationVerification, _ := top.boolean("skipRegistrationVerification")
	s.mu.Lock()
	defer s.mu.Unlock()
	var app map[string]any
	if rf.str("applicationId") == "" {
		errs.field("registration.applicationId", "[blank]registration.applicationId", "You must specify the [registration.applicationId] property.")
	} else if app = s.state.applications[appID]; !appOK || app == nil {
		errs.field("registration.applicationId", "[invalid]registration.applicationId", "The [registration.applicationId] property does not reference an existing Application.")
	}
	var u *userRecord
	creating := top.present("user")
	if creating {
		tenantID := rc.tenantID
		if tenantID == "" && app != nil {
			tenantID = asString(app["tenantId"])
		}
		if tenantID == "" {
			var terr *apiErrors
			if tenantID, terr = s.requireTenant(rc); terr != nil {
				writeErrors(w, http.StatusBadRequest, terr)
				return
			}
		}
		user := top.object("user")
		if user == nil {
			user = map[string]any{}
		}
		req, unsupported := parseNewUserRequest(body, user, errs)
		if unsupported != "" {
			s.writeUnsupported(w, r, unsupported)
			return
		}
		u = s.buildUser(tenantID, id, req, errs)
	} else {
		if id == "" {
			errs.field("userId", "[blank]userId", "You must specify the [userId] on the URI or a [user] in the request body.")
		} else if u = s.visibleUser(rc, id); u == nil {
			writeEmpty(w, http.StatusNotFound)
			return
		}
		if u != nil && app != nil && registrationFor(u, appID) != nil {
			errs.field("registration.applicationId", "[duplicate]registration.applicationId", "The User is already registered for the Application.")
		}
	}
	if errs.has() {
		writeErrors(w, http.StatusBadRequest, errs)
		return
	}
	now := s.now().UnixMilli()
	reg := map[string]any{
		"id":                newUUID(),
		"applicationId":     appID,
		"insertInstant":     now,
		"lastUpdateInstant": now,
		"usernameStatus":    "ACTIVE",
		"verified":          skipRegistrationVerification || !truthy(app["verifyRegistration"]),
	}
	if reg["verified"] == true {
		reg["verifiedInstant"] = now
	}
	roles := rf.strings("roles")
	reg["roles"] = normalize(append([]string{}, roles...))
	if d := rf.object("data"); d != nil {
		reg["data"] = cloneMap(d)
	}
	if n := rf.str("username"); n != "" {
		reg["username"] = n
	}
	if creating {
		u.doc["registrations"] = []any{reg}
		s.insertUser(u)
	} else {
		regs, _ := u.doc["registrations"].([]any)
		u.doc["registrations"] = append(regs, reg)
		u.doc["lastUpdateInstant"] = now
	}
	resp := map[string]any{"registration": cloneMap(reg), "user": cloneMap(u.doc)}
	if tok, exp, err := s.issueUserToken(u, app, "REGISTRATION"); err == nil {
		resp["token"], resp["tokenExpirationInstant"] = tok, exp
	}
	writeJSON(w, http.StatusOK, resp)
}
