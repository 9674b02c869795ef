package fatest_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/changebank/anonuser/shared/faclient/fatest"
)

// receiver is a webhook endpoint that records what it gets.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
	bodies   [][]byte
	status   int                        // answer; default 204
	onEvent  func(event map[string]any) // called before answering
}

func newReceiver(tb testing.TB) *receiver {
	tb.Helper()
	rc := &receiver{status: http.StatusNoContent}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.requests = append(rc.requests, r)
		rc.bodies = append(rc.bodies, body)
		status, hook := rc.status, rc.onEvent
		rc.mu.Unlock()
		if hook != nil {
			var env map[string]any
			_ = json.Unmarshal(body, &env)
			ev, _ := env["event"].(map[string]any)
			hook(ev)
		}
		w.WriteHeader(status)
	}))
	tb.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.requests)
}

func (rc *receiver) setStatus(status int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.status = status
}

func (rc *receiver) last() (*http.Request, []byte) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.requests[len(rc.requests)-1], rc.bodies[len(rc.bodies)-1]
}

// loginServer starts the project's kickstart with its webhook pointed at a receiver.
func loginServer(t *testing.T) (*fatest.Server, *clock, *receiver) {
	t.Helper()
	rc := newReceiver(t)
	s, c := newServer(t, fatest.Options{Variables: map[string]string{"webhookURL": rc.URL + "/webhook"}})
	return s, c, rc
}

func TestLoginAndSignedWebhook(t *testing.T) {
	s, c, rc := loginServer(t)
	k := keysOf(s)
	appID, userID := s.Variable("applicationId"), s.Variable("regularUserId")
	r := do(t, s, http.MethodPost, "/api/login", k.admin, map[string]any{
		"loginId": "RICHARD@example.com", "password": s.Variable("regularPassword"), "applicationId": appID,
	}, "X-Forwarded-For", "203.0.113.7", "User-Agent", "test-agent/1")
	wantStatus(t, r, http.StatusOK)
	now := c.Now()
	if got := path(r.body, "user.lastLoginInstant"); got != float64(now.UnixMilli()) {
		t.Errorf("user.lastLoginInstant = %v, want %d", got, now.UnixMilli())
	}
	if got := path(r.body, "tokenExpirationInstant"); got != float64(now.Add(3600e9).UnixMilli()) {
		t.Errorf("tokenExpirationInstant = %v, want now + the application's 3600 s", got)
	}
	kf, _ := jwks(t, s)
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(asString(r.body["token"]), claims, kf.Keyfunc, jwt.WithTimeFunc(c.Now), jwt.WithValidMethods([]string{"RS256"})); err != nil {
		t.Fatalf("login token does not verify with the JWKS (application key): %v", err)
	}
	for name, want := range map[string]any{"aud": appID, "sub": userID, "applicationId": appID, "authenticationType": "PASSWORD", "email": "richard@example.com", "iss": s.URL()} {
		if claims[name] != want {
			t.Errorf("claim %s = %v, want %v", name, claims[name], want)
		}
	}
	if u, _ := s.User(userID); u["lastLoginInstant"] != now.UnixMilli() {
		t.Errorf("stored lastLoginInstant = %v, want %d", u["lastLoginInstant"], now.UnixMilli())
	}

	if rc.count() != 1 {
		t.Fatalf("webhook received %d requests, want 1", rc.count())
	}
	req, body := rc.last()
	if req.URL.Path != "/webhook" || req.Header.Get("Content-Type") != "application/json" {
		t.Errorf("webhook request %s %s, Content-Type %q", req.Method, req.URL.Path, req.Header.Get("Content-Type"))
	}
	if got := req.Header.Get("X-Webhook-Secret"); got != s.Variable("webhookSecret") {
		t.Errorf("X-Webhook-Secret = %q, want the configured header", got)
	}
	sig := req.Header.Get("X-FusionAuth-Signature-JWT")
	sigClaims := jwt.MapClaims{}
	parsed, err := jwt.ParseWithClaims(sig, sigClaims, kf.Keyfunc, jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	if err != nil {
		t.Fatalf("signature JWT does not verify with the JWKS: %v", err)
	}
	keyResp := do(t, s, http.MethodGet, "/api/key/"+s.Variable("webhookSigningKeyId"), k.admin, nil)
	if parsed.Header["kid"] != path(keyResp.body, "key.kid") {
		t.Errorf("signature kid = %v, want the webhook signing key's kid %v", parsed.Header["kid"], path(keyResp.body, "key.kid"))
	}
	sum := sha256.Sum256(body)
	if got, want := sigClaims["request_body_sha256"], base64.StdEncoding.EncodeToString(sum[:]); got != want {
		t.Errorf("request_body_sha256 = %v, want %s", got, want)
	}
	var env map[string]any
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("webhook body: %v", err)
	}
	for p, want := range map[string]any{
		"event.type": "user.login.success", "event.tenantId": s.Variable("visitorTenantId"), "event.applicationId": appID,
		"event.authenticationType": "PASSWORD", "event.connectorId": "e3306678-a53a-4964-9040-1c96f36dda72",
		"event.info.ipAddress": "203.0.113.7", "event.info.userAgent": "test-agent/1", "event.user.id": userID,
		"event.createInstant": float64(now.UnixMilli()),
	} {
		if got := path(env, p); got != want {
			t.Errorf("%s = %v, want %v", p, got, want)
		}
	}
	d := s.Deliveries()
	if len(d) != 1 || d[0].Status != http.StatusNoContent || d[0].Err != nil || d[0].EventType != "user.login.success" || string(d[0].Body) != string(body) {
		t.Errorf("Deliveries = %+v, want one successful user.login.success with the body sent", d)
	}
}

