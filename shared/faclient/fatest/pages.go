package fatest

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The hosted pages stand in for FusionAuth's themed UI with plain HTML forms: enough for
// a browser to set a password from an email link, ask for a new link when one expired,
// register, log in (which fires the login webhook) and come back to the application
// with an authorization code. Like FusionAuth's pages they carry the tenant's theme
// stylesheet in a <style> element (FusionAuth's helpers.ftl inlines
// theme.stylesheet() the same way), so a Kickstart theme restyles them without
// replacing any template.

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
{{if .Refresh}}<meta http-equiv="Refresh" content="2; url={{.Refresh}}">{{end}}
<style>
body{margin:0;font:16px/1.5 system-ui,sans-serif;background:#fff;color:#222}
main{max-width:420px;margin:48px auto;padding:24px;border:1px solid #ddd;border-radius:6px}
label{display:block;margin-top:12px}input{width:100%;box-sizing:border-box;padding:8px}
button,.button{display:inline-block;margin-top:16px;padding:8px 16px}.error{color:#b00}
</style>
{{with .Stylesheet}}<style id="theme-stylesheet">
{{.}}
</style>{{end}}
</head>
<body>
<main>
<h1>{{.Title}}</h1>
{{if .Error}}<p class="error alert" role="alert" id="error">{{.Error}}</p>{{end}}
{{if .Message}}<p class="message" id="message">{{.Message}}</p>{{end}}
{{if .Form}}<form method="post" action="{{.Action}}">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}{{range .Fields}}<p><label for="{{.Name}}">{{.Label}}</label>
<input id="{{.Name}}" name="{{.Name}}" type="{{.Type}}" value="{{.Value}}" autocomplete="{{.Autocomplete}}"{{if .Required}} required{{end}}{{if .Describe}} aria-describedby="password-rules"{{end}}></p>
{{if .Describe}}{{with $.Rules}}<div class="password-rules" id="password-rules"><p>Your password must:</p><ul>{{range .}}<li>{{.}}</li>{{end}}</ul></div>{{end}}{{end}}
{{end}}<p><button type="submit" id="submit">{{.Submit}}</button></p>
</form>{{end}}
{{if .LinkURL}}<p class="link"><a id="link"{{if .LinkPrimary}} class="button"{{end}} href="{{.LinkURL}}">{{.LinkText}}</a></p>{{end}}
{{range .Frames}}<iframe src="{{.}}" style="width:0;height:0;border:0" title="logout"></iframe>{{end}}
</main>
</body>
</html>
`))

type pageField struct {
	Name, Label, Type, Value, Autocomplete string
	Required                               bool
	Describe                               bool // the password rules describe this field
}

type hiddenField struct{ Name, Value string }

type pageData struct {
	Title, Error, Message, LinkURL, LinkText string
	LinkPrimary                              bool // the link is the page's next step: a button
	Form                                     bool
	Action, Submit                           string
	Hidden                                   []hiddenField
	Fields                                   []pageField
	Rules                                    []string     // the tenant's password rules, shown before submitting
	Refresh                                  string       // a URL to go on to after two seconds (logout)
	Frames                                   []string     // logout URLs loaded in hidden frames
	Stylesheet                               template.CSS // the tenant theme's stylesheet
}

// writePage renders a hosted page in the theme of tenantID ("" for none).
func (s *Server) writePage(w http.ResponseWriter, status int, tenantID string, d pageData) {
	d.Stylesheet = template.CSS(s.themeStylesheet(tenantID))
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, d); err != nil {
		s.log.Error("fatest: render page", "err", err)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// readForm answers a GET with the form and reports false; a POST's form is parsed
// (an unreadable one answered 400) and readForm reports whether the handler goes on.
func (s *Server) readForm(w http.ResponseWriter, r *http.Request, tenantID string, form pageData) bool {
	if r.Method == http.MethodGet {
		s.writePage(w, http.StatusOK, tenantID, form)
		return false
	}
	if err := r.ParseForm(); err != nil {
		s.writePage(w, http.StatusBadRequest, tenantID, pageData{Title: "Bad request", Error: "The form could not be read."})
		return false
	}
	return true
}

// passwordRulesLocked words the tenant's passwordValidationRules for a form, as
// FusionAuth's passwordRules macro does. Callers hold s.mu.
func (s *Server) passwordRulesLocked(tenantID string) []string {
	rm, minLen, maxLen := s.passwordRulesOf(tenantID)
	out := []string{fmt.Sprintf("be between %d and %d characters long", minLen, maxLen)}
	if truthy(rm["requireMixedCase"]) {
		out = append(out, "contain upper and lower case letters")
	}
	if truthy(rm["requireNumber"]) {
		out = append(out, "contain at least one number")
	}
	if truthy(rm["requireNonAlpha"]) {
		out = append(out, "contain at least one character that is not a letter")
	}
	return out
}

// handlePasswordChangePage serves GET/POST /password/change/{changePasswordId}. A link
// that expired or was used offers to send a new one. Once the password is set, the page
// links to the application's login with the login id filled in (login_hint).
func (s *Server) handlePasswordChangePage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id := r.PathValue("changePasswordId")
	s.mu.Lock()
	cp, u := s.liveChangePasswordLocked(id)
	tenantID := s.pageTenantLocked(r.URL.Query(), u)
	rules := s.passwordRulesLocked(tenantID)
	s.mu.Unlock()
	form := pageData{
		Title: "Set your password", Form: true, Action: r.URL.RequestURI(), Submit: "Set password", Rules: rules,
		Fields: []pageField{
			{Name: "password", Label: "Password", Type: "password", Autocomplete: "new-password", Required: true, Describe: true},
			{Name: "passwordConfirm", Label: "Confirm password", Type: "password", Autocomplete: "new-password", Required: true},
		},
	}
	if cp == nil {
		s.writePage(w, http.StatusNotFound, tenantID, s.forgotForm(r.URL.Query(), tenantID, "Link expired",
			"This link has expired or was already used. Enter your email and we will send you a new one."))
		return
	}
	if !s.readForm(w, r, tenantID, form) {
		return
	}
	password := r.PostForm.Get("password")
	if confirm, ok := r.PostForm["passwordConfirm"]; ok && confirm[0] != password {
		form.Error = "The passwords do not match."
		s.writePage(w, http.StatusOK, tenantID, form)
		return
	}
	s.mu.Lock()
	cp, u = s.liveChangePasswordLocked(id)
	var status int
	var body any
	var loginURL string
	if cp != nil {
		loginURL = s.loginURLLocked(u, r.URL.Query())
		status, body = s.changePasswordByIDLocked(id, password, "", false, false)
	}
	s.mu.Unlock()
	switch {
	case cp == nil || status == http.StatusNotFound:
		s.writePage(w, http.StatusNotFound, tenantID, s.forgotForm(r.URL.Query(), tenantID, "Link expired",
			"This link has expired or was already used. Enter your email and we will send you a new one."))
	case status == http.StatusBadRequest:
		form.Error = pageErrorText(body)
		s.writePage(w, http.StatusOK, tenantID, form)
	default:
		done := pageData{Title: "Password set", Message: "Your password has been set."}
		if loginURL != "" {
			done.LinkURL, done.LinkText, done.LinkPrimary = loginURL, "Log in", true
		}
		s.writePage(w, http.StatusOK, tenantID, done)
	}
}

// pageTenantLocked is the tenant a page is for: the user's, else the tenantId of the
// query, else client_id's application's. Callers hold s.mu.
func (s *Server) pageTenantLocked(q url.Values, u *userRecord) string {
	if u != nil {
		return u.tenantID()
	}
	if id, ok := canonicalUUID(q.Get("tenantId")); ok && s.state.tenants[id] != nil {
		return id
	}
	if id, ok := canonicalUUID(q.Get("client_id")); ok && s.state.applications[id] != nil {
		return asString(s.state.applications[id]["tenantId"])
	}
	return ""
}

// forgotForm is the form that asks for a (new) set-password link.
func (s *Server) forgotForm(q url.Values, tenantID, title, message string) pageData {
	action := "/password/forgot?" + url.Values{"tenantId": {tenantID}, "client_id": {q.Get("client_id")}}.Encode()
	return pageData{
		Title: title, Message: message, Form: true, Action: action, Submit: "Send me a new link",
		Fields: []pageField{{Name: "email", Label: "Email", Type: "email", Autocomplete: "email", Required: true}},
	}
}

// handleForgotPage serves GET/POST /password/forgot: FusionAuth's hosted forgot-password
// form. It sends the tenant's (or client_id's application's) forgot-password email and
// answers the same page whether or not the address has an account.
func (s *Server) handleForgotPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	q := r.URL.Query()
	s.mu.RLock()
	tenantID := s.pageTenantLocked(q, nil)
	s.mu.RUnlock()
	if tenantID == "" {
		s.writePage(w, http.StatusBadRequest, "", pageData{Title: "Bad request", Error: "Missing tenantId or client_id."})
		return
	}
	if !s.readForm(w, r, tenantID, s.forgotForm(q, tenantID, "Forgot password", "Enter your email and we will send you a link to set a new password.")) {
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	s.mu.Lock()
	u := s.findByLoginID(tenantID, email, nil)
	var app map[string]any
	if id, ok := canonicalUUID(q.Get("client_id")); ok {
		app = s.state.applications[id]
	}
	if u != nil && u.active() && recipient(u) != "" {
		if err := s.sendForgotLocked(u, app, nil); err != nil {
			s.log.Error("fatest: forgot-password page email not sent", "user", u.id(), "err", err)
		}
	}
	s.mu.Unlock()
	s.writePage(w, http.StatusOK, tenantID, pageData{Title: "Check your email",
		Message: "If " + email + " has an account, we sent it a link to set a new password."})
}

// sendForgotLocked starts a forgot-password flow for u and sends the application's (else
// the tenant's) forgot-password email. Callers hold s.mu.
func (s *Server) sendForgotLocked(u *userRecord, app map[string]any, state map[string]any) error {
	v, _ := lookupPath(app, "emailConfiguration.forgotPasswordEmailTemplateId")
	templateID := asString(v)
	if templateID == "" {
		v, _ = lookupPath(s.state.tenants[u.tenantID()], "emailConfiguration.forgotPasswordEmailTemplateId")
		templateID = asString(v)
	}
	if templateID == "" || s.state.templates[templateID] == nil {
		return errors.New("the tenant has no forgot-password template")
	}
	ttl := s.tenantSeconds(u.tenantID(), "externalIdentifierConfiguration.changePasswordIdTimeToLiveInSeconds", 600)
	id := s.newChangePasswordIDLocked(u, "", state, ttl, true)
	vars := map[string]any{"changePasswordId": id}
	if state != nil {
		vars["state"] = cloneMap(state)
	}
	if app != nil {
		vars["application"] = cloneMap(app)
	}
	_, err := s.sendTemplateLocked(templateID, u, vars)
	return err
}

// pageErrorText turns an Errors body into one line for a page.
func pageErrorText(body any) string {
	e, ok := body.(*apiErrors)
	if !ok {
		return "The request could not be completed."
	}
	var msgs []string
	for _, k := range sortedKeys(e.FieldErrors) {
		for _, fe := range e.FieldErrors[k] {
			msgs = append(msgs, fe.Message)
		}
	}
	for _, ge := range e.GeneralErrors {
		msgs = append(msgs, ge.Message)
	}
	return strings.Join(msgs, " ")
}

// loginURLLocked is the hosted login page, with u's login id filled in (login_hint),
// for the application named by client_id in q, else u's tenant's first application
// with a redirect URL. Callers hold s.mu.
func (s *Server) loginURLLocked(u *userRecord, q url.Values) string {
	var app map[string]any
	if id, ok := canonicalUUID(q.Get("client_id")); ok {
		app = s.state.applications[id]
	}
	if app == nil {
		for _, id := range sortedKeys(s.state.applications) {
			a := s.state.applications[id]
			if id == AdminApplicationID || a["tenantId"] != u.tenantID() {
				continue
			}
			if urls, _ := lookupPath(a, "oauthConfiguration.authorizedRedirectURLs"); len(asSlice(urls)) > 0 {
				app = a
				break
			}
		}
	}
	if app == nil {
		return ""
	}
	redirect := q.Get("redirect_uri")
	urls, _ := lookupPath(app, "oauthConfiguration.authorizedRedirectURLs")
	if redirect == "" || !slices.Contains(asSlice(urls), any(redirect)) {
		if list := asSlice(urls); len(list) > 0 {
			redirect = asString(list[0])
		}
	}
	v := url.Values{"client_id": {asString(app["id"])}, "redirect_uri": {redirect}, "response_type": {"code"}}
	if e := u.email(); e != "" {
		v.Set("login_hint", e)
	}
	return "/oauth2/authorize?" + v.Encode()
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// handleRegisterPage serves GET/POST /oauth2/register: self-service registration (email
// and password) for applications that enable it, with the same OAuth parameters as
// /oauth2/authorize; a registration logs the person in (SSO session) and redirects with
// a code.
func (s *Server) handleRegisterPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	req, app, ok := s.validOAuthRequest(w, r)
	if !ok {
		return
	}
	tenantID := asString(app["tenantId"])
	s.mu.RLock()
	v, _ := lookupPath(app, "registrationConfiguration.enabled")
	rules := s.passwordRulesLocked(tenantID)
	s.mu.RUnlock()
	if !truthy(v) {
		s.writePage(w, http.StatusOK, tenantID, pageData{Title: "Registration", Error: "Self-service registration is not enabled for this application."})
		return
	}
	login := "/oauth2/authorize?" + r.URL.RawQuery
	form := pageData{
		Title: "Create an account", Form: true, Action: r.URL.RequestURI(), Submit: "Register", Rules: rules,
		Fields: []pageField{
			{Name: "email", Label: "Email", Type: "email", Autocomplete: "email", Required: true},
			{Name: "password", Label: "Password", Type: "password", Autocomplete: "new-password", Required: true, Describe: true},
		},
		LinkURL: login, LinkText: "Already have an account? Log in",
	}
	if !s.readForm(w, r, tenantID, form) {
		return
	}
	form.Fields[0].Value = r.PostForm.Get("email")
	errs := &apiErrors{}
	nr := newUserRequest{
		user:        map[string]any{"email": r.PostForm.Get("email")},
		password:    r.PostForm.Get("password"),
		hasPassword: r.PostForm.Get("password") != "",
	}
	s.mu.Lock()
	appID := asString(app["id"])
	u := s.buildUser(tenantID, "", nr, errs)
	if errs.has() {
		s.mu.Unlock()
		form.Error = pageErrorText(errs)
		s.writePage(w, http.StatusOK, tenantID, form)
		return
	}
	now := s.now().UnixMilli()
	u.doc["registrations"] = []any{map[string]any{
		"id": newUUID(), "applicationId": appID, "roles": []any{}, "insertInstant": now,
		"lastUpdateInstant": now, "lastLoginInstant": now, "usernameStatus": "ACTIVE", "verified": true, "verifiedInstant": now,
	}}
	u.doc["lastLoginInstant"] = now
	s.insertUser(u)
	s.mu.Unlock()
	s.startSSO(w, u.id(), tenantID)
	s.redirectWithCode(w, req, u.id(), "PASSWORD", s.now().Unix())
}
