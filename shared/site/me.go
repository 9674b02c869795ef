package site

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/metrics"
)

// The visitor's own data: what the site recorded, in plain words; a download of it; and
// erasure, for an anonymous profile by its cookie or a signed-in person's account.
const (
	MePath       = "/me"
	MeDataPath   = "/me/data.json"
	MeForgetPath = "/me/forget"
)

// OwnData is what the visitor's pages need (*anon.Accounts).
type OwnData interface {
	// Export returns the user's JSON object without secrets. Errors: anon.ErrGone,
	// anon.ErrNotAnonymous (account false and the user is an account), anon.ErrUnavailable.
	Export(ctx context.Context, userID string, account bool) (map[string]any, error)
	// Forget deletes the user; a user already gone is no error. It reports whether it
	// deleted anything. Errors: anon.ErrNotAnonymous, anon.ErrUnavailable.
	Forget(ctx context.Context, userID string, account bool) (bool, error)
}

var _ OwnData = (*anon.Accounts)(nil)

// Me serves GET /me, GET /me/data.json and POST /me/forget.
type Me struct {
	Data        OwnData
	Tokens      VisitorTokens
	Sessions    SessionTokens
	CookieName  string
	SessionName string
	Origin      string // the site's origin for the forget form's same-origin check; empty: the request's own
	Logger      *slog.Logger
	Now         func() time.Time // the metrics' clock; nil: time.Now
}

type mePage struct {
	Title    string
	Rows     []meRow
	UserID   string
	Account  bool
	Email    string
	Nothing  bool   // no profile: nothing is recorded
	Gone     bool   // just forgotten
	Problem  string // the forget form came back unconfirmed
	LoginURL string
	Viewer   viewer
}

type meRow struct{ About, Value string }

// ServeHTTP routes the three paths.
func (m *Me) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case MeDataPath:
		if allowMethods(w, r, m.Logger, http.MethodGet) {
			m.download(w, r)
		}
	case MeForgetPath:
		if allowMethods(w, r, m.Logger, http.MethodPost) {
			m.forget(w, r)
		}
	default:
		if allowMethods(w, r, m.Logger, http.MethodGet, http.MethodHead) {
			m.show(w, r, http.StatusOK, "")
		}
	}
}

// export reads the visitor's data; ok is false when the answer has been written (no
// profile, or a failure).
func (m *Me) export(w http.ResponseWriter, r *http.Request) (user map[string]any, userID string, account, ok bool) {
	userID, account = whose(r, m.SessionName, m.Sessions, m.CookieName, m.Tokens, m.Logger)
	if userID == "" {
		return nil, "", false, true
	}
	user, err := m.Data.Export(r.Context(), userID, account)
	switch {
	case errors.Is(err, anon.ErrGone):
		m.clear(w, account)
		return nil, "", false, true
	case errors.Is(err, anon.ErrNotAnonymous):
		// The cookie's profile is an account now: only signing in shows it.
		http.SetCookie(w, clearVisitorCookie(m.CookieName))
		return nil, "", false, true
	case err != nil:
		m.Logger.ErrorContext(r.Context(), "export of the visitor's data failed", "error", err)
		renderError(w, err, m.Logger)
		return nil, "", false, false
	}
	return user, userID, account, true
}

func (m *Me) show(w http.ResponseWriter, r *http.Request, status int, problem string) {
	user, userID, account, ok := m.export(w, r)
	if !ok {
		return
	}
	p := mePage{Title: "Your data", UserID: userID, Account: account, Problem: problem, LoginURL: LoginPath, Nothing: user == nil}
	if user != nil {
		p.Rows = rowsOf(user)
		if account {
			p.Email, _ = user["email"].(string)
			p.Viewer = viewer{SignedIn: true, Email: p.Email}
		}
	}
	render(w, status, "me", p, m.Logger)
}

// rowsOf says in plain words each key of the user's data the schema describes.
func rowsOf(user map[string]any) []meRow {
	data, _ := user["data"].(map[string]any)
	var rows []meRow
	for _, k := range anon.Schema {
		v, ok := data[k.Name]
		if !ok || k.About == "" {
			continue
		}
		rows = append(rows, meRow{About: k.About, Value: plain(k, v)})
	}
	return rows
}

