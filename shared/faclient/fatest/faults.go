package fatest

import (
	"fmt"
	"net/http"
	"slices"
)

// fault is an injected failure for the next calls to one endpoint.
type fault struct {
	status    int
	code      string // a general error code to answer instead of the status's usual body
	remaining int
}

// InjectFault makes the next n calls to endpoint (a ServeMux pattern such as
// "PATCH /api/user/{userId}") answer status without acting. The body is what FusionAuth
// sends with that status: empty for 401, 404 and 500, an Errors object otherwise.
// n <= 0 removes the fault.
func (s *Server) InjectFault(endpoint string, status, n int) {
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	if n <= 0 {
		delete(s.obs.faults, endpoint)
		return
	}
	s.obs.faults[endpoint] = &fault{status: status, remaining: n}
}

// InjectFaultCode is InjectFault answering FusionAuth's Errors body with the general
// error code instead, e.g. 400 "[JSONPatchTestFailed]" for a PATCH, as if every test
// operation found another value (another writer always came first).
func (s *Server) InjectFaultCode(endpoint string, status int, code string, n int) {
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	if n <= 0 {
		delete(s.obs.faults, endpoint)
		return
	}
	s.obs.faults[endpoint] = &fault{status: status, code: code, remaining: n}
}

// Calls returns how many requests reached endpoint (a ServeMux pattern, e.g.
// "GET /api/user/{userId}") since the last ResetCalls, including refused and faulted ones.
func (s *Server) Calls(endpoint string) int {
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	return s.obs.calls[endpoint]
}

// TotalCalls returns how many API requests (hosted pages excluded) arrived since the last
// ResetCalls.
func (s *Server) TotalCalls() int {
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	return s.obs.total
}

// ResetCalls zeroes the call counters (Start does so after loading the kickstart).
func (s *Server) ResetCalls() {
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	clear(s.obs.calls)
	s.obs.total = 0
}

// Outbox returns the emails sent so far, oldest first.
func (s *Server) Outbox() []Email {
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	out := slices.Clone(s.obs.outbox)
	for i := range out {
		out[i].State = cloneMap(out[i].State)
	}
	return out
}

// Deliveries returns every webhook delivery attempt so far, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	out := slices.Clone(s.obs.deliveries)
	for i := range out {
		out[i].Body = slices.Clone(out[i].Body)
		out[i].Header = out[i].Header.Clone()
	}
	return out
}

// Unsupported returns how many requests were refused because they need something
// FusionAuth has and this server does not implement: an endpoint, a request option, a
// query kind.
func (s *Server) Unsupported() int {
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	return s.obs.unsupported
}

func (s *Server) countCall(pattern string, page bool) {
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	s.obs.calls[pattern]++
	if !page {
		s.obs.total++
	}
}

// writeUnsupported refuses a request FusionAuth would serve but this server does not
// implement (what names it): 400 with the general error [UnsupportedRequest], logged as a
// warning and counted in Unsupported, so that code relying on it fails loudly here
// instead of passing on a best effort.
func (s *Server) writeUnsupported(w http.ResponseWriter, r *http.Request, what string) {
	s.countUnsupported()
	s.log.Warn("fatest: unsupported request", "method", r.Method, "path", r.URL.Path, "what", what)
	writeErrors(w, http.StatusBadRequest, generalError("[UnsupportedRequest]",
		"This FusionAuth-compatible test server does not implement "+what+". Use the supported subset (see package fatest) rather than relying on a wider answer."))
}

func (s *Server) countUnsupported() {
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	s.obs.unsupported++
}

func (s *Server) recordEmail(e Email) {
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	s.obs.outbox = append(s.obs.outbox, e)
}

func (s *Server) recordDelivery(d Delivery) {
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	s.obs.deliveries = append(s.obs.deliveries, d)
}

// takeFault consumes one injected fault for pattern.
func (s *Server) takeFault(pattern string) (fault, bool) {
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	f := s.obs.faults[pattern]
	if f == nil {
		return fault{}, false
	}
	f.remaining--
	if f.remaining <= 0 {
		delete(s.obs.faults, pattern)
	}
	return *f, true
}

// writeFault answers an injected fault with FusionAuth's body for that status.
func writeFault(w http.ResponseWriter, f fault) {
	if f.code != "" {
		writeErrors(w, f.status, generalError(f.code, fmt.Sprintf("Fault injected by the test (%s).", f.code)))
		return
	}
	switch f.status {
	case http.StatusUnauthorized, http.StatusNotFound, http.StatusInternalServerError,
		http.StatusMethodNotAllowed, http.StatusNotImplemented:
		writeEmpty(w, f.status)
	case http.StatusServiceUnavailable:
		writeErrors(w, f.status, generalError("[SearchIndexUnavailable]",
			"The search index is not available or encountered an exception so the request cannot be completed."))
	case http.StatusGatewayTimeout:
		writeErrors(w, f.status, webhookTransactionError())
	default:
		if f.status >= 400 {
			writeErrors(w, f.status, generalError("[InjectedFault]", fmt.Sprintf("Fault injected by the test (status %d).", f.status)))
			return
		}
		writeEmpty(w, f.status)
	}
}

// webhookTransactionError is the 504 body of a failed transactional webhook.
func webhookTransactionError() *apiErrors {
	return generalError("[WebhookTransactionException]",
		"One or more webhooks returned an invalid response or were unreachable. Based on your transaction configuration, your action cannot be completed.")
}
