package site_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/changebank/anonuser/shared/site"
)

// loginEvent is a user.login.success envelope as FusionAuth sends it, created at.
func loginEvent(eventID, userID string, anonymous bool, at time.Time) []byte {
	b, _ := json.Marshal(map[string]any{"event": map[string]any{
		"id": eventID, "type": "user.login.success", "createInstant": at.UnixMilli(),
		"tenantId": "d7d09513-a3f5-401c-9685-34ab6c552453", "authenticationType": "PASSWORD",
		"info": map[string]any{"ipAddress": "127.0.0.1"},
		"user": map[string]any{"id": userID, "active": true, "email": "x@example.com", "data": map[string]any{"anonymousUser": anonymous, "watchCount": 2}},
	}})
	return b
}

func TestWebhookRefusesUnauthenticatedCalls(t *testing.T) {
	e := newEnv(t)
	id := e.pendingStub(t)
	body := loginEvent("11111111-1111-4111-8111-111111111111", id, true, e.clock.Now())
	hookKey := e.fa.Variable("webhookSigningKeyId")
	altered := bytes.Replace(body, []byte(`"watchCount":2`), []byte(`"watchCount":3`), 1)
	e.clock.Advance(-time.Hour)
	expired := e.sign(t, hookKey, body, 60)
	e.clock.Advance(time.Hour)
	none := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"request_body_sha256": "x"})
	noneToken, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	cases := map[string]map[string]string{
		"unsigned":                      {site.SignatureHeader: ""},
		"signed by another key":         {site.SignatureHeader: e.sign(t, e.fa.Variable("signingKeyId"), body, 60)},
		"signature of a different body": {site.SignatureHeader: e.sign(t, hookKey, altered, 60)},
		"alg none":                      {site.SignatureHeader: noneToken},
		"expired signature":             {site.SignatureHeader: expired},
		"shared secret missing":         {site.SignatureHeader: e.sign(t, hookKey, body, 60), site.DefaultSecretHeader: ""},
		"shared secret wrong":           {site.SignatureHeader: e.sign(t, hookKey, body, 60), site.DefaultSecretHeader: "guess"},
	}
	for name, header := range cases {
		t.Run(name, func(t *testing.T) {
			e.hookClient.Counter().Reset()
			if got := e.deliver(t, body, header); got != http.StatusUnauthorized {
				t.Errorf("status=%d, want 401", got)
			}
			if n := e.hookClient.Counter().Total(); n != 0 {
				t.Errorf("FusionAuth calls=%v, want none", e.hookClient.Counter().Snapshot())
			}
		})
	}
	// The body altered by one byte, with the original's signature.
	t.Run("body altered by one byte", func(t *testing.T) {
		sig := e.sign(t, hookKey, body, 60)
		if got := e.deliver(t, altered, map[string]string{site.SignatureHeader: sig}); got != http.StatusUnauthorized {
			t.Errorf("status=%d, want 401", got)
		}
	})
	if u := e.user(t, id); u.Data["anonymousUser"] != true {
		t.Error("an unauthenticated call converted the user")
	}
}

func TestWebhookConvertsOnceUnderRetries(t *testing.T) {
	e := newEnv(t)
	id, _ := e.provedStub(t)
	body := loginEvent("22222222-2222-4222-8222-222222222222", id, true, e.clock.Now())
	sig := map[string]string{site.SignatureHeader: e.sign(t, e.fa.Variable("webhookSigningKeyId"), body, 60)}
	e.hookClient.Counter().Reset()
	for i := 0; i < 3; i++ {
		if got := e.deliver(t, body, sig); got < 200 || got > 299 {
			t.Fatalf("delivery %d: status %d, want 2xx", i+1, got)
		}
	}
	if got := e.hookClient.Counter().Count("PATCH /api/user/{userId}"); got != 1 {
		t.Errorf("PATCH calls=%d for three deliveries, want 1", got)
	}
	u := e.user(t, id)
	if u.Data["anonymousUser"] != false || u.Username != "" || u.Data["convertedAt"] == nil {
		t.Errorf("user not converted: username %q data %v", u.Username, u.Data)
	}
	if u.Email == "" || u.Data["watchCount"] != float64(1) {
		t.Errorf("conversion lost data: email %q data %v", u.Email, u.Data)
	}
}

func TestWebhookIgnoresOthersWithoutCalls(t *testing.T) {
	e := newEnv(t)
	regular := "00000000-0000-0000-0000-111111111111"
	other, _ := json.Marshal(map[string]any{"event": map[string]any{"id": "e1", "type": "user.update", "user": map[string]any{"id": regular}}})
	cases := map[string][]byte{
		"other event type":       other,
		"already converted user": loginEvent("33333333-3333-4333-8333-333333333333", regular, false, e.clock.Now()),
		"regular user (no flag)": []byte(`{"event":{"id":"e2","type":"user.login.success","createInstant":` + fmt.Sprint(e.clock.Now().UnixMilli()) + `,"user":{"id":"` + regular + `","email":"richard@example.com"}}}`),
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			e.hookClient.Counter().Reset()
			sig := map[string]string{site.SignatureHeader: e.sign(t, e.fa.Variable("webhookSigningKeyId"), body, 60)}
			if got := e.deliver(t, body, sig); got != http.StatusNoContent {
				t.Errorf("status=%d, want 204", got)
			}
			if n := e.hookClient.Counter().Total(); n != 0 {
				t.Errorf("FusionAuth calls=%v, want none", e.hookClient.Counter().Snapshot())
			}
		})
	}
}

