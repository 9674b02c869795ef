package devserver_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/devserver"
	"github.com/changebank/anonuser/shared/kickstart"
	"github.com/changebank/anonuser/shared/token/tokentest"
)

func quiet() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

// TestBannerAndDocsShowTheSamePruneCommand: the command the start-up banner prints for
// the default address is the one docs/operations.md ("Locally, without Docker") gives.
func TestBannerAndDocsShowTheSamePruneCommand(t *testing.T) {
	root, err := kickstart.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	want := devserver.PruneCommand("http://127.0.0.1:3000")
	if !strings.Contains(string(doc), want) {
		t.Errorf("docs/operations.md: got no %q, want the banner's prune command", want)
	}
	s := &devserver.Stack{URL: "http://127.0.0.1:3000", FusionAuthURL: "http://127.0.0.1:9011"}
	if !strings.Contains(s.Banner(), want) {
		t.Errorf("banner %q: got no %q", s.Banner(), want)
	}
}

// TestConfigurationIsValidatedAsInLambda: the local stack reads each function's
// configuration through config.Load*, so a value Lambda would refuse stops it too, with
// the same message, before any FusionAuth call.
func TestConfigurationIsValidatedAsInLambda(t *testing.T) {
	root, err := kickstart.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "kickstart", "kickstart.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ks map[string]any
	if err := json.Unmarshal(raw, &ks); err != nil {
		t.Fatal(err)
	}
	vars := ks["variables"].(map[string]any)
	vars["applicationId"] = "not-a-uuid"
	vars["webhookSigningKid"] = "webhook-kid" // as the kickstart's imported key has one: no Key API call

	broken, err := json.Marshal(ks)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kickstart.json")
	if err := os.WriteFile(path, broken, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := devserver.Start(t.Context(), devserver.Options{Addr: "127.0.0.1:0", Kickstart: path,
		FusionAuthURL: "http://127.0.0.1:9", Logger: quiet()})
	if err == nil {
		_ = s.Close()
		t.Fatal("Start: got nil error, want the configuration refused")
	}
	if want := `FUSIONAUTH_APPLICATION_ID: must be a UUID, got "not-a-uuid"`; !strings.Contains(err.Error(), want) {
		t.Errorf("Start: got %v, want it to contain %q", err, want)
	}
}

// TestFunctionEnvIsComplete: the environment the local stack gives each function is one
// its loader accepts.
func TestFunctionEnvIsComplete(t *testing.T) {
	e := devserver.Endpoints{
		FusionAuthURL: "http://127.0.0.1:9011",
		SiteURL:       "http://127.0.0.1:3000",
		Variable:      func(string) string { return "00000000-0000-4000-8000-000000000001" },
		SecretID:      func(f string) string { return "local/" + f },

		CookieKeysSecretID: "local/cookie-keys",
		WebhookSigningKID:  "webhook-kid",
	}
	loaders := map[string]func(*config.Env) error{
		"video":    func(env *config.Env) error { _, err := config.LoadVideo(env); return err },
		"register": func(env *config.Env) error { _, err := config.LoadRegister(env); return err },
		"webhook":  func(env *config.Env) error { _, err := config.LoadWebhook(env); return err },
		"prune":    func(env *config.Env) error { _, err := config.LoadPrune(env); return err },
	}
	for fn, load := range loaders {
		t.Run(fn, func(t *testing.T) {
			env := devserver.FunctionEnv(fn, e)
			if err := load(config.NewEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })); err != nil {
				t.Errorf("load: got %v, want nil", err)
			}
			if got := env["API_KEY_SECRET_ID"]; got != "local/"+fn {
				t.Errorf("API_KEY_SECRET_ID: got %q, want the function's own secret", got)
			}
		})
	}
}

