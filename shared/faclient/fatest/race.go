package fatest

// FusionAuth has no lock between a PATCH's read and its write: prime-mvc loads the
// user before the action runs, the action applies the patch (and its test operations)
// to that copy, and the result is stored later (fusionauth-issues #3206, open:
// concurrent user PATCHes all answer 200 and only one is applied; only the
// identity-provider API has optimistic locking, since 1.65.0, answering 409). The
// server does the same: handlePatchUser reads the user under the read lock, releases
// it, applies the patch, and writes under the write lock. The window between is real
// by default; AfterPatchRead lets a test hold it open to make a race certain.

// AfterPatchRead sets fn to run in every user PATCH after the user was read and before
// the patch is applied and written, with the user's id (nil removes it). A test makes
// two PATCHes overlap by holding the first there until the second has read too.
func (s *Server) AfterPatchRead(fn func(userID string)) {
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	s.obs.afterPatchRead = fn
}

// patchRead runs the AfterPatchRead hook, if any, outside every lock.
func (s *Server) patchRead(userID string) {
	s.obs.mu.Lock()
	fn := s.obs.afterPatchRead
	s.obs.mu.Unlock()
	if fn != nil {
		fn(userID)
	}
}
