package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/app"
	"github.com/changebank/anonuser/shared/app/videoapp"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/faclient/fatest"
	"github.com/changebank/anonuser/shared/limit"
	"github.com/changebank/anonuser/shared/lock"
	"github.com/changebank/anonuser/shared/metrics"
	"github.com/changebank/anonuser/shared/secrets/smtest"
	"github.com/changebank/anonuser/shared/token"
	"github.com/changebank/anonuser/shared/token/tokentest"
)

// TestRotatedKeyFromSecretsManager runs the video function's wiring with its key read
// through the functions' Secrets Manager client from a local endpoint: many requests read
// the secret once, and after FusionAuth refuses the key (401) the secret is read again
// and the request succeeds with the rotated key.
func TestRotatedKeyFromSecretsManager(t *testing.T) {
	fa := fatest.NewTestServer(t, fatest.Options{})
	sm := smtest.NewServer(t, map[string]string{"video": fa.Variable("videoApiKey")})
	ctx := context.Background()
	cfg := config.Video{
		FusionAuth:  config.FusionAuth{URL: fa.URL(), TenantID: fa.Variable("visitorTenantId"), APIKeySecretID: "video"},
		Cookie:      config.Cookie{Name: config.DefaultCookieName},
		Stubs:       config.ClientLimit{PerHour: config.DefaultStubsPerClientHour},
		StubsPerDay: config.DefaultStubsPerDay,
	}
	client, keys, err := app.FusionAuth(ctx, cfg.FusionAuth, sm.Client(t))
	if err != nil {
		t.Fatal(err)
	}
	video, err := videoapp.New(cfg, client, []token.Key{tokentest.Key(t, "cookie-1")}, app.Stores{Locks: lock.NewMemory(), Limits: limit.NewMemory()}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	// A person's browser navigating: only such a request starts a profile.
	visit := func() *http.Response {
		r := httptest.NewRequest(http.MethodGet, "https://changebank.example/video", nil)
		r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
		r.Header.Set("Sec-Fetch-Mode", "navigate")
		r.Header.Set("Sec-Fetch-Dest", "document")
		w := httptest.NewRecorder()
		video.ServeHTTP(w, r)
		return w.Result()
	}
	for i := 0; i < 20; i++ {
		if resp := visit(); resp.StatusCode != http.StatusOK {
			t.Fatalf("visit %d: status %d", i, resp.StatusCode)
		}
	}
	if got := sm.Reads("video"); got != 1 || client.Counter().Count("POST /api/user") != 20 {
		t.Errorf("secret read %d times for 20 visits (%v), want 1 read and 20 users created", got, client.Counter().Snapshot())
	}
	// Rotation: the secret now holds the admin key and FusionAuth no longer knows the
	// old one: FusionAuth answers the next create with 401.
	sm.Set("video", fa.Variable("apiKey"))
	fa.InjectFault("POST /api/user", http.StatusUnauthorized, 1)
	client.Counter().Reset()
	if resp := visit(); resp.StatusCode != http.StatusOK {
		t.Fatalf("visit after rotation: status %d", resp.StatusCode)
	}
	if got := sm.Reads("video"); got != 2 {
		t.Errorf("secret read %d times after a 401, want 2", got)
	}
	if got := client.Counter().Count("POST /api/user"); got != 2 {
		t.Errorf("POST /api/user sent %d times, want 2 (refused, then with the rotated key)", got)
	}
	if k, _ := keys.APIKey(ctx); k != fa.Variable("apiKey") {
		t.Error("the rotated key is not the one in use")
	}
}

func TestMissingSecretFailsColdStart(t *testing.T) {
	sm := smtest.NewServer(t, map[string]string{})
	cfg := config.FusionAuth{URL: "http://127.0.0.1:9", APIKeySecretID: "anon-users/video-api-key"}
	_, _, err := app.FusionAuth(context.Background(), cfg, sm.Client(t))
	if err == nil || !strings.Contains(err.Error(), "anon-users/video-api-key") || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("err=%v, want a clear not-found error naming the secret", err)
	}
}

// TestLogLevelKeepsTheMetrics: LOG_LEVEL=warn silences Info lines but not the metrics'
// EMF lines (a funnel step logs at Info), and debug lets Debug lines through.
func TestLogLevelKeepsTheMetrics(t *testing.T) {
	for level, want := range map[string][]string{
		"warn":  {"a step", "a warning"},
		"":      {"a step", "info", "a warning"},
		"debug": {"a step", "debug", "info", "a warning"},
	} {
		t.Setenv("LOG_LEVEL", level)
		var buf strings.Builder
		log := app.NewLogger(&buf)
		log.Info("a step", metrics.Count("StubCreated", time.Now())...)
		log.Debug("debug")
		log.Info("info")
		log.Warn("a warning")
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var l struct{ Msg string }
			if err := json.Unmarshal([]byte(line), &l); err != nil {
				t.Fatalf("LOG_LEVEL=%s: not JSON: %s", level, line)
			}
			got = append(got, l.Msg)
		}
		if !slices.Equal(got, want) {
			t.Errorf("LOG_LEVEL=%q: wrote %q, want %q", level, got, want)
		}
	}
}
