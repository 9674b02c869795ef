package site

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/changebank/anonuser/shared/anon"
)

// Conversions is the part of *anon.Converter the register page uses.
type Conversions interface {
	// Visitor reads the visitor's profile. Errors: anon.ErrUserGone.
	Visitor(ctx context.Context, userID string) (anon.Profile, error)
	// RequestConversion sets the email and sends the set-password email. Errors:
	// anon.ErrUserGone, anon.ErrNotAnonymous, anon.ErrEmailNotSent.
	RequestConversion(ctx context.Context, userID, email string) error
}

// Register serves GET and POST /register: an anonymous visitor gives an email and
// FusionAuth mails a link to set a password.
type Register struct {
	Conversions   Conversions
	Tokens        VisitorTokens
	CookieName    string
	FusionAuthURL string // as the visitor's browser reaches it
	ApplicationID string // OAuth client id of the application
	RedirectURI   string // where FusionAuth's registration returns to
	Origin        string // e.g. "https://www.changebank.example"; empty: the request's own origin
	Logger        *slog.Logger
}

type registerPage struct {
	Title     string
	Count     int
	Email     string
	Sent      bool
	Converted bool
	Problem   string
	LoginURL  string
}

// maxFormBytes bounds the form body: one email field.
const maxFormBytes = 4 << 10

// ServeHTTP implements GET and POST /register.
func (h *Register) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.get(w, r)
	case http.MethodPost:
		h.post(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		renderError(w, http.StatusMethodNotAllowed, h.Logger)
	}
}

func (h *Register) get(w http.ResponseWriter, r *http.Request) {
	v, ok := h.visitor(w, r)
	if !ok {
		return
	}
	profile, err := h.Conversions.Visitor(r.Context(), v.userID)
	if errors.Is(err, anon.ErrUserGone) {
		http.SetCookie(w, clearVisitorCookie(h.CookieName))
		http.Redirect(w, r, h.registrationURL(), http.StatusFound)
		return
	}
	if err != nil {
		h.Logger.ErrorContext(r.Context(), "register page failed", "error", err)
		renderError(w, statusFor(err), h.Logger)
		return
	}
	h.keep(w, r, v)
	render(w, http.StatusOK, "register", registerPage{
		Title:     "Create your account",
		Count:     profile.WatchCount,
		Email:     profile.Email,
		Sent:      profile.EmailPending,
		Converted: !profile.Anonymous,
		LoginURL:  h.loginURL(),
	}, h.Logger)
}

func (h *Register) post(w http.ResponseWriter, r *http.Request) {
	if !h.sameOrigin(r) {
		h.Logger.WarnContext(r.Context(), "cross-site registration refused", "origin", r.Header.Get("Origin"), "secFetchSite", r.Header.Get("Sec-Fetch-Site"))
		renderError(w, http.StatusForbidden, h.Logger)
		return
	}
	v, ok := h.visitor(w, r)
	if !ok {
		return
	}
	userID := v.userID
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.keep(w, r, v)
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			render(w, http.StatusRequestEntityTooLarge, "register", registerPage{Title: "Create your account", Problem: "That form was too large. Please enter just your email address."}, h.Logger)
			return
		}
		render(w, http.StatusBadRequest, "register", registerPage{Title: "Create your account", Problem: "We could not read that form. Please enter your email address again."}, h.Logger)
		return
	}
	typed := r.PostForm.Get("email")
	email, err := anon.NormalizeEmail(typed)
	if err != nil {
		h.keep(w, r, v)
		shown := typed
		if len(shown) > 191 { // the input's maxlength (FusionAuth's limit): refill the form only with what it could hold
			shown = ""
		}
		render(w, http.StatusBadRequest, "register", registerPage{Title: "Create your account", Email: shown, Problem: "Please enter a valid email address, like name@example.com."}, h.Logger)
		return
	}
	ctx := r.Context()
	err = h.Conversions.RequestConversion(ctx, userID, email)
	if errors.Is(err, anon.ErrUserGone) {
		http.SetCookie(w, clearVisitorCookie(h.CookieName))
		http.Redirect(w, r, h.registrationURL(), http.StatusSeeOther)
		return
	}
	h.keep(w, r, v)
	switch {
	case err == nil:
		h.Logger.InfoContext(ctx, "conversion requested", "userId", userID)
		render(w, http.StatusOK, "register", registerPage{Title: "Check your email", Email: email, Sent: true}, h.Logger)
	case errors.Is(err, anon.ErrInvalidEmail):
		render(w, http.StatusBadRequest, "register", registerPage{Title: "Create your account", Email: email, Problem: "Please enter a valid email address, like name@example.com."}, h.Logger)
	case errors.Is(err, anon.ErrNotAnonymous):
		render(w, http.StatusConflict, "register", registerPage{Title: "Already an account", Converted: true, LoginURL: h.loginURL(),
			Problem: "This profile is already a ChangeBank account, so its email cannot be changed here. Log in to manage it."}, h.Logger)
	case errors.Is(err, anon.ErrEmailNotSent):
		h.Logger.ErrorContext(ctx, "set-password email not sent", "userId", userID, "error", err)
		render(w, http.StatusServiceUnavailable, "register", registerPage{Title: "Create your account", Email: email,
			Problem: "We saved your address but could not send the email just now. Please press the button again in a moment."}, h.Logger)
	default:
		h.Logger.ErrorContext(ctx, "conversion failed", "userId", userID, "error", err)
		renderError(w, statusFor(err), h.Logger)
	}
}

// visitor is whom a valid cookie names.
type visitor struct {
	userID string
	resign bool // the cookie was signed with an older key: set a fresh one with the page
}

// keep re-signs the visitor's cookie when it was signed with an older key. Called once
// the profile is known to exist, before the page is written.
func (h *Register) keep(w http.ResponseWriter, r *http.Request, v visitor) {
	if v.resign {
		setVisitorCookie(w, r, h.CookieName, h.Tokens, v.userID, h.Logger)
	}
}

// visitor returns the verified visitor; anyone else goes to FusionAuth's own
// registration page (and loses a refused cookie).
func (h *Register) visitor(w http.ResponseWriter, r *http.Request) (visitor, bool) {
	userID, state, resign := readVisitor(r, h.CookieName, h.Tokens, h.Logger)
	if state == cookieValid {
		return visitor{userID: userID, resign: resign}, true
	}
	if state == cookieInvalid {
		http.SetCookie(w, clearVisitorCookie(h.CookieName))
	}
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, h.registrationURL(), status)
	return visitor{}, false
}

// sameOrigin refuses cross-site form posts: the browser's Sec-Fetch-Site when sent,
// else Origin. A POST with neither is refused too; every current browser sends one.
func (h *Register) sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin"
	}
	origin := r.Header.Get("Origin")
	return origin != "" && origin != "null" && strings.EqualFold(origin, h.expectedOrigin(r))
}

func (h *Register) expectedOrigin(r *http.Request) string {
	if h.Origin != "" {
		return h.Origin
	}
	scheme := "http"
	if r.TLS != nil || r.URL.Scheme == "https" || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (h *Register) registrationURL() string {
	q := url.Values{"client_id": {h.ApplicationID}, "response_type": {"code"}, "redirect_uri": {h.RedirectURI}}
	return h.FusionAuthURL + "/oauth2/register?" + q.Encode()
}

func (h *Register) loginURL() string {
	q := url.Values{"client_id": {h.ApplicationID}, "response_type": {"code"}, "redirect_uri": {h.RedirectURI}}
	return h.FusionAuthURL + "/oauth2/authorize?" + q.Encode()
}
