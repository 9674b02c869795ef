package flow_test

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/changebank/anonuser/e2e/flow"
)

const (
	cookieName = "anon_user"
	password   = "Correct-Horse-Battery-9"
	sentNotice = "Please check your email."
)

// visitor is one browser-less visitor: an HTTP client with its own cookie jar.
type visitor struct {
	tg     *flow.Target
	client *http.Client
	userID string
}

func newVisitor(t *testing.T, tg *flow.Target) *visitor {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &visitor{tg: tg, client: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
}

// page is a fetched page: the final URL after redirects, its status and its HTML.
type page struct {
	URL    string
	Status int
	Body   string
}

// do sends req as a person's browser navigating to a page would: a browser's
// User-Agent and fetch metadata (the site starts profiles only for those). Redirects
// keep the headers.
func (v *visitor) do(t *testing.T, req *http.Request) page {
	t.Helper()
	req.Header.Set("User-Agent", flow.BrowserUserAgent)
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	req.Header.Set("Sec-Fetch-Dest", "document")
	if req.Header.Get("Sec-Fetch-Site") == "" {
		req.Header.Set("Sec-Fetch-Site", "none") // typed into the address bar
	}
	resp, body := flow.Do(t, v.client, req)
	return page{URL: resp.Request.URL.String(), Status: resp.StatusCode, Body: string(body)}
}

func (v *visitor) get(t *testing.T, u string) page {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return v.do(t, req)
}

// submit posts a form as a browser on the page's origin would: same-origin headers.
func (v *visitor) submit(t *testing.T, f flow.Form, pageURL string) page {
	t.Helper()
	var req *http.Request
	var err error
	if f.Method == http.MethodGet {
		req, err = http.NewRequestWithContext(t.Context(), http.MethodGet, f.Action+"?"+f.Values.Encode(), nil)
	} else {
		req, err = http.NewRequestWithContext(t.Context(), f.Method, f.Action, strings.NewReader(f.Values.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if err != nil {
		t.Fatal(err)
	}
	if u, err := url.Parse(pageURL); err == nil {
		req.Header.Set("Origin", u.Scheme+"://"+u.Host)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	return v.do(t, req)
}

// fillAndSubmit finds the form with the field on the page, sets the values and submits it.
func (v *visitor) fillAndSubmit(t *testing.T, p page, field string, values map[string]string) page {
	t.Helper()
	f, err := flow.FindForm(p.Body, p.URL, field)
	if err != nil {
		t.Fatalf("page %s: %v", p.URL, err)
	}
	for k, val := range values {
		f.Values.Set(k, val)
	}
	return v.submit(t, f, p.URL)
}

var watchCount = regexp.MustCompile(`(?s)id="watch-count"[^>]*>.*?<strong>\s*(\d+)\s*</strong>`)

// count reads the watch count a /video page shows.
func count(t *testing.T, p page) int {
	t.Helper()
	m := watchCount.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("page %s (status %d): no #watch-count, want one\n%s", p.URL, p.Status, p.Body)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func wantStatus(t *testing.T, p page, want int) {
	t.Helper()
	if p.Status != want {
		t.Fatalf("%s: status %d, want %d\n%s", p.URL, p.Status, want, p.Body)
	}
}

// cookieUser returns the user id in the visitor's anon_user cookie.
func (v *visitor) cookieUser(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(v.tg.AppURL + "/video")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range v.client.Jar.Cookies(u) {
		if c.Name == cookieName {
			id, err := flow.TokenUserID(c.Value)
			if err != nil {
				t.Fatalf("cookie %s: %v", cookieName, err)
			}
			return id
		}
	}
	t.Fatalf("cookies for %s: none named %s, want the visitor cookie", u, cookieName)
	return ""
}

func (v *visitor) user(t *testing.T, id string) map[string]any {
	t.Helper()
	u, ok := v.tg.User(t, id)
	if !ok {
		t.Fatalf("user %s: FusionAuth has none, want the visitor's user", id)
	}
	return u
}

func data(u map[string]any) map[string]any {
	d, _ := u["data"].(map[string]any)
	return d
}

// TestFlow walks the product over HTTP, from a first anonymous visit to a converted
// account and a prune dry run. Each step needs the ones before it.
func TestFlow(t *testing.T) {
	tg := flow.Open(t)
	v := newVisitor(t, tg)
	email := flow.UniqueEmail("grace.hopper")
	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"first visit creates a stub user with a cookie", func(t *testing.T) {
			p := v.get(t, tg.AppURL+"/video")
			wantStatus(t, p, http.StatusOK)
			if got := count(t, p); got != 1 {
				t.Errorf("watch count on the first visit: got %d, want 1", got)
			}
			v.userID = v.cookieUser(t)
			u := v.user(t, v.userID)
			if got := data(u)["anonymousUser"]; got != true {
				t.Errorf("user %s data.anonymousUser: got %v, want true", v.userID, got)
			}
		}},
		{"second visit counts on the same user", func(t *testing.T) {
			p := v.get(t, tg.AppURL+"/video")
			wantStatus(t, p, http.StatusOK)
			if got := count(t, p); got != 2 {
				t.Errorf("watch count on the second visit: got %d, want 2", got)
			}
			if got := v.cookieUser(t); got != v.userID {
				t.Errorf("cookie user on the second visit: got %s, want %s", got, v.userID)
			}
			if got := fmt.Sprint(data(v.user(t, v.userID))["watchCount"]); got != "2" {
				t.Errorf("user %s data.watchCount: got %s, want 2", v.userID, got)
			}
		}},
		{"register form sends the set-password email", func(t *testing.T) {
			form := v.get(t, tg.AppURL+"/register")
			wantStatus(t, form, http.StatusOK)
			p := v.fillAndSubmit(t, form, "email", map[string]string{"email": email})
			wantStatus(t, p, http.StatusOK)
			if !strings.Contains(p.Body, sentNotice) {
				t.Errorf("page after the form: want the notice %q\n%s", sentNotice, p.Body)
			}
			u := v.user(t, v.userID)
			if got := u["email"]; got != email {
				t.Errorf("user %s email: got %v, want %s", v.userID, got, email)
			}
			if got := data(u)["anonymousUser"]; got != true {
				t.Errorf("user %s data.anonymousUser before any login: got %v, want true", v.userID, got)
			}
		}},
		{"email link sets a password on FusionAuth", func(t *testing.T) {
			link := tg.EmailLink(t, email)
			if !strings.HasPrefix(link, tg.FusionAuthURL+"/password/change/") {
				t.Fatalf("set-password link: got %s, want FusionAuth's %s/password/change/…", link, tg.FusionAuthURL)
			}
			form := v.get(t, link)
			wantStatus(t, form, http.StatusOK)
			p := v.fillAndSubmit(t, form, "passwordConfirm", map[string]string{"password": password, "passwordConfirm": password})
			wantStatus(t, p, http.StatusOK)
			if _, err := flow.FindForm(p.Body, p.URL, "passwordConfirm"); err == nil {
				t.Fatalf("page after setting the password is the password form again, want it accepted\n%s", p.Body)
			}
		}},
		{"login signs in and converts the profile", func(t *testing.T) {
			form := v.get(t, tg.LoginURL())
			wantStatus(t, form, http.StatusOK)
			p := v.fillAndSubmit(t, form, "loginId", map[string]string{"loginId": email, "password": password})
			wantStatus(t, p, http.StatusOK)
			if p.URL != tg.AppURL+"/video" {
				t.Errorf("page after login: got %s, want %s/video (signed in through /callback, the code gone)", p.URL, tg.AppURL)
			}
			// The way back from the login is not a watch.
			if got := count(t, p); got != 2 {
				t.Errorf("watch count after login: got %d, want 2", got)
			}
			if body := html.UnescapeString(p.Body); !strings.Contains(body, email) || !strings.Contains(body, "Log out") {
				t.Errorf("page after login does not show who is signed in (%s) and Log out", email)
			}
			// The callback converts the profile; on a real FusionAuth the webhook may too.
			var u map[string]any
			flow.Eventually(t, 20*time.Second, "user "+v.userID+" to be converted", func() bool {
				u = v.user(t, v.userID)
				return data(u)["anonymousUser"] == false
			})
			d := data(u)
			if _, ok := d["convertedAt"]; !ok {
				t.Errorf("user %s data.convertedAt after login: got none, want the conversion time", v.userID)
			}
			if name, ok := u["username"]; ok && name != nil && name != "" {
				t.Errorf("user %s username after login: got %v, want none", v.userID, name)
			}
			if got := fmt.Sprint(d["watchCount"]); got != "2" {
				t.Errorf("user %s data.watchCount after login: got %s, want 2", v.userID, got)
			}
			if got := u["email"]; got != email {
				t.Errorf("user %s email after login: got %v, want %s", v.userID, got, email)
			}
		}},
		{"prune dry run counts a stale stub and deletes nothing", func(t *testing.T) {
			other := newVisitor(t, tg)
			wantStatus(t, other.get(t, tg.AppURL+"/video"), http.StatusOK)
			stub := other.cookieUser(t)
			var s summary
			// olderThan=1s: the new stub is stale a second later; the real FusionAuth's
			// search index also needs about a second to see it.
			flow.Eventually(t, 20*time.Second, "a dry run to see the new stub", func() bool {
				s = prune(t, tg, "dryRun=true&olderThan=1s")
				return s.Matched >= 1
			})
			if !s.DryRun {
				t.Errorf("summary dryRun: got false, want true\n%+v", s)
			}
			if s.WouldDelete != s.Matched || s.Deleted != 0 {
				t.Errorf("summary wouldDelete %d, deleted %d: want %d and 0 (a dry run counts what it would delete and deletes nothing)",
					s.WouldDelete, s.Deleted, s.Matched)
			}
			if s.Converted < 1 {
				t.Errorf("summary converted: got %d, want at least 1 (the visitor who logged in)", s.Converted)
			}
			if tg.Embedded() && s.Matched != 1 {
				t.Errorf("summary matched on the in-memory stack: got %d, want 1 (only the untouched stub)", s.Matched)
			}
			if u, ok := tg.User(t, stub); !ok || data(u)["anonymousUser"] != true {
				t.Errorf("stub %s after the dry run: got %v (exists %v), want it untouched", stub, u, ok)
			}
			if _, ok := tg.User(t, v.userID); !ok {
				t.Errorf("converted user %s after the dry run: gone, want it kept", v.userID)
			}
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			t.Fatalf("flow stopped at step %q: each step needs the ones before it", s.name)
		}
	}
}

// summary is the prune pass's JSON summary (shared/prune.Summary), as /_local/prune answers it.
type summary struct {
	DryRun      bool  `json:"dryRun"`
	Matched     int64 `json:"matched"`
	Deleted     int64 `json:"deleted"`     // a real run only
	WouldDelete int64 `json:"wouldDelete"` // a dry run only
	Converted   int64 `json:"converted"`
}

// prune runs a prune pass on the local stack now (POST /_local/prune, loopback only).
func prune(t *testing.T, tg *flow.Target, query string) summary {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, tg.AppURL+"/_local/prune?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := flow.Do(t, http.DefaultClient, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /_local/prune?%s: status %d, want 200\n%s", query, resp.StatusCode, body)
	}
	var s summary
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatalf("prune summary %q: %v", body, err)
	}
	return s
}
