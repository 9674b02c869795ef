package apikey_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/apikey"
	"github.com/changebank/anonuser/shared/clocktest"
	"github.com/changebank/anonuser/shared/secrets"
	"github.com/changebank/anonuser/shared/secrets/smtest"
)

// keySource is the method set the FusionAuth client consumes; both implementations must have it.
type keySource interface {
	APIKey(ctx context.Context) (string, error)
	RefreshAPIKey(ctx context.Context, stale string) (string, error)
}

var (
	_ keySource = (*apikey.Source)(nil)
	_ keySource = apikey.Static("")
)

const secretID = "anonuser/video-api-key"

// fakeClock is a settable clock for Source.Now: the one fake clock.
type fakeClock = clocktest.Clock

// env is a Source loaded through the real SDK client from a fake endpoint, with a fake clock.
type env struct {
	srv   *smtest.Server
	src   *apikey.Source
	clock *fakeClock
	logs  *syncBuffer
}

// newEnv stores value under secretID and loads it.
func newEnv(tb testing.TB, value string) *env {
	tb.Helper()
	srv := smtest.NewServer(tb, map[string]string{secretID: value})
	src, err := apikey.Load(tb.Context(), srv.Client(tb), secretID)
	if err != nil {
		tb.Fatalf("Load: got error %v, want nil", err)
	}
	clock := clocktest.New(time.Date(2025, time.November, 25, 12, 0, 0, 0, time.UTC))
	src.Now = clock.Now
	logs := &syncBuffer{}
	src.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return &env{srv: srv, src: src, clock: clock, logs: logs}
}

// refresh calls RefreshAPIKey and checks the key returned and the reads made so far, counted by
// both the Source and the server.
func (e *env) refresh(tb testing.TB, stale, wantKey string, wantReads int) {
	tb.Helper()
	got, err := e.src.RefreshAPIKey(tb.Context(), stale)
	if err != nil {
		tb.Fatalf("RefreshAPIKey(%q): got error %v, want nil", stale, err)
	}
	if got != wantKey {
		tb.Errorf("RefreshAPIKey(%q): got %q, want %q", stale, got, wantKey)
	}
	e.checkReads(tb, wantReads)
}

func (e *env) checkReads(tb testing.TB, want int) {
	tb.Helper()
	if got := e.src.Reads(); got != want {
		tb.Errorf("Source.Reads(): got %d, want %d", got, want)
	}
	if got := e.srv.Reads(secretID); got != want {
		tb.Errorf("server reads: got %d, want %d", got, want)
	}
}

