// Command samlocal supplies what the SAM CLI lacks for running the functions under `sam
// local` against the docker compose FusionAuth, for scripts/samlocal.sh (which the GitHub
// workflow and scripts/realfa.sh run):
//
//	go run ./scripts/samlocal prepare -template template.ci.yaml -env-vars env-vars.ci.json \
//	    [-fusionauth-api http://localhost:9011]
//	go run ./scripts/samlocal serve [-addr 0.0.0.0:3000] [-api http://127.0.0.1:3002] \
//	    [-lambda http://127.0.0.1:3001] [-secrets-addr 0.0.0.0:4566] [-dynamodb-addr 0.0.0.0:4567]
//	eval "$(go run ./scripts/samlocal credentials)"
//
// prepare writes a copy of template.yaml whose functions also declare
// AWS_ENDPOINT_URL_SECRETS_MANAGER and AWS_ENDPOINT_URL_DYNAMODB (sam local applies only
// variables the template declares), and an env-vars file that points the functions at
// FusionAuth, at the Secrets Manager and DynamoDB stand-ins (through host.docker.internal)
// and at the kickstart's ids, the secret names and the lease table's name.
// The webhook's WEBHOOK_SIGNING_KID exists only once FusionAuth has generated the
// kickstart's key, so prepare reads it from FusionAuth's Key API (-fusionauth-api, with
// the kickstart's unrestricted dev key).
// The copy differs from template.yaml by those two variables; `sam validate --lint` checks
// template.yaml itself.
//
// serve runs until interrupted:
//   - a Secrets Manager stand-in (shared/secrets/smtest) on -secrets-addr holding each
//     function's API key from kickstart/kickstart.json (the webhook's with the shared
//     webhook secret) and the cookie keys (one random key made at start), because the
//     functions read them from Secrets Manager at cold start and CI has no AWS account;
//   - a DynamoDB stand-in (shared/lock/dynamotest) on -dynamodb-addr holding the profile
//     leases' table (LocksTable), since sam local creates no table;
//   - the site on -addr: POST /webhook becomes a Lambda Function URL event invoked through
//     `sam local start-lambda` (-lambda), because sam local does not emulate function URLs
//     and FusionAuth's kickstart webhook calls host.docker.internal:3000/webhook; every other
//     request goes to `sam local start-api` (-api) with its Host header kept.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/kickstart"
	"github.com/changebank/anonuser/shared/lock/dynamotest"
	"github.com/changebank/anonuser/shared/secrets/smtest"
	"github.com/changebank/anonuser/shared/token"
)

// Secret names: the same as env-vars.example.json's.
var secretNames = map[string]string{
	"VideoFunction":    "anon-users-dev/video-api-key",
	"RegisterFunction": "anon-users-dev/register-api-key",
	"WebhookFunction":  "anon-users-dev/webhook-api-key",
	"PruneFunction":    "anon-users-dev/prune-api-key",
	"cookieKeys":       "anon-users-dev/cookie-keys",
}

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(os.Args[1:], log); err != nil {
		log.Error("samlocal failed", "error", err)
		os.Exit(1)
	}
}

func run(args []string, log *slog.Logger) error {
	if len(args) == 0 {
		return errors.New("usage: samlocal prepare|serve|credentials [flags]")
	}
	root, err := kickstart.ModuleRoot()
	if err != nil {
		return err
	}
	vars, err := kickstart.RepoVariables()
	if err != nil {
		return err
	}
	switch args[0] {
	case "prepare":
		return prepare(args[1:], root, vars)
	case "serve":
		return serve(args[1:], vars, log)
	case "credentials":
		// For eval in scripts/samlocal.sh: sam local hands the host's AWS credentials to
		// the functions, and the stand-in checks SigV4 signatures against its own.
		_, err := fmt.Printf("export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_REGION=%s AWS_DEFAULT_REGION=%s\n",
			smtest.AccessKeyID, smtest.SecretAccessKey, smtest.Region, smtest.Region)
		return err
	default:
		return fmt.Errorf("unknown command %q: want prepare, serve or credentials", args[0])
	}
}

