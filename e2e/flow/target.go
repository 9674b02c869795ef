package flow

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/devserver"
	"github.com/changebank/anonuser/shared/kickstart"
)

// Environment variables that select a running stack instead of the in-memory one.
const (
	EnvAppURL        = "APP_URL"            // the running stack's base URL, e.g. http://localhost:3000
	EnvFusionAuthURL = "FUSIONAUTH_URL"     // the real FusionAuth, e.g. http://localhost:9011
	EnvAPIKey        = "FUSIONAUTH_API_KEY" // an API key that may read users (the kickstart's apiKey)
	EnvMailpitURL    = "MAILPIT_URL"        // Mailpit's HTTP API, e.g. http://localhost:8025
)

// BrowserUserAgent is a current desktop Chrome's User-Agent. The site starts a profile
// only for a person's browser (not for HTTP libraries or headless browsers), so the
// end-to-end tests present as one.
const BrowserUserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36"

// Target is where an end-to-end test runs: an in-memory stack it started, or a running
// stack with a real FusionAuth and Mailpit (see the package doc).
type Target struct {
	AppURL        string            // the site's base URL (no trailing slash)
	FusionAuthURL string            // FusionAuth's base URL as browsers reach it
	Variables     map[string]string // kickstart variables: applicationId, defaultTenantId, …
	Stack         *devserver.Stack  // the in-memory stack; nil on a running stack

	apiKey     string
	mailpitURL string
	http       *http.Client
}

// Open returns the target the environment selects: with APP_URL set, the running stack
// (FUSIONAUTH_URL, FUSIONAUTH_API_KEY and MAILPIT_URL are then required); otherwise a
// fresh in-memory stack on loopback that is closed when the test ends.
func Open(tb testing.TB) *Target {
	tb.Helper()
	if app := os.Getenv(EnvAppURL); app != "" {
		return openRunning(tb, app)
	}
	logger := slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := devserver.Start(tb.Context(), devserver.Options{Addr: "127.0.0.1:0", FusionAuthAddr: "127.0.0.1:0", Logger: logger})
	if err != nil {
		tb.Fatalf("start the in-memory stack: %v", err)
	}
	tb.Cleanup(func() {
		if err := st.Close(); err != nil {
			tb.Errorf("close the in-memory stack: %v", err)
		}
	})
	if st.FusionAuth == nil {
		tb.Fatal("in-memory stack has no embedded FusionAuth, want one")
	}
	return &Target{AppURL: st.URL, FusionAuthURL: st.FusionAuthURL, Variables: st.Variables, Stack: st,
		http: &http.Client{Timeout: 15 * time.Second}}
}

func openRunning(tb testing.TB, appURL string) *Target {
	tb.Helper()
	var missing []string
	get := func(name string) string {
		v := strings.TrimRight(os.Getenv(name), "/")
		if v == "" {
			missing = append(missing, name)
		}
		return v
	}
	tg := &Target{
		AppURL:        strings.TrimRight(appURL, "/"),
		FusionAuthURL: get(EnvFusionAuthURL),
		apiKey:        get(EnvAPIKey),
		mailpitURL:    get(EnvMailpitURL),
		http:          &http.Client{Timeout: 15 * time.Second},
	}
	if len(missing) > 0 {
		tb.Fatalf("%s is set, so the test runs against a running stack, but %s %s not set (see e2e/flow's package doc)",
			EnvAppURL, strings.Join(missing, " and "), map[bool]string{true: "is", false: "are"}[len(missing) == 1])
	}
	vars, err := kickstart.RepoVariables()
	if err != nil {
		tb.Fatalf("running stack: %v", err)
	}
	tg.Variables = vars
	return tg
}

// Embedded reports whether the target is the in-memory stack.
func (tg *Target) Embedded() bool { return tg.Stack != nil }

// Hosts returns the host names the site and FusionAuth are reached at.
func (tg *Target) Hosts() []string {
	var hosts []string
	for _, raw := range []string{tg.AppURL, tg.FusionAuthURL} {
		if u, err := url.Parse(raw); err == nil && u.Hostname() != "" {
			hosts = append(hosts, u.Hostname())
		}
	}
	return hosts
}

// LoginURL is the site's "Log in": it sends the browser to FusionAuth's hosted login
// with the sign-in's state, nonce and PKCE, and back through /callback to /video.
func (tg *Target) LoginURL() string { return tg.AppURL + "/login" }

// User reads a user from FusionAuth: from the embedded server, or with the Users API.
// ok is false when FusionAuth has no such user.
func (tg *Target) User(tb testing.TB, id string) (user map[string]any, ok bool) {
	tb.Helper()
	if tg.Embedded() {
		return tg.Stack.FusionAuth.User(id)
	}
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodGet, tg.FusionAuthURL+"/api/user/"+url.PathEscape(id), nil)
	if err != nil {
		tb.Fatalf("read user %s: %v", id, err)
	}
	req.Header.Set("Authorization", tg.apiKey)
	var body struct {
		User map[string]any `json:"user"`
	}
	switch status := tg.getJSON(tb, req, &body); status {
	case http.StatusOK:
		return body.User, true
	case http.StatusNotFound:
		return nil, false
	default:
		tb.Fatalf("GET /api/user/%s: status %d, want 200 or 404", id, status)
		return nil, false
	}
}

