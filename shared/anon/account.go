package anon

import (
	"context"
)

// The signed-in side of the video page: a person who signed in through FusionAuth
// carries a session naming their account, and their visits count there, on whichever
// device they use. Only a session reaches an account: the anonymous cookie of a stub
// that has since become an account no longer does (RecordWatch answers
// ErrNotAnonymous), because whoever made the stub is not necessarily who proved the
// address.

// RecordSignedInWatch adds one to the watch count of the signed-in person's account,
// under the account's lease like RecordWatch: two FusionAuth calls (read, patch) without
// contention; with ErrContended the profile as last read is returned and only this
// watch is lost. Errors: ErrGone (the account was deleted or deactivated since the
// session was signed), ErrContended, ErrUnavailable.
func (s *Service) RecordSignedInWatch(ctx context.Context, userID string) (Profile, error) {
	return s.recordWatch(ctx, userID, false)
}

// Account reads the signed-in person's profile without counting (the page right
// after sign-in): one FusionAuth call. Errors: ErrGone, ErrUnavailable.
func (s *Service) Account(ctx context.Context, userID string) (Profile, error) {
	u, err := readActive(ctx, s.fa, userID)
	if err != nil {
		return Profile{}, err
	}
	return ProfileOf(u), nil
}
