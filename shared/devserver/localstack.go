package devserver

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/changebank/anonuser/shared/app"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/faclient/fatest"
	"github.com/changebank/anonuser/shared/prune"
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
		root, err := moduleRoot()
		if err != nil {
			return nil, err
		}
		o.Kickstart = filepath.Join(root, "kickstart", "kickstart.json")
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", o.Addr, err)
	}
	s := &Stack{URL: "http://" + ln.Addr().String(), done: make(chan error, 1)}
	if err := s.startFusionAuth(o); err != nil {
		_ = ln.Close()
		return nil, err
	}
	mux, err := s.routes(ctx, o.Logger)
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
		vars, err := readVariables(o.Kickstart)
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
		"apiKey", "videoApiKey", "registerApiKey", "webhookApiKey", "pruneApiKey", "clientSecret"} {
		s.Variables[name] = fa.Variable(name)
	}
	return nil
}

// fusionAuthConfig is the FusionAuth part of every function's configuration here.
func (s *Stack) fusionAuthConfig() config.FusionAuth {
	return config.FusionAuth{
		URL:           s.FusionAuthURL,
		TenantID:      s.Variables["visitorTenantId"],
		ApplicationID: s.Variables["applicationId"],
	}
}

// cookieKeys returns the visitor-cookie keys: COOKIE_KEYS (the JSON of token.ParseKeys)
// when set, else one random key for this run (cookies then last until the stack stops).
func cookieKeys() ([]token.Key, error) {
	if v := os.Getenv("COOKIE_KEYS"); v != "" {
		keys, err := token.ParseKeys([]byte(v))
		if err != nil {
			return nil, fmt.Errorf("COOKIE_KEYS: %w", err)
		}
		return keys, nil
	}
	secret := make([]byte, token.MinSecretLen)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("generate a cookie key: %w", err)
	}
	return []token.Key{{ID: "local-" + time.Now().UTC().Format("20060102T150405"), Secret: secret}}, nil
}

func (s *Stack) routes(ctx context.Context, log *slog.Logger) (*http.ServeMux, error) {
	mux := http.NewServeMux()
	cookie := config.Cookie{Name: "anon_user"}
	keys, err := cookieKeys()
	if err != nil {
		return nil, err
	}
	video, _, err := app.Video(config.Video{FusionAuth: s.fusionAuthConfig(), Cookie: cookie, VideoURL: config.DefaultVideoURL},
		faclient.StaticKey(s.Variables["videoApiKey"]), keys, log.With("function", "video"))
	if err != nil {
		return nil, fmt.Errorf("video function: %w", err)
	}
	mux.Handle("/video", video)
	register, _, err := app.Register(config.Register{FusionAuth: s.fusionAuthConfig(), Cookie: cookie,
		PublicFusionAuthURL: s.FusionAuthURL, RedirectURI: s.URL + site.CallbackPath},
		faclient.StaticKey(s.Variables["registerApiKey"]), keys, s.Variables["clientSecret"], log.With("function", "register"))
	if err != nil {
		return nil, fmt.Errorf("register function: %w", err)
	}
	for _, path := range []string{"/register", site.LoginPath, site.CallbackPath, site.LogoutPath} {
		mux.Handle(path, register)
	}
	webhook, _, err := app.Webhook(ctx, config.Webhook{FusionAuth: s.fusionAuthConfig(), SigningKID: s.Variables["webhookSigningKid"], SecretHeader: site.DefaultSecretHeader},
		faclient.StaticKey(s.Variables["webhookApiKey"]), s.Variables["webhookSecret"], log.With("function", "webhook"))
	if err != nil {
		return nil, fmt.Errorf("webhook function: %w", err)
	}
	mux.Handle("/webhook", webhook)
	s.log = log.With("function", "prune")
	s.pruner, _, err = app.Pruner(config.Prune{FusionAuth: s.fusionAuthConfig(), RetentionDays: 30, PendingEmailDays: 7, MaxPerRun: 50_000, BatchSize: 10_000},
		faclient.StaticKey(s.Variables["pruneApiKey"]), io.Discard, s.log)
	if err != nil {
		return nil, fmt.Errorf("prune function: %w", err)
	}
	mux.HandleFunc("POST /_local/prune", s.handlePrune)
	mux.HandleFunc("GET /_local/outbox", s.handleOutbox)
	mux.Handle("GET /{$}", http.RedirectHandler("/video", http.StatusFound))
	return mux, nil
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

// readVariables reads the fixed variables of a kickstart file (ids and dev keys), for
// a real FusionAuth that was configured from the same file.
func readVariables(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("kickstart: %w", err)
	}
	defer f.Close()
	var ks struct {
		Variables map[string]any `json:"variables"`
	}
	if err := json.NewDecoder(io.LimitReader(f, 1<<20)).Decode(&ks); err != nil {
		return nil, fmt.Errorf("kickstart %s: %w", path, err)
	}
	vars := map[string]string{}
	for k, v := range ks.Variables {
		if s, ok := v.(string); ok {
			vars[k] = s
		}
	}
	return vars, nil
}

// moduleRoot finds the directory holding go.mod, walking up from the working directory.
func moduleRoot() (string, error) {
	root, err := fatest.ModuleRoot()
	if err != nil {
		return "", fmt.Errorf("%w: run from the repository", err)
	}
	return root, nil
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
