package lambdart_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/changebank/anonuser/e2e/lambdart"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/devserver"
	"github.com/changebank/anonuser/shared/faclient/fatest"
	"github.com/changebank/anonuser/shared/kickstart"
	"github.com/changebank/anonuser/shared/lock/dynamotest"
	"github.com/changebank/anonuser/shared/prune"
	"github.com/changebank/anonuser/shared/secrets/smtest"
	"github.com/changebank/anonuser/shared/token/tokentest"
)

// functions are the Lambda entry points under functions/.
var functions = []string{"video", "register", "webhook", "prune"}

// buildDir holds the bootstraps; TestMain creates and removes it.
var buildDir string

var (
	buildOnce  sync.Once
	bootstraps map[string]string
	buildErr   error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lambdart-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambdart: temp dir:", err)
		os.Exit(1)
	}
	buildDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// requireRIE returns the emulator's path. Without it the test skips, or fails under CI=true,
// where a missing tool must not pass as green.
func requireRIE(tb testing.TB) string {
	tb.Helper()
	rie, err := lambdart.FindRIE()
	if err == nil {
		return rie
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("CI=true: got %v, want aws-lambda-rie installed (scripts/tools.sh)", err)
	}
	tb.Skipf("skipping: %v", err)
	return ""
}

// bootstrap returns the bootstrap of the named function, building all four once per test
// binary.
func bootstrap(tb testing.TB, name string) string {
	tb.Helper()
	buildOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		root, err := kickstart.ModuleRoot()
		if err != nil {
			buildErr = err
			return
		}
		pkgs := make([]string, len(functions))
		for i, f := range functions {
			pkgs[i] = "./functions/" + f
		}
		bootstraps, buildErr = lambdart.Build(ctx, root, buildDir, pkgs...)
	})
	if buildErr != nil {
		tb.Fatalf("build bootstraps: %v", buildErr)
	}
	return bootstraps[name]
}

// stack is one in-memory FusionAuth, one fake Secrets Manager holding each function's
// secret, and the environment the SAM template gives each function.
type stack struct {
	fa       *fatest.Server
	sm       *smtest.Server
	ddb      *dynamotest.Server // the profile leases' table
	rie      string
	noConfig string // an AWS config file path that does not exist
	// webhookKID is the kid of the key FusionAuth signs webhooks with.
	webhookKID string
}

func newStack(tb testing.TB) *stack {
	tb.Helper()
	rie := requireRIE(tb)
	// FusionAuth's login webhook lands here and nowhere else: the test replays the recorded
	// delivery into the webhook function itself.
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	tb.Cleanup(receiver.Close)
	fa := fatest.NewTestServer(tb, fatest.Options{Variables: map[string]string{"webhookURL": receiver.URL + "/webhook"}})
	jsonSecret := func(fields map[string]string) string {
		b, err := json.Marshal(fields)
		if err != nil {
			tb.Fatalf("secret: %v", err)
		}
		return string(b)
	}
	// video and register sign the visitor cookie with the keys of their shared secret.
	sm := smtest.NewServer(tb, map[string]string{
		secretName("video"):    fa.Variable("videoApiKey"),
		secretName("register"): jsonSecret(map[string]string{"apiKey": fa.Variable("registerApiKey"), "clientSecret": fa.Variable("clientSecret")}),
		secretName("webhook"):  jsonSecret(map[string]string{"apiKey": fa.Variable("webhookApiKey"), "webhookSecret": fa.Variable("webhookSecret")}),
		secretName("prune"):    fa.Variable("pruneApiKey"),
		cookieKeysSecret:       tokentest.KeysJSON(tb, tokentest.Key(tb, "e2e-1")),
	})
	ddb := dynamotest.NewServer(tb, dynamotest.Table{Name: devserver.LocalLocksTable, Key: "id"}, dynamotest.Table{Name: devserver.LocalLimitsTable, Key: "id"})
	fa.ResetCalls()
	return &stack{fa: fa, sm: sm, ddb: ddb, rie: rie, noConfig: filepath.Join(tb.TempDir(), "absent"), webhookKID: fa.Variable("webhookSigningKid")}
}

func secretName(function string) string { return "anonuser/" + function + "-api-key" }

