package fatest

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"
)

// fault is an injected failure for the next calls to one endpoint.
type fault struct {
	status    int
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

// SetLatency delays every call to endpoint by d before it is handled; endpoint "" delays
// every endpoint. A request whose context ends while waiting is abandoned. d <= 0 removes
// the delay.
func (s *Server) SetLatency(endpoint string, d time.Duration) {
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	if d <= 0 {
		delete(s.obs.latency, endpoint)
		return
	}
	s.obs.latency[endpoint] = d
}

// Calls returns how many requests reached endpoint (a ServeMux pattern, e.g.
// "GET /api/user/{userId}") since the last ResetCalls, including refused and faulted ones.
func (s *Server) Calls(endpoint string) int {
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	return s.obs.calls[endpoint]
}

// CallCounts returns a copy of every endpoint's call count.
func (s *Server) CallCounts() map[string]int {
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	return maps.Clone(s.obs.calls)
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

// UnsupportedQueries returns how many searches and bulk deletes were refused because
// their query or queryString is outside what the server can evaluate.
func (s *Server) UnsupportedQueries() int {
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

// sleepLatency waits for the configured latency of pattern (plus the global one), without
// holding any lock, and returns early with the context's error.
func (s *Server) sleepLatency(ctx context.Context, pattern string) error {
	s.obs.mu.Lock()
	d := s.obs.latency[""] + s.obs.latency[pattern]
	s.obs.mu.Unlock()
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("latency for %s: %w", pattern, ctx.Err())
	}
}

// writeFault answers an injected fault with FusionAuth's body for that status.
func writeFault(w http.ResponseWriter, f fault) {
	switch f.status {
	case http.StatusUnauthorized, http.StatusNotFound, http.StatusInternalServerError,
		http.StatusMethodNotAllowed, http.StatusNotImplemented:
		writeEmpty(w, f.status)
	case http.StatusServiceUnavailable:
		writeErrors(w, f.status, generalError("[SearchIndexUnavailable]",
			"The search index is not available or encountered an exception so the request cannot be completed."))
	case http.StatusGatewayTimeout:
		writeErrors(w, f.status, webhookTransactionError())
	case http.StatusConflict:
		writeErrors(w, f.status, generalError("[retryableConflict]",
			"The request could not be completed because of a conflict with a concurrent request. Retry the request."))
	case http.StatusTooManyRequests:
		writeErrors(w, f.status, generalError("[RateLimitedException]", "Too many requests. Retry later."))
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
