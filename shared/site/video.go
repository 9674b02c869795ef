package site

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/changebank/anonuser/shared/anon"
)

// Video serves GET /video: the first visit creates an anonymous profile, later
// visits count up; a signed-in person's visits count on their account.
type Video struct {
	Visits      Visits
	Tokens      VisitorTokens
	Sessions    SessionTokens
	CookieName  string
	SessionName string
	VideoURL    string
	Origin      string // the site's origin for the progress report's same-origin check; empty: the request's own
	// NewProfiles limits the anonymous profiles one client starts; nil: no limit. Over
	// it the visitor gets the page, uncounted, with no cookie, and nothing is created.
	NewProfiles *ClientLimit
	Logger      *slog.Logger
}

type videoPage struct {
	Title        string
	VideoURL     string
	Counted      bool
	Count        watches
	Converted    bool
	EmailPending bool
	InviteSignIn bool // the visitor cookie named a profile that is now an account
	SignedOut    bool // the landing right after logout
	NotKept      bool // the client is over its limit of new profiles: nothing recorded
	Viewer       viewer
}

// ServeHTTP implements GET and HEAD /video, and POST /video/progress (ProgressPath).
func (v *Video) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == ProgressPath {
		v.progress(w, r)
		return
	}
	if !allowMethods(w, r, v.Logger, http.MethodGet, http.MethodHead) {
		return
	}
	page := videoPage{Title: "Watch", VideoURL: v.VideoURL}
	if v.signedIn(w, r, &page) {
		return
	}
	userID, state, resign := readVisitor(r, v.CookieName, v.Tokens, v.Logger)
	if state == cookieInvalid {
		http.SetCookie(w, clearVisitorCookie(v.CookieName))
		render(w, http.StatusOK, "video", page, v.Logger)
		return
	}
	if isPrefetch(r) || (state == cookieNone && !isBrowserNavigation(r)) {
		// Nothing speculative or automated creates a profile: the page, no stub, no cookie.
		// (FusionAuth's logout page loads /video in a hidden frame: that is not a visit.)
		if state == cookieNone && !isPrefetch(r) && !isBrowserFetch(r) {
			step(r.Context(), v.Logger, slog.LevelInfo, "automated client turned away: page served, nothing created", MetricCrawlerTurnedAway, FunctionVideo)
		}
		render(w, http.StatusOK, "video", page, v.Logger)
		return
	}
	if c, err := r.Cookie(signedOutCookie); err == nil && c.Value != "" && state == cookieNone {
		// Just logged out: say so and offer to log in again; a new anonymous profile
		// starts with the next visit, not on this landing.
		http.SetCookie(w, expired(signedOutCookie, "/video"))
		page.SignedOut = true
		render(w, http.StatusOK, "video", page, v.Logger)
		return
	}
	ctx := r.Context()
	var profile anon.Profile
	var err error
	if state == cookieValid {
		profile, err = v.Visits.RecordWatch(ctx, userID)
		switch {
		case errors.Is(err, anon.ErrContended):
			v.droppedWatch(ctx, "profile")
			err = nil
			if resign {
				setVisitorCookie(w, r, v.CookieName, v.Tokens, userID, v.Logger)
			}
		case errors.Is(err, anon.ErrGone):
			v.Logger.InfoContext(ctx, "cookie names a deleted user; starting a new profile", "userId", userID)
			state = cookieNone
		case errors.Is(err, anon.ErrNotAnonymous):
			// The profile became an account: only signing in reaches it now. Nothing
			// counted or shown, the cookie goes, the page invites sign-in.
			v.Logger.InfoContext(ctx, "visitor cookie names an account; inviting sign-in", "userId", userID)
			http.SetCookie(w, clearVisitorCookie(v.CookieName))
			page.InviteSignIn = true
			render(w, http.StatusOK, "video", page, v.Logger)
			return
		case err == nil && resign:
			setVisitorCookie(w, r, v.CookieName, v.Tokens, userID, v.Logger)
		}
	}
	if state == cookieNone {
		if v.NewProfiles.allow(r, v.Logger, FunctionVideo) != nil {
			// Over the limit or unable to count: the page, uncounted, nothing created.
			page.NotKept = true
			render(w, http.StatusOK, "video", page, v.Logger)
			return
		}
		profile, err = v.Visits.StartProfile(ctx)
		if err == nil {
			setVisitorCookie(w, r, v.CookieName, v.Tokens, profile.UserID, v.Logger)
			step(ctx, v.Logger, slog.LevelInfo, "anonymous profile started", MetricStubCreated, FunctionVideo)
		}
	}
	if err != nil {
		// The visit is not recorded. The error (whose text may name the user) is logged
		// once; the drop's metric line carries nothing of it.
		v.Logger.ErrorContext(ctx, "video visit failed", "error", err)
		step(ctx, v.Logger, slog.LevelWarn, "watch dropped: the visit was not recorded", MetricWatchDropped, FunctionVideo)
		renderError(w, err, v.Logger)
		return
	}
	page.Counted = true
	page.Count = watchesOf(profile.WatchCount, profile.WatchSeconds)
	page.Converted = !profile.Anonymous
	page.EmailPending = profile.EmailPending
	render(w, http.StatusOK, "video", page, v.Logger)
}

