package lambdahttp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/changebank/anonuser/shared/lambdahttp"
)

// The events are the functions' own fixtures (functions/<name>/testdata), the same files
// the emulator test (e2e/lambdart) and `sam local invoke -e` use. binaryEvent is the
// adapter's own edge case: no function receives a binary PUT.
const (
	videoEvent    = "../../functions/video/testdata/apigw-v2-get-video.json"
	registerEvent = "../../functions/register/testdata/apigw-v2-post-register.json"
	webhookEvent  = "../../functions/webhook/testdata/function-url-post-webhook.json"
	binaryEvent   = "testdata/function-url-put-binary.json"
)

// visitorCookies are the cookies a returning visitor's browser sends: the fixtures hold a
// first visit.
var visitorCookies = []any{
	"anon_user=eyJhbGciOiJSUzI1NiIsImtpZCI6IlJFREFDVEVEIiwidHlwIjoiSldUIn0.eyJzdWIiOiJSRURBQ1RFRCJ9.UkVEQUNURUQ",
	"theme=dark",
}

// adapter is one event kind under test, invoked the way the Lambda runtime invokes it: event JSON
// in, response JSON out.
type adapter struct {
	name    string
	fixture string // a representative event of this kind
	wrap    func(http.Handler) lambda.Handler
}

var adapters = []adapter{
	{
		name:    "HTTPAPI",
		fixture: videoEvent,
		wrap:    func(h http.Handler) lambda.Handler { return lambda.NewHandler(lambdahttp.HTTPAPI(h)) },
	},
	{
		name:    "FunctionURL",
		fixture: webhookEvent,
		wrap:    func(h http.Handler) lambda.Handler { return lambda.NewHandler(lambdahttp.FunctionURL(h)) },
	},
}

// lambdaResponse is the JSON both response kinds marshal to.
type lambdaResponse struct {
	StatusCode        int                 `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"` // HTTP API only; must stay unset
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
	Cookies           []string            `json:"cookies"`
}

// fixture reads the event file at path and applies mutate (if any) to its decoded JSON.
func fixture(tb testing.TB, name string, mutate func(ev map[string]any)) []byte {
	tb.Helper()
	raw, err := os.ReadFile(name)
	if err != nil {
		tb.Fatalf("read fixture: %v", err)
	}
	if mutate == nil {
		return raw
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		tb.Fatalf("decode fixture %s: %v", name, err)
	}
	mutate(ev)
	out, err := json.Marshal(ev)
	if err != nil {
		tb.Fatalf("encode fixture %s: %v", name, err)
	}
	return out
}

// invoke runs payload through h like the runtime does and decodes the response JSON.
func invoke(tb testing.TB, ctx context.Context, h lambda.Handler, payload []byte) lambdaResponse {
	tb.Helper()
	out, err := h.Invoke(ctx, payload)
	if err != nil {
		tb.Fatalf("Invoke: got error %v, want nil (an error would be a bare 502)", err)
	}
	var res lambdaResponse
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		tb.Fatalf("decode response %s: %v", out, err)
	}
	return res
}

// seen is what a handler observed about its request.
type seen struct {
	req  *http.Request
	body []byte
}

// recorder returns a handler that records its request into *got and answers 204.
func recorder(tb testing.TB, got **seen) http.Handler {
	tb.Helper()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			tb.Errorf("read request body: %v", err)
		}
		*got = &seen{req: r, body: body}
		w.WriteHeader(http.StatusNoContent)
	})
}

func setPath(ev map[string]any, keys []string, value any) {
	m := ev
	for _, k := range keys[:len(keys)-1] {
		m = m[k].(map[string]any)
	}
	m[keys[len(keys)-1]] = value
}