func TestLoginStatuses(t *testing.T) {
	s, _, rc := loginServer(t)
	k := keysOf(s)
	appID := s.Variable("applicationId")
	createUser(t, s, k.admin, map[string]any{"email": "unregistered@example.com", "password": "long-enough-pw"})
	gone := createUser(t, s, k.admin, map[string]any{"email": "gone@example.com", "password": "long-enough-pw"})
	wantStatus(t, do(t, s, http.MethodDelete, "/api/user/"+gone, k.admin, nil), http.StatusOK)
	pw := s.Variable("regularPassword")
	tests := map[string]struct {
		key        string
		body       map[string]any
		wantStatus int
		wantEvent  bool
	}{
		"registered":                 {k.admin, map[string]any{"loginId": "richard@example.com", "password": pw, "applicationId": appID}, http.StatusOK, true},
		"no key with an application": {"", map[string]any{"loginId": "richard@example.com", "password": pw, "applicationId": appID}, http.StatusUnauthorized, false},
		"no key, no application":     {"", map[string]any{"loginId": "richard@example.com", "password": pw}, http.StatusUnauthorized, false},
		"limited key":                {k.video, map[string]any{"loginId": "richard@example.com", "password": pw, "applicationId": appID}, http.StatusUnauthorized, false},
		"wrong password":             {k.admin, map[string]any{"loginId": "richard@example.com", "password": "wrong-password", "applicationId": appID}, http.StatusNotFound, false},
		"unknown user":               {k.admin, map[string]any{"loginId": "nobody@example.com", "password": pw}, http.StatusNotFound, false},
		"not registered":             {k.admin, map[string]any{"loginId": "unregistered@example.com", "password": "long-enough-pw", "applicationId": appID}, http.StatusAccepted, true},
		"no application":             {k.admin, map[string]any{"loginId": "unregistered@example.com", "password": "long-enough-pw"}, http.StatusOK, true},
		"soft-deleted user":          {k.admin, map[string]any{"loginId": "gone@example.com", "password": "long-enough-pw"}, http.StatusLocked, false},
		"missing password":           {k.admin, map[string]any{"loginId": "richard@example.com"}, http.StatusBadRequest, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			before := rc.count()
			// With two tenants a login needs one: from the key, the application or the header.
			r := do(t, s, http.MethodPost, "/api/login", tc.key, tc.body, "X-FusionAuth-TenantId", s.Variable("visitorTenantId"))
			wantStatus(t, r, tc.wantStatus)
			if tc.wantStatus == http.StatusNotFound || tc.wantStatus == http.StatusUnauthorized || tc.wantStatus == http.StatusLocked {
				wantEmpty(t, r)
			}
			if got := rc.count() - before; got != map[bool]int{true: 1, false: 0}[tc.wantEvent] {
				t.Errorf("webhook deliveries = %d, want event %v", got, tc.wantEvent)
			}
			if tc.wantStatus == http.StatusAccepted {
				claims := jwt.MapClaims{}
				if _, _, err := jwt.NewParser().ParseUnverified(asString(r.body["token"]), claims); err != nil {
					t.Fatalf("202 token: %v", err)
				}
				if _, ok := claims["aud"]; ok {
					t.Errorf("202 token has aud %v, want no application claims", claims["aud"])
				}
			}
		})
	}
}