// cookieKeysSecret names the cookie keys' own secret.
const cookieKeysSecret = "anonuser/cookie-keys"

// env returns the function's environment as template.yaml sets it, pointing at this stack.
func (s *stack) env(function string) map[string]string {
	return lambdart.FunctionEnv(function, lambdart.Stack{
		FusionAuthURL:      s.fa.URL(),
		SecretsManagerURL:  s.sm.URL,
		DynamoDBURL:        s.ddb.URL,
		Region:             smtest.Region,
		Variable:           s.fa.Variable,
		WebhookSigningKID:  s.webhookKID,
		CookieKeysSecretID: s.sm.ARN(cookieKeysSecret),
		// !Ref of an AWS::SecretsManager::Secret is its ARN.
		SecretID:    func(function string) string { return s.sm.ARN(secretName(function)) },
		NoAWSConfig: s.noConfig,
	})
}

// start runs the function's bootstrap under its own emulator with env and stops both when
// the test ends; on failure the test log gets everything they printed.
func (s *stack) start(tb testing.TB, function string, env map[string]string) *lambdart.Emulator {
	tb.Helper()
	bin := bootstrap(tb, function) // may build first, so before the start deadline
	ctx, cancel := context.WithTimeout(tb.Context(), 10*time.Second)
	defer cancel()
	e, err := lambdart.Start(ctx, lambdart.Options{RIE: s.rie, Bootstrap: bin, Env: lambdart.EnvList(env)})
	if err != nil {
		tb.Fatalf("start %s: %v", function, err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("%s emulator output:\n%s", function, e.Output())
		}
		if err := e.Close(); err != nil {
			tb.Errorf("stop %s: %v", function, err)
		}
	})
	return e
}

// The functions' event fixtures (functions/<name>/testdata): the same files the adapter
// tests (shared/lambdahttp) and `sam local invoke -e` use.
const (
	videoEvent    = "../../functions/video/testdata/apigw-v2-get-video.json"
	registerEvent = "../../functions/register/testdata/apigw-v2-post-register.json"
	webhookEvent  = "../../functions/webhook/testdata/function-url-post-webhook.json"
	pruneEvent    = "../../functions/prune/testdata/eventbridge-scheduled-prune.json"
)

// event reads an event fixture and lets edit change it before it is sent.
func event(tb testing.TB, file string, edit func(ev map[string]any)) []byte {
	tb.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		tb.Fatalf("read event: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep epoch milliseconds exact
	var ev map[string]any
	if err := dec.Decode(&ev); err != nil {
		tb.Fatalf("decode %s: %v", file, err)
	}
	if edit != nil {
		edit(ev)
	}
	out, err := json.Marshal(ev)
	if err != nil {
		tb.Fatalf("encode %s: %v", file, err)
	}
	return out
}

// headers returns the event's header map for editing.
func headers(tb testing.TB, ev map[string]any) map[string]any {
	tb.Helper()
	h, ok := ev["headers"].(map[string]any)
	if !ok {
		tb.Fatalf("event headers: got %T, want an object", ev["headers"])
	}
	return h
}

// invoke sends event and decodes a successful result into T.
func invoke[T any](tb testing.TB, e *lambdart.Emulator, event []byte) T {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 20*time.Second)
	defer cancel()
	res, err := e.Invoke(ctx, event)
	if err != nil {
		tb.Fatalf("invoke: %v\noutput:\n%s", err, e.Output())
	}
	if err := res.Err(); err != nil {
		tb.Fatalf("invoke: got %v, want a result\noutput:\n%s", err, e.Output())
	}
	var out T
	if err := json.Unmarshal(res.Payload, &out); err != nil {
		tb.Fatalf("decode result %s: %v", res.Payload, err)
	}
	return out
}

// user returns the stored user's document, failing the test if it does not exist.
func user(tb testing.TB, fa *fatest.Server, id string) map[string]any {
	tb.Helper()
	u, ok := fa.User(id)
	if !ok {
		tb.Fatalf("user %s: got none, want it stored", id)
	}
	return u
}

func userData(u map[string]any) map[string]any {
	d, _ := u["data"].(map[string]any)
	return d
}

