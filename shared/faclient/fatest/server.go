package fatest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/changebank/anonuser/shared/kickstart"
)

// Options configure a Server. The zero value is a bare server on a random loopback port.
type Options struct {
	// Kickstart is the path of a kickstart.json to load at start-up; "" means a bare server
	// with one default tenant, the FusionAuth admin application and no API keys (Start), or
	// the module's kickstart/kickstart.json (NewTestServer).
	Kickstart string
	// Variables override the kickstart file's variables before substitution
	// (e.g. "webhookURL" to point the webhook at a test receiver). URLVariable defaults to
	// the server's own address.
	Variables map[string]string
	// Addr is the listen address; default "127.0.0.1:0".
	Addr string
	// Now is the clock for instants, expiries and JWT times; default time.Now.
	Now func() time.Time
	// Logger receives the server's logs; default discards them.
	Logger *slog.Logger
	// OnResponse, when set, observes every response (status, header and full body)
	// after it is written; tests validate the responses against the OpenAPI file.
	OnResponse func(r *http.Request, status int, header http.Header, body []byte)
	// HTTPClient delivers webhooks; default a client per webhook with the webhook's
	// connectTimeout and readTimeout.
	HTTPClient *http.Client
}

// Email is a message the server "sent" (recorded instead of delivered over SMTP).
type Email struct {
	// To, From (the sender address), TemplateID, Subject, Text and HTML are the
	// rendered message.
	To, From, TemplateID, Subject, Text, HTML string
	// State is the state object of the forgot-password request, if any.
	State map[string]any
	// ChangePasswordID is the change-password id the email carries.
	ChangePasswordID string
	// Link is the first http(s) URL in the text body.
	Link string
	// UserID is the recipient's user id.
	UserID string
	// SentAt is the server clock's time of sending.
	SentAt time.Time
}

// Delivery is one attempt to deliver a webhook event.
type Delivery struct {
	// WebhookID, URL and EventType say which webhook got which event.
	WebhookID, URL, EventType string
	// Body is the exact request body sent.
	Body []byte
	// Header is the request header sent (including X-FusionAuth-Signature-JWT).
	Header http.Header
	// Status is the receiver's HTTP status, 0 when no response arrived.
	Status int
	// Err is the transport error or a non-2xx status as an error; nil on success.
	Err error
}

// Server is an in-memory FusionAuth-compatible HTTP server. It is safe for concurrent use.
type Server struct {
	opts   Options
	now    func() time.Time
	log    *slog.Logger
	mux    *http.ServeMux
	routes map[string]route

	mu    sync.RWMutex // guards the data below
	state *state

	obs obsState // counters, outbox, deliveries, faults; has its own lock

	listener net.Listener
	http     *http.Server
	fresh    sync.Map // net.Conn -> struct{}: accepted connections that have not sent a request yet
	url      string
	closed   sync.Once
	closeErr error
}

// obsState holds what tests observe and steer; separate from state so that counting a
// call never waits for a long search.
type obsState struct {
	mu          sync.Mutex
	calls       map[string]int
	total       int
	outbox      []Email
	deliveries  []Delivery
	faults      map[string]*fault
	unsupported int

	afterPatchRead func(userID string) // AfterPatchRead's hook
}

// URLVariable is the kickstart variable naming FusionAuth as browsers reach it (the
// tenant's baseURL, which email links are built from). Start sets it to the server's own
// address unless Options.Variables gives it.
const URLVariable = "fusionAuthURL"

// Start creates a server, listens on opts.Addr and loads opts.Kickstart. The error names
// any kickstart request the server does not understand or refuses.
func Start(opts Options) (*Server, error) {
	s, err := newServer(opts)
	if err != nil {
		return nil, err
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("fatest: listen on %s: %w", addr, err)
	}
	s.listener = ln
	s.url = "http://" + ln.Addr().String()
	if opts.Kickstart != "" {
		vars := maps.Clone(opts.Variables)
		if vars == nil {
			vars = map[string]string{}
		}
		if _, set := vars[URLVariable]; !set {
			vars[URLVariable] = s.url
		}
		if err := s.loadKickstart(opts.Kickstart, vars); err != nil {
			_ = ln.Close()
			return nil, fmt.Errorf("fatest: kickstart %s: %w", opts.Kickstart, err)
		}
	}
	s.ResetCalls()
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		ConnState: func(c net.Conn, st http.ConnState) {
			if st == http.StateNew {
				s.fresh.Store(c, struct{}{})
			} else {
				s.fresh.Delete(c)
			}
		},
	}
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("fatest: serve", "err", err)
		}
	}()
	return s, nil
}

// TB is the part of testing.TB that NewTestServer uses. It is declared here so that
// the local stack, which links this package, does not link package testing.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
	Cleanup(func())
}

