package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/changebank/anonuser/shared/apikey"
	"github.com/changebank/anonuser/shared/app/cookiekeys"
	"github.com/changebank/anonuser/shared/faclient/fatest"
	"github.com/changebank/anonuser/shared/kickstart"
	"github.com/changebank/anonuser/shared/lambdahttp"
	"github.com/changebank/anonuser/shared/secrets"
	"github.com/changebank/anonuser/shared/secrets/smtest"
	"github.com/changebank/anonuser/shared/token"
)

// invokeAPI is the Lambda Invoke API of `sam local start-lambda` for one function: it
// hands the event to the same adapter the functions use (shared/lambdahttp), so the test
// shows that the function sees the request the client sent.
func invokeAPI(t *testing.T, function string, h http.Handler) *httptest.Server {
	t.Helper()
	fn := lambdahttp.FunctionURL(h)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if want := "/2015-03-31/functions/" + function + "/invocations"; r.Method != http.MethodPost || r.URL.Path != want {
			t.Errorf("invoke request: got %s %s, want POST %s", r.Method, r.URL.Path, want)
		}
		var ev events.LambdaFunctionURLRequest
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			t.Errorf("decode event: %v", err)
		}
		res, err := fn(r.Context(), ev)
		if err != nil {
			t.Errorf("function: %v", err)
		}
		_ = json.NewEncoder(w).Encode(res)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestFunctionURLDeliversTheRequestAndTheAnswer(t *testing.T) {
	var seen struct {
		method, uri, host, sig, cookie string
		body                           []byte
	}
	lambda := invokeAPI(t, "WebhookFunction", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.method, seen.uri, seen.host = r.Method, r.URL.RequestURI(), r.Host
		seen.sig, seen.cookie = r.Header.Get("X-FusionAuth-Signature-JWT"), r.Header.Get("Cookie")
		seen.body, _ = io.ReadAll(r.Body)
		http.SetCookie(w, &http.Cookie{Name: "a", Value: "b"})
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, "no")
	}))
	f := &FunctionURL{Invoke: lambda.URL, Function: "WebhookFunction", Client: lambda.Client()}
	for _, body := range [][]byte{[]byte(`{"event":{"type":"user.login.success"}}`), {0xff, 0x00, 0xfe}} {
		req := httptest.NewRequest(http.MethodPost, "http://host.docker.internal:3000/webhook?x=1", strings.NewReader(string(body)))
		req.Header.Set("X-FusionAuth-Signature-JWT", "sig.jwt.value")
		req.Header.Set("Cookie", "c1=v1; c2=v2")
		rec := httptest.NewRecorder()
		f.ServeHTTP(rec, req)

		if rec.Code != http.StatusUnauthorized || rec.Body.String() != "no" || rec.Header().Get("Set-Cookie") != "a=b" {
			t.Errorf("answer: got %d %q Set-Cookie %q, want 401 \"no\" a=b", rec.Code, rec.Body, rec.Header().Get("Set-Cookie"))
		}
		checks := []struct{ name, got, want string }{
			{"method", seen.method, "POST"},
			{"path and query", seen.uri, "/webhook?x=1"},
			{"host", seen.host, "host.docker.internal:3000"},
			{"signature header", seen.sig, "sig.jwt.value"},
			{"cookies", seen.cookie, "c1=v1; c2=v2"},
			{"body", string(seen.body), string(body)},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("function saw %s: got %q, want %q", c.name, c.got, c.want)
			}
		}
	}
}

func TestFunctionURLReportsAFailedInvoke(t *testing.T) {
	for name, answer := range map[string]func(w http.ResponseWriter){
		"function error": func(w http.ResponseWriter) {
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			_, _ = io.WriteString(w, `{"errorMessage":"boom","errorType":"error"}`)
		},
		"error without the header": func(w http.ResponseWriter) { _, _ = io.WriteString(w, `{"errorMessage":"boom"}`) },
		"not found":                func(w http.ResponseWriter) { w.WriteHeader(http.StatusNotFound) },
	} {
		t.Run(name, func(t *testing.T) {
			lambda := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { answer(w) }))
			defer lambda.Close()
			f := &FunctionURL{Invoke: lambda.URL, Function: "WebhookFunction", Client: lambda.Client()}
			rec := httptest.NewRecorder()
			f.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/webhook", strings.NewReader("{}")))
			if rec.Code != http.StatusBadGateway {
				t.Errorf("status: got %d, want 502", rec.Code)
			}
		})
	}
}