// number reads a JSON number from a user document (int64 or float64 depending on how it
// was stored) as a float64, so the test compares values, not representations.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// postJSON calls the in-memory FusionAuth directly, as a browser or FusionAuth's own UI would.
func postJSON(tb testing.TB, url, apiKey string, body any) (int, []byte) {
	tb.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		tb.Fatalf("encode request: %v", err)
	}
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		tb.Fatalf("new request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if apiKey != "" {
		req.Header.Set("Authorization", apiKey)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("POST %s: %v", url, err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("read %s: %v", url, err)
	}
	return res.StatusCode, out
}

// cookieUserID reads the userId claim of the visitor cookie's JWT without verifying it:
// the test only needs to know which user the function created.
func cookieUserID(tb testing.TB, token string) string {
	tb.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		tb.Fatalf("cookie token: got %d parts, want a JWT", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		tb.Fatalf("cookie token payload: %v", err)
	}
	var claims struct {
		UserID string `json:"userId"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.UserID == "" {
		tb.Fatalf("cookie token claims %s: got no userId (%v)", payload, err)
	}
	return claims.UserID
}

var watchCount = regexp.MustCompile(`watched this video <strong>(\d+)</strong>`)

// shownCount returns the watch count the video page shows.
func shownCount(tb testing.TB, body string) int {
	tb.Helper()
	m := watchCount.FindStringSubmatch(body)
	if m == nil {
		tb.Fatalf("video page: got no watch count in %q", body)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		tb.Fatalf("watch count %q: %v", m[1], err)
	}
	return n
}

// TestVisitorFlow drives one visitor through all four bootstraps, each under its own
// emulator, in the order production sees them: first visit, second visit, registration,
// FusionAuth's login webhook, and the nightly prune.
func TestVisitorFlow(t *testing.T) {
	s := newStack(t)
	fns := make(map[string]*lambdart.Emulator, len(functions))
	for _, name := range functions {
		fns[name] = s.start(t, name, s.env(name))
	}
	const email = "visitor@example.com"
	var (
		cookie string // "anon_user=<token>" as the browser sends it back
		userID string
	)

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"first visit sets the visitor cookie", func(t *testing.T) {
			before := s.fa.UserCount()
			counted := s.ddb.Calls("UpdateItem")
			res := invoke[events.APIGatewayV2HTTPResponse](t, fns["video"], event(t, videoEvent, nil))
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status: got %d, want 200; body %q", res.StatusCode, res.Body)
			}
			if len(res.Cookies) != 1 {
				t.Fatalf("cookies: got %q, want one Set-Cookie in the v2 cookies field", res.Cookies)
			}
			if v, ok := res.Headers["Set-Cookie"]; ok {
				t.Errorf("headers: got Set-Cookie %q, want it only in cookies", v)
			}
			c, err := http.ParseSetCookie(res.Cookies[0])
			if err != nil {
				t.Fatalf("parse Set-Cookie %q: %v", res.Cookies[0], err)
			}
			if c.Name != "anon_user" || c.Value == "" || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
				t.Errorf("cookie: got %q, want anon_user=<token>; Path=/; HttpOnly; Secure; SameSite=Lax", res.Cookies[0])
			}
			if ct := res.Headers["Content-Type"]; !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type: got %q, want text/html", ct)
			}
			if got := shownCount(t, res.Body); got != 1 {
				t.Errorf("watch count shown: got %d, want 1", got)
			}
			if got := s.fa.UserCount(); got != before+1 {
				t.Errorf("users: got %d, want %d (one stub created)", got, before+1)
			}
			// Counted against the event's sourceIp and the daily ceiling, in the limits table.
			if got := s.ddb.Calls("UpdateItem") - counted; got != 2 {
				t.Errorf("client limit UpdateItem calls: got %d, want 2 (the client's hour, the day's ceiling)", got)
			}
			cookie = c.Name + "=" + c.Value
			userID = cookieUserID(t, c.Value)
			if anon, _ := userData(user(t, s.fa, userID))["anonymousUser"].(bool); !anon {
				t.Errorf("user %s: got data.anonymousUser %v, want true", userID, userData(user(t, s.fa, userID))["anonymousUser"])
			}
		}},
		{"second visit with the cookie counts 2", func(t *testing.T) {
			before := s.fa.UserCount()
			ev := event(t, videoEvent, func(ev map[string]any) {
				ev["cookies"] = []any{cookie, "theme=dark"}
			})
			res := invoke[events.APIGatewayV2HTTPResponse](t, fns["video"], ev)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status: got %d, want 200; body %q", res.StatusCode, res.Body)
			}
			if got := shownCount(t, res.Body); got != 2 {
				t.Errorf("watch count shown: got %d, want 2", got)
			}
			if len(res.Cookies) != 0 {
				t.Errorf("cookies: got %q, want none (the visitor keeps its cookie)", res.Cookies)
			}
			if got := s.fa.UserCount(); got != before {
				t.Errorf("users: got %d, want %d (no new stub)", got, before)
			}
			if got, _ := number(userData(user(t, s.fa, userID))["watchCount"]); got != 2 {
				t.Errorf("stored watchCount: got %v, want 2", got)
			}
		}},
		{"register sends the set-password email", func(t *testing.T) {
			host := "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"
			for _, tc := range []struct {
				name       string
				origin     string
				fetchSite  string // the browser's Sec-Fetch-Site for that origin
				wantStatus int
				wantEmails int
			}{
				{name: "cross-site origin", origin: "https://evil.example", fetchSite: "cross-site", wantStatus: http.StatusForbidden, wantEmails: 0},
				{name: "same origin", origin: "https://" + host, fetchSite: "same-origin", wantStatus: http.StatusSeeOther, wantEmails: 1},
			} {
				t.Run(tc.name, func(t *testing.T) {
					ev := event(t, registerEvent, func(ev map[string]any) {
						ev["cookies"] = []any{cookie}
						h := headers(t, ev)
						h["host"] = host
						h["origin"] = tc.origin
						h["sec-fetch-site"] = tc.fetchSite
					})
					res := invoke[events.APIGatewayV2HTTPResponse](t, fns["register"], ev)
					if res.StatusCode != tc.wantStatus {
						t.Errorf("status: got %d, want %d; body %q", res.StatusCode, tc.wantStatus, res.Body)
					}
					outbox := s.fa.Outbox()
					if len(outbox) != tc.wantEmails {
						t.Fatalf("outbox: got %d emails, want %d", len(outbox), tc.wantEmails)
					}
					if tc.wantEmails == 0 {
						return
					}
					m := outbox[0]
					if m.To != email || m.UserID != userID || m.ChangePasswordID == "" {
						t.Errorf("email: got to %q user %q changePasswordId %q, want to %q user %q with a changePasswordId",
							m.To, m.UserID, m.ChangePasswordID, email, userID)
					}
					if loc := res.Headers["Location"]; loc != "/register" {
						t.Errorf("Location: got %q, want /register (POST/Redirect/GET to the check-your-email page)", loc)
					}
				})
			}
			if got := user(t, s.fa, userID)["email"]; got != email {
				t.Errorf("stored email: got %v, want %q", got, email)
			}
		}},
		{"login webhook converts the user", func(t *testing.T) {
			outbox := s.fa.Outbox()
			if len(outbox) != 1 {
				t.Fatalf("outbox: got %d emails, want 1", len(outbox))
			}
			const password = "a-new-password-e2e-1234"
			status, body := postJSON(t, s.fa.URL()+"/api/user/change-password", "",
				map[string]any{"changePasswordId": outbox[0].ChangePasswordID, "password": password})
			if status != http.StatusOK {
				t.Fatalf("change password: got %d %s, want 200", status, body)
			}
			status, body = postJSON(t, s.fa.URL()+"/api/login", s.fa.Variable("apiKey"),
				map[string]any{"loginId": email, "password": password, "applicationId": s.fa.Variable("applicationId")})
			if status != http.StatusOK && status != http.StatusAccepted {
				t.Fatalf("login: got %d %s, want 200 or 202", status, body)
			}
			var logins []fatest.Delivery
			for _, d := range s.fa.Deliveries() {
				if d.EventType == "user.login.success" {
					logins = append(logins, d)
				}
			}
			if len(logins) != 1 {
				t.Fatalf("login deliveries: got %d, want 1", len(logins))
			}
			d := logins[0]
			if d.Header.Get("X-FusionAuth-Signature-JWT") == "" || d.Header.Get("X-Webhook-Secret") == "" {
				t.Fatalf("delivery header: got %v, want a signature JWT and the shared secret", d.Header)
			}
			convertedAt := func(t *testing.T) any { return userData(user(t, s.fa, userID))["convertedAt"] }

			var firstConvertedAt any
			for _, tc := range []struct {
				name          string
				edit          func(h map[string]any, body []byte) []byte
				wantStatus    int
				wantAnonymous bool
			}{
				{name: "body altered after signing", wantStatus: http.StatusUnauthorized, wantAnonymous: true,
					edit: func(_ map[string]any, body []byte) []byte { return append(body, ' ') }},
				{name: "no shared secret", wantStatus: http.StatusUnauthorized, wantAnonymous: true,
					edit: func(h map[string]any, body []byte) []byte { delete(h, "x-webhook-secret"); return body }},
				{name: "no signature", wantStatus: http.StatusUnauthorized, wantAnonymous: true,
					edit: func(h map[string]any, body []byte) []byte { delete(h, "x-fusionauth-signature-jwt"); return body }},
				{name: "FusionAuth's delivery", wantStatus: http.StatusNoContent, wantAnonymous: false},
				{name: "the same delivery again", wantStatus: http.StatusNoContent, wantAnonymous: false},
			} {
				t.Run(tc.name, func(t *testing.T) {
					ev := event(t, webhookEvent, func(ev map[string]any) {
						h := headers(t, ev)
						// A Function URL event carries lower-case header names; the fixture's
						// redacted signature and secret give way to the recorded ones.
						for name, values := range d.Header {
							h[strings.ToLower(name)] = strings.Join(values, ",")
						}
						body := slices.Clone(d.Body)
						if tc.edit != nil {
							body = tc.edit(h, body)
						}
						h["content-length"] = strconv.Itoa(len(body))
						ev["body"] = string(body)
						ev["isBase64Encoded"] = false
					})
					res := invoke[events.LambdaFunctionURLResponse](t, fns["webhook"], ev)
					if res.StatusCode != tc.wantStatus {
						t.Errorf("status: got %d, want %d; body %q", res.StatusCode, tc.wantStatus, res.Body)
					}
					data := userData(user(t, s.fa, userID))
					if got := data["anonymousUser"]; got != tc.wantAnonymous {
						t.Errorf("data.anonymousUser: got %v, want %v", got, tc.wantAnonymous)
					}
					if got, _ := number(data["watchCount"]); got != 2 {
						t.Errorf("data.watchCount: got %v, want 2 (kept)", data["watchCount"])
					}
					if tc.wantAnonymous {
						return
					}
					if firstConvertedAt == nil {
						firstConvertedAt = convertedAt(t)
						if firstConvertedAt == nil {
							t.Errorf("data.convertedAt: got none, want the conversion time")
						}
					} else if got := convertedAt(t); got != firstConvertedAt {
						t.Errorf("data.convertedAt after a repeated delivery: got %v, want %v (unchanged)", got, firstConvertedAt)
					}
				})
			}
			if u := user(t, s.fa, userID); u["username"] != nil {
				t.Errorf("username: got %v, want none once converted", u["username"])
			}
		}},
		{"scheduled prune deletes stale stubs only", func(t *testing.T) {
			stale := "00000000-0000-4000-8000-00000000e2e1"
			fresh := "00000000-0000-4000-8000-00000000e2e2"
			for _, u := range []struct {
				id  string
				age time.Duration
			}{{stale, 40 * 24 * time.Hour}, {fresh, 24 * time.Hour}} {
				at := time.Now().Add(-u.age).UnixMilli()
				err := s.fa.PutUser(map[string]any{
					"id": u.id, "username": "stub-" + u.id, "tenantId": s.fa.Variable("visitorTenantId"),
					"data":          map[string]any{"anonymousUser": true, "watchCount": 1},
					"insertInstant": at, "lastUpdateInstant": at,
				}, "")
				if err != nil {
					t.Fatalf("seed %s: %v", u.id, err)
				}
			}
			got := invoke[prune.Summary](t, fns["prune"], event(t, pruneEvent, nil))
			want := prune.Summary{Matched: 1, Deleted: 1, RemainingAnonymous: 1, Converted: 1, Complete: true, FusionAuthCalls: got.FusionAuthCalls,
				Dropped: map[string]int64{"watchCount": 1, "watchSeconds": 0}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("summary: got %+v, want %+v", got, want)
			}
			if got.FusionAuthCalls == 0 {
				t.Errorf("summary.fusionAuthCalls: got 0, want the calls the run made")
			}
			if _, ok := s.fa.User(stale); ok {
				t.Errorf("stale stub %s: got it stored, want it deleted", stale)
			}
			for _, id := range []string{fresh, userID} {
				if _, ok := s.fa.User(id); !ok {
					t.Errorf("user %s: got it deleted, want it kept", id)
				}
			}
		}},
	}
	for _, step := range steps {
		if !t.Run(step.name, step.run) {
			t.Fatalf("step %q failed; later steps depend on it", step.name)
		}
	}
}

// TestColdStartFailure checks that a function refuses to start on a bad configuration:
// the process exits during init, the emulator answers the invoke with 502 and no payload,
// and the log names what is wrong. Configuration is checked before any network call.
func TestColdStartFailure(t *testing.T) {
	s := newStack(t)
	tests := []struct {
		name      string
		function  string
		set       map[string]string // "" removes the variable
		wantLog   string
		wantReads int // Secrets Manager reads: 0 when the configuration fails first
	}{
		{name: "video without COOKIE_KEYS_SECRET_ID", function: "video", set: map[string]string{"COOKIE_KEYS_SECRET_ID": ""},
			wantLog: "COOKIE_KEYS_SECRET_ID: required but not set"},
		{name: "video whose cookie-keys secret holds no usable key", function: "video", set: map[string]string{"COOKIE_KEYS_SECRET_ID": secretName("prune")},
			wantLog: `secret \"anonuser/prune-api-key\": cookie keys: not a JSON array`, wantReads: 1},
		{name: "register whose cookie-keys secret is missing", function: "register", set: map[string]string{"COOKIE_KEYS_SECRET_ID": "anonuser/no-cookie-keys"},
			wantLog: `cookie keys: secret \"anonuser/no-cookie-keys\" not found`, wantReads: 1},
		{name: "register whose secret holds no OAuth client secret", function: "register", set: map[string]string{"API_KEY_SECRET_ID": secretName("prune")},
			wantLog: `no \"clientSecret\" field, want the application's OAuth client secret`, wantReads: 1},
		{name: "register with a malformed COOKIE_NAME", function: "register", set: map[string]string{"COOKIE_NAME": "bad;name"},
			wantLog: `COOKIE_NAME: must be a cookie name (letters, digits, -_.), got \"bad;name\"`},
		{name: "webhook with neither a signing kid nor a shared secret", function: "webhook",
			set:     map[string]string{"WEBHOOK_SIGNING_KID": "", "API_KEY_SECRET_ID": secretName("prune")},
			wantLog: "neither WEBHOOK_SIGNING_KID nor a webhookSecret", wantReads: 1},
		{name: "prune with RETENTION_DAYS 0", function: "prune", set: map[string]string{"RETENTION_DAYS": "0"},
			wantLog: `RETENTION_DAYS: must be an integer from 1 to 3650, got \"0\"`},
		{name: "video with an unknown secret", function: "video", set: map[string]string{"API_KEY_SECRET_ID": "anonuser/missing"},
			wantLog: "ResourceNotFoundException", wantReads: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := s.env(tc.function)
			for k, v := range tc.set {
				if v == "" {
					delete(env, k)
				} else {
					env[k] = v
				}
			}
			secretID := env["API_KEY_SECRET_ID"]
			readsBefore := s.sm.Reads(secretID)
			callsBefore := s.fa.TotalCalls()
			e := s.start(t, tc.function, env)

			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			res, err := e.Invoke(ctx, event(t, videoEvent, nil))
			if err != nil {
				t.Fatalf("invoke: %v", err)
			}
			if res.StatusCode != http.StatusBadGateway || len(res.Payload) != 0 {
				t.Errorf("emulator answer: got %d %q, want 502 with no payload (init failed)", res.StatusCode, res.Payload)
			}
			// The emulator logs the init failure after answering; wait for it, then read.
			if err := e.WaitOutput(ctx, "Runtime exited with error: exit status 1"); err != nil {
				t.Errorf("output: %v; got\n%s", err, e.Output())
			}
			out := e.Output()
			for _, want := range []string{`"msg":"cold start failed"`, tc.wantLog} {
				if !strings.Contains(out, want) {
					t.Errorf("output: got\n%s\nwant it to contain %q", out, want)
				}
			}
			if got := s.sm.Reads(secretID) - readsBefore; got != tc.wantReads {
				t.Errorf("Secrets Manager reads: got %d, want %d", got, tc.wantReads)
			}
			if got := s.fa.TotalCalls() - callsBefore; got != 0 {
				t.Errorf("FusionAuth calls: got %d, want 0 (init stops first)", got)
			}
		})
	}
}

