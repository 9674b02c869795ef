package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/faclient/fatest"
	"github.com/changebank/anonuser/shared/token"
)

// TestEmbeddedSite runs the embedding example against the stand-in: visits count on
// the cookie's profile, a forged cookie starts a fresh one, and POST /convert has
// FusionAuth email the address.
func TestEmbeddedSite(t *testing.T) {
	fa := fatest.NewTestServer(t, fatest.Options{})
	client, err := faclient.New(faclient.Options{BaseURL: fa.URL(), TenantID: fa.Variable("visitorTenantId"), Keys: faclient.StaticKey(fa.Variable("registerApiKey"))})
	if err != nil {
		t.Fatal(err)
	}
	cookies, err := token.NewVisitor([]token.Key{{ID: "1", Secret: []byte(strings.Repeat("k", 32))}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newSite(client, cookies))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	body := func(c *http.Client, req *http.Request) (int, string) {
		t.Helper()
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, string(b)
	}
	visit := func(c *http.Client) string {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
		_, s := body(c, req)
		return strings.TrimSpace(s)
	}
	for _, want := range []string{"You have visited 1 times.", "You have visited 2 times."} {
		if got := visit(browser); got != want {
			t.Fatalf("visit: %q, want %q", got, want)
		}
	}
	forged := &http.Client{Jar: must(cookiejar.New(nil))}
	u, _ := url.Parse(srv.URL)
	forged.Jar.SetCookies(u, []*http.Cookie{{Name: "visitor", Value: "eyJhbGciOiJub25lIn0.e30."}})
	if got := visit(forged); got != "You have visited 1 times." {
		t.Errorf("a forged cookie: %q, want a fresh profile", got)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/convert", strings.NewReader("email=reader%40example.com"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if code, s := body(browser, req); code != http.StatusOK || !strings.Contains(s, "Check your inbox") {
		t.Fatalf("convert: %d %q", code, s)
	}
	if out := fa.Outbox(); len(out) != 1 || out[0].To != "reader@example.com" || out[0].ChangePasswordID == "" {
		t.Errorf("outbox after convert: %+v, want one set-password email to reader@example.com", out)
	}
	// A page elsewhere posting to /convert with the visitor's cookie (CSRF: the attacker
	// would get the set-password email for the visitor's history) is refused.
	req, _ = http.NewRequest(http.MethodPost, srv.URL+"/convert", strings.NewReader("email=attacker%40example.net"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if code, _ := body(browser, req); code != http.StatusForbidden || len(fa.Outbox()) != 1 {
		t.Errorf("cross-site convert: %d, %d emails; want 403 and none sent", code, len(fa.Outbox())-1)
	}
	if got := visit(browser); got != "You have visited 3 times." {
		t.Errorf("after asking for an email: %q, want the history kept", got)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestEmbeddingDocShowsThisFile: docs/embedding.md shows main.go exactly, so the page
// never drifts from the code this test runs.
func TestEmbeddingDocShowsThisFile(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "embedding.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "```go\n"+string(src)+"```\n") {
		t.Error("docs/embedding.md does not show examples/embed/main.go verbatim in a ```go block")
	}
	if n := strings.Count(string(src), "\n"); n >= 60 {
		t.Errorf("main.go is %d lines, want under 60", n)
	}
}