func TestEventIsAFunctionURLEvent(t *testing.T) {
	req := httptest.NewRequest(http.MethodPost, "http://example.test/a%2Fb?q=1", strings.NewReader("x"))
	req.Header.Add("X-Multi", "1")
	req.Header.Add("X-Multi", "2")
	req.RemoteAddr = "[::1]:5555"
	ev := Event(req, []byte("x"), time.UnixMilli(1700000000123))
	if ev.RawPath != "/a%2Fb" || ev.RawQueryString != "q=1" || ev.Headers["x-multi"] != "1,2" || ev.Headers["host"] != "example.test" {
		t.Errorf("event: got rawPath %q query %q x-multi %q host %q", ev.RawPath, ev.RawQueryString, ev.Headers["x-multi"], ev.Headers["host"])
	}
	if ev.RequestContext.HTTP.SourceIP != "::1" || ev.RequestContext.TimeEpoch != 1700000000123 || ev.Version != "2.0" {
		t.Errorf("event context: got %+v version %q", ev.RequestContext, ev.Version)
	}
}

// TestPreparedFilesMatchTheTemplate: every variable the env-vars file sets is declared in
// the template copy for that function (sam local ignores the others), and the copy differs
// from template.yaml by the endpoints' declarations.
func TestPreparedFilesMatchTheTemplate(t *testing.T) {
	root, err := kickstart.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	orig, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := TemplateCopy(string(orig))
	if err != nil {
		t.Fatalf("TemplateCopy: %v", err)
	}
	globals, resources, ok := strings.Cut(tmpl, "\nResources:\n")
	stripped := tmpl
	for _, name := range []string{"AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_DYNAMODB"} {
		added := "        " + name + ": \"\"\n"
		if !ok || !strings.Contains(globals[strings.Index(globals, "\nGlobals:\n"):], added) {
			t.Fatalf("template copy: the declaration of %s is not in Globals", name)
		}
		stripped = strings.Replace(stripped, added, "", 1)
	}
	if stripped != string(orig) {
		t.Fatalf("template copy: got more changes than the endpoints' declarations")
	}
	vars, err := kickstart.RepoVariables()
	if err != nil {
		t.Fatal(err)
	}
	vars["webhookSigningKid"] = "kid-from-fusionauth"
	for section, env := range EnvVars(vars, "fa", "pub", "app", "sm", "ddb") {
		scope := globals
		if section != "Parameters" {
			start := strings.Index(resources, "\n  "+section+":\n")
			if start < 0 {
				t.Fatalf("env-vars section %s: no such resource in the template", section)
			}
			end := regexp.MustCompile(`\n  [A-Za-z]`).FindStringIndex(resources[start+1:])
			scope = resources[start : start+1+end[0]]
		}
		for name, value := range env {
			if value == "" {
				t.Errorf("env-vars %s.%s: empty, want a value (a kickstart variable is missing?)", section, name)
			}
			if !regexp.MustCompile(`\n {8,10}` + name + `:`).MatchString(scope) {
				t.Errorf("env-vars %s.%s: not declared there in the template copy, so sam local would ignore it", section, name)
			}
		}
	}
	if again, err := DeclareGlobalVariable(tmpl, "AWS_ENDPOINT_URL_SECRETS_MANAGER"); err != nil || again != tmpl {
		t.Errorf("DeclareGlobalVariable on a template that declares the variable: got a change (%v), want none", err)
	}
	if _, err := DeclareGlobalVariable("Resources:\n", "X"); err == nil {
		t.Error("DeclareGlobalVariable on a template without Globals: got no error, want one")
	}
}

