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
	// Requests limits the POST /register one client sends, whichever profile they name;
	// nil: no limit.
	Requests *ClientLimit
	Origin   string // e.g. "https://www.changebank.example"; empty: the request's own origin
	Logger   *slog.Logger
}

type registerPage struct {
	Title     string
	Count     watches
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
	problemTooLong    = "That address is too long: an email address here can have at most 191 characters. Please check what you typed."
	problemConverted  = "This profile is already a ChangeBank account, so its email cannot be changed here. Log in to see it."
	problemNotSent    = "We could not send the email just now. Please press the button again in a moment."
	problemBusy       = "Too many sign-up requests have come from your network in the last hour. Please try again later."
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

// get shows the visitor's profile: the form, or "check your email" for the address they
// asked for (free or taken alike), or the sign-in offer once the profile is an account.
// It is also where a successful POST redirects (POST/Redirect/GET), so a reload or the
// back button sends nothing.
func (h *Register) get(w http.ResponseWriter, r *http.Request) {
	v, ok := h.visitor(w, r)
	if !ok {
		return
	}
	h.page(w, r, v, http.StatusOK, registerPage{})
}

// page renders the register page with the visitor's profile read fresh (one call):
// every variant shows the real count. form carries a refused POST's problem and what
// was typed.
func (h *Register) page(w http.ResponseWriter, r *http.Request, v visitor, status int, form registerPage) {
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
	p := registerPage{
		Title:   "Create your account",
		Count:   watchesOf(profile.WatchCount, profile.WatchSeconds),
		Email:   profile.Email,
		Sent:    profile.EmailPending,
		Problem: form.Problem,
	}
	switch {
	case form.Problem != "":
		p.Sent, p.Email = false, form.Email // the form again, holding exactly what was typed
	case p.Sent:
		p.Title = "Check your email"
	}
	render(w, status, "register", p, h.Logger)
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
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			h.page(w, r, v, statusOf(errTooLarge), registerPage{Problem: problemTooLarge})
			return
		}
		h.page(w, r, v, statusOf(errMalformed), registerPage{Problem: problemUnreadable})
		return
	}
	typed := r.PostForm.Get("email")
	email, err := anon.NormalizeEmail(typed)
	if err != nil {
		// Nothing is sent for an address the form would have had to change: refill the
		// form with exactly what was typed and say what is wrong with it.
		h.page(w, r, v, statusOf(err), registerPage{Problem: addressProblem(err), Email: typed})
		return
	}
	if err := h.Requests.allow(r, h.Logger, FunctionRegister); err != nil {
		problem := problemBusy
		if !errors.Is(err, errOverLimit) {
			problem = problemNotSent
		}
		h.page(w, r, v, statusOf(err), registerPage{Problem: problem, Email: email})
		return
	}
	ctx := r.Context()
	req, err := h.Conversions.RequestConversion(ctx, v.userID, email)
	if holder := req.Holder; holder != "" && holder != v.userID {
		// The profile moved to a fresh stub (a change of address): the cookie names it
		// from this response on, whatever else happened.
		setVisitorCookie(w, r, h.CookieName, h.Tokens, holder, h.Logger)
		v = visitor{userID: holder}
	}
	switch {
	case err == nil:
		h.keep(w, r, v)
		step(ctx, h.Logger, slog.LevelInfo, "conversion requested: email accepted", MetricEmailRequested, FunctionRegister)
		if req.Taken {
			// The owner of the address was told; the page says the same as for a free one.
			step(ctx, h.Logger, slog.LevelInfo, "conversion requested: the address is an account's, its owner told", MetricAddressTaken, FunctionRegister)
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, "/register", http.StatusSeeOther)
	case errors.Is(err, anon.ErrGone):
		h.restart(w, r)
	case errors.Is(err, anon.ErrInvalidEmail):
		h.page(w, r, v, statusOf(err), registerPage{Problem: addressProblem(err), Email: typed})
	case errors.Is(err, anon.ErrNotAnonymous):
		h.Logger.InfoContext(ctx, "register refused: the profile is an account", "userId", v.userID, "reason", err)
		h.offerSignIn(w, http.StatusOK, problemConverted)
	case errors.Is(err, anon.ErrEmailNotSent):
		h.Logger.ErrorContext(ctx, "register email not sent", "userId", v.userID, "error", err)
		h.page(w, r, v, statusOf(err), registerPage{Problem: problemNotSent, Email: email})
	default:
		h.Logger.ErrorContext(ctx, "conversion failed", "userId", v.userID, "error", err)
		renderError(w, err, h.Logger)
	}
}

// addressProblem says what is wrong with a refused address.
func addressProblem(err error) string {
	if errors.Is(err, anon.ErrEmailTooLong) {
		return problemTooLong
	}
	return problemInvalid
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
func (h *Register) sameOrigin(r *http.Request) bool { return sameOrigin(r, h.Origin) }

// sameOrigin reports whether r was sent by a page of the site itself: Sec-Fetch-Site
// says same-origin, or, from a browser that sends no fetch metadata, Origin is the
// site's (origin, or the request's own when empty).
func sameOrigin(r *http.Request, origin string) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin"
	}
	got := r.Header.Get("Origin")
	return got != "" && got != "null" && strings.EqualFold(got, expectedOrigin(r, origin))
}

func expectedOrigin(r *http.Request, origin string) string {
	if origin != "" {
		return origin
	}
	scheme := "http"
	if r.TLS != nil || r.URL.Scheme == "https" || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
