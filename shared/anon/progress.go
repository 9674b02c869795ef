package anon

import (
	"context"

	"github.com/changebank/anonuser/shared/faclient"
)

// RecordProgress credits seconds of watching, as the video page reports them, to the
// profile userID (a stub; with account true, a signed-in person's account) under its
// lease: two FusionAuth calls (read, patch), one when nothing is left to credit. A
// report is credited at most what the visit has left: the visit (since DataLastVisit)
// is credited no more than the wall time since it began and no more than the video's
// length, so a script that reports more, or more often, gains nothing. It returns the
// profile as written and the seconds credited. A report of no seconds is the caller's
// to drop before calling. Errors: ErrGone, ErrNotAnonymous (a stub that became an
// account, through the visitor cookie), ErrContended, ErrUnavailable.
func (s *Service) RecordProgress(ctx context.Context, userID string, seconds int, account bool) (Profile, int, error) {
	credited := 0
	u, err := s.updates.Update(ctx, userID, func(u faclient.User) (Edit, error) {
		credited = 0
		if anonymous, _ := u.Data[DataAnonymous].(bool); !account && !anonymous {
			return Edit{}, ErrNotAnonymous
		}
		data := u.Data
		if data == nil {
			data = map[string]any{}
		}
		now := s.opts.Now().UnixMilli()
		start, ok := data[DataLastVisit]
		if !ok {
			return Edit{}, nil // no visit began: nothing to credit
		}
		elapsed := int((now - numberOf(start)) / 1000)
		done := intOf(data[DataVisitSeconds])
		credited = max(0, min(seconds, elapsed-done, s.opts.VideoSeconds-done))
		if credited == 0 {
			return Edit{}, nil
		}
		data[DataVisitSeconds] = done + credited
		data[DataWatchSeconds] = intOf(data[DataWatchSeconds]) + credited
		return Edit{Data: data}, nil
	})
	if err != nil {
		return Profile{}, 0, err
	}
	return ProfileOf(u), credited, nil
}
