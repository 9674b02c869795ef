package fatest

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
)

// randomToken returns n random bytes as unpadded base64url (FusionAuth's id format:
// 32 bytes give the 43-character changePasswordId).
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

var firstURL = regexp.MustCompile(`https?://[^\s"'<>]+`)

// recipient is where FusionAuth sends a user's mail: the email, else data.email.
func recipient(u *userRecord) string {
	if e := u.email(); e != "" {
		return e
	}
	if d, ok := u.doc["data"].(map[string]any); ok {
		return asString(d["email"])
	}
	return ""
}

// sendTemplateLocked renders an email template for a user and records it in the outbox.
// vars are the template's variables beyond user, tenant and baseUrl. A template that
// cannot be rendered is not sent (FusionAuth logs an event-log entry and carries on), so
// the error is only logged by callers. Callers hold s.mu.
func (s *Server) sendTemplateLocked(templateID string, u *userRecord, vars map[string]any) (Email, error) {
	et := s.state.templates[templateID]
	if et == nil {
		return Email{}, fmt.Errorf("send email: template %s does not exist", templateID)
	}
	tenant := s.state.tenants[u.tenantID()]
	// baseUrl (FusionAuth 1.68+): the application's baseURL, else the tenant's, else a
	// local fallback (here the server's own address).
	base := s.url
	if b := asString(tenant["baseURL"]); b != "" {
		base = b
	}
	if app, ok := vars["application"].(map[string]any); ok && asString(app["baseURL"]) != "" {
		base = asString(app["baseURL"])
	}
	all := map[string]any{
		"user":    cloneMap(u.doc),
		"tenant":  cloneMap(tenant),
		"baseUrl": strings.TrimRight(base, "/"),
	}
	for k, v := range vars {
		if v != nil {
			all[k] = v
		}
	}
	subject, err := et.subject.Render(all)
	if err != nil {
		return Email{}, fmt.Errorf("render subject of template %s: %w", templateID, err)
	}
	html, err := et.html.Render(all)
	if err != nil {
		return Email{}, fmt.Errorf("render HTML of template %s: %w", templateID, err)
	}
	text, err := et.text.Render(all)
	if err != nil {
		return Email{}, fmt.Errorf("render text of template %s: %w", templateID, err)
	}
	from := asString(et.doc["fromEmail"])
	if from == "" {
		v, _ := lookupPath(tenant, "emailConfiguration.defaultFromEmail")
		from = asString(v)
	}
	e := Email{
		To:         recipient(u),
		From:       from,
		TemplateID: templateID,
		Subject:    subject,
		Text:       text,
		HTML:       html,
		UserID:     u.id(),
		SentAt:     s.now(),
		Link:       firstURL.FindString(text),
	}
	if st, ok := vars["state"].(map[string]any); ok {
		e.State = cloneMap(st)
	}
	if id, ok := vars["changePasswordId"].(string); ok {
		e.ChangePasswordID = id
	}
	s.recordEmail(e)
	return e, nil
}
