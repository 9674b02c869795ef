package devserver

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/changebank/anonuser/shared/apikey"
	"github.com/changebank/anonuser/shared/app"
	"github.com/changebank/anonuser/shared/app/pruneapp"
	"github.com/changebank/anonuser/shared/app/registerapp"
	"github.com/changebank/anonuser/shared/app/videoapp"
	"github.com/changebank/anonuser/shared/app/webhookapp"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/faclient/fatest"
	"github.com/changebank/anonuser/shared/kickstart"
	"github.com/changebank/anonuser/shared/limit"
	"github.com/changebank/anonuser/shared/lock"
	"github.com/changebank/anonuser/shared/prune"
	"github.com/changebank/anonuser/shared/secrets"
	"github.com/changebank/anonuser/shared/site"
	"github.com/changebank/anonuser/shared/token"
)

// Options configure a local stack.
type Options struct {
	Addr           string           // where the functions listen; default 127.0.0.1:3000
	FusionAuthAddr string           // where the embedded FusionAuth listens; default 127.0.0.1:9011
	FusionAuthURL  string           // a real FusionAuth to use instead of the embedded one
	Kickstart      string           // kickstart.json; default kickstart/kickstart.json under the module root
	Logger         *slog.Logger     // default: JSON to stderr
	Now            func() time.Time // the embedded FusionAuth's clock (tests age users with it)
	PruneEvery     time.Duration    // run the prune schedule this often; 0 = only on POST /_local/prune
	// CookieKeys are the visitor-cookie keys, the JSON of the deployed secret
	// (token.ParseKeys); cmd/local passes COOKIE_KEYS. Empty: one random key per start.
	CookieKeys string
}

// Stack is a running local stack.
type Stack struct {
	URL           string         // base URL of the functions, e.g. http://127.0.0.1:3000
	FusionAuthURL string         // base URL of FusionAuth
	FusionAuth    *fatest.Server // the embedded server; nil with a real FusionAuth
	Variables     map[string]string
	srv           *http.Server
	done          chan error
	pruner        *prune.Pruner
	funnel        *funnel // the metrics counted since start (GET /_local/funnel)
	log           *slog.Logger
	stopSchedule  context.CancelFunc
}

// Start starts the stack and returns once every server is listening.
func Start(ctx context.Context, o Options) (*Stack, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:3000"
	}
	if o.FusionAuthAddr == "" {
		o.FusionAuthAddr = "127.0.0.1:9011"
	}
	if o.Logger == nil {
		o.Logger = app.NewLogger(os.Stderr)
	}
	if o.Kickstart == "" {
		path, err := kickstart.Path()
		if err != nil {
			return nil, fmt.Errorf("%w: run from the repository", err)
		}
		o.Kickstart = path
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", o.Addr, err)
	}
	s := &Stack{URL: "http://" + ln.Addr().String(), done: make(chan error, 1), funnel: newFunnel(time.Now())}
	o.Logger = slog.New(countingHandler{next: o.Logger.Handler(), f: s.funnel})
	if err := s.startFusionAuth(o); err != nil {
		_ = ln.Close()
		return nil, err
	}
	mux, err := s.routes(ctx, o)
	if err != nil {
		_ = ln.Close()
		_ = s.closeFusionAuth()
		return nil, err
	}
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ErrorLog: slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn)}
	go func() { s.done <- s.srv.Serve(ln) }()
	schedCtx, cancel := context.WithCancel(context.Background())
	s.stopSchedule = cancel
	if o.PruneEvery > 0 {
		go s.schedule(schedCtx, o.PruneEvery)
	}
	return s, nil
}

func (s *Stack) startFusionAuth(o Options) error {
	if o.FusionAuthURL != "" {
		vars, err := kickstart.Variables(o.Kickstart)
		if err != nil {
			return err
		}
		s.FusionAuthURL, s.Variables = o.FusionAuthURL, vars
		return nil
	}
	fa, err := fatest.Start(fatest.Options{
		Kickstart: o.Kickstart,
		Addr:      o.FusionAuthAddr,
		Now:       o.Now,
		Logger:    o.Logger,
		Variables: map[string]string{
			"appURL":     s.URL,
			"webhookURL": s.URL + "/webhook",
		},
	})
	if err != nil {
		return fmt.Errorf("embedded FusionAuth: %w", err)
	}
	s.FusionAuth, s.FusionAuthURL = fa, fa.URL()
	s.Variables = map[string]string{}
	for _, name := range []string{"visitorTenantId", "applicationId", "signingKeyId", "webhookSigningKeyId", "webhookSigningKid", "webhookSecret",
		"accountExistsEmailTemplateId", "apiKey", "videoApiKey", "registerApiKey", "webhookApiKey", "pruneApiKey", "clientSecret"} {
		s.Variables[name] = fa.Variable(name)
	}
	return nil
}

