package anon

import (
	"context"
	"errors"
	"regexp"
	"time"

	"github.com/changebank/anonuser/shared/faclient"
)

// Data keys this package keeps in user.data.
const (
	DataAnonymous       = "anonymousUser"     // true while the user is a stub
	DataWatchCount      = "watchCount"        // how often the video was watched
	DataEmailPending    = "emailPendingSince" // epoch ms when the profile first asked for an address; set once, moves with the profile
	DataEmailRequested  = "emailRequested"    // the address the profile asked for last, free or taken
	DataEmailSends      = "emailSends"        // epoch ms of the emails /register sent for the profile in the last day
	DataEmailLastSentTo = "emailLastSentTo"   // the address of the newest of them
	DataEmailReleasedAt = "emailReleasedAt"   // epoch ms when prune released an address the profile never proved
	DataConvertedAt     = "convertedAt"       // epoch ms of the first login after conversion
	// DataAddressPassword is the stub's passwordLastUpdateInstant as it was when the stub
	// was given its address, recorded in that same write: a password instant past it is
	// the proof of the address (PasswordSet).
	DataAddressPassword = "addressPasswordInstant"
)

// userIDPattern is FusionAuth's user id: a canonical UUID, lower-case as FusionAuth
// writes ids in every response.
var userIDPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// ValidUserID reports whether id has the shape of a FusionAuth user id: the one check
// for ids that come from outside (a cookie token, a webhook body) before they are put
// into an API path.
func ValidUserID(id string) bool { return userIDPattern.MatchString(id) }

// Profile is what the pages show about a visitor.
type Profile struct {
	UserID     string
	WatchCount int
	Anonymous  bool // still a stub: may convert
	// Email is the address the visitor asked for while anonymous, whether FusionAuth
	// took it or another account holds it (the page must not tell), or the account's
	// address after conversion.
	Email        string
	EmailPending bool // the visitor asked for an address and has not proven it yet
	WatchSeconds int  // seconds of the video credited to the profile
}

// ProfileOf reads a Profile from a FusionAuth user.
func ProfileOf(u faclient.User) Profile {
	p := Profile{UserID: u.ID, Email: u.Email}
	p.Anonymous, _ = u.Data[DataAnonymous].(bool)
	p.WatchCount = intOf(u.Data[DataWatchCount])
	p.WatchSeconds = intOf(u.Data[DataWatchSeconds])
	if requested, _ := u.Data[DataEmailRequested].(string); p.Anonymous && requested != "" {
		p.Email = requested
	}
	p.EmailPending = p.Anonymous && p.Email != ""
	return p
}

// intOf reads a JSON number (float64 after decoding) as an int; anything else is 0.
func intOf(v any) int { return int(numberOf(v)) }

// Service runs the anonymous-visitor rules against FusionAuth.
type Service struct {
	fa      FusionAuth
	updates *Updater
	opts    Options
}

// Options configure a Service.
type Options struct {
	// VideoSeconds is the video's length: the most one visit is credited (RecordProgress);
	// default DefaultVideoSeconds.
	VideoSeconds int
	// Now is the clock of the visit instants; nil means time.Now.
	Now func() time.Time
}

// DefaultVideoSeconds is the sample video's length.
const DefaultVideoSeconds = 15

// New returns a Service whose writes take their profile leases from locks (Updater).
func New(fa FusionAuth, locks Locks) *Service { return NewWith(fa, locks, Options{}) }

// NewWith is New with options.
func NewWith(fa FusionAuth, locks Locks, opts Options) *Service {
	if opts.VideoSeconds <= 0 {
		opts.VideoSeconds = DefaultVideoSeconds
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{fa: fa, updates: NewUpdater(fa, locks), opts: opts}
}

// StartProfile creates a stub user that has watched the video once: one FusionAuth
// call. The visitor's cookie is signed by the caller (package token), not by
// FusionAuth, so no FusionAuth key can mint one. Errors: ErrUnavailable.
func (s *Service) StartProfile(ctx context.Context) (Profile, error) {
	username, err := RandomString(64)
	if err != nil {
		return Profile{}, err
	}
	password, err := RandomString(64)
	if err != nil {
		return Profile{}, err
	}
	now := s.opts.Now().UnixMilli()
	created, err := s.fa.CreateUser(ctx, "", faclient.UserRequest{User: faclient.User{
		Username: username,
		Password: password,
		Data:     map[string]any{DataAnonymous: true, DataWatchCount: 1, DataFirstVisit: now, DataLastVisit: now},
	}})
	if err != nil {
		return Profile{}, fusionAuthError(err, "create anonymous user")
	}
	return ProfileOf(created.User), nil
}

// RecordWatch adds one to the visitor's watch count under the profile's lease
// (Updater): two FusionAuth calls (read, patch), and no count lost when other visits of
// the same profile run at the same moment. If the profile stays busy or is overtaken on
// every attempt, the error wraps ErrContended and the Profile is the user as last read
// (read once more if the lease was never had): the visitor can still be shown the page,
// and the caller reports the one dropped count. Only a stub
// counts through the visitor cookie: a user that is no longer anonymous is an account,
// reached only by signing in (ErrNotAnonymous, nothing written). Errors: ErrGone,
// ErrNotAnonymous, ErrContended, ErrUnavailable.
func (s *Service) RecordWatch(ctx context.Context, userID string) (Profile, error) {
	return s.recordWatch(ctx, userID, true)
}

// recordWatch counts one watch of userID; stubOnly refuses a user that is no longer
// anonymous (ErrNotAnonymous) before anything is written.
func (s *Service) recordWatch(ctx context.Context, userID string, stubOnly bool) (Profile, error) {
	u, err := s.updates.Update(ctx, userID, func(u faclient.User) (Edit, error) {
		if anonymous, _ := u.Data[DataAnonymous].(bool); stubOnly && !anonymous {
			return Edit{}, ErrNotAnonymous
		}
		data := u.Data
		if data == nil {
			data = map[string]any{}
		}
		data[DataWatchCount] = intOf(data[DataWatchCount]) + 1
		now := s.opts.Now().UnixMilli()
		if _, ok := data[DataFirstVisit]; !ok {
			data[DataFirstVisit] = now
		}
		data[DataLastVisit] = now
		delete(data, DataVisitSeconds) // a new visit: its own allowance of watch time
		return Edit{Data: data}, nil
	})
	if err != nil && !errors.Is(err, ErrContended) {
		return Profile{}, err
	}
	if err != nil && u.ID == "" {
		// The lease was never had, so nothing was read: read once to show the page.
		if u, rerr := readActive(ctx, s.fa, userID); rerr == nil {
			return ProfileOf(u), err
		}
		return Profile{UserID: userID}, err
	}
	return ProfileOf(u), err
}
