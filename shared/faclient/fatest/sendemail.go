package fatest

import (
	"net/http"
	"strconv"
	"strings"
)

// handleSendEmail serves POST /api/email/send/{emailTemplateId}, the Send Email API
// (FusionAuth's Email APIs, "Send an Email"): the template is rendered for each user of
// userIds (in the request's tenant) and each address of toAddresses (which need not
// belong to a user, since 1.28.0) and recorded in the outbox. The template sees user
// (for userIds only), tenant, baseUrl, application (when applicationId is given) and
// requestData. The answer is 202, as FusionAuth documents it, with an empty object when
// every email was queued, else the recipients whose template failed to render
// (results by user id, anonymousResults by address). The codes of the refusals (no
// recipient, an unknown template or application or user) are inferred, not documented.
func (s *Server) handleSendEmail(w http.ResponseWriter, r *http.Request, rc *reqCtx, templateID string) {
	f, ok := readFields(w, r)
	if !ok {
		return
	}
	errs := f.errs
	userIDs := f.strings("userIds")
	requestData := f.object("requestData")
	appID := f.str("applicationId")
	var addresses []string
	if raw, present := f.m["toAddresses"]; present && raw != nil {
		list, isList := raw.([]any)
		if !isList {
			errs.field("toAddresses", "[invalid]toAddresses", "The [toAddresses] property must be an array of {address, display}.")
		}
		for i, v := range list {
			a, _ := v.(map[string]any)
			addr := strings.TrimSpace(asString(a["address"]))
			if addr == "" || !validEmail(strings.ToLower(addr)) {
				errs.field("toAddresses", "[invalid]toAddresses", "The [toAddresses] property has an entry without a valid [address] (entry "+strconv.Itoa(i)+").")
				continue
			}
			addresses = append(addresses, addr)
		}
	}
	if len(userIDs) == 0 && len(addresses) == 0 && !errs.has() {
		errs.field("userIds", "[blank]userIds", "You must specify at least one recipient in [userIds] or [toAddresses].")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.templates[templateID] == nil {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	var app map[string]any
	if appID != "" {
		id, ok := canonicalUUID(appID)
		if app = s.state.applications[id]; !ok || app == nil {
			errs.field("applicationId", "[invalid]applicationId", "The [applicationId] property does not reference an existing Application.")
		}
	}
	var users []*userRecord
	for _, id := range userIDs {
		c, _ := canonicalUUID(id)
		u := s.visibleUser(rc, c)
		if u == nil {
			errs.field("userIds", "[invalid]userIds", "The [userIds] property contains an Id ["+id+"] that does not reference an existing User.")
			continue
		}
		users = append(users, u)
	}
	if errs.has() {
		writeErrors(w, http.StatusBadRequest, errs)
		return
	}
	tenantID := rc.tenantID
	if tenantID == "" {
		tenantID = s.state.defaultTenantID
	}
	vars := map[string]any{}
	if app != nil {
		vars["application"] = cloneMap(app)
	}
	if requestData != nil {
		vars["requestData"] = cloneMap(requestData)
	}
	results, anonymous := map[string]any{}, map[string]any{}
	for _, u := range users {
		if _, err := s.sendTemplateLocked(templateID, u, vars); err != nil {
			results[u.id()] = map[string]any{"renderErrors": map[string]any{"template": err.Error()}}
		}
	}
	for _, addr := range addresses {
		if _, err := s.renderTemplateLocked(templateID, tenantID, addr, "", vars); err != nil {
			anonymous[addr] = map[string]any{"renderErrors": map[string]any{"template": err.Error()}}
		}
	}
	resp := map[string]any{}
	if len(results) > 0 {
		resp["results"] = results
	}
	if len(anonymous) > 0 {
		resp["anonymousResults"] = anonymous
	}
	writeJSON(w, http.StatusAccepted, resp)
}
