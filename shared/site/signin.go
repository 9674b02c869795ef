package site

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/signin"
	"github.com/changebank/anonuser/shared/token"
)

// SignIn serves GET /login, GET /callback and GET /logout: sign-in through
// FusionAuth's hosted login (OAuth 2.0 Authorization Code with PKCE, state and nonce),
// the session cookie, and what becomes of the visitor's anonymous profile.
type SignIn struct {
	Flow        SignInFlow
	FlowTokens  FlowTokens
	Sessions    SessionTokens
	Visitors    VisitorTokens
	Accounts    Settler
	CookieName  string // the visitor cookie
	SessionName string // the session cookie
	Logger      *slog.Logger
}

// Paths SignIn serves.
const (
	LoginPath    = "/login"
	CallbackPath = "/callback"
	LogoutPath   = "/logout"
)

// signinPage is the page of a sign-in that did not complete.
type signinPage struct {
	Title, Heading, Message string
	Viewer                  viewer
}

// ServeHTTP dispatches GET and HEAD by path.
func (h *SignIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, h.Logger, http.MethodGet, http.MethodHead) {
		return
	}
	switch r.URL.Path {
	case LoginPath:
		h.login(w, r)
	case CallbackPath:
		h.callback(w, r)
	case LogoutPath:
		h.logout(w, r)
	default:
		renderError(w, errNotFound, h.Logger)
	}
}

// login starts a sign-in: a fresh flow kept in a short-lived cookie that only
// /callback receives, and a redirect to FusionAuth's login page (?screen=register: its
// registration page). A person already signed in goes back to the video.
func (h *SignIn) login(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if _, state, _ := readSession(r, h.SessionName, h.Sessions, h.Logger); state == cookieValid {
		http.Redirect(w, r, "/video", http.StatusFound)
		return
	}
	screen := signin.Login
	if r.URL.Query().Get("screen") == "register" {
		screen = signin.Register
	}
	flow, target, err := h.Flow.Start(screen)
	if err == nil {
		var value string
		if value, err = h.FlowTokens.Sign(flow); err == nil {
			http.SetCookie(w, flowCookieOf(value))
		}
	}
	if err != nil {
		h.Logger.ErrorContext(r.Context(), "sign-in not started", "error", err)
		renderError(w, err, h.Logger)
		return
	}
	http.Redirect(w, r, target, http.StatusFound)
}

