package site

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/changebank/anonuser/shared/anon"
)

// Visits is the part of *anon.Service the video page uses.
type Visits interface {
	// StartProfile creates a stub user and vends its cookie token.
	StartProfile(ctx context.Context) (anon.Profile, string, error)
	// RecordWatch counts one more watch. Errors: anon.ErrUserGone.
	RecordWatch(ctx context.Context, userID string) (anon.Profile, error)
}

// Video serves GET /video: the first visit creates an anonymous profile, later
// visits count up.
type Video struct {
	Visits     Visits
	Tokens     TokenVerifier
	CookieName string
	VideoURL   string
	Logger     *slog.Logger
}

type videoPage struct {
	Title        string
	VideoURL     string
	Counted      bool
	Count        int
	Converted    bool
	EmailPending bool
}

// ServeHTTP implements GET and HEAD /video.
func (v *Video) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		renderError(w, http.StatusMethodNotAllowed, v.Logger)
		return
	}
	page := videoPage{Title: "Watch", VideoURL: v.VideoURL}
	userID, state := readVisitor(r, v.CookieName, v.Tokens, v.Logger)
	if state == cookieInvalid {
		http.SetCookie(w, anon.ClearCookie(v.CookieName))
		render(w, http.StatusOK, "video", page, v.Logger)
		return
	}
	if isPrefetch(r) {
		render(w, http.StatusOK, "video", page, v.Logger)
		return
	}
	ctx := r.Context()
	var profile anon.Profile
	var err error
	if state == cookieValid {
		profile, err = v.Visits.RecordWatch(ctx, userID)
		if errors.Is(err, anon.ErrUserGone) {
			v.Logger.InfoContext(ctx, "cookie names a deleted user; starting a new profile", "userId", userID)
			state = cookieNone
		}
	}
	if state == cookieNone {
		var token string
		profile, token, err = v.Visits.StartProfile(ctx)
		if err == nil {
			http.SetCookie(w, anon.NewCookie(v.CookieName, token))
			v.Logger.InfoContext(ctx, "anonymous profile started", "userId", profile.UserID)
		}
	}
	if err != nil {
		v.Logger.ErrorContext(ctx, "video visit failed", "error", err)
		renderError(w, statusFor(err), v.Logger)
		return
	}
	page.Counted = true
	page.Count = profile.WatchCount
	page.Converted = !profile.Anonymous
	page.EmailPending = profile.EmailPending
	render(w, http.StatusOK, "video", page, v.Logger)
}