// getJSON sends req and decodes a 200 answer into v; it returns the status.
func (tg *Target) getJSON(tb testing.TB, req *http.Request, v any) int {
	tb.Helper()
	resp, data := Do(tb, tg.http, req)
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(data, v); err != nil {
			tb.Fatalf("%s %s: decode %q: %v", req.Method, req.URL.Redacted(), data, err)
		}
	}
	return resp.StatusCode
}

// Do sends req with client and returns the response with its body read (up to 8 MiB
// and closed); a transport or read error fails tb.
func Do(tb testing.TB, client *http.Client, req *http.Request) (*http.Response, []byte) {
	tb.Helper()
	resp, err := client.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		tb.Fatalf("%s %s: read body: %v", req.Method, req.URL.Redacted(), err)
	}
	return resp, data
}

// firstURL finds the set-password link in an email's text (the first http(s) URL).
var firstURL = regexp.MustCompile(`https?://[^\s"'<>]+`)

// EmailLink waits until an email to the address has arrived and returns the first link
// in its text: from the embedded server's outbox, or from Mailpit's HTTP API.
func (tg *Target) EmailLink(tb testing.TB, to string) string {
	tb.Helper()
	var link string
	Eventually(tb, 20*time.Second, "an email to "+to, func() bool {
		if tg.Embedded() {
			for _, m := range tg.Stack.FusionAuth.Outbox() {
				if strings.EqualFold(m.To, to) {
					link = firstURL.FindString(m.Text)
				}
			}
		} else {
			link = firstURL.FindString(tg.mailpitText(tb, to))
		}
		return link != ""
	})
	return link
}

// mailpitText returns the text of the newest message to the address, or "" when none
// has arrived. Mailpit's API: GET /api/v1/search?query=to:"…" lists messages newest
// first; GET /api/v1/message/{ID} returns one with its decoded Text part.
func (tg *Target) mailpitText(tb testing.TB, to string) string {
	tb.Helper()
	q := url.Values{"query": {`to:"` + to + `"`}, "limit": {"1"}}
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodGet, tg.mailpitURL+"/api/v1/search?"+q.Encode(), nil)
	if err != nil {
		tb.Fatalf("search Mailpit: %v", err)
	}
	var list struct {
		Messages []struct {
			ID string `json:"ID"`
		} `json:"messages"`
	}
	if status := tg.getJSON(tb, req, &list); status != http.StatusOK {
		tb.Fatalf("Mailpit search: status %d, want 200", status)
	}
	if len(list.Messages) == 0 {
		return ""
	}
	req, err = http.NewRequestWithContext(tb.Context(), http.MethodGet, tg.mailpitURL+"/api/v1/message/"+url.PathEscape(list.Messages[0].ID), nil)
	if err != nil {
		tb.Fatalf("read Mailpit message: %v", err)
	}
	var msg struct {
		Text string `json:"Text"`
	}
	if status := tg.getJSON(tb, req, &msg); status != http.StatusOK {
		tb.Fatalf("Mailpit message %s: status %d, want 200", list.Messages[0].ID, status)
	}
	return msg.Text
}

// Eventually polls cond every 200 ms until it is true, and fails tb after timeout. The
// real FusionAuth does some things after it answers (webhooks, the search index), so
// tests wait for the effect rather than for a fixed time.
func Eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), timeout)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			tb.Fatalf("waited %s for %s: it did not happen", timeout, what)
		case <-tick.C:
		}
	}
}

// TokenUserID reads the userId claim of the visitor cookie's JWT without verifying it:
// the stack verified it already, the tests only need to know which user to look at.
func TokenUserID(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("cookie token: got %d parts, want a JWT with 3", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", fmt.Errorf("cookie token payload: %w", err)
	}
	var claims struct {
		UserID string `json:"userId"`
	}
	if err := json.NewDecoder(io.LimitReader(bytes.NewReader(payload), 1<<16)).Decode(&claims); err != nil {
		return "", fmt.Errorf("cookie token claims: %w", err)
	}
	if claims.UserID == "" {
		return "", fmt.Errorf("cookie token claims %s: no userId", payload)
	}
	return claims.UserID, nil
}

// UniqueEmail returns a fresh address at example.com (never delivered), so that runs
// against a real FusionAuth, whose database outlives the run, never meet an address a
// previous run registered.
func UniqueEmail(local string) string {
	return fmt.Sprintf("%s+%d@example.com", local, time.Now().UnixNano())
}