// The secret ids the local configuration names: localSecrets holds them, as Secrets
// Manager holds the deployed ones.
func localSecretID(function string) string { return "local/" + function + "-api-key" }

// localCookieKeysID names the local secret that holds the cookie keys.
const localCookieKeysID = "local/cookie-keys"

// Endpoints are what a function's environment points at.
type Endpoints struct {
	FusionAuthURL string                       // FUSIONAUTH_URL and FUSIONAUTH_PUBLIC_URL
	SiteURL       string                       // where the functions are served; FusionAuth's registration returns to SiteURL/video
	Variable      func(name string) string     // a kickstart variable (visitorTenantId, applicationId)
	SecretID      func(function string) string // the id of the function's API-key secret
	// CookieKeysSecretID is the id of the cookie keys' secret (video and register).
	CookieKeysSecretID string
	// WebhookSigningKID is the kid FusionAuth signs webhooks with.
	WebhookSigningKID string
}

// LocalLocksTable is PROFILE_LOCKS_TABLE in a local function's environment: the stack
// itself keeps its leases in memory; the emulator runs (e2e/lambdart) serve a fake
// DynamoDB table of this name.
const LocalLocksTable = "local-profile-locks"

// LocalLimitsTable is CLIENT_LIMITS_TABLE in a local function's environment: the stack
// counts in memory; the emulator runs serve a fake DynamoDB table of this name.
const LocalLimitsTable = "local-client-limits"

// FunctionEnv returns the environment template.yaml gives function (video, register,
// webhook or prune), pointed at e: every variable its config.Load* requires. Optional
// variables are left out, so their defaults (package config) apply.
func FunctionEnv(function string, e Endpoints) map[string]string {
	env := map[string]string{
		"FUSIONAUTH_URL":            e.FusionAuthURL,
		"FUSIONAUTH_TENANT_ID":      e.Variable("visitorTenantId"),
		"FUSIONAUTH_APPLICATION_ID": e.Variable("applicationId"),
		"API_KEY_SECRET_ID":         e.SecretID(function),
		"PROFILE_LOCKS_TABLE":       LocalLocksTable,
	}
	switch function {
	case "video":
		env["COOKIE_KEYS_SECRET_ID"] = e.CookieKeysSecretID
		env["CLIENT_LIMITS_TABLE"] = LocalLimitsTable
	case "register":
		env["COOKIE_KEYS_SECRET_ID"] = e.CookieKeysSecretID
		env["CLIENT_LIMITS_TABLE"] = LocalLimitsTable
		env["FUSIONAUTH_PUBLIC_URL"] = e.FusionAuthURL
		env["REGISTER_REDIRECT_URI"] = e.SiteURL + "/callback"
		env["ACCOUNT_EXISTS_EMAIL_TEMPLATE_ID"] = e.Variable("accountExistsEmailTemplateId")
	case "webhook":
		env["WEBHOOK_SIGNING_KID"] = e.WebhookSigningKID
	}
	return env
}

// lookupIn reads variables from env, as os.LookupEnv reads the process's.
func lookupIn(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) { v, ok := env[name]; return v, ok }
}

// localSecrets stands in for Secrets Manager: it holds the kickstart's dev keys under the
// ids the local configuration names.
type localSecrets map[string]string

// GetSecretValue returns the secret, or an error matching secrets.ErrNotFound.
func (m localSecrets) GetSecretValue(_ context.Context, id string) (secrets.Value, error) {
	v, ok := m[id]
	if !ok {
		return secrets.Value{}, &secrets.Error{StatusCode: http.StatusBadRequest, Code: "ResourceNotFoundException", Message: "no local secret " + id}
	}
	return secrets.Value{Name: id, String: &v}, nil
}