// plain says one value as the page shows it.
func plain(k anon.Key, v any) string {
	n, _ := v.(float64)
	switch {
	case k.Name == anon.DataWatchSeconds:
		if s := duration(int(n)); s != "" {
			return s
		}
		return "0 s"
	case k.Kind == anon.Instant:
		return time.UnixMilli(int64(n)).UTC().Format("2 January 2006, 15:04 UTC")
	case k.Kind == anon.Flag:
		if b, _ := v.(bool); b {
			return "Yes"
		}
		return "No"
	case k.Kind == anon.Number:
		return fmt.Sprint(int64(n))
	}
	return fmt.Sprint(v)
}

// download serves the visitor's data as a JSON file: FusionAuth's user without secrets,
// and what the visitor's cookie says.
func (m *Me) download(w http.ResponseWriter, r *http.Request) {
	user, userID, account, ok := m.export(w, r)
	if !ok {
		return
	}
	if user == nil {
		m.show(w, r, http.StatusOK, "")
		return
	}
	cookie := map[string]any{"name": m.CookieName, "userId": userID, "purpose": "anonymous-visitor"}
	if account {
		cookie = map[string]any{"name": m.SessionName, "userId": userID, "purpose": "signed-in-session"}
	}
	b, err := json.MarshalIndent(map[string]any{"user": user, "cookie": cookie}, "", "  ")
	if err != nil {
		renderError(w, fmt.Errorf("encode the visitor's data: %w", err), m.Logger)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="changebank-data.json"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(append(b, '\n'))
}

// problemConfirm is what the page says when the forget form comes back unticked.
const problemConfirm = "Please tick the box to confirm that you want your data deleted."

// forget deletes the visitor's profile (or signed-in account) once confirmed, clears
// the cookies and shows that it is gone. A replay finds nothing and shows the same.
func (m *Me) forget(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !sameOrigin(r, m.Origin) {
		m.Logger.WarnContext(ctx, "cross-site forget refused", "origin", r.Header.Get("Origin"), "secFetchSite", r.Header.Get("Sec-Fetch-Site"))
		renderError(w, errCrossSite, m.Logger)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		renderError(w, bodyError(err), m.Logger)
		return
	}
	userID, account := whose(r, m.SessionName, m.Sessions, m.CookieName, m.Tokens, m.Logger)
	if userID != "" && r.PostForm.Get("confirm") != "yes" {
		m.show(w, r, http.StatusBadRequest, problemConfirm)
		return
	}
	kind := KindAnonymous
	if account {
		kind = KindAccount
	}
	if userID != "" {
		deleted, err := m.Data.Forget(ctx, userID, account)
		if errors.Is(err, anon.ErrNotAnonymous) {
			http.SetCookie(w, clearVisitorCookie(m.CookieName))
			m.show(w, r, http.StatusConflict, "")
			return
		}
		if err != nil {
			m.Logger.ErrorContext(ctx, "forget failed", "kind", kind, "error", err)
			renderError(w, err, m.Logger)
			return
		}
		if deleted {
			now := time.Now
			if m.Now != nil {
				now = m.Now
			}
			// No id, no address: the log says that a profile was forgotten, not whose.
			m.Logger.InfoContext(ctx, "visitor data forgotten", metrics.Count(MetricForgotten, now(), metrics.Dimension{Name: DimKind, Value: kind}, functionDim(FunctionRegister))...)
		}
	}
	m.clear(w, account)
	render(w, http.StatusOK, "me", mePage{Title: "Your data is deleted", Gone: true, Account: account}, m.Logger)
}

// clear removes the cookies that named the forgotten user.
func (m *Me) clear(w http.ResponseWriter, account bool) {
	http.SetCookie(w, clearVisitorCookie(m.CookieName))
	if account {
		http.SetCookie(w, expired(m.SessionName, "/"))
	}
}
