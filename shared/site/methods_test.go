package site_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestMethodsNotAllowed: each handler answers a method it does not serve with 405 and
// an Allow header naming the ones it does, and changes nothing (no FusionAuth call).
func TestMethodsNotAllowed(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name    string
		handler http.Handler
		method  string
		path    string
		allow   string
	}{
		{"POST /video", e.video, http.MethodPost, "/video", "GET, HEAD"},
		{"DELETE /video", e.video, http.MethodDelete, "/video", "GET, HEAD"},
		{"POST /login", e.register, http.MethodPost, "/login", "GET, HEAD"},
		{"PUT /callback", e.register, http.MethodPut, "/callback", "GET, HEAD"},
		{"DELETE /register", e.register, http.MethodDelete, "/register", "GET, HEAD, POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.client.Counter().Total()
			w := httptest.NewRecorder()
			tt.handler.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
			if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != tt.allow {
				t.Errorf("got %d, Allow %q; want 405, Allow %q", w.Code, w.Header().Get("Allow"), tt.allow)
			}
			if got := e.client.Counter().Total() - before; got != 0 {
				t.Errorf("FusionAuth calls: got %d, want 0", got)
			}
		})
	}
}
