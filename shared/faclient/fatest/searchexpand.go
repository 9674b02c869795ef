package fatest

import (
	"net/http"
	"slices"
)

// expandable are the user properties a search may leave out of its answer: FusionAuth's
// expand parameter (since 1.48.0) names the ones to keep, default both.
var expandable = []string{"memberships", "registrations"}

// checkExpand refuses an expand value other than the expandable properties; what
// FusionAuth answers to one is not documented.
func (s *Server) checkExpand(expand []string) *apiErrors {
	for _, e := range expand {
		if !slices.Contains(expandable, e) {
			s.countUnsupported()
			return generalError("[UnsupportedRequest]",
				"This FusionAuth-compatible test server does not implement [expand] value ["+e+"]; the expandable properties are [memberships] and [registrations].")
		}
	}
	return nil
}

// applyExpand removes from the answer's users the expandable properties expand does not
// name, and lists those in expandable ("the available expandable properties that are not
// expanded in the response"), as FusionAuth does when expand is given.
func applyExpand(resp map[string]any, expand []string) {
	var left []any
	for _, p := range expandable {
		if !slices.Contains(expand, p) {
			left = append(left, p)
		}
	}
	if len(left) == 0 {
		return
	}
	users, _ := resp["users"].([]any)
	for _, u := range users {
		if m, ok := u.(map[string]any); ok {
			for _, p := range left {
				delete(m, p.(string))
			}
		}
	}
	resp["expandable"] = left
}

// answerSearch writes a search answer, applying expand when the request gave it.
func (s *Server) answerSearch(w http.ResponseWriter, c searchCriteria, status int, resp any) {
	if e, ok := resp.(*apiErrors); ok {
		writeErrors(w, status, e)
		return
	}
	if m, ok := resp.(map[string]any); ok && c.set["expand"] {
		applyExpand(m, c.expand)
	}
	writeJSON(w, status, resp)
}