// callback finishes a sign-in. Whatever happens the flow cookie is spent. A refusal is
// a page saying what to do, with the way back to /login, and changes nothing: no
// session, no profile touched. On success the visitor's stub is settled (converted, or
// merged into the account), the anonymous cookie is replaced by the session, and the
// browser goes to /video so that the code leaves the address bar.
func (h *SignIn) callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	var flow *token.Flow
	if c, err := r.Cookie(flowCookie); err == nil && c.Value != "" {
		f, err := h.FlowTokens.Verify(c.Value)
		if err != nil {
			h.Logger.WarnContext(ctx, "sign-in flow cookie refused", "reason", token.Reason(err))
		} else {
			flow = &f
		}
		http.SetCookie(w, expired(flowCookie, CallbackPath))
	}
	id, err := h.Flow.Finish(ctx, r.URL.Query(), flow)
	if errors.Is(err, signin.ErrUnsolicited) {
		// FusionAuth logged the person in on its own pages (after they set a password):
		// that code is never exchanged, but FusionAuth's SSO session completes a sign-in
		// this app starts, without asking for the password again.
		h.Logger.InfoContext(ctx, "sign-in not started here; starting one")
		http.Redirect(w, r, LoginPath, http.StatusFound)
		return
	}
	if err != nil {
		h.refuse(w, r, err)
		return
	}
	stubID, visitorState, _ := readVisitor(r, h.CookieName, h.Visitors, h.Logger)
	if visitorState == cookieValid {
		settled, err := h.Accounts.SignedIn(ctx, id.UserID, stubID)
		if err != nil {
			// Nothing is signed in yet and the visitor cookie stays, so that trying
			// again (FusionAuth's SSO session makes it one click) settles the stub.
			h.refuse(w, r, err, "userId", id.UserID, "stubId", stubID)
			return
		}
		h.Logger.InfoContext(ctx, "signed in", "userId", id.UserID, "stubId", stubID, "settled", settledName[settled])
		switch settled {
		case anon.Converted:
			step(ctx, h.Logger, slog.LevelInfo, "anonymous user converted at sign-in", MetricConverted, FunctionRegister)
		case anon.Merged:
			step(ctx, h.Logger, slog.LevelInfo, "anonymous profile merged into the account at sign-in", MetricMerged, FunctionRegister)
		}
	} else {
		h.Logger.InfoContext(ctx, "signed in", "userId", id.UserID)
	}
	if visitorState != cookieNone {
		http.SetCookie(w, clearVisitorCookie(h.CookieName))
	}
	if err := setSessionCookie(w, h.SessionName, h.Sessions, id.UserID); err != nil {
		h.Logger.ErrorContext(ctx, "session not signed", "userId", id.UserID, "error", err)
		renderError(w, err, h.Logger)
		return
	}
	// "signed in" above is the audit record, naming whom; the metric's line names nobody.
	step(ctx, h.Logger, slog.LevelInfo, "sign-in completed", MetricSignedIn, FunctionRegister)
	http.SetCookie(w, welcomeCookieOf())
	http.Redirect(w, r, "/video", http.StatusSeeOther)
}

var settledName = map[anon.Settled]string{anon.NothingToSettle: "nothing", anon.Converted: "converted", anon.Merged: "merged", anon.ConvertedBefore: "converted before"}

// refuse answers a sign-in that did not complete: the status statusOf gives the error
// and a page that says what happened and offers to try again. It logs the error once,
// with attrs.
func (h *SignIn) refuse(w http.ResponseWriter, r *http.Request, err error, attrs ...any) {
	status := statusOf(err)
	p := signinPage{Title: "Sign-in did not complete", Heading: "We could not sign you in"}
	switch {
	case errors.Is(err, signin.ErrDenied):
		p.Message = "The sign-in was cancelled or refused on the login page. Nothing was changed."
	case errors.Is(err, signin.ErrState):
		p.Message = "This sign-in link has expired or was started in another browser or tab. Nothing was changed; please sign in again."
	case errors.Is(err, signin.ErrCode):
		p.Message = "This sign-in link was already used or has expired. Nothing was changed; please sign in again."
	case errors.Is(err, signin.ErrIDToken):
		p.Message = "We could not confirm who signed in, so nobody was signed in. Please sign in again."
	default:
		p.Heading = "We are briefly unavailable"
		p.Message = "Signing in is not possible for a moment. Nothing you did here was lost; please try again shortly."
	}
	attrs = append(attrs, "status", status, "error", err)
	if status < http.StatusInternalServerError {
		h.Logger.WarnContext(r.Context(), "sign-in refused", attrs...)
	} else {
		h.Logger.ErrorContext(r.Context(), "sign-in failed", attrs...)
	}
	render(w, status, "signin", p, h.Logger)
}

// logout ends the session on this device and sends the browser to FusionAuth's logout,
// which ends FusionAuth's SSO session and comes back to /video.
func (h *SignIn) logout(w http.ResponseWriter, r *http.Request) {
	if userID, state, _ := readSession(r, h.SessionName, h.Sessions, h.Logger); state == cookieValid {
		h.Logger.InfoContext(r.Context(), "signed out", "userId", userID)
	}
	http.SetCookie(w, expired(h.SessionName, "/"))
	http.SetCookie(w, expired(welcomeCookie, "/video"))
	http.SetCookie(w, signedOutCookieOf())
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, h.Flow.LogoutURL(), http.StatusFound)
}
