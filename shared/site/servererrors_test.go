package site_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/changebank/anonuser/shared/site"
)

// TestCountServerErrors: a response of 500 or above, and a panic (passed on), are each
// one ServerError of the function; 2xx, 4xx, an implicit 200 and a 103 before a 200 are
// none.
func TestCountServerErrors(t *testing.T) {
	e := newEnv(t)
	log := slog.New(slog.NewJSONHandler(e.logw, nil))
	statuses := map[string]func(w http.ResponseWriter){
		"/ok":       func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) },
		"/implicit": func(w http.ResponseWriter) { _, _ = w.Write([]byte("page")) },
		"/early":    func(w http.ResponseWriter) { w.WriteHeader(http.StatusEarlyHints); w.WriteHeader(http.StatusOK) },
		"/missing":  func(w http.ResponseWriter) { http.NotFound(w, nil) },
		"/twice": func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusOK)
			w.WriteHeader(http.StatusInternalServerError)
		},
		"/written": func(w http.ResponseWriter) {
			_, _ = w.Write([]byte("x"))
			w.WriteHeader(http.StatusInternalServerError)
		},
		"/internal":  func(w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) },
		"/down":      func(w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) },
		"/panicking": func(http.ResponseWriter) { panic("boom") },
	}
	h := site.CountServerErrors(site.FunctionRegister, log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		statuses[r.URL.Path](w)
	}))
	for path := range statuses {
		func() {
			defer func() {
				if p := recover(); (p != nil) != (path == "/panicking") {
					t.Errorf("%s: recovered %v; a panic must be passed on, and only the panicking one's", path, p)
				}
			}()
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
		}()
	}
	// /internal, /down and /panicking; /written's and /twice's status is the 200 they sent
	// first (net/http ignores a second WriteHeader).
	wantCounts(t, e.emitted(t), map[string]int{site.MetricServerError: 3}, map[string]string{site.MetricServerError: site.FunctionRegister})
}
