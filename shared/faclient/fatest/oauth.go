package fatest

import (
	"cmp"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// FusionAuth's OAuth 2.0 / OpenID Connect front end, as far as the sign-in needs it:
// the hosted login page (/oauth2/authorize) with PKCE, state, nonce, login_hint and an
// SSO session; the token endpoint (authorization_code only) with client authentication
// and PKCE verification, codes single-use and short-lived; ID tokens signed with the
// application's ID-token key; /oauth2/logout; and the discovery document. What each
// behaviour rests on is said where it is implemented.

// ssoCookie is the name of FusionAuth's SSO session cookie.
const ssoCookie = "fusionauth.sso"

// authGrant is an issued authorization code: who logged in, for which client and
// redirect, with the PKCE challenge, nonce and scope of the authorize request.
type authGrant struct {
	userID, clientID, redirectURI string
	challenge, challengeMethod    string
	nonce, scope                  string
	authType                      string
	authTime                      int64 // epoch seconds of the login
	expires                       time.Time
}

// ssoSession is a browser's FusionAuth SSO session: a later /oauth2/authorize for an
// application of the same tenant completes without the login form.
type ssoSession struct {
	userID, tenantID string
	authTime         int64
	expires          time.Time
}

// oauthRequest is the query of an authorize (or register) request.
type oauthRequest struct {
	clientID, redirectURI, responseType, state string
	scope, nonce, challenge, challengeMethod   string
	loginHint, prompt                          string
}

func parseOAuthRequest(q url.Values) oauthRequest {
	return oauthRequest{
		clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), responseType: q.Get("response_type"),
		state: q.Get("state"), scope: q.Get("scope"), nonce: q.Get("nonce"),
		challenge: q.Get("code_challenge"), challengeMethod: q.Get("code_challenge_method"),
		loginHint: q.Get("login_hint"), prompt: q.Get("prompt"),
	}
}

// oauthAppLocked validates client_id, redirect_uri and response_type: an unknown
// client or a redirect URI that is not exactly one of the application's authorized
// redirect URLs is an error page (never a redirect to an unverified URI, RFC 6749
// §4.1.2.1); a bad response_type or PKCE parameter is an error sent to the (verified)
// redirect URI. It returns the application, or the page problem, or the redirect error
// type and FusionAuth's error_reason. Callers hold s.mu.
func (s *Server) oauthAppLocked(req oauthRequest) (app map[string]any, problem, errType, reason string) {
	id, ok := canonicalUUID(req.clientID)
	app = s.state.applications[id]
	if !ok || app == nil {
		return nil, "Invalid client_id: no such application.", "", ""
	}
	urls, _ := lookupPath(app, "oauthConfiguration.authorizedRedirectURLs")
	if !slices.Contains(asSlice(urls), any(req.redirectURI)) {
		return nil, "Invalid redirect_uri: it is not an authorized redirect URL of the application.", "", ""
	}
	switch {
	case req.responseType != "code":
		return app, "", "unsupported_response_type", "invalid_response_type"
	case req.challengeMethod != "" && req.challenge == "":
		return app, "", "invalid_request", "missing_code_challenge"
	case req.challengeMethod != "" && req.challengeMethod != "S256":
		// FusionAuth documents S256 as the only code_challenge_method (OAuth endpoints
		// doc, /oauth2/authorize: "The possible values are: S256"), so plain is refused
		// like any other value. The refusal's shape is the documented one for a bad
		// authorize parameter once the redirect URI is verified: an OAuth error on the
		// redirect (error, error_reason, error_description, state; "OAuthError",
		// "Redirect Parameters"), with the documented error_reason
		// invalid_pkce_code_challenge_method. No capture of FusionAuth answering
		// plain was found; invalid_request is the OAuth 2.0 error for an unsupported
		// parameter value (RFC 6749 §4.1.2.1, RFC 7636 §4.4.1).
		return app, "", "invalid_request", "invalid_pkce_code_challenge_method"
	case req.challenge == "":
		// FusionAuth's proofKeyForCodeExchangePolicy: Required refuses a request
		// without a challenge; NotRequired (the default) and
		// NotRequiredWhenUsingClientAuthentication accept it.
		if p, _ := lookupPath(app, "oauthConfiguration.proofKeyForCodeExchangePolicy"); asString(p) == "Required" {
			return app, "", "invalid_request", "missing_code_challenge"
		}
	}
	return app, "", "", ""
}