func (e *env) checkKey(tb testing.TB, want string) {
	tb.Helper()
	got, err := e.src.APIKey(tb.Context())
	if err != nil || got != want {
		tb.Errorf("APIKey(): got (%q, %v), want (%q, nil)", got, err, want)
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name       string
		value      string
		byARN      bool
		wantKey    string
		wantFields map[string]string // Value(name) expectations; "" value with ok=false is listed in wantAbsent
		wantAbsent []string
	}{
		{
			name:       "plain string is the key",
			value:      "fa-key-1",
			wantKey:    "fa-key-1",
			wantAbsent: []string{"apiKey", "webhookSecret"},
		},
		{
			name:    "plain string is trimmed",
			value:   "fa-key-1\n",
			wantKey: "fa-key-1",
		},
		{
			name:       "JSON object",
			value:      `{"apiKey":"fa-key-1","webhookSecret":"wh-secret-1"}`,
			wantKey:    "fa-key-1",
			wantFields: map[string]string{"apiKey": "fa-key-1", "webhookSecret": "wh-secret-1"},
			wantAbsent: []string{"other"},
		},
		{
			name:       "JSON object with non-string fields and padding",
			value:      " {\"apiKey\": \" fa-key-1 \", \"retries\": 3, \"nested\": {\"a\": \"b\"}, \"webhookSecret\": \"wh\"}\n",
			wantKey:    "fa-key-1",
			wantFields: map[string]string{"webhookSecret": "wh"},
			wantAbsent: []string{"retries", "nested"},
		},
		{
			name:    "secret addressed by ARN",
			value:   "fa-key-1",
			byARN:   true,
			wantKey: "fa-key-1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtest.NewServer(t, map[string]string{secretID: tt.value})
			id := secretID
			if tt.byARN {
				id = srv.ARN(secretID)
			}
			src, err := apikey.Load(t.Context(), srv.Client(t), id)
			if err != nil {
				t.Fatalf("Load: got error %v, want nil", err)
			}
			if got, err := src.APIKey(t.Context()); err != nil || got != tt.wantKey {
				t.Errorf("APIKey(): got (%q, %v), want (%q, nil)", got, err, tt.wantKey)
			}
			for name, want := range tt.wantFields {
				if got, ok := src.Value(name); !ok || got != want {
					t.Errorf("Value(%q): got (%q, %t), want (%q, true)", name, got, ok, want)
				}
			}
			for _, name := range tt.wantAbsent {
				if got, ok := src.Value(name); ok {
					t.Errorf("Value(%q): got (%q, true), want (\"\", false)", name, got)
				}
			}
			if got := src.Reads(); got != 1 {
				t.Errorf("Reads(): got %d, want 1", got)
			}
			if got := srv.Reads(secretID); got != 1 {
				t.Errorf("server reads: got %d, want 1", got)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	const marker = "SECRET-MARKER"
	tests := []struct {
		name     string
		setup    func(srv *smtest.Server)
		wantIn   []string // substrings of the error message
		notFound bool     // error matches secrets.ErrNotFound
	}{
		{
			name:     "missing secret",
			setup:    func(*smtest.Server) {},
			wantIn:   []string{`"` + secretID + `"`, "not found"},
			notFound: true,
		},
		{
			name:     "deleted secret",
			setup:    func(srv *smtest.Server) { srv.Set(secretID, marker); srv.Delete(secretID) },
			wantIn:   []string{`"` + secretID + `"`, "not found"},
			notFound: true,
		},
		{
			name:   "empty value",
			setup:  func(srv *smtest.Server) { srv.Set(secretID, "") },
			wantIn: []string{secretID, "empty"},
		},
		{
			name:   "whitespace value",
			setup:  func(srv *smtest.Server) { srv.Set(secretID, " \n\t") },
			wantIn: []string{secretID, "empty"},
		},
		{
			name:   "binary value",
			setup:  func(srv *smtest.Server) { srv.SetBinary(secretID, []byte(marker)) },
			wantIn: []string{secretID, "SecretBinary"},
		},
		{
			name:   "JSON without apiKey",
			setup:  func(srv *smtest.Server) { srv.Set(secretID, `{"webhookSecret":"`+marker+`"}`) },
			wantIn: []string{secretID, `"apiKey"`},
		},
		{
			name:   "JSON apiKey is not a string",
			setup:  func(srv *smtest.Server) { srv.Set(secretID, `{"apiKey":12345,"x":"`+marker+`"}`) },
			wantIn: []string{secretID, `"apiKey"`},
		},
		{
			name:   "JSON apiKey is blank",
			setup:  func(srv *smtest.Server) { srv.Set(secretID, `{"apiKey":"  ","x":"`+marker+`"}`) },
			wantIn: []string{secretID, `"apiKey"`},
		},
		{
			name:   "truncated JSON",
			setup:  func(srv *smtest.Server) { srv.Set(secretID, `{"apiKey":"`+marker+`"`) },
			wantIn: []string{secretID, "not a valid JSON object"},
		},
		{
			name:   "JSON syntax error next to the value",
			setup:  func(srv *smtest.Server) { srv.Set(secretID, `{`+marker+`}`) },
			wantIn: []string{secretID, "not a valid JSON object"},
		},
		{
			name:   "key with inner whitespace",
			setup:  func(srv *smtest.Server) { srv.Set(secretID, "SECRET\nMARKER") },
			wantIn: []string{secretID, "whitespace"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtest.NewServer(t, nil)
			tt.setup(srv)
			src, err := apikey.Load(t.Context(), srv.Client(t), secretID)
			if err == nil {
				t.Fatalf("Load: got (%v, nil), want an error", src)
			}
			msg := err.Error()
			for _, want := range tt.wantIn {
				if !strings.Contains(msg, want) {
					t.Errorf("error: got %q, want it to contain %q", msg, want)
				}
			}
			// encoding/json's messages quote characters of the input ("invalid character 'S'").
			for _, leak := range []string{marker, "SECRET", "MARKER", "invalid character"} {
				if strings.Contains(msg, leak) {
					t.Errorf("error: got %q, want it not to contain %q", msg, leak)
				}
			}
			if isNotFound := errors.Is(err, secrets.ErrNotFound); isNotFound != tt.notFound {
				t.Errorf("errors.Is(err, secrets.ErrNotFound): got %t, want %t", isNotFound, tt.notFound)
			}
			if got := srv.Reads(secretID); got != 1 {
				t.Errorf("server reads: got %d, want 1", got)
			}
		})
	}
}

func TestLoadArguments(t *testing.T) {
	srv := smtest.NewServer(t, map[string]string{secretID: "fa-key-1"})
	tests := []struct {
		name string
		api  apikey.SecretReader
		id   string
	}{
		{name: "nil client", api: nil, id: secretID},
		{name: "empty secret id", api: srv.Client(t), id: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if src, err := apikey.Load(t.Context(), tt.api, tt.id); err == nil {
				t.Errorf("Load: got (%v, nil), want an error", src)
			}
		})
	}
	if got := srv.Reads(secretID); got != 0 {
		t.Errorf("server reads: got %d, want 0", got)
	}
}

func TestAPIKeyReadsOnce(t *testing.T) {
	e := newEnv(t, `{"apiKey":"fa-key-1","webhookSecret":"wh-1"}`)
	for range 100 {
		e.checkKey(t, "fa-key-1")
	}
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for range 100 {
				e.checkKey(t, "fa-key-1")
				if v, ok := e.src.Value("webhookSecret"); !ok || v != "wh-1" {
					t.Errorf("Value(webhookSecret): got (%q, %t), want (%q, true)", v, ok, "wh-1")
				}
				e.src.Reads()
			}
		})
	}
	wg.Wait()
	e.checkReads(t, 1)
}

