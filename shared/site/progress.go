package site

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/changebank/anonuser/shared/anon"
)

// ProgressPath is where the video page reports watch time (POST, same-origin).
const ProgressPath = "/video/progress"

//go:embed scripts/progress.js
var scriptFS embed.FS

// progressScript is the video page's one script, inline: while the video plays it adds
// up the seconds played and reports them with navigator.sendBeacon on pause, end and
// when the page is hidden. No framework; without JavaScript the page works as before.
// The page's Content-Security-Policy allows exactly this script, by its hash.
var progressScript, progressScriptHash = loadScript("scripts/progress.js")

func loadScript(name string) (template.HTML, string) {
	b, err := scriptFS.ReadFile(name)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	return template.HTML("<script>" + string(b) + "</script>"), "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// maxProgressBytes bounds a report's body: one number.
const maxProgressBytes = 1 << 10

// maxReport bounds the seconds one report may claim before the domain caps it by the
// visit (a day: anything larger is not a number a page sends).
const maxReport = 86_400

// progress serves POST /video/progress: the seconds the visitor (the visitor cookie, or
// a signed-in person's session) watched since the page's last report, as a form or
// JSON field "seconds". It answers 204 with no body whatever was credited; nothing is
// asked of FusionAuth for a report of no seconds or from a visitor with no profile. A
// cross-site report is refused (403) and changes nothing.
func (v *Video) progress(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, v.Logger, http.MethodPost) {
		return
	}
	ctx := r.Context()
	if !sameOrigin(r, v.Origin) {
		v.Logger.WarnContext(ctx, "cross-site progress report refused", "origin", r.Header.Get("Origin"), "secFetchSite", r.Header.Get("Sec-Fetch-Site"))
		w.WriteHeader(statusOf(errCrossSite))
		return
	}
	seconds, err := readSeconds(w, r)
	if err != nil {
		v.Logger.InfoContext(ctx, "progress report refused", "reason", err.Error())
		w.WriteHeader(statusOf(err))
		return
	}
	userID, account := whose(r, v.SessionName, v.Sessions, v.CookieName, v.Tokens, v.Logger)
	if seconds == 0 || userID == "" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	_, credited, err := v.Visits.RecordProgress(ctx, userID, seconds, account)
	switch {
	case errors.Is(err, anon.ErrGone), errors.Is(err, anon.ErrNotAnonymous):
		v.Logger.InfoContext(ctx, "progress not credited: the profile is gone or an account", "userId", userID, "reason", err.Error())
	case errors.Is(err, anon.ErrContended):
		step(ctx, v.Logger, slog.LevelWarn, "watch time dropped: the profile was overtaken by other writes on every attempt", MetricWatchDropped, FunctionVideo, "droppedSeconds", seconds)
	case err != nil:
		// The error (whose text may name the user) is logged once; the drop's metric
		// line carries nothing of it.
		v.Logger.ErrorContext(ctx, "progress report failed", "userId", userID, "error", err)
		step(ctx, v.Logger, slog.LevelWarn, "watch time dropped: the report was not recorded", MetricWatchDropped, FunctionVideo, "droppedSeconds", seconds)
		w.WriteHeader(statusOf(err))
		return
	default:
		v.Logger.DebugContext(ctx, "watch time credited", "userId", userID, "reported", seconds, "credited", credited)
	}
	w.WriteHeader(http.StatusNoContent)
}

// readSeconds reads the report's "seconds": a form field or a JSON number, at least 0,
// whole seconds (a fraction is dropped), at most a day.
func readSeconds(w http.ResponseWriter, r *http.Request) (int, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxProgressBytes)
	var raw string
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" {
		var body struct {
			Seconds *json.Number `json:"seconds"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return 0, bodyError(err)
		}
		if body.Seconds == nil {
			return 0, fmt.Errorf("%w: no seconds", errMalformed)
		}
		raw = body.Seconds.String()
	} else {
		if err := r.ParseForm(); err != nil {
			return 0, bodyError(err)
		}
		raw = r.PostForm.Get("seconds")
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	if err != nil || math.IsNaN(f) || f < 0 {
		return 0, fmt.Errorf("%w: seconds %q", errMalformed, raw)
	}
	return int(min(f, maxReport)), nil
}

// bodyError names a body that was too large or could not be read.
func bodyError(err error) error {
	if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
		return errTooLarge
	}
	return fmt.Errorf("%w: %w", errMalformed, err)
}