// redirectOAuthError sends the browser back to the verified redirect URI with an
// OAuth error, the state echoed.
func redirectOAuthError(w http.ResponseWriter, req oauthRequest, errType, reason string) {
	redirectBack(w, req, url.Values{
		"error":             {errType},
		"error_reason":      {reason},
		"error_description": {"The authorization request was refused: " + reason},
	})
}

// redirectBack sends the browser to the request's verified redirect URI with params
// added to its query and the state echoed.
func redirectBack(w http.ResponseWriter, req oauthRequest, params url.Values) {
	target, _ := url.Parse(req.redirectURI)
	q := target.Query()
	maps.Copy(q, params)
	if req.state != "" {
		q.Set("state", req.state)
	}
	target.RawQuery = q.Encode()
	w.Header().Set("Location", target.String())
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

// validOAuthRequest reads and validates the query of a hosted OAuth page; on a problem
// it answers (an error page, or a redirect with the error) and reports false.
func (s *Server) validOAuthRequest(w http.ResponseWriter, r *http.Request) (oauthRequest, map[string]any, bool) {
	req := parseOAuthRequest(r.URL.Query())
	s.mu.RLock()
	app, problem, errType, reason := s.oauthAppLocked(req)
	s.mu.RUnlock()
	switch {
	case problem != "":
		s.writePage(w, http.StatusBadRequest, asString(app["tenantId"]), pageData{Title: "Bad request", Error: problem})
		return req, nil, false
	case errType != "":
		redirectOAuthError(w, req, errType, reason)
		return req, nil, false
	}
	return req, app, true
}

// handleAuthorizePage serves GET/POST /oauth2/authorize: with a live SSO session for
// the application's tenant it redirects with a code at once (prompt=login forces the
// form); otherwise it shows the login form, pre-filled from login_hint, and a
// successful login (through the same path as the Login API, so user.login.success
// fires) starts an SSO session and redirects with a code.
func (s *Server) handleAuthorizePage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	req, app, ok := s.validOAuthRequest(w, r)
	if !ok {
		return
	}
	tenantID := asString(app["tenantId"])
	if r.Method == http.MethodGet && req.prompt != "login" {
		if sess := s.liveSSO(r, tenantID); sess != nil {
			// Resuming an SSO session is not a login: no user.login.success, no
			// lastLoginInstant (inferred: FusionAuth records the login that started
			// the session).
			s.redirectWithCode(w, req, sess.userID, "PASSWORD", sess.authTime)
			return
		}
	}
	forgot := "/password/forgot?" + url.Values{"client_id": {asString(app["id"])}, "tenantId": {tenantID}}.Encode()
	form := pageData{
		Title: "Log in", Form: true, Action: r.URL.RequestURI(), Submit: "Log in",
		Fields: []pageField{
			{Name: "loginId", Label: "Email", Type: "email", Value: req.loginHint, Autocomplete: "username", Required: true},
			{Name: "password", Label: "Password", Type: "password", Autocomplete: "current-password", Required: true},
		},
		LinkURL: forgot, LinkText: "Forgot your password?",
	}
	if !s.readForm(w, r, tenantID, form) {
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
			if need, _ := lookupPath(app, "oauthConfiguration.requireRegistration"); truthy(need) {
				form.Error = "You are not registered for this application."
				s.writePage(w, http.StatusOK, tenantID, form)
				return
			}
		}
		s.startSSO(w, res.userID, tenantID)
		s.redirectWithCode(w, req, res.userID, "PASSWORD", s.now().Unix())
	case http.StatusBadRequest, http.StatusNotFound:
		form.Error = "Invalid login credentials."
		s.writePage(w, http.StatusOK, tenantID, form)
	case http.StatusLocked:
		form.Error = "Your account has been locked."
		s.writePage(w, http.StatusOK, tenantID, form)
	case http.StatusGone:
		form.Error = "Your account has expired."
		s.writePage(w, http.StatusOK, tenantID, form)
	case 203:
		form.Error = "You must change your password before you can log in."
		s.writePage(w, http.StatusOK, tenantID, form)
	default:
		s.writePage(w, http.StatusInternalServerError, tenantID, pageData{Title: "Error", Error: "Login could not be completed. Try again later."})
	}
}