func TestRequest(t *testing.T) {
	registerForm := "email=visitor%40example.com&firstName=Ada&consent=yes"
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
	webhookBody := `{"event":{"applicationId":"00000000-0000-0000-0000-000000000004","authenticationType":"PASSWORD",` +
		`"createInstant":1764083444890,"id":"00000000-0000-0000-0000-000000000001","ipAddress":"203.0.113.40",` +
		`"tenantId":"00000000-0000-0000-0000-000000000002","type":"user.login.success","user":{"active":true,` +
		`"data":{"anonymousUser":true,"watchCount":2},"email":"visitor@example.com",` +
		`"id":"00000000-0000-0000-0000-000000000003","tenantId":"00000000-0000-0000-0000-000000000002","verified":true}}}`
	httpAPI, functionURL := adapters[0], adapters[1]

	tests := []struct {
		name    string
		adapter adapter
		fixture string
		mutate  func(ev map[string]any)
		check   func(tb testing.TB, got *seen)
	}{
		{
			name:    "HTTPAPI method path host sourceIp arrive",
			adapter: httpAPI,
			fixture: videoEvent,
			check: func(tb testing.TB, got *seen) {
				r := got.req
				eq(tb, "Method", r.Method, "GET")
				eq(tb, "URL.Path", r.URL.Path, "/video")
				eq(tb, "Host", r.Host, "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com")
				eq(tb, "URL.Host", r.URL.Host, "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com")
				eq(tb, "URL.Scheme", r.URL.Scheme, "https")
				eq(tb, "RemoteAddr", r.RemoteAddr, "198.51.100.23:0")
				eq(tb, "Proto", r.Proto, "HTTP/1.1")
				eq(tb, "RequestURI", r.RequestURI, "/video?tag=intro&tag=pricing&q=caf%C3%A9+au+lait")
				eq(tb, "ContentLength", r.ContentLength, int64(0))
				eq(tb, "Body is NoBody", r.Body == http.NoBody, true)
			},
		},
		{
			name:    "HTTPAPI repeated query keys survive",
			adapter: httpAPI,
			fixture: videoEvent,
			check: func(tb testing.TB, got *seen) {
				eq(tb, "URL.RawQuery", got.req.URL.RawQuery, "tag=intro&tag=pricing&q=caf%C3%A9+au+lait")
				eq(tb, "Query()", got.req.URL.Query(), url.Values{"tag": {"intro", "pricing"}, "q": {"café au lait"}})
			},
		},
		{
			name:    "HTTPAPI cookies arrive in one Cookie header",
			adapter: httpAPI,
			fixture: videoEvent,
			mutate:  func(ev map[string]any) { ev["cookies"] = visitorCookies },
			check: func(tb testing.TB, got *seen) {
				eq(tb, "Cookie header", got.req.Header.Values("Cookie"), []string{
					"anon_user=eyJhbGciOiJSUzI1NiIsImtpZCI6IlJFREFDVEVEIiwidHlwIjoiSldUIn0.eyJzdWIiOiJSRURBQ1RFRCJ9.UkVEQUNURUQ; theme=dark",
				})
				eq(tb, "cookies", cookieMap(got.req.Cookies()), map[string]string{
					"anon_user": "eyJhbGciOiJSUzI1NiIsImtpZCI6IlJFREFDVEVEIiwidHlwIjoiSldUIn0.eyJzdWIiOiJSRURBQ1RFRCJ9.UkVEQUNURUQ",
					"theme":     "dark",
				})
			},
		},
		{
			name:    "HTTPAPI headers are copied and Host moves to Request.Host",
			adapter: httpAPI,
			fixture: videoEvent,
			check: func(tb testing.TB, got *seen) {
				h := got.req.Header
				eq(tb, "User-Agent", h.Values("User-Agent"), []string{"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"})
				eq(tb, "Accept", h.Values("Accept"), []string{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
				eq(tb, "Sec-Fetch-Site", h.Get("Sec-Fetch-Site"), "none")
				eq(tb, "X-Forwarded-For", h.Get("X-Forwarded-For"), "198.51.100.23")
				eq(tb, "Host in Header", h.Values("Host"), []string(nil))
			},
		},
		{
			name:    "HTTPAPI base64 request body is decoded",
			adapter: httpAPI,
			fixture: registerEvent,
			check: func(tb testing.TB, got *seen) {
				eq(tb, "Method", got.req.Method, "POST")
				eq(tb, "URL.Path", got.req.URL.Path, "/register")
				eq(tb, "body", string(got.body), registerForm)
				eq(tb, "ContentLength", got.req.ContentLength, int64(len(registerForm)))
				eq(tb, "RemoteAddr", got.req.RemoteAddr, "[2001:db8::17]:0")
				eq(tb, "Origin", got.req.Header.Get("Origin"), "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com")
			},
		},
		{
			name:    "HTTPAPI plain body is passed as is",
			adapter: httpAPI,
			fixture: registerEvent,
			mutate: func(ev map[string]any) {
				ev["body"] = registerForm
				ev["isBase64Encoded"] = false
			},
			check: func(tb testing.TB, got *seen) {
				eq(tb, "body", string(got.body), registerForm)
			},
		},
		{
			name:    "HTTPAPI Host falls back to domainName",
			adapter: httpAPI,
			fixture: videoEvent,
			mutate: func(ev map[string]any) {
				delete(ev["headers"].(map[string]any), "host")
				setPath(ev, []string{"requestContext", "domainName"}, "video.example.com")
			},
			check: func(tb testing.TB, got *seen) {
				eq(tb, "Host", got.req.Host, "video.example.com")
				eq(tb, "URL.Host", got.req.URL.Host, "video.example.com")
			},
		},
		{
			name:    "HTTPAPI decoded rawPath with space, question mark and hash stays the path",
			adapter: httpAPI,
			fixture: videoEvent,
			mutate:  func(ev map[string]any) { ev["rawPath"] = "/videos/a b?c#d" },
			check: func(tb testing.TB, got *seen) {
				eq(tb, "URL.Path", got.req.URL.Path, "/videos/a b?c#d")
				eq(tb, "URL.EscapedPath()", got.req.URL.EscapedPath(), "/videos/a%20b%3Fc%23d")
				eq(tb, "URL.RawQuery", got.req.URL.RawQuery, "tag=intro&tag=pricing&q=caf%C3%A9+au+lait")
			},
		},
		{
			name:    "HTTPAPI decoded rawPath with bare percent and non-ASCII",
			adapter: httpAPI,
			fixture: videoEvent,
			mutate:  func(ev map[string]any) { ev["rawPath"] = "/100%/café" },
			check: func(tb testing.TB, got *seen) {
				eq(tb, "URL.Path", got.req.URL.Path, "/100%/café")
			},
		},
		{
			name:    "FunctionURL escaped rawPath is decoded once",
			adapter: functionURL,
			fixture: webhookEvent,
			mutate:  func(ev map[string]any) { ev["rawPath"] = "/a%20b/%2Fc" },
			check: func(tb testing.TB, got *seen) {
				eq(tb, "URL.Path", got.req.URL.Path, "/a b//c")
				eq(tb, "URL.EscapedPath()", got.req.URL.EscapedPath(), "/a%20b/%2Fc")
			},
		},
		{
			name:    "HTTPAPI empty rawPath is the root",
			adapter: httpAPI,
			fixture: videoEvent,
			mutate: func(ev map[string]any) {
				ev["rawPath"] = ""
				ev["rawQueryString"] = ""
			},
			check: func(tb testing.TB, got *seen) {
				eq(tb, "URL.Path", got.req.URL.Path, "/")
				eq(tb, "RequestURI", got.req.RequestURI, "/")
			},
		},
		{
			name:    "FunctionURL method path host sourceIp body arrive",
			adapter: functionURL,
			fixture: webhookEvent,
			check: func(tb testing.TB, got *seen) {
				r := got.req
				eq(tb, "Method", r.Method, "POST")
				eq(tb, "URL.Path", r.URL.Path, "/")
				eq(tb, "Host", r.Host, "redactedredactedredactedredacted.lambda-url.eu-west-1.on.aws")
				eq(tb, "URL.Scheme", r.URL.Scheme, "https")
				eq(tb, "RemoteAddr", r.RemoteAddr, "203.0.113.40:0")
				eq(tb, "body", string(got.body), webhookBody)
				eq(tb, "Content-Type", r.Header.Get("Content-Type"), "application/json")
				eq(tb, "X-Fusionauth-Signature-Jwt", r.Header.Get("X-Fusionauth-Signature-Jwt"),
					"eyJhbGciOiJSUzI1NiIsImtpZCI6IlJFREFDVEVEIiwidHlwIjoiSldUIn0.eyJyZXF1ZXN0X2JvZHlfc2hhMjU2IjoiUkVEQUNURUQifQ.UkVEQUNURUQ")
				eq(tb, "Cookie header", r.Header.Values("Cookie"), []string(nil))
			},
		},
		{
			name:    "FunctionURL base64 binary body, cookies and repeated query keys arrive",
			adapter: functionURL,
			fixture: binaryEvent,
			check: func(tb testing.TB, got *seen) {
				r := got.req
				eq(tb, "Method", r.Method, "PUT")
				eq(tb, "URL.Path", r.URL.Path, "/upload/avatar")
				eq(tb, "body", got.body, png)
				eq(tb, "ContentLength", r.ContentLength, int64(len(png)))
				eq(tb, "Query()", r.URL.Query(), url.Values{"size": {"64", "128"}, "name": {"a&b"}})
				eq(tb, "cookies", cookieMap(r.Cookies()), map[string]string{"session": "REDACTED", "theme": "dark"})
				eq(tb, "RemoteAddr", r.RemoteAddr, "192.0.2.8:0")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *seen
			res := invoke(t, t.Context(), tt.adapter.wrap(recorder(t, &got)), fixture(t, tt.fixture, tt.mutate))
			if res.StatusCode != http.StatusNoContent {
				t.Fatalf("status: got %d, want %d (body %q)", res.StatusCode, http.StatusNoContent, res.Body)
			}
			if got == nil {
				t.Fatal("handler called: got false, want true")
			}
			tt.check(t, got)
		})
	}
}

func TestRequestContext(t *testing.T) {
	type ctxKey struct{}
	for _, a := range adapters {
		t.Run(a.name, func(t *testing.T) {
			deadline := time.Now().Add(time.Hour).Round(0)
			ctx, cancel := context.WithDeadline(context.WithValue(t.Context(), ctxKey{}, "invocation"), deadline)
			defer cancel()
			var got *seen
			invoke(t, ctx, a.wrap(recorder(t, &got)), fixture(t, a.fixture, nil))
			if got == nil {
				t.Fatal("handler called: got false, want true")
			}
			d, ok := got.req.Context().Deadline()
			if !ok || !d.Equal(deadline) {
				t.Errorf("request deadline: got %v (set %t), want %v", d, ok, deadline)
			}
			if v := got.req.Context().Value(ctxKey{}); v != "invocation" {
				t.Errorf("request context value: got %v, want %q", v, "invocation")
			}
		})
	}
}

func TestMalformedRequest(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(ev map[string]any)
	}{
		{
			name: "bad base64 body",
			mutate: func(ev map[string]any) {
				ev["body"] = "this is *not* base64!"
				ev["isBase64Encoded"] = true
			},
		},
		{
			name:   "empty method",
			mutate: func(ev map[string]any) { setPath(ev, []string{"requestContext", "http", "method"}, "") },
		},
		{
			name:   "method is not a token",
			mutate: func(ev map[string]any) { setPath(ev, []string{"requestContext", "http", "method"}, "GET /x") },
		},
		{
			name:   "control byte in query",
			mutate: func(ev map[string]any) { ev["rawQueryString"] = "a=\x01" },
		},
	}
	for _, a := range adapters {
		for _, tt := range tests {
			t.Run(a.name+"/"+tt.name, func(t *testing.T) {
				var got *seen
				res := invoke(t, t.Context(), a.wrap(recorder(t, &got)), fixture(t, a.fixture, tt.mutate))
				if got != nil {
					t.Errorf("handler called: got true, want false")
				}
				eq(t, "status", res.StatusCode, http.StatusBadRequest)
				eq(t, "body", res.Body, "Bad Request\n")
				eq(t, "Content-Type", res.Headers["Content-Type"], "text/plain; charset=utf-8")
			})
		}
	}
}

func TestResponse(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
	expires := time.Date(2026, time.November, 25, 15, 0, 0, 0, time.UTC)
	plainError := map[string]string{"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"}

	tests := []struct {
		name   string
		mutate func(ev map[string]any)
		// handler builds the handler under test; tb is the running subtest.
		handler func(tb testing.TB) http.HandlerFunc
		want    lambdaResponse
	}{
		{
			name:    "handler that writes nothing gives 200 with empty body",
			handler: handle(func(testing.TB, http.ResponseWriter, *http.Request) {}),
			want:    lambdaResponse{StatusCode: 200, Headers: map[string]string{}},
		},
		{
			name: "two Set-Cookie headers both come back in Cookies",
			handler: handle(func(tb testing.TB, w http.ResponseWriter, r *http.Request) {
				http.SetCookie(w, &http.Cookie{Name: "anon_user", Value: "jwt", Path: "/", MaxAge: 31536000,
					HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
				http.SetCookie(w, &http.Cookie{Name: "old", Value: "x", Path: "/", Expires: expires})
				w.Header().Set("Cache-Control", "no-store")
			}),
			want: lambdaResponse{
				StatusCode: 200,
				Headers:    map[string]string{"Cache-Control": "no-store"},
				Cookies: []string{
					"anon_user=jwt; Path=/; Max-Age=31536000; HttpOnly; Secure; SameSite=Lax",
					"old=x; Path=/; Expires=Wed, 25 Nov 2026 15:00:00 GMT",
				},
			},
		},
		{
			name: "binary body round-trips base64",
			handler: handle(func(tb testing.TB, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "image/png")
				write(tb, w, string(png))
			}),
			want: lambdaResponse{
				StatusCode:      200,
				Headers:         map[string]string{"Content-Type": "image/png"},
				Body:            base64.StdEncoding.EncodeToString(png),
				IsBase64Encoded: true,
			},
		},
		{
			name: "HTML is sent as text",
			handler: handle(func(tb testing.TB, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				write(tb, w, "<p>café & crème</p>")
			}),
			want: lambdaResponse{
				StatusCode: 200,
				Headers:    map[string]string{"Content-Type": "text/html; charset=utf-8"},
				Body:       "<p>café & crème</p>",
			},
		},
		{
			name: "problem JSON is sent as text",
			handler: handle(func(tb testing.TB, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(http.StatusConflict)
				write(tb, w, `{"title":"conflict"}`)
			}),
			want: lambdaResponse{
				StatusCode: 409,
				Headers:    map[string]string{"Content-Type": "application/problem+json"},
				Body:       `{"title":"conflict"}`,
			},
		},
		{
			name: "invalid UTF-8 under a text type is sent as base64",
			handler: handle(func(tb testing.TB, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain; charset=iso-8859-1")
				write(tb, w, "caf\xe9")
			}),
			want: lambdaResponse{
				StatusCode:      200,
				Headers:         map[string]string{"Content-Type": "text/plain; charset=iso-8859-1"},
				Body:            base64.StdEncoding.EncodeToString([]byte("caf\xe9")),
				IsBase64Encoded: true,
			},
		},
		{
			name: "valid UTF-8 under a binary type is sent as base64",
			handler: handle(func(tb testing.TB, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/octet-stream")
				write(tb, w, "plain")
			}),
			want: lambdaResponse{
				StatusCode:      200,
				Headers:         map[string]string{"Content-Type": "application/octet-stream"},
				Body:            base64.StdEncoding.EncodeToString([]byte("plain")),
				IsBase64Encoded: true,
			},
		},
		{
			name: "content-encoded text is sent as base64",
			handler: handle(func(tb testing.TB, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.Header().Set("Content-Encoding", "br")
				write(tb, w, "pretend-compressed")
			}),
			want: lambdaResponse{
				StatusCode:      200,
				Headers:         map[string]string{"Content-Type": "text/plain", "Content-Encoding": "br"},
				Body:            base64.StdEncoding.EncodeToString([]byte("pretend-compressed")),
				IsBase64Encoded: true,
			},
		},
		{
			name: "missing Content-Type is sniffed like net/http",
			handler: handle(func(tb testing.TB, w http.ResponseWriter, r *http.Request) {
				write(tb, w, "<!DOCTYPE html><html><body>hi</body></html>")
			}),
			want: lambdaResponse{
				StatusCode: 200,
				Headers:    map[string]string{"Content-Type": "text/html; charset=utf-8"},
				Body:       "<!DOCTYPE html><html><body>hi</body></html>",
			},
		},
		{
			name: "status and multi-valued headers joined with comma",
			handler: handle(func(tb testing.TB, w http.ResponseWriter, r *http.Request) {
				w.Header().Add("Vary", "Cookie")
				w.Header().Add("Vary", "Accept-Encoding")
				w.Header().Set("Location", "/video")
				w.WriteHeader(http.StatusSeeOther)
			}),
			want: lambdaResponse{
				StatusCode: 303,
				Headers:    map[string]string{"Vary": "Cookie, Accept-Encoding", "Location": "/video"},
			},
		},
		{
			name: "header changes after WriteHeader and second WriteHeader are ignored",
			handler: handle(func(tb testing.TB, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(http.StatusAccepted)
				w.Header().Set("X-Late", "1")
				http.SetCookie(w, &http.Cookie{Name: "late", Value: "1"})
				w.WriteHeader(http.StatusTeapot)
				write(tb, w, "ok")
			}),
			want: lambdaResponse{
				StatusCode: 202,
				Headers:    map[string]string{"Content-Type": "text/plain"},
				Body:       "ok",
			},
		},
		{
			name: "informational status is skipped",
			handler: handle(func(tb testing.TB, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Link", "</app.css>; rel=preload")
				w.WriteHeader(http.StatusEarlyHints)
				w.Header().Set("Content-Type", "text/plain")
				write(tb, w, "done")
			}),
			want: lambdaResponse{
				StatusCode: 200,
				Headers:    map[string]string{"Link": "</app.css>; rel=preload", "Content-Type": "text/plain"},
				Body:       "done",
			},
		},
		{
			name: "204 refuses a body",
			handler: handle(func(tb testing.TB, w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusNoContent)
				if _, err := io.WriteString(w, "nope"); !errors.Is(err, http.ErrBodyNotAllowed) {
					tb.Errorf("Write after 204: got error %v, want %v", err, http.ErrBodyNotAllowed)
				}
			}),
			want: lambdaResponse{StatusCode: 204, Headers: map[string]string{}},
		},
		{
			name: "HEAD discards the body but keeps headers",
			mutate: func(ev map[string]any) {
				setPath(ev, []string{"requestContext", "http", "method"}, "HEAD")
				delete(ev, "body")
				ev["isBase64Encoded"] = false
			},
			handler: handle(func(tb testing.TB, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				if n, err := io.WriteString(w, "body"); n != 4 || err != nil {
					tb.Errorf("Write on HEAD: got (%d, %v), want (4, nil)", n, err)
				}
			}),
			want: lambdaResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "text/plain"}},
		},
		{
			name: "Flush commits the header",
			handler: handle(func(tb testing.TB, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				if err := http.NewResponseController(w).Flush(); err != nil {
					tb.Errorf("Flush: got error %v, want nil", err)
				}
				w.Header().Set("X-Late", "1")
				write(tb, w, "x")
			}),
			want: lambdaResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "text/plain"}, Body: "x"},
		},
		{
			name: "panic becomes 500, not an error",
			handler: handle(func(tb testing.TB, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Partial", "1")
				write(tb, w, "partial")
				panic("boom")
			}),
			want: lambdaResponse{StatusCode: 500, Headers: plainError, Body: "Internal Server Error\n"},
		},
		{
			name: "ErrAbortHandler becomes 500",
			handler: handle(func(testing.TB, http.ResponseWriter, *http.Request) {
				panic(http.ErrAbortHandler)
			}),
			want: lambdaResponse{StatusCode: 500, Headers: plainError, Body: "Internal Server Error\n"},
		},
		{
			name: "invalid status code becomes 500",
			handler: handle(func(tb testing.TB, w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(42)
			}),
			want: lambdaResponse{StatusCode: 500, Headers: map[string]string{}},
		},
	}
	for _, a := range adapters {
		for _, tt := range tests {
			t.Run(a.name+"/"+tt.name, func(t *testing.T) {
				got := invoke(t, t.Context(), a.wrap(tt.handler(t)), fixture(t, a.fixture, tt.mutate))
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("response:\n got %+v\nwant %+v", got, tt.want)
				}
				if got.IsBase64Encoded {
					if _, err := base64.StdEncoding.DecodeString(got.Body); err != nil {
						t.Errorf("base64 body: got decode error %v, want nil", err)
					}
				}
			})
		}
	}
}