// secrets returns the local secrets: each function's API key from the kickstart, the
// webhook's shared secret and the register function's OAuth client secret beside their
// keys, and the cookie keys: cookieKeys (the JSON of
// token.ParseKeys, from COOKIE_KEYS) when given, else one random key for this run
// (cookies then last until the stack stops).
func (s *Stack) secrets(cookieKeys string) (localSecrets, error) {
	webhook, err := json.Marshal(map[string]string{"apiKey": s.Variables["webhookApiKey"], webhookapp.SecretField: s.Variables["webhookSecret"]})
	if err != nil {
		return nil, fmt.Errorf("local webhook secret: %w", err)
	}
	register, err := json.Marshal(map[string]string{"apiKey": s.Variables["registerApiKey"], registerapp.ClientSecretField: s.Variables["clientSecret"]})
	if err != nil {
		return nil, fmt.Errorf("local register secret: %w", err)
	}
	if cookieKeys != "" {
		// Checked here to name the variable; each function parses its secret again.
		if _, err := token.ParseKeys([]byte(cookieKeys)); err != nil {
			return nil, fmt.Errorf("COOKIE_KEYS: %w", err)
		}
	} else {
		secret := make([]byte, token.MinSecretLen)
		if _, err := rand.Read(secret); err != nil {
			return nil, fmt.Errorf("generate a cookie key: %w", err)
		}
		generated, err := json.Marshal([]token.Key{{ID: "local-" + time.Now().UTC().Format("20060102T150405"), Secret: secret}})
		if err != nil {
			return nil, fmt.Errorf("generate a cookie key: %w", err)
		}
		cookieKeys = string(generated)
	}
	return localSecrets{
		localSecretID("video"):    s.Variables["videoApiKey"],
		localSecretID("register"): string(register),
		localSecretID("webhook"):  string(webhook),
		localSecretID("prune"):    s.Variables["pruneApiKey"],
		localCookieKeysID:         cookieKeys,
	}, nil
}

// routes builds every function the way its Lambda entry point does: config.Load* over the
// environment the template would give it, the API key read from a secret, then the
// function's own wiring package.
func (s *Stack) routes(ctx context.Context, o Options) (*http.ServeMux, error) {
	log := o.Logger
	sm, err := s.secrets(o.CookieKeys)
	if err != nil {
		return nil, err
	}
	// The kickstart imports the webhook signing key with a fixed kid: no Key API call.
	endpoints := Endpoints{FusionAuthURL: s.FusionAuthURL, SiteURL: s.URL, SecretID: localSecretID,
		CookieKeysSecretID: localCookieKeysID, WebhookSigningKID: s.Variables["webhookSigningKid"],
		Variable: func(name string) string { return s.Variables[name] }}
	env := func(function string) *config.Env { return config.NewEnv(lookupIn(FunctionEnv(function, endpoints))) }
	// One lease table and one limits table for every function, as the deployment's
	// DynamoDB tables.
	locks := lock.NewMemory()
	stores := app.Stores{Locks: locks, Limits: limit.NewMemory()}
	mux := http.NewServeMux()
	for _, f := range []struct {
		name  string
		paths []string
		start coldStart
	}{
		{"video", []string{"/video", site.ProgressPath}, wire(config.LoadVideo, videoapp.Build)},
		{"register", registerapp.Paths, wire(config.LoadRegister, registerapp.Build)},
		{"webhook", []string{"/webhook"}, wire(config.LoadWebhook, webhookapp.Build)},
	} {
		h, err := f.start(ctx, env(f.name), sm, stores, log.With("function", f.name))
		if err != nil {
			return nil, fmt.Errorf("%s function: %w", f.name, err)
		}
		for _, path := range f.paths {
			mux.Handle(path, h)
		}
	}
	pruneCfg, err := config.LoadPrune(env("prune"))
	if err != nil {
		return nil, fmt.Errorf("prune function: %w", err)
	}
	s.log = log.With("function", "prune")
	// No CloudWatch here: the summary is logged, and its metrics counted for the funnel.
	if s.pruner, err = pruneapp.Build(ctx, pruneCfg, sm, locks, pruneMetrics{s.funnel}, s.log); err != nil {
		return nil, fmt.Errorf("prune function: %w", err)
	}

	mux.HandleFunc("POST /_local/prune", s.handlePrune)
	mux.HandleFunc("GET /_local/outbox", s.handleOutbox)
	mux.HandleFunc("GET /_local/funnel", s.handleFunnel)
	mux.Handle("GET /{$}", http.RedirectHandler("/video", http.StatusFound))
	return mux, nil
}

// coldStart is what a function's Lambda entry point does before lambda.Start: its
// configuration read from env, its API key (and cookie keys) from sm, its profile leases
// and client limits (stores: here the stack's tables in memory), then its wiring.
type coldStart func(ctx context.Context, env *config.Env, sm apikey.SecretReader, stores app.Stores, log *slog.Logger) (http.Handler, error)