// NewTestServer starts a server for a test (tb is its *testing.T or *testing.B) and
// closes it when the test ends. When opts.Kickstart is "" it loads
// kickstart/kickstart.json from the module root (found by walking up from the working
// directory to go.mod).
func NewTestServer(tb TB, opts Options) *Server {
	tb.Helper()
	if opts.Kickstart == "" {
		path, err := kickstart.Path()
		if err != nil {
			tb.Fatalf("fatest: %v", err)
		}
		opts.Kickstart = path
	}
	s, err := Start(opts)
	if err != nil {
		tb.Fatalf("fatest: start: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("fatest: close: %v", err)
		}
	})
	return s
}

// newServer builds a server with the default tenant, the admin application and the
// default HMAC signing key, without listening.
func newServer(opts Options) (*Server, error) {
	s := &Server{
		opts: opts,
		now:  opts.Now,
		log:  opts.Logger,
		mux:  http.NewServeMux(),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.obs.calls = map[string]int{}
	s.obs.faults = map[string]*fault{}
	st, err := s.initialState()
	if err != nil {
		return nil, err
	}
	s.state = st
	s.routes = map[string]route{}
	for _, rt := range s.routeTable() {
		s.routes[rt.pattern] = rt
		s.mux.Handle(rt.pattern, s.wrap(rt))
	}
	return s, nil
}

// URL returns the server's base URL, e.g. "http://127.0.0.1:41234".
func (s *Server) URL() string { return s.url }

// Close stops the listener and waits for in-flight requests briefly.
func (s *Server) Close() error {
	s.closed.Do(func() {
		if s.http == nil {
			if s.listener != nil {
				s.closeErr = s.listener.Close()
			}
			return
		}
		// A client's transport may dial a connection it then never uses (another one
		// became free first). Shutdown counts such a connection as busy for its first 5
		// s; it carries no request, so close it rather than wait it out.
		s.fresh.Range(func(c, _ any) bool {
			_ = c.(net.Conn).Close()
			return true
		})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.http.Shutdown(ctx); err != nil {
			s.closeErr = fmt.Errorf("fatest: shutdown: %w", err)
			_ = s.http.Close()
		}
	})
	return s.closeErr
}

// Variable returns a resolved kickstart variable (API keys, ids…), "" when unknown.
// Built-ins FUSIONAUTH_APPLICATION_ID, FUSIONAUTH_TENANT_ID and
// FUSIONAUTH_DEFAULT_SIGNING_KEY_ID are included.
func (s *Server) Variable(name string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.state.variables[name]
}

// ServeHTTP dispatches a request. A known path with another method answers 405; a path
// no route matches answers 501 with an empty body (FusionAuth would know the endpoint;
// this server does not) and is logged as a warning. Both name the FusionAuth API in
// NotImplementedHeader.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{header: http.Header{}}
	func() {
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("fatest: panic in handler", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				rec.reset()
				rec.WriteHeader(http.StatusInternalServerError)
			}
		}()
		if _, pattern := s.mux.Handler(r); pattern == "" || shadowed(pattern, r.URL.Path) {
			what := notImplemented(r)
			rec.Header().Set(NotImplementedHeader, what)
			if allow := s.allowedMethods(r); len(allow) > 0 && pattern == "" {
				rec.Header().Set("Allow", strings.Join(allow, ", "))
				rec.WriteHeader(http.StatusMethodNotAllowed)
				return
			}
			s.log.Warn("fatest: endpoint not implemented", "api", apiName(r.URL.Path), "method", r.Method, "path", r.URL.Path, "what", what)
			s.countUnsupported()
			rec.WriteHeader(http.StatusNotImplemented)
			return
		}
		s.mux.ServeHTTP(rec, r)
	}()
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	if rec.body.Len() > 0 && w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	}
	w.WriteHeader(status)
	_, _ = w.Write(rec.body.Bytes())
	s.log.Debug("fatest: request", "method", r.Method, "path", r.URL.Path, "status", status)
	if s.opts.OnResponse != nil {
		s.opts.OnResponse(r, status, w.Header().Clone(), bytes.Clone(rec.body.Bytes()))
	}
}

// allowedMethods lists the methods the server implements for the request's path.
func (s *Server) allowedMethods(r *http.Request) []string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" {
			allow = append(allow, m)
		}
	}
	return allow
}

// recorder buffers a response so it can be observed (OnResponse) and replaced (panics).
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (rec *recorder) Header() http.Header { return rec.header }

func (rec *recorder) WriteHeader(status int) {
	if rec.status == 0 {
		rec.status = status
	}
}

func (rec *recorder) Write(p []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec.body.Write(p)
}

func (rec *recorder) reset() {
	rec.header = http.Header{}
	rec.status = 0
	rec.body.Reset()
}