func prepare(args []string, root string, vars map[string]string) error {
	fs := newFlagSet("prepare")
	tmplOut := fs.String("template", "template.ci.yaml", "where to write the template copy (beside template.yaml: CodeUri paths are relative)")
	envOut := fs.String("env-vars", "env-vars.ci.json", "where to write the env-vars file")
	faURL := fs.String("fusionauth-url", "http://host.docker.internal:9011", "FusionAuth as the function containers reach it")
	publicURL := fs.String("fusionauth-public-url", "http://localhost:9011", "FusionAuth as browsers reach it")
	appURL := fs.String("app-url", "http://localhost:3000", "the site as browsers reach it")
	smURL := fs.String("secrets-url", "http://host.docker.internal:4566", "the Secrets Manager stand-in as the function containers reach it")
	ddbURL := fs.String("dynamodb-url", "http://host.docker.internal:4567", "the DynamoDB stand-in as the function containers reach it")
	faAPI := fs.String("fusionauth-api", "http://localhost:9011", "FusionAuth as this command reaches it, to read the webhook key's kid")
	if err := fs.Parse(args); err != nil {
		return err
	}
	admin, err := faclient.New(faclient.Options{BaseURL: *faAPI, Keys: faclient.StaticKey(vars["apiKey"])})
	if err != nil {
		return err
	}
	key, err := admin.RetrieveKey(context.Background(), vars["webhookSigningKeyId"])
	if err != nil {
		return fmt.Errorf("the kickstart's webhook signing key: %w", err)
	}
	vars["webhookSigningKid"] = key.Key.KID
	tmpl, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		return fmt.Errorf("read template: %w", err)
	}
	out, err := TemplateCopy(string(tmpl))
	if err != nil {
		return err
	}
	if err := os.WriteFile(*tmplOut, []byte(out), 0o644); err != nil {
		return fmt.Errorf("write template copy: %w", err)
	}
	env, err := json.MarshalIndent(EnvVars(vars, *faURL, *publicURL, *appURL, *smURL, *ddbURL), "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(*envOut, env, 0o644); err != nil {
		return fmt.Errorf("write env-vars: %w", err)
	}
	return nil
}

// endpointVariables are what the template copy declares beyond template.yaml: the AWS
// stand-ins' endpoints.
var endpointVariables = []string{"AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_DYNAMODB"}

// TemplateCopy is template.yaml with endpointVariables declared in its Globals.
func TemplateCopy(tmpl string) (string, error) {
	for _, name := range endpointVariables {
		var err error
		if tmpl, err = DeclareGlobalVariable(tmpl, name); err != nil {
			return "", err
		}
	}
	return tmpl, nil
}

// DeclareGlobalVariable returns the template with name declared (empty) in
// Globals.Function.Environment.Variables, so that sam local's env-vars file may set it.
// A template that declares name already is returned as it is.
func DeclareGlobalVariable(tmpl, name string) (string, error) {
	if regexp.MustCompile(`\n {8,10}` + regexp.QuoteMeta(name) + `:`).MatchString(tmpl) {
		return tmpl, nil
	}
	g := strings.Index(tmpl, "\nGlobals:\n")
	if g < 0 {
		return "", errors.New("template has no Globals section")
	}
	const marker = "\n    Environment:\n      Variables:\n"
	v := strings.Index(tmpl[g:], marker)
	if v < 0 {
		return "", errors.New("template's Globals has no Function.Environment.Variables (indented 4 and 6 spaces)")
	}
	at := g + v + len(marker)
	return tmpl[:at] + "        " + name + `: ""` + "\n" + tmpl[at:], nil
}

// EnvVars is sam local's env-vars file for the compose FusionAuth configured from the
// kickstart whose variables are vars (with webhookSigningKid, the kid FusionAuth gave the
// webhook signing key).
func EnvVars(vars map[string]string, faURL, publicURL, appURL, smURL, ddbURL string) map[string]map[string]string {
	return map[string]map[string]string{
		"Parameters": {
			"FUSIONAUTH_URL":                   faURL,
			"FUSIONAUTH_TENANT_ID":             vars["visitorTenantId"],
			"FUSIONAUTH_APPLICATION_ID":        vars["applicationId"],
			"AWS_ENDPOINT_URL_SECRETS_MANAGER": smURL,
			"AWS_ENDPOINT_URL_DYNAMODB":        ddbURL,
			"PROFILE_LOCKS_TABLE":              LocksTable,
			"LOG_LEVEL":                        "debug",
		},
		"VideoFunction": {"API_KEY_SECRET_ID": secretNames["VideoFunction"], "COOKIE_KEYS_SECRET_ID": secretNames["cookieKeys"], "CLIENT_LIMITS_TABLE": LimitsTable},
		"RegisterFunction": {
			"API_KEY_SECRET_ID":     secretNames["RegisterFunction"],
			"COOKIE_KEYS_SECRET_ID": secretNames["cookieKeys"],
			"CLIENT_LIMITS_TABLE":   LimitsTable,
			"FUSIONAUTH_PUBLIC_URL": publicURL,
			"REGISTER_REDIRECT_URI": appURL + "/callback",
		},
		"WebhookFunction": {"API_KEY_SECRET_ID": secretNames["WebhookFunction"], "WEBHOOK_SIGNING_KID": vars["webhookSigningKid"]},
		"PruneFunction":   {"API_KEY_SECRET_ID": secretNames["PruneFunction"]},
	}
}