// wire is the coldStart of an HTTP function: load is its config.Load*, build its wiring
// package's Build.
func wire[C any, H http.Handler](load func(*config.Env) (C, error), build func(context.Context, C, apikey.SecretReader, app.Stores, *slog.Logger) (H, error)) coldStart {
	return func(ctx context.Context, env *config.Env, sm apikey.SecretReader, stores app.Stores, log *slog.Logger) (http.Handler, error) {
		cfg, err := load(env)
		if err != nil {
			return nil, err
		}
		h, err := build(ctx, cfg, sm, stores, log)
		if err != nil {
			return nil, err // not h: a nil *T in an http.Handler is not nil
		}
		return h, nil
	}
}

// Close stops the servers.
func (s *Stack) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.stopSchedule()
	err := s.srv.Shutdown(ctx)
	if serr := <-s.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return errors.Join(err, s.closeFusionAuth())
}

func (s *Stack) closeFusionAuth() error {
	if s.FusionAuth == nil {
		return nil
	}
	return s.FusionAuth.Close()
}

// schedule stands in for the EventBridge rule: a prune pass every interval.
func (s *Stack) schedule(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_, _ = s.pruner.Run(ctx) // it logs its own summary or failure
		}
	}
}

var outboxPage = template.Must(template.New("outbox").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Outbox · local FusionAuth</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:820px;margin:32px auto;padding:0 20px}
article{border:1px solid #ddd;border-radius:10px;padding:16px;margin:12px 0}pre{white-space:pre-wrap}</style></head>
<body><h1>Emails sent by the local FusionAuth</h1>
{{if not .}}<p>No email yet.</p>{{end}}
{{range .}}<article class="email"><p><strong>To:</strong> <span class="to">{{.To}}</span><br><strong>Subject:</strong> {{.Subject}}</p>
<p><a class="link" href="{{.Link}}">{{.Link}}</a></p><pre>{{.Text}}</pre></article>{{end}}
</body></html>`))

// handleOutbox lists the emails the embedded FusionAuth "sent", newest first, so the
// set-password link can be followed in a browser. Loopback only.
func (s *Stack) handleOutbox(w http.ResponseWriter, r *http.Request) {
	if !fromLoopback(r) || s.FusionAuth == nil {
		http.Error(w, "not available: loopback only, embedded FusionAuth only", http.StatusNotFound)
		return
	}
	mails := s.FusionAuth.Outbox()
	slices.Reverse(mails)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := outboxPage.Execute(w, mails); err != nil {
		s.log.Error("render outbox", "error", err)
	}
}

func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	ip := net.ParseIP(host)
	return err == nil && ip != nil && ip.IsLoopback()
}

// handlePrune runs a prune pass now and answers its JSON summary. Only loopback
// callers may trigger it. Query: dryRun=true, olderThan=<Go duration> (replaces the
// retention, so a demo can prune what it created a second ago).
func (s *Stack) handlePrune(w http.ResponseWriter, r *http.Request) {
	if !fromLoopback(r) {
		http.Error(w, "forbidden: loopback only", http.StatusForbidden)
		return
	}
	q := r.URL.Query()
	p := s.pruner.WithDryRun(q.Get("dryRun") == "true" || q.Get("dryRun") == "1")
	if v := q.Get("olderThan"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			http.Error(w, "olderThan must be a Go duration such as 1s or 720h", http.StatusBadRequest)
			return
		}
		p = p.WithRetention(d)
	}
	summary, err := p.Run(r.Context())
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
	}
	_ = json.NewEncoder(w).Encode(summary)
}

// PruneCommand is the command that runs the prune schedule now against the stack whose
// functions are at siteURL: a dry run over every stub idle for more than a second. The
// start-up banner and docs/operations.md print it.
func PruneCommand(siteURL string) string {
	return "curl -X POST '" + siteURL + "/_local/prune?dryRun=true&olderThan=1s'"
}

// Banner is what `go run ./cmd/local` prints once the stack is up.
func (s *Stack) Banner() string {
	return fmt.Sprintf("ChangeBank local stack is ready.\n"+
		"  Site:        %s/video\n"+
		"  Register:    %s/register\n"+
		"  Outbox:      %s/_local/outbox (the emails the embedded FusionAuth sent)\n"+
		"  Funnel:      %s/_local/funnel (the metrics emitted since start)\n"+
		"  Webhook:     %s/webhook (FusionAuth calls it on login)\n"+
		"  Prune now:   %s\n"+
		"  FusionAuth:  %s\n"+
		"Press Ctrl-C to stop.\n", s.URL, s.URL, s.URL, s.URL, s.URL, PruneCommand(s.URL), s.FusionAuthURL)
}
