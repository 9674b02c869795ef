package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/changebank/anonuser/shared/apikey"
	"github.com/changebank/anonuser/shared/apikey/smtest"
	"github.com/changebank/anonuser/shared/app"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/faclient/fatest"
	"github.com/changebank/anonuser/shared/token"
	"github.com/changebank/anonuser/shared/token/tokentest"
)

func TestWebhookRefusesConfigurationWithoutAuthentication(t *testing.T) {
	fa := fatest.NewTestServer(t, fatest.Options{})
	cfg := config.Webhook{FusionAuth: config.FusionAuth{URL: fa.URL(), TenantID: fa.Variable("visitorTenantId")}}
	_, _, err := app.Webhook(context.Background(), cfg, faclient.StaticKey(fa.Variable("webhookApiKey")), "", slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "WEBHOOK_SIGNING_KID") {
		t.Fatalf("err=%v, want a refusal naming WEBHOOK_SIGNING_KID", err)
	}
	if fa.TotalCalls() != 0 {
		t.Errorf("refused configuration still called FusionAuth %d times", fa.TotalCalls())
	}
}

// TestCookieKeysFromTheSecret: the cookie keys come from the function's secret; a
// secret without usable keys fails cold start naming the secret and the problem.
func TestCookieKeysFromTheSecret(t *testing.T) {
	good := tokentest.KeysJSON(t, tokentest.Key(t, "k2"), tokentest.Key(t, "k1"))
	secret := func(fields map[string]string) string {
		b, err := json.Marshal(fields)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	sm := smtest.NewServer(t, map[string]string{
		"ok":        secret(map[string]string{"apiKey": "k", "cookieKeys": good}),
		"plain":     "just-an-api-key",
		"no-keys":   secret(map[string]string{"apiKey": "k"}),
		"short-key": secret(map[string]string{"apiKey": "k", "cookieKeys": `[{"kid":"a","secret":"c2hvcnQ="}]`}),
	})
	for name, want := range map[string]string{
		"plain":     `"plain"`,
		"no-keys":   `no "cookieKeys" field`,
		"short-key": `kid "a" has a 5-byte secret`,
	} {
		t.Run(name, func(t *testing.T) {
			src, err := apikey.Load(context.Background(), sm.Client(t), name)
			if err != nil {
				t.Fatal(err)
			}
			_, err = app.CookieKeys(src)
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `"`+name+`"`) {
				t.Errorf("err=%v, want one naming the secret %q and saying %q", err, name, want)
			}
		})
	}
	src, err := apikey.Load(context.Background(), sm.Client(t), "ok")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := app.CookieKeys(src)
	if err != nil || len(keys) != 2 || keys[0].ID != "k2" {
		t.Errorf("keys=%v err=%v, want k2 then k1", keys, err)
	}
}

// TestRotatedKeyFromSecretsManager runs the video function's wiring with its key read
// through the real AWS SDK from a local Secrets Manager endpoint: many requests read
// the secret once, and after FusionAuth refuses the key (401) the secret is read again
// and the request succeeds with the rotated key.
func TestRotatedKeyFromSecretsManager(t *testing.T) {
	fa := fatest.NewTestServer(t, fatest.Options{})
	sm := smtest.NewServer(t, map[string]string{"video": fa.Variable("videoApiKey")})
	ctx := context.Background()
	keys, err := apikey.Load(ctx, sm.Client(t), "video")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Video{
		FusionAuth: config.FusionAuth{URL: fa.URL(), TenantID: fa.Variable("visitorTenantId")},
		Cookie:     config.Cookie{Name: "anon_user"},
	}
	video, client, err := app.Video(cfg, keys, []token.Key{tokentest.Key(t, "k1")}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
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
	_, err := apikey.Load(context.Background(), sm.Client(t), "anon-users/video-api-key")
	if err == nil || !strings.Contains(err.Error(), "anon-users/video-api-key") || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("err=%v, want a clear not-found error naming the secret", err)
	}
}