// wrap applies, in order: call counting, fault injection, authentication and the
// Content-Type check.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pattern := r.Pattern
		s.countCall(pattern, rt.auth == authPage)
		if f, ok := s.takeFault(pattern); ok {
			writeFault(w, f)
			return
		}
		rc, ok := s.authenticate(w, r, rt)
		if !ok {
			return
		}
		if rt.auth != authPage && !rt.form && !checkContentType(w, r) {
			return
		}
		rt.handle(w, r, rc)
	})
}

// checkContentType refuses an API request body that is not sent as JSON (for PATCH, also
// as a JSON merge or JSON patch document), as FusionAuth does: 400 with
// [UnsupportedContentType]. It buffers the body so handlers can still read it.
func checkContentType(w http.ResponseWriter, r *http.Request) bool {
	if r.Body == nil || r.Method == http.MethodGet {
		return true
	}
	raw, err := readBody(r)
	if err != nil {
		writeEmpty(w, http.StatusBadRequest)
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	if len(bytes.TrimSpace(raw)) == 0 {
		return true
	}
	ct := r.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	allowed := []string{"application/json"}
	if r.Method == http.MethodPatch {
		allowed = append(allowed, "application/merge-patch+json", "application/json-patch+json")
	}
	if slices.Contains(allowed, mt) {
		return true
	}
	msg := "Unsupported [Content-Type] HTTP request header value of [" + ct + "]. Supported values for this request include [" + strings.Join(allowed, ", ") + "]."
	if ct == "" {
		msg = "Missing [Content-Type] HTTP request header. Supported values for this request include [" + strings.Join(allowed, ", ") + "]."
	}
	writeErrors(w, http.StatusBadRequest, generalError("[UnsupportedContentType]", msg))
	return false
}

// readBody reads a request body with a generous limit.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	return b, nil
}

// readRequest reads a request body as a JSON object (an empty body is an empty object).
// On a bad body it writes FusionAuth's 400 and reports false.
func readRequest(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	raw, err := readBody(r)
	if err != nil {
		writeEmpty(w, http.StatusBadRequest)
		return nil, false
	}
	body, errs := decodeJSON(raw)
	if errs != nil {
		writeErrors(w, http.StatusBadRequest, errs)
		return nil, false
	}
	return body, true
}

// createRequest is what every POST /api/<resource>[/{id}] handler reads first.
type createRequest struct {
	id   string         // the id in the path, "" when the route has none
	body map[string]any // the whole request
	obj  map[string]any // a copy of the resource object (body[key]), {} when absent
	errs *apiErrors     // the errors found so far, for the handler's validation to extend
}

// readCreate reads a create request: the optional id path parameter param and the
// resource object under key. On a bad request it writes the 400 and reports false.
func readCreate(w http.ResponseWriter, r *http.Request, param, key string) (createRequest, bool) {
	id, ok := optionalPathUUID(w, r, param)
	if !ok {
		return createRequest{}, false
	}
	body, ok := readRequest(w, r)
	if !ok {
		return createRequest{}, false
	}
	req := createRequest{id: id, body: body, errs: &apiErrors{}}
	req.obj = cloneMap(fields{m: body, errs: req.errs}.object(key))
	if req.obj == nil {
		req.obj = map[string]any{}
	}
	return req, true
}

// readFields reads the request body as a JSON object (readRequest) with an empty error
// list for the handler's validation; a bad body is answered here.
func readFields(w http.ResponseWriter, r *http.Request) (fields, bool) {
	body, ok := readRequest(w, r)
	return fields{m: body, errs: &apiErrors{}}, ok
}

// takesJSON is h once the JSON body is read (readFields).
func takesJSON(h func(w http.ResponseWriter, r *http.Request, rc *reqCtx, f fields)) handler {
	return func(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
		if f, ok := readFields(w, r); ok {
			h(w, r, rc, f)
		}
	}
}

// byID is h once the UUID path parameter param is read (pathUUID).
func byID(param string, h func(w http.ResponseWriter, r *http.Request, rc *reqCtx, id string)) handler {
	return func(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
		if id, ok := pathUUID(w, r, param); ok {
			h(w, r, rc, id)
		}
	}
}

// creates is h once the create request is read (readCreate: the optional id path
// parameter param and the resource object under key); a bad request is answered here.
func creates(param, key string, h func(w http.ResponseWriter, r *http.Request, rc *reqCtx, cr createRequest)) handler {
	return func(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
		if cr, ok := readCreate(w, r, param, key); ok {
			h(w, r, rc, cr)
		}
	}
}

// newID returns the id of an object being created: the requested one, else a fresh
// UUID. A requested id already in existing is FusionAuth's [duplicate]<param> field
// error, naming the object as noun ("A Webhook"). Callers hold s.mu.
func newID[V any](existing map[string]V, id, param, noun string, errs *apiErrors) string {
	if id == "" {
		return newUUID()
	}
	if _, dup := existing[id]; dup {
		errs.field(param, "[duplicate]"+param, noun+" with Id ["+id+"] already exists.")
	}
	return id
}