// TestFunctionEnv checks that the environment the emulator runs use is one each function's
// configuration accepts, and that it sets every variable the function reads, so a run
// exercises the template's values rather than the code's defaults.
func TestFunctionEnv(t *testing.T) {
	stack := lambdart.Stack{
		FusionAuthURL:     "http://127.0.0.1:9011",
		SecretsManagerURL: "http://127.0.0.1:4566",
		DynamoDBURL:       "http://127.0.0.1:4567",
		Region:            "eu-west-1",
		Variable:          func(string) string { return "00000000-0000-4000-8000-000000000001" },
		SecretID:          secretName,
		NoAWSConfig:       "/nonexistent",

		CookieKeysSecretID: cookieKeysSecret,
		WebhookSigningKID:  "webhook-kid",
	}
	tests := []struct {
		function string
		load     func(*config.Env) error
	}{
		{"video", func(e *config.Env) error { _, err := config.LoadVideo(e); return err }},
		{"register", func(e *config.Env) error { _, err := config.LoadRegister(e); return err }},
		{"webhook", func(e *config.Env) error { _, err := config.LoadWebhook(e); return err }},
		{"prune", func(e *config.Env) error { _, err := config.LoadPrune(e); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.function, func(t *testing.T) {
			env := lambdart.FunctionEnv(tc.function, stack)
			e := config.NewEnv(func(name string) (string, bool) { v, ok := env[name]; return v, ok })
			if err := tc.load(e); err != nil {
				t.Fatalf("load config: got %v, want nil", err)
			}
			for _, name := range e.Names() {
				if _, ok := env[name]; !ok {
					t.Errorf("env: got no %s, want every variable the function reads", name)
				}
			}
			if got, want := env["API_KEY_SECRET_ID"], secretName(tc.function); got != want {
				t.Errorf("API_KEY_SECRET_ID: got %q, want %q", got, want)
			}
		})
	}
}

// TestResultErr checks how an emulator answer is classified.
func TestResultErr(t *testing.T) {
	tests := []struct {
		name        string
		result      lambdart.Result
		wantErr     bool
		wantType    string // set when the error is a *FunctionError
		wantTimeout bool
	}{
		{name: "handler result", result: lambdart.Result{StatusCode: 200, Payload: []byte(`{"statusCode":204}`)}},
		{name: "string result", result: lambdart.Result{StatusCode: 200, Payload: []byte(`"hello"`)}},
		{name: "handler error", result: lambdart.Result{StatusCode: 200, Payload: []byte(`{"errorMessage":"boom","errorType":"errorString"}`)},
			wantErr: true, wantType: "errorString"},
		{name: "timeout", result: lambdart.Result{StatusCode: 200, Payload: []byte("Task timed out after 1.00 seconds")},
			wantErr: true, wantTimeout: true},
		{name: "init failed", result: lambdart.Result{StatusCode: 502}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.result.Err()
			if (err != nil) != tc.wantErr {
				t.Fatalf("Err: got %v, want error %v", err, tc.wantErr)
			}
			if got := errors.Is(err, lambdart.ErrTimedOut); got != tc.wantTimeout {
				t.Errorf("errors.Is(%v, ErrTimedOut): got %v, want %v", err, got, tc.wantTimeout)
			}
			fe, ok := errors.AsType[*lambdart.FunctionError](err)
			if tc.wantType == "" {
				if ok {
					t.Errorf("Err: got *FunctionError %v, want none", fe)
				}
				return
			}
			if !ok || fe.Type != tc.wantType {
				t.Errorf("Err: got %v, want *FunctionError of type %q", err, tc.wantType)
			}
		})
	}
}
