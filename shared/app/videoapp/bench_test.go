package videoapp_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/changebank/anonuser/shared/app"
	"github.com/changebank/anonuser/shared/app/videoapp"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/limit"
	"github.com/changebank/anonuser/shared/lock"
	"github.com/changebank/anonuser/shared/token"
	"github.com/changebank/anonuser/shared/token/tokentest"
)

const stubID = "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f"

// fusionAuthInMemory answers the two calls of a returning visit (read the user,
// test-and-set its count) from memory, so that a benchmark measures the product's own
// code: cookie check, domain, client encoding and decoding, page rendering. It does
// not evaluate the patch: every test-and-set "wins".
type fusionAuthInMemory struct{ calls atomic.Int64 }

var stubJSON = []byte(`{"user":{"id":"` + stubID + `","active":true,"tenantId":"0b3e1f4c-2d5a-4b6c-9e8f-1a2b3c4d5e6f",` +
	`"username":"` + strings.Repeat("a", 64) + `","insertInstant":1764000000000,"lastUpdateInstant":1764000000000,` +
	`"passwordLastUpdateInstant":1764000000000,"data":{"anonymousUser":true,"watchCount":41}}}`)

func (f *fusionAuthInMemory) RoundTrip(r *http.Request) (*http.Response, error) {
	f.calls.Add(1)
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	if r.URL.Path != "/api/user/"+stubID || (r.Method != http.MethodGet && r.Method != http.MethodPatch) {
		return &http.Response{StatusCode: http.StatusNotFound, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
	}
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(bytes.NewReader(stubJSON)),
		Request:    r,
	}, nil
}

// BenchmarkReturningVisitProductCode is a returning visit through the video function's
// handler as the Lambda builds it, with FusionAuth answered in memory: what the product
// itself costs per visit (issue 16's target: at most 100 µs and 200 allocations).
func BenchmarkReturningVisitProductCode(b *testing.B) {
	rt := &fusionAuthInMemory{}
	fa, err := faclient.New(faclient.Options{BaseURL: "http://fusionauth.invalid", TenantID: "0b3e1f4c-2d5a-4b6c-9e8f-1a2b3c4d5e6f",
		Keys: faclient.StaticKey("k"), HTTPClient: &http.Client{Transport: rt}})
	if err != nil {
		b.Fatal(err)
	}
	keys := []token.Key{tokentest.Key(b, "bench")}
	h, err := videoapp.New(config.Video{Cookie: config.Cookie{Name: "anon_user"}, VideoURL: "https://video.example/v.mp4",
		Stubs: config.ClientLimit{PerHour: config.DefaultStubsPerClientHour}, StubsPerDay: config.DefaultStubsPerDay},
		fa, keys, app.Stores{Locks: lock.NewMemory(), Limits: limit.NewMemory()}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	signer, err := token.NewVisitor(keys, nil)
	if err != nil {
		b.Fatal(err)
	}
	cookie, err := signer.Sign(stubID)
	if err != nil {
		b.Fatal(err)
	}
	// The request and the response writer are the harness, built once: the product
	// reads the request and writes the page, and only that is measured.
	r := httptest.NewRequest(http.MethodGet, "https://changebank.example/video", nil)
	r.AddCookie(&http.Cookie{Name: "anon_user", Value: cookie})
	w := &pageWriter{header: http.Header{}}
	h.ServeHTTP(w, r)
	if w.status != http.StatusOK || !strings.Contains(w.body.String(), "<strong>41</strong>") {
		b.Fatalf("status %d, body without the count:\n%s", w.status, w.body.String())
	}
	rt.calls.Store(0)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, r)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
	b.ReportMetric(float64(rt.calls.Load())/float64(b.N), "fa-calls/op")
}

// pageWriter is a reusable http.ResponseWriter for the benchmark.
type pageWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *pageWriter) Header() http.Header { return w.header }

func (w *pageWriter) WriteHeader(status int) { w.status = status }

func (w *pageWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(p)
}

func (w *pageWriter) reset() {
	clear(w.header)
	w.status = 0
	w.body.Reset()
}