// signedIn serves the visit of a person with a valid session and reports whether it
// did: the watch counts on their account, except on the landing right after sign-in
// (the redirect back from FusionAuth is not a watch). A session that is refused, or
// whose account is gone, is cleared and the visit goes on as an anonymous one.
func (v *Video) signedIn(w http.ResponseWriter, r *http.Request, page *videoPage) bool {
	if v.Sessions == nil {
		return false
	}
	userID, state, resign := readSession(r, v.SessionName, v.Sessions, v.Logger)
	if state == cookieInvalid {
		http.SetCookie(w, expired(v.SessionName, "/"))
	}
	if state != cookieValid {
		return false
	}
	ctx := r.Context()
	var profile anon.Profile
	var err error
	watch := false // this visit counts a watch (not the landing, not a prefetch)
	if c, cerr := r.Cookie(welcomeCookie); cerr == nil && c.Value != "" {
		http.SetCookie(w, expired(welcomeCookie, "/video"))
		profile, err = v.Visits.Account(ctx, userID)
	} else if isPrefetch(r) {
		profile, err = v.Visits.Account(ctx, userID)
	} else {
		watch = true
		profile, err = v.Visits.RecordSignedInWatch(ctx, userID)
	}
	switch {
	case errors.Is(err, anon.ErrContended):
		v.droppedWatch(ctx, "account")
		err = nil
	case errors.Is(err, anon.ErrGone):
		v.Logger.InfoContext(ctx, "session names a deleted account; signing out", "userId", userID)
		http.SetCookie(w, expired(v.SessionName, "/"))
		return false
	case err != nil:
		v.Logger.ErrorContext(ctx, "signed-in visit failed", "userId", userID, "error", err)
		if watch {
			step(ctx, v.Logger, slog.LevelWarn, "watch dropped: the signed-in visit was not recorded", MetricWatchDropped, FunctionVideo)
		}
		renderError(w, err, v.Logger)
		return true
	}
	if resign {
		_ = setSessionCookie(w, v.SessionName, v.Sessions, userID) // on failure the old one still works
	}
	page.Counted, page.Count, page.Converted = true, watchesOf(profile.WatchCount, profile.WatchSeconds), true
	page.Viewer = viewer{SignedIn: true, Email: profile.Email}
	render(w, http.StatusOK, "video", *page, v.Logger)
	return true
}

// droppedWatch logs a watch of whose ("profile", "account") lost to other writes on
// every attempt: a metric (WatchDropped), not an error page. The visitor sees the page
// with the count as last read, and the log counts the one watch that was dropped.
func (v *Video) droppedWatch(ctx context.Context, whose string) {
	step(ctx, v.Logger, slog.LevelWarn, "watch count dropped: the "+whose+" was overtaken by other writes on every attempt",
		MetricWatchDropped, FunctionVideo, "droppedWatches", 1)
}

// isBrowserFetch reports a request a browser made for something other than a
// navigation to the page (fetch metadata says so: a frame, a fetch): not a crawler.
func isBrowserFetch(r *http.Request) bool {
	mode, dest := r.Header.Get("Sec-Fetch-Mode"), r.Header.Get("Sec-Fetch-Dest")
	return (mode != "" && mode != "navigate") || (dest != "" && dest != "document")
}