func TestLoginWebhookFailures(t *testing.T) {
	tests := map[string]struct {
		transactionType string
		receiverStatus  int
		wantPatch       int
	}{
		"None: a failure is sent once and never fails the login": {"None", http.StatusInternalServerError, http.StatusOK},
		"None: success": {"None", http.StatusOK, http.StatusOK},
		"transactional types are not implemented": {"Any", http.StatusOK, http.StatusBadRequest},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, c, rc := loginServer(t)
			k := keysOf(s)
			rc.setStatus(tc.receiverStatus)
			before := s.Unsupported()
			r := do(t, s, http.MethodPatch, "/api/tenant/"+s.Variable("visitorTenantId"), k.admin, map[string]any{"tenant": map[string]any{
				"eventConfiguration": map[string]any{"events": map[string]any{"user.login.success": map[string]any{"enabled": true, "transactionType": tc.transactionType}}}}})
			wantStatus(t, r, tc.wantPatch)
			if tc.wantPatch != http.StatusOK {
				if got := generalCodes(r); !slices.Contains(got, "[UnsupportedRequest]") || s.Unsupported() != before+1 {
					t.Errorf("generalErrors = %v, Unsupported grew by %d; want [UnsupportedRequest], counted", got, s.Unsupported()-before)
				}
				return
			}
			r = do(t, s, http.MethodPost, "/api/login", k.admin, map[string]any{"loginId": "richard@example.com", "password": s.Variable("regularPassword"), "applicationId": s.Variable("applicationId")})
			wantStatus(t, r, http.StatusOK)
			d := s.Deliveries()
			if len(d) != 1 || d[0].Status != tc.receiverStatus || (d[0].Err == nil) != (tc.receiverStatus < 300) {
				t.Errorf("deliveries = %+v, want one attempt answered %d", d, tc.receiverStatus)
			}
			u, _ := s.User(s.Variable("regularUserId"))
			if u["lastLoginInstant"] != c.Now().UnixMilli() {
				t.Errorf("lastLoginInstant = %v, want the login recorded whatever the webhook answered", u["lastLoginInstant"])
			}
		})
	}
}

func TestWebhookRouting(t *testing.T) {
	tests := map[string]struct {
		webhook   map[string]any
		tenantOn  bool
		wantCalls int
	}{
		"global webhook with basic auth": {map[string]any{"global": true, "eventsEnabled": map[string]any{"user.login.success": true},
			"httpAuthenticationUsername": "fa", "httpAuthenticationPassword": "secret"}, true, 1},
		"not global, other tenant list": {map[string]any{"tenantIds": []any{}, "eventsEnabled": map[string]any{"user.login.success": true}}, true, 0},
		"event disabled on the webhook": {map[string]any{"global": true, "eventsEnabled": map[string]any{"user.login.success": false}}, true, 0},
		"string true is coerced":        {map[string]any{"global": true, "eventsEnabled": map[string]any{"user.login.success": "true"}}, true, 1},
		"event disabled on the tenant":  {map[string]any{"global": true, "eventsEnabled": map[string]any{"user.login.success": true}}, false, 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rc := newReceiver(t)
			ks := writeKickstart(t, map[string]string{"kickstart.json": `{"apiKeys": [{"key": "admin-key-1234567890"}], "requests": [
				{"method": "POST", "url": "/api/user", "body": {"user": {"email": "w@example.com", "password": "long-enough-pw"}}}]}`})
			s := fatest.NewTestServer(t, fatest.Options{Kickstart: ks})
			const key = "admin-key-1234567890"
			wh := map[string]any{"url": rc.URL, "connectTimeout": 1000, "readTimeout": 1000}
			for k, v := range tc.webhook {
				wh[k] = v
			}
			wantStatus(t, do(t, s, http.MethodPost, "/api/webhook", key, map[string]any{"webhook": wh}), http.StatusOK)
			tenantID := s.Variable("FUSIONAUTH_TENANT_ID")
			r := do(t, s, http.MethodPatch, "/api/tenant/"+tenantID, key, map[string]any{"tenant": map[string]any{
				"eventConfiguration": map[string]any{"events": map[string]any{"user.login.success": map[string]any{"enabled": tc.tenantOn, "transactionType": "None"}}}}})
			wantStatus(t, r, http.StatusOK)
			wantStatus(t, do(t, s, http.MethodPost, "/api/login", key, map[string]any{"loginId": "w@example.com", "password": "long-enough-pw"}), http.StatusOK)
			if got := rc.count(); got != tc.wantCalls {
				t.Fatalf("webhook calls = %d, want %d", got, tc.wantCalls)
			}
			if u, ok := tc.webhook["httpAuthenticationUsername"]; ok {
				req, _ := rc.last()
				user, pass, ok2 := req.BasicAuth()
				if !ok2 || user != u || pass != tc.webhook["httpAuthenticationPassword"] {
					t.Errorf("basic auth = %q/%q (%v), want the configured credentials", user, pass, ok2)
				}
			}
		})
	}
}