func TestSecretsHoldTheKickstartKeys(t *testing.T) {
	vars, err := kickstart.RepoVariables()
	if err != nil {
		t.Fatal(err)
	}
	key, err := randomCookieKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Secrets(vars, []token.Key{key})
	if err != nil {
		t.Fatal(err)
	}
	// Each secret is read the way the functions read it: from Secrets Manager (the same
	// stand-in serve runs) with shared/apikey and shared/app/cookiekeys.
	sm := smtest.NewServer(t, s)
	for _, c := range []struct{ function, name, apiKey string }{
		{"video", "anon-users-dev/video-api-key", vars["videoApiKey"]},
		{"register", "anon-users-dev/register-api-key", vars["registerApiKey"]},
		{"webhook", "anon-users-dev/webhook-api-key", vars["webhookApiKey"]},
		{"prune", "anon-users-dev/prune-api-key", vars["pruneApiKey"]},
	} {
		src, err := apikey.Load(t.Context(), sm.Client(t), c.name)
		if err != nil {
			t.Fatalf("%s secret: %v", c.function, err)
		}
		if got, err := src.APIKey(t.Context()); err != nil || got != c.apiKey || got == "" {
			t.Errorf("%s secret API key: got %q (%v), want the kickstart's key", c.function, got, err)
		}
		if c.function == "webhook" {
			if got, _ := src.Value("webhookSecret"); got != vars["webhookSecret"] || got == "" {
				t.Errorf("webhook secret webhookSecret: got %q, want the kickstart's", got)
			}
		}
	}
	keys, err := cookiekeys.Load(t.Context(), sm.Client(t), "anon-users-dev/cookie-keys")
	if err != nil || len(keys) != 1 || keys[0].ID != key.ID || !bytes.Equal(keys[0].Secret, key.Secret) {
		t.Errorf("cookie keys secret: got %v (%v), want the one random key", keys, err)
	}
}

// TestPrepareReadsTheWebhookKIDFromFusionAuth: the env-vars file carries the kid
// FusionAuth gave the kickstart's webhook signing key, which no file knows beforehand.
func TestPrepareReadsTheWebhookKIDFromFusionAuth(t *testing.T) {
	fa := fatest.NewTestServer(t, fatest.Options{})
	root, err := kickstart.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	vars, err := kickstart.RepoVariables()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	envFile := filepath.Join(dir, "env.json")
	args := []string{"-template", filepath.Join(dir, "t.yaml"), "-env-vars", envFile, "-fusionauth-api", fa.URL()}
	if err := prepare(args, root, vars); err != nil {
		t.Fatalf("prepare: %v", err)
	}
	data, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]map[string]string
	if err := json.Unmarshal(data, &env); err != nil {
		t.Fatal(err)
	}
	key, err := fatestKeyKID(t, fa)
	if err != nil {
		t.Fatal(err)
	}
	if got := env["WebhookFunction"]["WEBHOOK_SIGNING_KID"]; got != key || got == "" {
		t.Errorf("WEBHOOK_SIGNING_KID: got %q, want FusionAuth's kid %q", got, key)
	}
}

// fatestKeyKID reads the webhook signing key's kid with the Key API, as a client would.
func fatestKeyKID(t *testing.T, fa *fatest.Server) (string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, fa.URL()+"/api/key/"+fa.Variable("webhookSigningKeyId"), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", fa.Variable("apiKey"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct {
		Key struct {
			KID string `json:"kid"`
		} `json:"key"`
	}
	err = json.NewDecoder(resp.Body).Decode(&body)
	return body.Key.KID, err
}

// TestSecretsProxyKeepsSignaturesValid: the functions sign their Secrets Manager calls
// (SigV4, Host included) for the address they were given (host.docker.internal here
// stands as "localhost"); through serve's proxy the stand-in still accepts them, and a
// proxy that rewrote Host would not.
func TestSecretsProxyKeepsSignaturesValid(t *testing.T) {
	sm := smtest.NewServer(t, map[string]string{"anon-users-dev/prune-api-key": "k"})
	target, err := url.Parse(sm.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, keepHost := range []bool{true, false} {
		front := httptest.NewServer(proxy(target, keepHost))
		_, port, _ := net.SplitHostPort(strings.TrimPrefix(front.URL, "http://"))
		env := map[string]string{
			"AWS_ACCESS_KEY_ID": smtest.AccessKeyID, "AWS_SECRET_ACCESS_KEY": smtest.SecretAccessKey,
			"AWS_REGION": smtest.Region, "AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://localhost:" + port,
		}
		client, err := secrets.FromEnv(t.Context(), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if err != nil {
			t.Fatal(err)
		}
		v, err := client.GetSecretValue(t.Context(), "anon-users-dev/prune-api-key")
		ok := err == nil && v.String != nil && *v.String == "k"
		if ok != keepHost {
			t.Errorf("through the proxy (keep Host %v): got value ok=%v (error %v), want ok=%v", keepHost, ok, err, keepHost)
		}
		front.Close()
	}
}