func TestWebhookMalformedIs400AndFailureIs5xx(t *testing.T) {
	e := newEnv(t)
	hookKey := e.fa.Variable("webhookSigningKeyId")
	for name, body := range map[string]string{
		"not JSON":               `{"event":`,
		"no event":               `{}`,
		"login without user":     `{"event":{"type":"user.login.success"}}`,
		"user id not a UUID":     `{"event":{"type":"user.login.success","user":{"id":"../../admin","data":{"anonymousUser":true}}}}`,
		"event is an array":      `{"event":[]}`,
		"login without its time": `{"event":{"type":"user.login.success","user":{"id":"00000000-0000-4000-8000-000000000001","data":{"anonymousUser":true}}}}`,
		"login at time zero":     `{"event":{"type":"user.login.success","createInstant":0,"user":{"id":"00000000-0000-4000-8000-000000000001","data":{"anonymousUser":true}}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			b := []byte(body)
			if got := e.deliver(t, b, map[string]string{site.SignatureHeader: e.sign(t, hookKey, b, 60)}); got != http.StatusBadRequest {
				t.Errorf("status=%d, want 400", got)
			}
		})
	}
	t.Run("user deleted since its login", func(t *testing.T) {
		id := e.pendingStub(t)
		if err := e.admin.DeleteUser(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		body := loginEvent("66666666-6666-4666-8666-666666666666", id, true, e.clock.Now())
		if got := e.deliver(t, body, map[string]string{site.SignatureHeader: e.sign(t, hookKey, body, 60)}); got != http.StatusNoContent {
			t.Errorf("status=%d, want 204 (nothing to convert, no retry)", got)
		}
	})
	t.Run("FusionAuth fails while patching", func(t *testing.T) {
		id, _ := e.provedStub(t)
		body := loginEvent("44444444-4444-4444-8444-444444444444", id, true, e.clock.Now())
		e.fa.InjectFault("PATCH /api/user/{userId}", http.StatusServiceUnavailable, 1)
		got := e.deliver(t, body, map[string]string{site.SignatureHeader: e.sign(t, hookKey, body, 60)})
		if got < 500 {
			t.Errorf("status=%d, want 5xx so FusionAuth retries", got)
		}
	})
}

// FuzzWebhookBody feeds arbitrary authenticated bodies to the handler: it must never
// panic and never answer 5xx when FusionAuth is healthy.
func FuzzWebhookBody(f *testing.F) {
	for _, seed := range []string{
		string(loginEvent("55555555-5555-4555-8555-555555555555", "00000000-0000-4000-8000-000000000001", true, time.Now())),
		`{"event":{"type":"user.login.success","user":{"id":"00000000-0000-4000-8000-000000000001","data":{"anonymousUser":"true"}}}}`,
		`{"event":{"type":1}}`, `{"event":null}`, `[]`, `null`, `{"event":{"type":"user.login.success","user":{"data":[]}}}`, "\x00", "",
	} {
		f.Add([]byte(seed))
	}
	h := &site.Webhook{Secret: "s", Conversions: fakeFinisher{}, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set(site.DefaultSecretHeader, "s")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("status %d for body %q", w.Code, body)
		}
		if w.Code != http.StatusNoContent && w.Code != http.StatusBadRequest {
			t.Fatalf("status %d for body %q, want 204 or 400", w.Code, body)
		}
	})
}

type fakeFinisher struct{}

func (fakeFinisher) CompleteConversion(_ context.Context, userID string) (bool, error) {
	if !strings.Contains(userID, "-") {
		return false, fmt.Errorf("fake: bad id %q", userID)
	}
	return true, nil
}

func TestWebhookRefusesToStartUnauthenticated(t *testing.T) {
	h := &site.Webhook{Conversions: fakeFinisher{}, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{}`))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized {
		t.Errorf("handler with no authentication configured answered %d, want 401", w.Code)
	}
}

// TestWebhookConvertsAfterTheCallerHungUp: FusionAuth stops waiting after its
// readTimeout and sends the event only once, so a conversion under way finishes even
// when the delivery's request is cancelled.
func TestWebhookConvertsAfterTheCallerHungUp(t *testing.T) {
	e := newEnv(t)
	id, _ := e.provedStub(t)
	body := loginEvent("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", id, true, e.clock.Now())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, "https://hook.example/", bytes.NewReader(body))
	r.Header.Set(site.DefaultSecretHeader, e.fa.Variable("webhookSecret"))
	r.Header.Set(site.SignatureHeader, e.sign(t, e.fa.Variable("webhookSigningKeyId"), body, 60))
	w := httptest.NewRecorder()
	e.webhook.ServeHTTP(w, r)
	if u := e.user(t, id); w.Code != http.StatusNoContent || u.Data["anonymousUser"] != false {
		t.Errorf("status %d, data %v: want the stub converted although the caller hung up", w.Code, u.Data)
	}
}
