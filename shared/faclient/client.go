package faclient

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/changebank/anonuser/shared/backoff"
)

// KeySource supplies the API key for each call. RefreshAPIKey is called after
// FusionAuth answered 401 to a call made with stale; it returns the current key,
// re-reading it from its store if it still equals stale (key rotation).
type KeySource interface {
	APIKey(ctx context.Context) (string, error)
	RefreshAPIKey(ctx context.Context, stale string) (string, error)
}

// StaticKey is a KeySource with a fixed key (local stack, tests, tools).
type StaticKey string

// APIKey returns the key.
func (k StaticKey) APIKey(context.Context) (string, error) { return string(k), nil }

// RefreshAPIKey returns the same key: a fixed key cannot rotate.
func (k StaticKey) RefreshAPIKey(context.Context, string) (string, error) { return string(k), nil }

// Options configure a Client. Only BaseURL is required.
type Options struct {
	BaseURL    string        // e.g. "http://localhost:9011"
	TenantID   string        // sent as X-FusionAuth-TenantId when set
	Keys       KeySource     // nil for calls that need no key (JWKS, change password by id)
	HTTPClient *http.Client  // default: DefaultHTTPClient()
	MaxRetries int           // retries of a safe call (GET) after a 5xx or a transport error; default 2, negative = none
	Backoff    time.Duration // wait before the first retry, doubled for each next one up to 1 s, plus up to half as jitter; default 50 ms
	Counter    *Counter      // default: a new Counter
}

// Client calls FusionAuth. It is safe for concurrent use; build one per process.
type Client struct {
	base       *url.URL
	tenantID   string
	keys       KeySource
	http       *http.Client
	maxRetries int
	backoff    time.Duration
	counter    *Counter
	sleep      func(ctx context.Context, d time.Duration) error // the wait before a retry: backoff.Sleep
}

// DefaultHTTPClient returns the HTTP client a Client uses unless given one: an overall
// timeout below API Gateway's 30 s and a Lambda function's usual budget, and a small
// keep-alive pool so warm invocations reuse their connection.
func DefaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	t.DialContext = dialer().DialContext
	t.ResponseHeaderTimeout = 8 * time.Second
	return &http.Client{Timeout: 10 * time.Second, Transport: t}
}

// dialer connects to FusionAuth: a host that does not answer fails the attempt in 3 s,
// so every attempt of a safe call to it fits in API Gateway's 30 s.
func dialer() *net.Dialer {
	return &net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}
}

// New returns a Client for opts.
func New(opts Options) (*Client, error) {
	base, err := url.Parse(strings.TrimRight(opts.BaseURL, "/"))
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("fusionauth base URL %q: must be an absolute http(s) URL", opts.BaseURL)
	}
	c := &Client{
		base:       base,
		tenantID:   opts.TenantID,
		keys:       opts.Keys,
		http:       opts.HTTPClient,
		maxRetries: opts.MaxRetries,
		backoff:    opts.Backoff,
		counter:    opts.Counter,
		sleep:      backoff.Sleep,
	}
	if c.http == nil {
		c.http = DefaultHTTPClient()
	}
	if c.maxRetries == 0 {
		c.maxRetries = 2
	}
	c.maxRetries = max(c.maxRetries, 0) // negative: none
	if c.backoff <= 0 {
		c.backoff = 50 * time.Millisecond
	}
	if c.counter == nil {
		c.counter = NewCounter()
	}
	return c, nil
}

// BaseURL returns FusionAuth's base URL as configured.
func (c *Client) BaseURL() string { return c.base.String() }

// Counter returns the per-endpoint request counter.
func (c *Client) Counter() *Counter { return c.counter }

// call describes one API request.
type call struct {
	method      string
	endpoint    string // path template, used for counting and errors
	path        string // actual path; "" when it is the endpoint (no id in it)
	query       url.Values
	body        any // JSON-encoded when non-nil
	contentType string
	noKey       bool
	global      bool  // a global API (Key Master, JWKS): sent without the tenant header
	okStatuses  []int // accepted non-200 2xx statuses; 200 is always accepted
}

