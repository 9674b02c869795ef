package fatest

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The hosted pages stand in for FusionAuth's themed UI with plain HTML forms: enough for
// a browser test to set a password from an email link, log in (which fires the login
// webhook) and come back to the application with an authorization code.

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body>
<main>
<h1>{{.Title}}</h1>
{{if .Error}}<p class="error" role="alert" id="error">{{.Error}}</p>{{end}}
{{if .Message}}<p class="message" id="message">{{.Message}}</p>{{end}}
{{if .LinkURL}}<p><a id="link" href="{{.LinkURL}}">{{.LinkText}}</a></p>{{end}}
{{if .Form}}<form method="post" action="{{.Action}}">
{{range .Fields}}<p><label for="{{.Name}}">{{.Label}}</label>
<input id="{{.Name}}" name="{{.Name}}" type="{{.Type}}" value="{{.Value}}" autocomplete="{{.Autocomplete}}"{{if .Required}} required{{end}}></p>
{{end}}<p><button type="submit" id="submit">{{.Submit}}</button></p>
</form>{{end}}
</main>
</body>
</html>
`))

type pageField struct {
	Name, Label, Type, Value, Autocomplete string
	Required                               bool
}

type pageData struct {
	Title, Error, Message, LinkURL, LinkText string
	Form                                     bool
	Action, Submit                           string
	Fields                                   []pageField
}

func writePage(w http.ResponseWriter, status int, d pageData) {
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, d); err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// handlePasswordChangePage serves GET/POST /password/change/{changePasswordId}.
func (s *Server) handlePasswordChangePage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id := r.PathValue("changePasswordId")
	form := pageData{
		Title: "Set your password", Form: true, Action: r.URL.RequestURI(), Submit: "Set password",
		Fields: []pageField{
			{Name: "password", Label: "Password", Type: "password", Autocomplete: "new-password", Required: true},
			{Name: "passwordConfirm", Label: "Confirm password", Type: "password", Autocomplete: "new-password", Required: true},
		},
	}
	expired := pageData{Title: "Link expired", Error: "This link is invalid or has expired. Ask for a new one."}
	if r.Method == http.MethodGet {
		s.mu.Lock()
		cp, _ := s.liveChangePasswordLocked(id)
		s.mu.Unlock()
		if cp == nil {
			writePage(w, http.StatusNotFound, expired)
			return
		}
		writePage(w, http.StatusOK, form)
		return
	}
	if err := r.ParseForm(); err != nil {
		writePage(w, http.StatusBadRequest, pageData{Title: "Bad request", Error: "The form could not be read."})
		return
	}
	password := r.PostForm.Get("password")
	if confirm, ok := r.PostForm["passwordConfirm"]; ok && confirm[0] != password {
		form.Error = "The passwords do not match."
		writePage(w, http.StatusOK, form)
		return
	}
	s.mu.Lock()
	cp, u := s.liveChangePasswordLocked(id)
	var status int
	var body any
	var loginURL string
	if cp != nil {
		loginURL = s.loginURLLocked(u.tenantID(), r.URL.Query())
		status, body = s.changePasswordByIDLocked(id, password, "", false, false)
	}
	s.mu.Unlock()
	switch {
	case cp == nil || status == http.StatusNotFound:
		writePage(w, http.StatusNotFound, expired)
	case status == http.StatusBadRequest:
		form.Error = pageErrorText(body)
		writePage(w, http.StatusOK, form)
	default:
		done := pageData{Title: "Password set", Message: "Your password has been set."}
		if loginURL != "" {
			done.LinkURL, done.LinkText = loginURL, "Log in"
		}
		writePage(w, http.StatusOK, done)
	}
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

// loginURLLocked is the hosted login page for the application named by client_id in q,
// else the tenant's first application with a redirect URL. Callers hold s.mu.
func (s *Server) loginURLLocked(tenantID string, q url.Values) string {
	var app map[string]any
	if id, ok := canonicalUUID(q.Get("client_id")); ok {
		app = s.state.applications[id]
	}
	if app == nil {
		for _, id := range sortedKeys(s.state.applications) {
			a := s.state.applications[id]
			if id == AdminApplicationID || a["tenantId"] != tenantID {
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
	return "/oauth2/authorize?" + v.Encode()
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// oauthApp validates client_id, redirect_uri and response_type of an OAuth page request.
// It returns the application or an error message. Callers hold s.mu.
func (s *Server) oauthAppLocked(q url.Values) (map[string]any, string) {
	id, ok := canonicalUUID(q.Get("client_id"))
	app := s.state.applications[id]
	if !ok || app == nil {
		return nil, "Invalid client_id: no such application."
	}
	if q.Get("response_type") != "code" {
		return nil, "Invalid response_type: only code is supported."
	}
	urls, _ := lookupPath(app, "oauthConfiguration.authorizedRedirectURLs")
	if !slices.Contains(asSlice(urls), any(q.Get("redirect_uri"))) {
		return nil, "Invalid redirect_uri: it is not an authorized redirect URL of the application."
	}
	return app, ""
}

// redirectWithCode issues an authorization code for userID and redirects to redirect_uri.
func (s *Server) redirectWithCode(w http.ResponseWriter, q url.Values, userID string) {
	code := randomToken(32)
	s.mu.Lock()
	s.state.authCodes[code] = userID
	s.mu.Unlock()
	target, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		writePage(w, http.StatusBadRequest, pageData{Title: "Bad request", Error: "Invalid redirect_uri."})
		return
	}
	params := target.Query()
	params.Set("code", code)
	params.Set("locale", "en")
	params.Set("userState", "Authenticated")
	if st := q.Get("state"); st != "" {
		params.Set("state", st)
	}
	target.RawQuery = params.Encode()
	w.Header().Set("Location", target.String())
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

// handleAuthorizePage serves GET/POST /oauth2/authorize: a login form that logs in through
// the same path as the Login API (so user.login.success fires) and redirects with a code.
func (s *Server) handleAuthorizePage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	q := r.URL.Query()
	s.mu.RLock()
	app, problem := s.oauthAppLocked(q)
	s.mu.RUnlock()
	if problem != "" {
		writePage(w, http.StatusBadRequest, pageData{Title: "Bad request", Error: problem})
		return
	}
	form := pageData{
		Title: "Log in", Form: true, Action: r.URL.RequestURI(), Submit: "Log in",
		Fields: []pageField{
			{Name: "loginId", Label: "Email", Type: "text", Autocomplete: "username", Required: true},
			{Name: "password", Label: "Password", Type: "password", Autocomplete: "current-password", Required: true},
		},
	}
	if r.Method == http.MethodGet {
		writePage(w, http.StatusOK, form)
		return
	}
	if err := r.ParseForm(); err != nil {
		writePage(w, http.StatusBadRequest, pageData{Title: "Bad request", Error: "The form could not be read."})
		return
	}
	form.Fields[0].Value = r.PostForm.Get("loginId")
	res := s.login(r.Context(), loginInput{
		loginID:       strings.TrimSpace(r.PostForm.Get("loginId")),
		password:      r.PostForm.Get("password"),
		applicationID: asString(app["id"]),
		ipAddress:     clientIP(r),
		userAgent:     r.UserAgent(),
	})
	switch res.status {
	case http.StatusOK, http.StatusAccepted:
		if res.status == http.StatusAccepted {
			if req, _ := lookupPath(app, "oauthConfiguration.requireRegistration"); truthy(req) {
				form.Error = "You are not registered for this application."
				writePage(w, http.StatusOK, form)
				return
			}
		}
		s.redirectWithCode(w, q, res.userID)
	case http.StatusBadRequest, http.StatusNotFound:
		form.Error = "Invalid login credentials."
		writePage(w, http.StatusOK, form)
	case http.StatusLocked:
		form.Error = "Your account has been locked."
		writePage(w, http.StatusOK, form)
	case http.StatusGone:
		form.Error = "Your account has expired."
		writePage(w, http.StatusOK, form)
	case 203:
		form.Error = "You must change your password before you can log in."
		writePage(w, http.StatusOK, form)
	default:
		writePage(w, http.StatusInternalServerError, pageData{Title: "Error", Error: "Login could not be completed. Try again later."})
	}
}

// handleRegisterPage serves GET/POST /oauth2/register: self-service registration (email
// and password) for applications that enable it.
func (s *Server) handleRegisterPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	q := r.URL.Query()
	s.mu.RLock()
	app, problem := s.oauthAppLocked(q)
	enabled := false
	if app != nil {
		v, _ := lookupPath(app, "registrationConfiguration.enabled")
		enabled = truthy(v)
	}
	s.mu.RUnlock()
	if problem != "" {
		writePage(w, http.StatusBadRequest, pageData{Title: "Bad request", Error: problem})
		return
	}
	if !enabled {
		writePage(w, http.StatusOK, pageData{Title: "Registration", Error: "Self-service registration is not enabled for this application."})
		return
	}
	form := pageData{
		Title: "Create an account", Form: true, Action: r.URL.RequestURI(), Submit: "Register",
		Fields: []pageField{
			{Name: "email", Label: "Email", Type: "email", Autocomplete: "email", Required: true},
			{Name: "password", Label: "Password", Type: "password", Autocomplete: "new-password", Required: true},
		},
	}
	if r.Method == http.MethodGet {
		writePage(w, http.StatusOK, form)
		return
	}
	if err := r.ParseForm(); err != nil {
		writePage(w, http.StatusBadRequest, pageData{Title: "Bad request", Error: "The form could not be read."})
		return
	}
	form.Fields[0].Value = r.PostForm.Get("email")
	errs := &apiErrors{}
	req := newUserRequest{
		user:        map[string]any{"email": r.PostForm.Get("email")},
		password:    r.PostForm.Get("password"),
		hasPassword: r.PostForm.Get("password") != "",
	}
	s.mu.Lock()
	appID := asString(app["id"])
	u := s.buildUser(asString(app["tenantId"]), "", req, errs)
	if errs.has() {
		s.mu.Unlock()
		form.Error = pageErrorText(errs)
		writePage(w, http.StatusOK, form)
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
	s.redirectWithCode(w, q, u.id())
}