// LocksTable is the profile leases' table the DynamoDB stand-in holds (sam local resolves
// no !Ref to a real table).
const LocksTable = "samlocal-profile-locks"

// LimitsTable is the per-client counts' table the DynamoDB stand-in holds.
const LimitsTable = "samlocal-client-limits"

// Secrets are the secrets' values: each function's API key (the webhook's as JSON with
// the shared webhook secret, the register function's with the OAuth client secret) and the cookie keys (the JSON array token.ParseKeys reads).
func Secrets(vars map[string]string, cookieKeys []token.Key) (map[string]string, error) {
	keys, err := json.Marshal(cookieKeys)
	if err != nil {
		return nil, err
	}
	webhook, err := json.Marshal(map[string]string{"apiKey": vars["webhookApiKey"], "webhookSecret": vars["webhookSecret"]})
	if err != nil {
		return nil, err
	}
	register, err := json.Marshal(map[string]string{"apiKey": vars["registerApiKey"], "clientSecret": vars["clientSecret"]})
	if err != nil {
		return nil, err
	}
	return map[string]string{
		secretNames["VideoFunction"]:    vars["videoApiKey"],
		secretNames["RegisterFunction"]: string(register),
		secretNames["WebhookFunction"]:  string(webhook),
		secretNames["PruneFunction"]:    vars["pruneApiKey"],
		secretNames["cookieKeys"]:       string(keys),
	}, nil
}

// randomCookieKey is a fresh cookie key for one run: cookies last while serve runs.
func randomCookieKey(now time.Time) (token.Key, error) {
	secret := make([]byte, token.MinSecretLen)
	if _, err := rand.Read(secret); err != nil {
		return token.Key{}, fmt.Errorf("generate a cookie key: %w", err)
	}
	return token.Key{ID: "samlocal-" + now.UTC().Format("20060102T150405"), Secret: secret}, nil
}

func serve(args []string, vars map[string]string, log *slog.Logger) error {
	fs := newFlagSet("serve")
	addr := fs.String("addr", "0.0.0.0:3000", "the site's address (FusionAuth's webhook calls port 3000)")
	apiURL := fs.String("api", "http://127.0.0.1:3002", "sam local start-api")
	lambdaURL := fs.String("lambda", "http://127.0.0.1:3001", "sam local start-lambda")
	webhookFn := fs.String("webhook-function", "WebhookFunction", "the function behind POST /webhook")
	smAddr := fs.String("secrets-addr", "0.0.0.0:4566", "the Secrets Manager stand-in's address")
	ddbAddr := fs.String("dynamodb-addr", "0.0.0.0:4567", "the DynamoDB stand-in's address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cookieKey, err := randomCookieKey(time.Now())
	if err != nil {
		return err
	}
	secrets, err := Secrets(vars, []token.Key{cookieKey})
	if err != nil {
		return err
	}
	sm, err := smtest.Start(secrets) // listens on 127.0.0.1 only; proxied on smAddr
	if err != nil {
		return err
	}
	defer sm.Close()
	smTarget, err := url.Parse(sm.URL)
	if err != nil {
		return err
	}
	ddb, err := dynamotest.Start(dynamotest.Table{Name: LocksTable, Key: "id"}, dynamotest.Table{Name: LimitsTable, Key: "id"}) // 127.0.0.1 only; proxied on ddbAddr
	if err != nil {
		return err
	}
	defer ddb.Close()
	ddbTarget, err := url.Parse(ddb.URL)
	if err != nil {
		return err
	}
	api, err := url.Parse(*apiURL)
	if err != nil {
		return fmt.Errorf("-api: %w", err)
	}
	site := http.NewServeMux()
	site.Handle("POST /webhook", &FunctionURL{Invoke: *lambdaURL, Function: *webhookFn, Client: &http.Client{Timeout: 60 * time.Second}})
	site.Handle("/", proxy(api, true))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	servers := []*http.Server{
		// Host kept: it is part of the SigV4 signature the stand-in checks.
		{Addr: *smAddr, Handler: proxy(smTarget, true), ReadHeaderTimeout: 5 * time.Second},
		{Addr: *ddbAddr, Handler: proxy(ddbTarget, true), ReadHeaderTimeout: 5 * time.Second},
		{Addr: *addr, Handler: site, ReadHeaderTimeout: 5 * time.Second},
	}
	errc := make(chan error, len(servers))
	for _, s := range servers {
		go func() { errc <- s.ListenAndServe() }()
	}
	log.Info("samlocal serving", "site", *addr, "secretsManager", *smAddr, "dynamodb", *ddbAddr, "api", *apiURL, "lambda", *lambdaURL)
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range servers {
		err = errors.Join(err, s.Shutdown(shutdown))
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// proxy forwards to target, keeping the request's Host header when keepHost is set (the
// register function compares Origin with the request's own origin; SigV4 signs Host).
func proxy(target *url.URL, keepHost bool) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.SetXForwarded()
		if keepHost {
			r.Out.Host = r.In.Host
		}
	}}
}