// redirectWithCode issues an authorization code for userID under req and redirects to
// its redirect_uri with the code, the state echoed, and FusionAuth's locale and
// userState parameters.
func (s *Server) redirectWithCode(w http.ResponseWriter, req oauthRequest, userID, authType string, authTime int64) {
	code := randomToken(32)
	s.mu.Lock()
	id, _ := canonicalUUID(req.clientID)
	app := s.state.applications[id]
	ttl := s.tenantSeconds(asString(app["tenantId"]), "externalIdentifierConfiguration.authorizationGrantIdTimeToLiveInSeconds", 30)
	s.state.authCodes[code] = &authGrant{
		userID: userID, clientID: asString(app["id"]), redirectURI: req.redirectURI,
		challenge: req.challenge, challengeMethod: req.challengeMethod, nonce: req.nonce, scope: req.scope,
		authType: authType, authTime: authTime, expires: s.now().Add(ttl),
	}
	s.mu.Unlock()
	redirectBack(w, req, url.Values{"code": {code}, "locale": {"en"}, "userState": {"Authenticated"}})
}

// startSSO starts an SSO session for userID and sets its cookie (HttpOnly; not Secure,
// because this server speaks plain HTTP on loopback).
func (s *Server) startSSO(w http.ResponseWriter, userID, tenantID string) {
	id := randomToken(32)
	s.mu.Lock()
	// FusionAuth's tenant httpSessionMaxInactiveInterval (default 3600 s) bounds the
	// session without "remember this device".
	ttl := s.tenantSeconds(tenantID, "httpSessionMaxInactiveInterval", 3600)
	s.state.ssoSessions[id] = &ssoSession{userID: userID, tenantID: tenantID, authTime: s.now().Unix(), expires: s.now().Add(ttl)}
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// liveSSO returns the request's SSO session when it is live, of tenantID, and its user
// still exists and is active.
func (s *Server) liveSSO(r *http.Request, tenantID string) *ssoSession {
	c, err := r.Cookie(ssoCookie)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.state.ssoSessions[c.Value]
	if sess == nil || !s.now().Before(sess.expires) {
		delete(s.state.ssoSessions, c.Value)
		return nil
	}
	if u := s.state.users[sess.userID]; u == nil || !u.active() || sess.tenantID != tenantID {
		return nil
	}
	return sess
}

// oauthError is the body of a refused token request (FusionAuth's OAuthError).
func writeOAuthError(w http.ResponseWriter, status int, errType, reason, description string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="FusionAuth"`)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]any{"error": errType, "error_reason": reason, "error_description": description})
}

// handleToken serves POST /oauth2/token for grant_type=authorization_code: the client
// authenticates (HTTP Basic, or client_id and client_secret in the form; the
// application's clientAuthenticationPolicy defaults to Required), the code must be
// live, unused, issued to this client for this redirect_uri, and the code_verifier must
// match its challenge. A code is spent by the first request that names it with valid
// client credentials, whatever the outcome (RFC 6749 §4.1.2: used at most once).
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if mt := r.Header.Get("Content-Type"); !strings.HasPrefix(mt, "application/x-www-form-urlencoded") {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "unknown", "The request must be application/x-www-form-urlencoded.")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "unknown", "The form could not be read.")
		return
	}
	f := r.PostForm
	clientID, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 §2.3.1: the client id and secret are form-encoded before Basic.
		clientID, _ = url.QueryUnescape(clientID)
		secret, _ = url.QueryUnescape(secret)
	} else {
		clientID, secret = f.Get("client_id"), f.Get("client_secret")
	}
	if clientID == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "missing_client_id", "The request is missing the client_id.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	appID, _ := canonicalUUID(clientID)
	app := s.state.applications[appID]
	if app == nil {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "invalid_client_id", "The client_id is not an application.")
		return
	}
	oc, _ := app["oauthConfiguration"].(map[string]any)
	policy := asString(oc["clientAuthenticationPolicy"])
	switch {
	case secret == "" && policy != "NotRequired" && policy != "NotRequiredWhenUsingPKCE":
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client_authentication_missing", "Client authentication is required.")
		return
	case secret != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(asString(oc["clientSecret"]))) != 1:
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "invalid_client_authentication", "The client could not be authenticated.")
		return
	}
	switch gt := f.Get("grant_type"); {
	case gt == "":
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "missing_grant_type", "The request is missing the grant_type.")
		return
	case gt != "authorization_code":
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "invalid_grant_type", "This server implements only the authorization_code grant.")
		return
	case !slices.Contains(asSlice(oc["enabledGrants"]), any("authorization_code")):
		writeOAuthError(w, http.StatusBadRequest, "unauthorized_client", "grant_type_disabled", "The authorization_code grant is not enabled for this application.")
		return
	}
	code := f.Get("code")
	if code == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "missing_code", "The request is missing the code.")
		return
	}
	g := s.state.authCodes[code]
	delete(s.state.authCodes, code)
	switch {
	case g == nil || !s.now().Before(g.expires):
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "auth_code_not_found", "The authorization code is not valid: it expired, was used, or never existed.")
		return
	case g.clientID != appID:
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "client_id_mismatch", "The authorization code was issued to another client.")
		return
	case f.Get("redirect_uri") != g.redirectURI:
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "invalid_redirect_uri", "The redirect_uri does not match the authorization request.")
		return
	}
	if g.challenge != "" {
		verifier := f.Get("code_verifier")
		if verifier == "" {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "missing_code_verifier", "The request is missing the code_verifier.")
			return
		}
		if !pkceMatches(g.challenge, g.challengeMethod, verifier) {
			writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "invalid_pkce_code_verifier", "The code_verifier does not match the code_challenge.")
			return
		}
	}
	u := s.state.users[g.userID]
	if u == nil || !u.active() {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "user_not_found", "The user of the authorization code no longer exists.")
		return
	}
	registered := registrationFor(u, appID) != nil
	tokenApp := app
	if !registered {
		tokenApp = nil
	}
	access, expMillis, err := s.issueUserToken(u, tokenApp, g.authType)
	if err != nil {
		s.log.Error("fatest: sign access token", "err", err)
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "unknown", "The access token could not be signed.")
		return
	}
	resp := map[string]any{
		"access_token": access,
		"expires_in":   (expMillis - s.now().UnixMilli()) / 1000,
		"token_type":   "Bearer",
		"userId":       u.id(),
	}
	if g.scope != "" {
		resp["scope"] = g.scope
	}
	if slices.Contains(strings.Fields(g.scope), "openid") {
		idt, err := s.issueIDToken(u, app, g, access)
		if err != nil {
			s.log.Error("fatest: sign ID token", "err", err)
			writeOAuthError(w, http.StatusInternalServerError, "server_error", "unknown", "The ID token could not be signed.")
			return
		}
		resp["id_token"] = idt
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
}

// pkceMatches checks a code_verifier against its challenge (RFC 7636 §4.6): S256 is
// BASE64URL(SHA256(verifier)). An explicit plain never gets here (oauthAppLocked refuses
// it); a challenge sent without a method is compared as plain, RFC 7636 §4.3's default,
// because what FusionAuth does with a challenge and no method is not documented.
func pkceMatches(challenge, method, verifier string) bool {
	want := verifier
	if method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		want = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}

// idTokenKeyID is the key an application signs ID tokens with: its own
// jwtConfiguration.idTokenKeyId when enabled, else its tenant's. Callers hold s.mu.
func (s *Server) idTokenKeyID(app map[string]any) string {
	if enabled, _ := lookupPath(app, "jwtConfiguration.enabled"); truthy(enabled) {
		if id, _ := lookupPath(app, "jwtConfiguration.idTokenKeyId"); asString(id) != "" {
			return asString(id)
		}
	}
	id, _ := lookupPath(s.state.tenants[asString(app["tenantId"])], "jwtConfiguration.idTokenKeyId")
	return asString(id)
}

// issueIDToken signs the OpenID Connect ID token of a code exchange with the
// application's ID-token key: iss (the tenant's issuer), sub, aud (the client id), exp,
// iat, auth_time, nonce (when the authorize request had one), at_hash, email and
// email_verified. Callers hold s.mu.
func (s *Server) issueIDToken(u *userRecord, app map[string]any, g *authGrant, accessToken string) (string, error) {
	k := s.state.keys[s.idTokenKeyID(app)]
	if k == nil || !k.asymmetric() {
		// An HMAC ID-token key would be signed with the client secret; nothing here
		// configures one.
		s.countUnsupported()
		return "", errUnsupportedIDTokenKey
	}
	now := s.now()
	tenant := s.state.tenants[u.tenantID()]
	sum := sha256.Sum256([]byte(accessToken))
	claims := map[string]any{
		"iss":                asString(tenant["issuer"]),
		"sub":                u.id(),
		"aud":                asString(app["id"]),
		"iat":                now.Unix(),
		"exp":                now.Unix() + s.tokenTTL(u.tenantID(), app),
		"auth_time":          g.authTime,
		"jti":                newUUID(),
		"tid":                u.tenantID(),
		"authenticationType": g.authType,
		"at_hash":            base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2]),
	}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	if e := u.email(); e != "" {
		claims["email"] = e
		claims["email_verified"] = u.doc["verified"] == true
	}
	return signJWT(k, claims)
}

// handleLogout serves GET /oauth2/logout: it ends the browser's SSO session and, as
// FusionAuth's oauth2Logout template does (fusionauth-theme-history
// themes/oauth2Logout.ftl), answers a "Logging out" page that loads the logout URL of
// every application of the tenant in hidden frames and then refreshes to the redirect.
//
// The OAuth endpoints doc (Logout) gives the logout URL of each application as: its
// own logoutURL, else the tenant's logoutURL, else "/". The redirect is
// post_logout_redirect_uri when it is an authorized redirect URL of the application,
// else the application's logout URL so determined. Without a client_id "the logout URL
// defined in the Tenant configuration will be utilized" (same doc); the tenant is then
// the tenantId parameter's, which the doc says is used for applying the theme
// (fusionauth-site PR #741: FusionAuth resolves the tenant from client_id when it has
// one), else the Default tenant.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	q := r.URL.Query()
	s.mu.Lock()
	if c, err := r.Cookie(ssoCookie); err == nil {
		delete(s.state.ssoSessions, c.Value)
	}
	var app map[string]any
	if id, ok := canonicalUUID(q.Get("client_id")); ok {
		app = s.state.applications[id]
	}
	tenantID := asString(app["tenantId"])
	if tenantID == "" {
		tenantID = s.state.defaultTenantID
		if id, ok := canonicalUUID(q.Get("tenantId")); ok && s.state.tenants[id] != nil {
			tenantID = id
		}
	}
	tenantLogout, _ := lookupPath(s.state.tenants[tenantID], "logoutURL")
	logoutURL := func(a map[string]any) string {
		if v, _ := lookupPath(a, "oauthConfiguration.logoutURL"); asString(v) != "" {
			return asString(v)
		}
		return asString(tenantLogout)
	}
	redirect := cmp.Or(logoutURL(app), "/")
	if p := q.Get("post_logout_redirect_uri"); p != "" {
		if urls, _ := lookupPath(app, "oauthConfiguration.authorizedRedirectURLs"); slices.Contains(asSlice(urls), any(p)) {
			redirect = p
		}
	}
	var frames []string
	for _, id := range sortedKeys(s.state.applications) {
		a := s.state.applications[id]
		if v := logoutURL(a); a["tenantId"] == tenantID && v != "" && !slices.Contains(frames, v) {
			frames = append(frames, v)
		}
	}
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	s.writePage(w, http.StatusOK, tenantID, pageData{Title: "Logging out", Message: "You are being logged out.", Refresh: redirect, Frames: frames,
		LinkURL: redirect, LinkText: "Continue"})
}

// handleDiscovery serves the OpenID Provider metadata of a tenant in the three forms
// FusionAuth answers: GET /.well-known/openid-configuration?tenantId= (the Default
// tenant without it; OAuth endpoints doc, "OpenID Configuration"),
// /{tenantId}/.well-known/openid-configuration (same doc, since 1.46.0) and
// /.well-known/openid-configuration/{tenantId} (the form FusionAuth served before,
// fusionauth-issues #2259, oauth2-proxy/oauth2-proxy#2102). The issuer is the tenant's
// issuer; the endpoints are this server's URLs as the caller reached it. An unknown
// or malformed tenant id gets 404 with no body: what FusionAuth answers there is not
// settled (fusionauth-issues #2538, open: "If you use an invalid tenantId we should
// return a 404").
func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id := cmp.Or(r.PathValue("tenantId"), r.URL.Query().Get("tenantId"))
	s.mu.RLock()
	tenantID := s.state.defaultTenantID
	if id != "" {
		c, ok := canonicalUUID(id)
		if !ok || s.state.tenants[c] == nil {
			s.mu.RUnlock()
			writeEmpty(w, http.StatusNotFound)
			return
		}
		tenantID = c
	}
	issuer := asString(s.state.tenants[tenantID]["issuer"])
	s.mu.RUnlock()
	base := "http://" + r.Host
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                base + "/oauth2/authorize",
		"token_endpoint":                        base + "/oauth2/token",
		"userinfo_endpoint":                     base + "/oauth2/userinfo",
		"end_session_endpoint":                  base + "/oauth2/logout",
		"jwks_uri":                              base + "/.well-known/jwks.json",
		"response_types_supported":              []any{"code"},
		"response_modes_supported":              []any{"query"},
		"grant_types_supported":                 []any{"authorization_code"},
		"subject_types_supported":               []any{"public"},
		"id_token_signing_alg_values_supported": []any{"RS256", "RS384", "RS512"},
		"scopes_supported":                      []any{"openid", "email", "profile", "offline_access"},
		"token_endpoint_auth_methods_supported": []any{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []any{"S256"}, // the only documented method (see oauthAppLocked)
		"claims_supported":                      []any{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "email", "email_verified"},
		"frontchannel_logout_supported":         true,
		"backchannel_logout_supported":          false,
	})
}