// do performs c and decodes a success body into out (when out is non-nil and the
// body is not empty). It returns the HTTP status of the answer.
func (c *Client) do(ctx context.Context, cl call, out any) (int, error) {
	var payload []byte
	if cl.body != nil {
		var err error
		if payload, err = json.Marshal(cl.body); err != nil {
			return 0, fmt.Errorf("fusionauth: %s %s: encode request: %w", cl.method, cl.endpoint, err)
		}
	}
	key := ""
	if !cl.noKey && c.keys != nil {
		var err error
		if key, err = c.keys.APIKey(ctx); err != nil {
			return 0, fmt.Errorf("fusionauth: %s %s: api key: %w", cl.method, cl.endpoint, err)
		}
	}
	safe := cl.method == http.MethodGet || cl.method == http.MethodHead
	refreshed := false
	for attempt := 0; ; attempt++ {
		status, body, err := c.roundTrip(ctx, cl, key, payload)
		switch {
		case err != nil:
			if safe && attempt < c.maxRetries && ctx.Err() == nil {
				if werr := c.wait(ctx, attempt); werr != nil {
					return 0, fmt.Errorf("fusionauth: %s %s: %w", cl.method, cl.endpoint, err)
				}
				continue
			}
			return 0, fmt.Errorf("fusionauth: %s %s: %w", cl.method, cl.endpoint, err)
		case status == http.StatusUnauthorized && !refreshed && !cl.noKey && c.keys != nil:
			// FusionAuth checks the key before acting, so even a write may be
			// repeated once the key has rotated.
			refreshed = true
			fresh, rerr := c.keys.RefreshAPIKey(ctx, key)
			if rerr == nil && fresh != key {
				key = fresh
				continue
			}
		case status >= 500 && safe && attempt < c.maxRetries:
			if werr := c.wait(ctx, attempt); werr == nil {
				continue
			}
		}
		if status == http.StatusOK || slices.Contains(cl.okStatuses, status) {
			if out != nil && len(bytes.TrimSpace(body)) > 0 {
				if err := json.Unmarshal(body, out); err != nil {
					return status, fmt.Errorf("fusionauth: %s %s: decode response: %w", cl.method, cl.endpoint, err)
				}
			}
			return status, nil
		}
		fe := &Error{Method: cl.method, Endpoint: cl.endpoint, StatusCode: status}
		// An empty body, or one that is not an Errors object, still leaves a usable status.
		_ = json.Unmarshal(body, &fe.Errors)
		return status, fe
	}
}

// maxResponseBytes bounds what one answer may hold; a search page of 10,000 users
// stays well below it.
const maxResponseBytes = 64 << 20

func (c *Client) roundTrip(ctx context.Context, cl call, key string, payload []byte) (int, []byte, error) {
	u := *c.base
	u.Path = c.base.Path + cmp.Or(cl.path, cl.endpoint)
	u.RawQuery = cl.query.Encode()
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u.String(), body)
	if err != nil {
		return 0, nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		ct := cl.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if key != "" {
		req.Header.Set("Authorization", key)
	}
	if c.tenantID != "" && !cl.global {
		req.Header.Set("X-FusionAuth-TenantId", c.tenantID)
	}
	c.counter.add(cl.method + " " + cl.endpoint)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return 0, nil, fmt.Errorf("read response: %w", err)
	}
	return resp.StatusCode, data, nil
}

// maxBackoff caps the doubling of Backoff: unbounded, 50 ms doubled for a tenth retry is
// 26 s, and for a 38th it overflows.
const maxBackoff = time.Second

// wait sleeps before retry attempt+1: exponential backoff capped at maxBackoff, plus up
// to half of it as jitter, cut short by ctx.
func (c *Client) wait(ctx context.Context, attempt int) error {
	d := min(c.backoff, maxBackoff)
	for range attempt {
		d = min(2*d, maxBackoff)
	}
	d += time.Duration(rand.Int64N(int64(d)/2 + 1))
	return c.sleep(ctx, d)
}

// Counter counts requests per endpoint ("GET /api/user/{userId}"). Safe for concurrent use.
type Counter struct {
	mu     sync.Mutex
	counts map[string]int
}

// NewCounter returns an empty Counter.
func NewCounter() *Counter { return &Counter{counts: map[string]int{}} }

func (c *Counter) add(endpoint string) {
	c.mu.Lock()
	c.counts[endpoint]++
	c.mu.Unlock()
}

// Count returns the requests made to endpoint, e.g. "PATCH /api/user/{userId}".
func (c *Counter) Count(endpoint string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[endpoint]
}

// Total returns all requests counted.
func (c *Counter) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.counts {
		n += v
	}
	return n
}

// Snapshot returns a copy of the counts.
func (c *Counter) Snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.counts)
}

// Reset sets every count to zero.
func (c *Counter) Reset() {
	c.mu.Lock()
	c.counts = map[string]int{}
	c.mu.Unlock()
}

// errEmptyID is returned before any request when a required id is empty: an empty
// path segment would address a different endpoint.
var errEmptyID = errors.New("empty id")