// FunctionURL serves requests the way a Lambda function URL (buffered) does: each one
// becomes a payload 2.0 event invoked through the Lambda Invoke API at Invoke (what `sam
// local start-lambda` serves), and the function's answer becomes the response.
type FunctionURL struct {
	Invoke   string // base URL of the Lambda Invoke API, e.g. http://127.0.0.1:3001
	Function string // the function's logical id
	Client   *http.Client
}

// maxBody is a function URL's request payload limit (6 MB).
const maxBody = 6 << 20

func (f *FunctionURL) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	payload, err := json.Marshal(Event(r, body, time.Now()))
	if err != nil {
		http.Error(w, "encode event", http.StatusInternalServerError)
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost,
		strings.TrimRight(f.Invoke, "/")+"/2015-03-31/functions/"+url.PathEscape(f.Function)+"/invocations", bytes.NewReader(payload))
	if err != nil {
		http.Error(w, "build invoke", http.StatusInternalServerError)
		return
	}
	resp, err := f.Client.Do(req)
	if err != nil {
		http.Error(w, "invoke "+f.Function+": "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("X-Amz-Function-Error") != "" {
		http.Error(w, fmt.Sprintf("invoke %s: status %d: %s", f.Function, resp.StatusCode, out), http.StatusBadGateway)
		return
	}
	var res struct {
		events.LambdaFunctionURLResponse
		ErrorMessage string `json:"errorMessage"`
	}
	if err := json.Unmarshal(out, &res); err != nil || res.ErrorMessage != "" || res.StatusCode == 0 {
		http.Error(w, fmt.Sprintf("function %s failed: %s", f.Function, out), http.StatusBadGateway)
		return
	}
	writeResponse(w, res.LambdaFunctionURLResponse)
}

func writeResponse(w http.ResponseWriter, res events.LambdaFunctionURLResponse) {
	for k, v := range res.Headers {
		w.Header().Set(k, v)
	}
	for _, c := range res.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	body := []byte(res.Body)
	if res.IsBase64Encoded {
		decoded, err := base64.StdEncoding.DecodeString(res.Body)
		if err != nil {
			http.Error(w, "function answered invalid base64", http.StatusBadGateway)
			return
		}
		body = decoded
	}
	w.WriteHeader(res.StatusCode)
	_, _ = w.Write(body)
}

// Event is the function URL event Lambda would send for the request: lower-case
// headers (repeated ones joined with commas), cookies moved to their own list, and a
// body that is base64-encoded unless it is UTF-8 text.
func Event(r *http.Request, body []byte, now time.Time) events.LambdaFunctionURLRequest {
	headers := map[string]string{"host": r.Host}
	var cookies []string
	for k, vs := range r.Header {
		if strings.EqualFold(k, "Cookie") {
			for _, v := range vs {
				cookies = append(cookies, strings.Split(v, "; ")...)
			}
			continue
		}
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	ev := events.LambdaFunctionURLRequest{
		Version:        "2.0",
		RawPath:        r.URL.EscapedPath(),
		RawQueryString: r.URL.RawQuery,
		Cookies:        cookies,
		Headers:        headers,
		RequestContext: events.LambdaFunctionURLRequestContext{
			DomainName: r.Host,
			RequestID:  fmt.Sprintf("samlocal-%d", now.UnixNano()),
			TimeEpoch:  now.UnixMilli(),
			HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP(r.RemoteAddr),
				UserAgent: r.UserAgent(),
			},
		},
	}
	if utf8.Valid(body) {
		ev.Body = string(body)
	} else {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	}
	return ev
}

func sourceIP(remoteAddr string) string {
	if i := strings.LastIndexByte(remoteAddr, ':'); i > 0 {
		return strings.Trim(remoteAddr[:i], "[]")
	}
	return remoteAddr
}

func newFlagSet(name string) *flag.FlagSet { return flag.NewFlagSet(name, flag.ContinueOnError) }