// handle turns f into a handler builder that hands f the running subtest.
func handle(f func(tb testing.TB, w http.ResponseWriter, r *http.Request)) func(testing.TB) http.HandlerFunc {
	return func(tb testing.TB) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { f(tb, w, r) }
	}
}

// write writes s to w and fails tb if that fails.
func write(tb testing.TB, w io.Writer, s string) {
	tb.Helper()
	if _, err := io.WriteString(w, s); err != nil {
		tb.Errorf("write response: got error %v, want nil", err)
	}
}

func TestNilHandlerPanicsAtWiring(t *testing.T) {
	tests := map[string]func(){
		"HTTPAPI":     func() { lambdahttp.HTTPAPI(nil) },
		"FunctionURL": func() { lambdahttp.FunctionURL(nil) },
	}
	for name, wire := range tests {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("panic: got none, want one")
				}
			}()
			wire()
		})
	}
}

func BenchmarkHTTPAPI(b *testing.B) {
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(fixture(b, videoEvent, func(ev map[string]any) { ev["cookies"] = visitorCookies }), &ev); err != nil {
		b.Fatalf("decode fixture: %v", err)
	}
	h := lambdahttp.HTTPAPI(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("anon_user")
		if err != nil {
			http.Error(w, "no cookie", http.StatusBadRequest)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "anon_user", Value: c.Value, Path: "/", HttpOnly: true, Secure: true})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if _, err := io.WriteString(w, "<!DOCTYPE html><title>video</title><p>Watched "+r.URL.Query().Get("tag")+"</p>"); err != nil {
			b.Errorf("write: %v", err)
		}
	}))
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		res, err := h(ctx, ev)
		if err != nil || res.StatusCode != http.StatusOK || len(res.Cookies) != 1 {
			b.Fatalf("got (%d, %d cookies, %v), want (200, 1 cookie, nil)", res.StatusCode, len(res.Cookies), err)
		}
	}
}

func cookieMap(cs []*http.Cookie) map[string]string {
	m := make(map[string]string, len(cs))
	for _, c := range cs {
		m[c.Name] = c.Value
	}
	return m
}

func eq[T any](tb testing.TB, what string, got, want T) {
	tb.Helper()
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("%s: got %#v, want %#v", what, got, want)
	}
}
