package site

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/changebank/anonuser/shared/anon"
)

// Register serves GET and POST /register: an anonymous visitor gives an email and
// FusionAuth mails a link to set a password.
type Register struct {
	Conversions Conversions
	Tokens      VisitorTokens
	Sessions    SessionTokens // a signed-in person has an account already
	CookieName  string
	SessionName string
	Origin      string // e.g. "https://www.changebank.example"; empty: the request's own origin
	Logger      *slog.Logger
}

type registerPage struct {
	Title     string
	Count     int
	Email     string
	Sent      bool
	Converted bool
	Problem   string
	LoginURL  string
	Viewer    viewer
}

// maxFormBytes bounds the form body: one email field.
const maxFormBytes = 4 << 10

// What the register page says when a POST is refused.
const (
	problemTooLarge   = "That form was too large. Please enter just your email address."
	problemUnreadable = "We could not read that form. Please enter your email address again."
	problemInvalid    = "Please enter a valid email address, like name@example.com."
	problemConverted  = "This profile is already a ChangeBank account, so its email cannot be changed here. Log in to see it."
	problemNotSent    = "We saved your address but could not send the email just now. Please press the button again in a moment."
)

// ServeHTTP implements GET and POST /register.
func (h *Register) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.get(w, r)
	case http.MethodPost:
		h.post(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		renderError(w, errMethod, h.Logger)
	}
}

func (h *Register) get(w http.ResponseWriter, r *http.Request) {
	v, ok := h.visitor(w, r)
	if !ok {
		return
	}
	profile, err := h.Conversions.Visitor(r.Context(), v.userID)
	if errors.Is(err, anon.ErrGone) {
		h.restart(w, r)
		return
	}
	if err != nil {
		h.Logger.ErrorContext(r.Context(), "register page failed", "error", err)
		renderError(w, err, h.Logger)
		return
	}
	if !profile.Anonymous {
		h.offerSignIn(w, http.StatusOK, "")
		return
	}
	h.keep(w, r, v)
	render(w, http.StatusOK, "register", registerPage{
		Title: "Create your account",
		Count: profile.WatchCount,
		Email: profile.Email,
		Sent:  profile.EmailPending,
	}, h.Logger)
}

// offerSignIn answers a visitor whose anonymous profile has become an account: the
// anonymous cookie no longer reaches it, so it goes, and the page offers sign-in,
// showing nothing of the account.
func (h *Register) offerSignIn(w http.ResponseWriter, status int, problem string) {
	http.SetCookie(w, clearVisitorCookie(h.CookieName))
	render(w, status, "register", registerPage{Title: "Already an account", Converted: true, LoginURL: LoginPath, Problem: problem}, h.Logger)
}

func (h *Register) post(w http.ResponseWriter, r *http.Request) {
	if !h.sameOrigin(r) {
		h.Logger.WarnContext(r.Context(), "cross-site registration refused", "origin", r.Header.Get("Origin"), "secFetchSite", r.Header.Get("Sec-Fetch-Site"))
		renderError(w, errCrossSite, h.Logger)
		return
	}
	v, ok := h.visitor(w, r)
	if !ok {
		return
	}
	form := registerPage{Title: "Create your account"}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.keep(w, r, v)
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			form.Problem = problemTooLarge
			render(w, statusOf(errTooLarge), "register", form, h.Logger)
			return
		}
		form.Problem = problemUnreadable
		render(w, statusOf(errMalformed), "register", form, h.Logger)
		return
	}
	typed := r.PostForm.Get("email")
	email, err := anon.NormalizeEmail(typed)
	if err != nil {
		h.keep(w, r, v)
		// Refill the form only with what its maxlength lets it hold.
		if len(typed) <= anon.MaxEmailLen {
			form.Email = typed
		}
		form.Problem = problemInvalid
		render(w, statusOf(err), "register", form, h.Logger)
		return
	}
	ctx := r.Context()
	err = h.Conversions.RequestConversion(ctx, v.userID, email)
	if errors.Is(err, anon.ErrGone) {
		h.restart(w, r)
		return
	}
	h.keep(w, r, v)
	form.Email = email
	switch {
	case err == nil:
		h.Logger.InfoContext(ctx, "conversion requested", "userId", v.userID)
		form.Title, form.Sent = "Check your email", true
	case errors.Is(err, anon.ErrInvalidEmail):
		form.Problem = problemInvalid
	case errors.Is(err, anon.ErrNotAnonymous):
		h.offerSignIn(w, http.StatusOK, problemConverted)
		return
	case errors.Is(err, anon.ErrEmailNotSent):
		h.Logger.ErrorContext(ctx, "set-password email not sent", "userId", v.userID, "error", err)
		form.Problem = problemNotSent
	default:
		h.Logger.ErrorContext(ctx, "conversion failed", "userId", v.userID, "error", err)
		renderError(w, err, h.Logger)
		return
	}
	render(w, statusOf(err), "register", form, h.Logger)
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

// restart sends a visitor whose profile is gone to FusionAuth's registration page,
// without the cookie that names it.
func (h *Register) restart(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, clearVisitorCookie(h.CookieName))
	h.toRegistration(w, r)
}

// visitor returns the verified visitor; a signed-in person goes to the video, anyone
// else to FusionAuth's registration page (and loses a refused cookie).
func (h *Register) visitor(w http.ResponseWriter, r *http.Request) (visitor, bool) {
	if h.Sessions != nil {
		if _, state, _ := readSession(r, h.SessionName, h.Sessions, h.Logger); state == cookieValid {
			// A signed-in person has an account: their page is the video.
			http.Redirect(w, r, "/video", http.StatusSeeOther)
			return visitor{}, false
		}
	}
	userID, state, resign := readVisitor(r, h.CookieName, h.Tokens, h.Logger)
	switch state {
	case cookieValid:
		return visitor{userID: userID, resign: resign}, true
	case cookieInvalid:
		http.SetCookie(w, clearVisitorCookie(h.CookieName))
	}
	h.toRegistration(w, r)
	return visitor{}, false
}

// toRegistration starts a sign-in on FusionAuth's registration page (/login, so that
// the code comes back to /callback with this app's state and PKCE): 302 for a GET, 303
// after a POST so that the browser follows with a GET.
func (h *Register) toRegistration(w http.ResponseWriter, r *http.Request) {
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, LoginPath+"?screen=register", status)
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