func TestRefreshAPIKey(t *testing.T) {
	tests := []struct {
		name  string
		value string
		run   func(t *testing.T, e *env)
	}{
		{
			name:  "stale cached key re-reads and returns the rotated key",
			value: "fa-key-1",
			run: func(t *testing.T, e *env) {
				e.srv.Set(secretID, "fa-key-2")
				e.refresh(t, "fa-key-1", "fa-key-2", 2)
				e.checkKey(t, "fa-key-2")
			},
		},
		{
			name:  "no re-read when the key already changed",
			value: "fa-key-1",
			run: func(t *testing.T, e *env) {
				e.srv.Set(secretID, "fa-key-2")
				e.refresh(t, "fa-key-1", "fa-key-2", 2)
				e.clock.Advance(time.Hour) // the rate limit is not what stops the read
				e.srv.Set(secretID, "fa-key-3")
				e.refresh(t, "fa-key-1", "fa-key-2", 2)
			},
		},
		{
			name:  "no re-read for a key that was never cached",
			value: "fa-key-1",
			run: func(t *testing.T, e *env) {
				e.srv.Set(secretID, "fa-key-2")
				e.refresh(t, "some-other-key", "fa-key-1", 1)
			},
		},
		{
			name:  "rate limit: one re-read per 30 s",
			value: "fa-key-1",
			run: func(t *testing.T, e *env) {
				e.refresh(t, "fa-key-1", "fa-key-1", 2) // the secret still holds the rejected key
				e.refresh(t, "fa-key-1", "fa-key-1", 2)
				e.srv.Set(secretID, "fa-key-2")
				e.clock.Advance(29 * time.Second)
				e.refresh(t, "fa-key-1", "fa-key-1", 2)
				e.clock.Advance(time.Second)
				e.refresh(t, "fa-key-1", "fa-key-2", 3)
			},
		},
		{
			name:  "first re-read right after Load is allowed",
			value: "fa-key-1",
			run: func(t *testing.T, e *env) {
				e.srv.Set(secretID, "fa-key-2")
				e.refresh(t, "fa-key-1", "fa-key-2", 2)
				e.srv.Set(secretID, "fa-key-3")
				e.clock.Advance(10 * time.Second)
				e.refresh(t, "fa-key-2", "fa-key-2", 2)
			},
		},
		{
			name:  "interval is configurable",
			value: "fa-key-1",
			run: func(t *testing.T, e *env) {
				e.src.RefreshInterval = 5 * time.Second
				e.refresh(t, "fa-key-1", "fa-key-1", 2)
				e.clock.Advance(4 * time.Second)
				e.refresh(t, "fa-key-1", "fa-key-1", 2)
				e.clock.Advance(time.Second)
				e.refresh(t, "fa-key-1", "fa-key-1", 3)
				e.src.RefreshInterval = 0
				e.refresh(t, "fa-key-1", "fa-key-1", 4)
				e.refresh(t, "fa-key-1", "fa-key-1", 5)
			},
		},
		{
			name:  "JSON fields follow the re-read",
			value: `{"apiKey":"fa-key-1","webhookSecret":"wh-1"}`,
			run: func(t *testing.T, e *env) {
				e.srv.Set(secretID, `{"apiKey":"fa-key-2","webhookSecret":"wh-2"}`)
				e.refresh(t, "fa-key-1", "fa-key-2", 2)
				if got, ok := e.src.Value("webhookSecret"); !ok || got != "wh-2" {
					t.Errorf("Value(webhookSecret): got (%q, %t), want (%q, true)", got, ok, "wh-2")
				}
			},
		},
		{
			name:  "failed re-read keeps the key and still counts for the rate limit",
			value: "fa-key-1",
			run: func(t *testing.T, e *env) {
				e.srv.Delete(secretID)
				got, err := e.src.RefreshAPIKey(t.Context(), "fa-key-1")
				if err == nil || !strings.Contains(err.Error(), `"`+secretID+`" not found`) {
					t.Errorf("RefreshAPIKey: got (%q, %v), want an error saying %q was not found", got, err, secretID)
				}
				e.checkKey(t, "fa-key-1")
				e.checkReads(t, 2)
				e.srv.Set(secretID, "fa-key-2")
				e.refresh(t, "fa-key-1", "fa-key-1", 2)
				e.clock.Advance(30 * time.Second)
				e.refresh(t, "fa-key-1", "fa-key-2", 3)
			},
		},
		{
			name:  "invalid new value keeps the key",
			value: "fa-key-1",
			run: func(t *testing.T, e *env) {
				e.srv.Set(secretID, "")
				if got, err := e.src.RefreshAPIKey(t.Context(), "fa-key-1"); err == nil {
					t.Errorf("RefreshAPIKey: got (%q, nil), want an error", got)
				}
				e.checkKey(t, "fa-key-1")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, newEnv(t, tt.value))
		})
	}
}