func TestWebhookReceiverCanCallBack(t *testing.T) {
	s, _, rc := loginServer(t)
	k := keysOf(s)
	id := createUser(t, s, k.video, map[string]any{"username": "anonymous-stub-user", "email": "convert@example.com", "password": "long-enough-pw", "data": map[string]any{"anonymousUser": true}})
	var callbackStatus atomic.Int32
	rc.mu.Lock()
	rc.onEvent = func(ev map[string]any) {
		// What the project's webhook function does: convert the user, during delivery.
		req, _ := http.NewRequest(http.MethodPatch, s.URL()+"/api/user/"+asString(path(ev, "user.id")),
			jsonReader(map[string]any{"user": map[string]any{"username": "", "data": map[string]any{"anonymousUser": false}}}))
		req.Header.Set("Authorization", k.webhook)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			callbackStatus.Store(int32(res.StatusCode))
			res.Body.Close()
		}
	}
	rc.mu.Unlock()
	r := do(t, s, http.MethodPost, "/api/login", k.admin, map[string]any{"loginId": "convert@example.com", "password": "long-enough-pw"})
	wantStatus(t, r, http.StatusOK)
	if got := callbackStatus.Load(); got != http.StatusOK {
		t.Fatalf("PATCH from inside the webhook = %d, want 200 (no lock held during delivery)", got)
	}
	u, _ := s.User(id)
	if u["username"] != nil || path(u, "data.anonymousUser") != false || u["lastLoginInstant"] == nil {
		t.Errorf("user after conversion = %v, want username removed, anonymousUser false and the login recorded", u)
	}
}

func TestWebhookReadTimeout(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so that the server notices the client leaving
		<-r.Context().Done()               // never answers; the client's read timeout ends it
	}))
	t.Cleanup(hang.Close)
	ks := writeKickstart(t, map[string]string{"kickstart.json": `{"apiKeys": [{"key": "admin-key-1234567890"}], "requests": [
		{"method": "POST", "url": "/api/user", "body": {"user": {"email": "t@example.com", "password": "long-enough-pw"}}},
		{"method": "POST", "url": "/api/webhook", "body": {"webhook": {"url": "` + hang.URL + `", "connectTimeout": 1000, "readTimeout": 50, "global": true, "eventsEnabled": {"user.login.success": true}}}},
		{"method": "PATCH", "url": "/api/tenant/#{FUSIONAUTH_TENANT_ID}", "body": {"tenant": {"eventConfiguration": {"events": {"user.login.success": {"enabled": true, "transactionType": "None"}}}}}}]}`})
	s := fatest.NewTestServer(t, fatest.Options{Kickstart: ks})
	r := do(t, s, http.MethodPost, "/api/login", "admin-key-1234567890", map[string]any{"loginId": "t@example.com", "password": "long-enough-pw"})
	wantStatus(t, r, http.StatusOK)
	d := s.Deliveries()
	if len(d) != 1 || d[0].Err == nil || d[0].Status != 0 {
		t.Errorf("Deliveries = %+v, want one attempt that timed out without a status", d)
	}
}

// TestLoginWebhookSeesTheUserBeforeTheLogin: FusionAuth runs a login's webhooks inside
// the operation and persists its final state afterwards ("Writing a webhook"), so a
// webhook that reads the user finds the login not yet recorded; once the login API has
// answered, it is.
func TestLoginWebhookSeesTheUserBeforeTheLogin(t *testing.T) {
	s, c, rc := loginServer(t)
	k := keysOf(s)
	userID := s.Variable("regularUserId")
	before, _ := s.User(userID)
	c.Advance(time.Minute)
	var during map[string]any
	rc.mu.Lock()
	rc.onEvent = func(map[string]any) { during, _ = s.User(userID) }
	rc.mu.Unlock()
	r := do(t, s, http.MethodPost, "/api/login", k.admin, map[string]any{
		"loginId": "richard@example.com", "password": s.Variable("regularPassword"), "applicationId": s.Variable("applicationId"),
	})
	wantStatus(t, r, http.StatusOK)
	if during == nil || during["lastLoginInstant"] != before["lastLoginInstant"] {
		t.Errorf("the webhook saw lastLoginInstant %v, want it as before the login (%v)", during["lastLoginInstant"], before["lastLoginInstant"])
	}
	if after, _ := s.User(userID); after["lastLoginInstant"] != c.Now().UnixMilli() {
		t.Errorf("after the login: lastLoginInstant %v, want %d", after["lastLoginInstant"], c.Now().UnixMilli())
	}
}