// TestPruneNow runs the prune schedule through the stack's loopback endpoint: a dry run
// answers its JSON summary.
func TestPruneNow(t *testing.T) {
	s, err := devserver.Start(t.Context(), devserver.Options{Addr: "127.0.0.1:0", FusionAuthAddr: "127.0.0.1:0", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	resp, err := http.Post(s.URL+"/_local/prune?dryRun=true&olderThan=1s", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var summary map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&summary); err != nil {
		t.Fatalf("decode summary: %v", err)
	}
	if resp.StatusCode != http.StatusOK || summary["dryRun"] != true {
		t.Errorf("prune now: got %d %v, want 200 and a dry-run summary", resp.StatusCode, summary)
	}
}

// TestCookieKeysFromTheEnvironment: the stack signs cookies with the keys it is given
// (COOKIE_KEYS in cmd/local), and refuses to start on unusable ones, as a function would
// on its secret.
func TestCookieKeysFromTheEnvironment(t *testing.T) {
	_, err := devserver.Start(t.Context(), devserver.Options{Addr: "127.0.0.1:0", FusionAuthAddr: "127.0.0.1:0", Logger: quiet(),
		CookieKeys: `[{"kid":"short","secret":"c2hvcnQ="}]`})
	if err == nil || !strings.Contains(err.Error(), "COOKIE_KEYS") || !strings.Contains(err.Error(), `kid "short" has a 5-byte secret`) {
		t.Fatalf("Start with a short key: got %v, want a refusal naming COOKIE_KEYS and the problem", err)
	}

	keys := tokentest.KeysJSON(t, tokentest.Key(t, "given-kid"))
	s, err := devserver.Start(t.Context(), devserver.Options{Addr: "127.0.0.1:0", FusionAuthAddr: "127.0.0.1:0", Logger: quiet(), CookieKeys: keys})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+"/video", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	req.Header.Set("Sec-Fetch-Dest", "document")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	var kid string
	for _, c := range resp.Cookies() {
		if c.Name == config.DefaultCookieName {
			header, _, _ := strings.Cut(c.Value, ".")
			raw, err := base64.RawURLEncoding.DecodeString(header)
			if err != nil {
				t.Fatalf("cookie header: %v", err)
			}
			var h struct{ Kid string }
			if err := json.Unmarshal(raw, &h); err != nil {
				t.Fatalf("cookie header: %v", err)
			}
			kid = h.Kid
		}
	}
	if kid != "given-kid" {
		t.Errorf("cookie kid: got %q, want the given key's %q", kid, "given-kid")
	}
}

// TestLimitsByPeerAddress: the local stack limits first visits per client by the peer
// address, as Lambda does by API Gateway's sourceIp: a client bound to 127.0.0.2 runs
// out of new profiles, and one bound to 127.0.0.3 is another client.
func TestLimitsByPeerAddress(t *testing.T) {
	s, err := devserver.Start(t.Context(), devserver.Options{Addr: "127.0.0.1:0", FusionAuthAddr: "127.0.0.1:0", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	from := func(ip string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	}
	firstVisit := func(c *http.Client) bool {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+"/video", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
		req.Header.Set("Sec-Fetch-Mode", "navigate")
		req.Header.Set("Sec-Fetch-Dest", "document")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		for _, ck := range resp.Cookies() {
			if ck.Name == config.DefaultCookieName && ck.Value != "" {
				return true
			}
		}
		return false
	}
	two, three := from("127.0.0.2"), from("127.0.0.3")
	for i := range config.DefaultStubsPerClientHour {
		if !firstVisit(two) {
			t.Fatalf("127.0.0.2 visit %d: no profile, want one within the limit", i)
		}
	}
	if firstVisit(two) {
		t.Error("127.0.0.2 past its limit: got a profile, want the page without one")
	}
	if !firstVisit(three) {
		t.Error("127.0.0.3: no profile, want one (another client)")
	}
}

// TestFunnelCountsWhatTheFunctionsEmit: /_local/funnel counts the EMF metrics the
// functions logged since start (a first visit, a crawler) and not a dry run's, shows
// prune's census of the users, has no script, and answers loopback only.
func TestFunnelCountsWhatTheFunctionsEmit(t *testing.T) {
	// A stack that prints warnings only still counts every Info step.
	warnOnly := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := devserver.Start(t.Context(), devserver.Options{Addr: "127.0.0.1:0", FusionAuthAddr: "127.0.0.1:0", Logger: warnOnly})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	// get answers path's body, failing unless the status is want.
	get := func(path string, headers map[string]string, want int) string {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != want {
			t.Fatalf("GET %s: %d %v, want %d", path, resp.StatusCode, err, want)
		}
		return string(b)
	}
	browser := map[string]string{"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
		"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
	get("/video", browser, http.StatusOK)
	get("/video", browser, http.StatusOK)
	get("/video", map[string]string{"User-Agent": "Googlebot/2.1"}, http.StatusOK)
	// FusionAuth failing a first visit: the video function's 503 is a ServerError and a
	// WatchDropped, counted through the wiring the Lambda runs (videoapp.Build).
	s.FusionAuth.InjectFault("POST /api/user", http.StatusServiceUnavailable, 1)
	get("/video", browser, http.StatusServiceUnavailable)
	resp, err := http.Post(s.URL+"/_local/prune?dryRun=true&olderThan=0s", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	page := get("/_local/funnel", nil, http.StatusOK)
	for _, want := range []string{"<title>StubCreated: 2</title>", "<title>CrawlerTurnedAway: 1</title>", "<title>Deleted: 0</title>",
		"<title>ServerError: 1</title>", "<title>WatchDropped: 1</title>",
		`id="anonymous">2<`, `id="converted">0<`, "<svg"} {
		if !strings.Contains(page, want) {
			t.Errorf("funnel page: no %q", want)
		}
	}
	if strings.Contains(page, "<script") {
		t.Error("funnel page has a script, want inline SVG only")
	}
}