func TestRefreshAPIKeyConcurrent(t *testing.T) {
	tests := []struct {
		name      string
		interval  time.Duration
		rotate    bool
		wantKey   string
		wantReads int
	}{
		// With no rate limit, only single-flight keeps the callers to one re-read.
		{name: "rotated key: one re-read in flight serves every caller", interval: 0, rotate: true, wantKey: "fa-key-2", wantReads: 2},
		{name: "rejected key: the rate limit stops the waiting callers", interval: apikey.DefaultRefreshInterval, rotate: false, wantKey: "fa-key-1", wantReads: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "fa-key-1")
			e.src.RefreshInterval = tt.interval
			if tt.rotate {
				e.srv.Set(secretID, "fa-key-2")
			}
			var wg sync.WaitGroup
			for range 64 {
				wg.Go(func() {
					got, err := e.src.RefreshAPIKey(t.Context(), "fa-key-1")
					if err != nil || got != tt.wantKey {
						t.Errorf("RefreshAPIKey: got (%q, %v), want (%q, nil)", got, err, tt.wantKey)
					}
					if _, err := e.src.APIKey(t.Context()); err != nil {
						t.Errorf("APIKey: got error %v, want nil", err)
					}
				})
			}
			wg.Wait()
			e.checkReads(t, tt.wantReads)
			e.checkKey(t, tt.wantKey)
		})
	}
}

func TestSecretValuesStayOutOfLogsAndStrings(t *testing.T) {
	e := newEnv(t, `{"apiKey":"KEY-ONE-value","webhookSecret":"WEBHOOK-value"}`)
	e.srv.Set(secretID, `{"apiKey":"KEY-TWO-value","webhookSecret":"WEBHOOK-value"}`)
	e.refresh(t, "KEY-ONE-value", "KEY-TWO-value", 2) // logged: re-read
	e.refresh(t, "KEY-TWO-value", "KEY-TWO-value", 2) // logged: suppressed
	e.clock.Advance(time.Minute)
	e.srv.Set(secretID, `{"apiKey":"KEY-THREE-value" "x"}`)
	if _, err := e.src.RefreshAPIKey(t.Context(), "KEY-TWO-value"); err == nil { // logged: failed
		t.Fatalf("RefreshAPIKey of invalid JSON: got nil error, want one")
	}

	logs := e.logs.String()
	if got := strings.Count(logs, "secret="+secretID); got != 3 {
		t.Errorf("log records naming the secret: got %d, want 3\n%s", got, logs)
	}
	printed := fmt.Sprint(e.src) + fmt.Sprintf("%+v %s", e.src, apikey.Static("KEY-STATIC-value"))
	for _, leak := range []string{"KEY-", "WEBHOOK-"} {
		if strings.Contains(logs, leak) {
			t.Errorf("logs: got %q, want no %q", logs, leak)
		}
		if strings.Contains(printed, leak) {
			t.Errorf("printed Source and Static: got %q, want no %q", printed, leak)
		}
	}
}

func TestStatic(t *testing.T) {
	tests := []struct {
		name    string
		key     apikey.Static
		want    string
		wantErr bool
	}{
		{name: "key", key: "local-dev-key-not-for-prod", want: "local-dev-key-not-for-prod"},
		{name: "empty", key: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for method, call := range map[string]func() (string, error){
				"APIKey":        func() (string, error) { return tt.key.APIKey(t.Context()) },
				"RefreshAPIKey": func() (string, error) { return tt.key.RefreshAPIKey(t.Context(), string(tt.key)) },
			} {
				got, err := call()
				if (err != nil) != tt.wantErr || got != tt.want {
					t.Errorf("%s: got (%q, %v), want (%q, error %t)", method, got, err, tt.want, tt.wantErr)
				}
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a slog handler.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
