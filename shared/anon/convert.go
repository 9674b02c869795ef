package anon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/changebank/anonuser/shared/faclient"
)

// Limits bound the emails /register sends for one profile (set-password and
// account-exists emails alike, so that a free and a taken address are limited the same).
type Limits struct {
	PerHour int // default 3
	PerDay  int // default 5
}

// DefaultLimits are the limits of a Converter whose options leave them zero.
var DefaultLimits = Limits{PerHour: 3, PerDay: 5}

// ConverterOptions configure a Converter.
type ConverterOptions struct {
	// ApplicationID selects the application's email templates, if it has its own.
	ApplicationID string
	// AccountExistsTemplateID is the email template that tells the owner of an address
	// that they already have an account (kickstart's accountExistsEmailTemplateId). Its
	// requestData.signInURL is SignInURL. Empty: the owner is not told (logged by the
	// caller as a misconfiguration through ErrEmailNotSent).
	AccountExistsTemplateID string
	// SignInURL is where the account-exists email sends its reader: FusionAuth's login
	// page for the application.
	SignInURL string
	// Limits bound the emails per profile; zero fields take DefaultLimits.
	Limits Limits
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Converter turns a stub user into one that can set a password via email.
type Converter struct {
	fa      ConversionStore
	updates *Updater
	opts    ConverterOptions
	now     func() time.Time
	// duplicate is how soon after an email to an address a request for the same address
	// counts as the same request (a double click, a second tab) and sends nothing.
	duplicate time.Duration
}

// NewConverter returns a Converter over fa whose writes take their profile leases from
// locks (Updater).
func NewConverter(fa ConversionStore, locks Locks, opts ConverterOptions) *Converter {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Limits.PerHour <= 0 {
		opts.Limits.PerHour = DefaultLimits.PerHour
	}
	if opts.Limits.PerDay <= 0 {
		opts.Limits.PerDay = DefaultLimits.PerDay
	}
	return &Converter{fa: fa, updates: NewUpdater(fa, locks), opts: opts, now: opts.Now, duplicate: 15 * time.Second}
}

// ConversionState is the forgot-password state that marks an anonymous conversion:
// the email template words the message as "set your password", not "change it".
var ConversionState = map[string]any{"anon_user": "true"}

// conversionPlan is what a request for an address does to the profile.
type conversionPlan int

const (
	planResend  conversionPlan = iota // the address asked for last: send its email again
	planInPlace                       // the first address of a profile that never asked for one: set it on this stub
	planMove                          // another address: move the profile to a fresh stub
)

// RequestConversion asks for email on the stub userID's profile and sends one email:
// FusionAuth's set-password email when the address is free, the account-exists email
// (AccountExistsTemplateID) to the address when another account holds it. The visitor
// can tell the two apart by nothing: the profile records the address as asked for
// either way (Profile.Email, EmailPending), the same limits apply, the same kind of
// stub carries it. "Taken" is FusionAuth's duplicate error on the write, never a lookup
// first, which would race. It returns the id of the user that holds the profile
// afterwards (Requested.Holder): userID, or a fresh stub's when the profile moved; and
// whether the address was another account's and its owner was told (Requested.Taken),
// for the caller to count. The page must not show it.
//
// Ownership: a set-password link proves one address for one stub, so a stub's address
// never changes. The first address of a profile is set on its stub (no link can exist
// yet); any other moves the profile to a fresh stub (new random username and password,
// the same data, its id derived from the old id and the address: MovedID) and deletes
// the old one, so every link and password sent for an earlier address dies with it. A
// stub whose password was set through its link has proven its address: it is an account
// (converted here if it has also logged in) and its address is not changed
// (ErrNotAnonymous).
//
// The whole request runs holding the stub's lease (Updater.Exclusive), so requests for
// one profile run one after the other, and visits counted meanwhile wait for it; the
// send is recorded in data.emailSends before it is made, so of concurrent requests one
// sends and the next finds the record: a request for the address mailed less than 15
// seconds before (a second click, a second tab) sends nothing. At most Limits.PerHour and PerDay
// emails go out per profile; beyond them the request changes nothing and sends nothing,
// and returns nil like a success. data.emailPendingSince is set once per profile and
// moves with it: asking again, or for another address and back, does not delay the
// release of an unproven address.
//
// FusionAuth calls: the same address again 3 (read, record, send); a first address 3
// when free (read, record with the address, send), 4 when taken (the write refused as
// a duplicate, then the record alone); another address 6, free or taken (read, record,
// create the fresh stub without an address, give it the address, refused as a duplicate
// when taken, delete, send). Lock calls: 2 per stub written (take, release).
//
// Errors: ErrGone, ErrNotAnonymous, ErrInvalidEmail (FusionAuth refused the address),
// ErrEmailNotSent (the profile is updated; the email failed), ErrContended,
// ErrUnavailable.
func (c *Converter) RequestConversion(ctx context.Context, userID, email string) (Requested, error) {
	r := &conversionRequest{c: c, userID: userID, email: email, now: c.now()}
	var target string
	err := c.updates.Exclusive(ctx, userID, func(ctx context.Context) error {
		var err error
		target, err = r.run(ctx)
		return err
	})
	return Requested{Holder: target, Taken: r.toldOwner}, err
}

// Requested is what a RequestConversion did.
type Requested struct {
	// Holder is the id of the user that holds the profile afterwards: the stub asked
	// for, or the fresh one the profile moved to (set with some errors too).
	Holder string
	// Taken: the address belonged to another account, and the account-exists email
	// went out to it. For metrics only: the visitor must be shown the same either way.
	Taken bool
}

// conversionRequest is one run of RequestConversion.
type conversionRequest struct {
	c             *Converter
	userID, email string
	now           time.Time

	read      bool          // a first read happened
	first     faclient.User // the user as first read
	sends     []any         // data.emailSends as first read: a change means another request recorded a send
	plan      conversionPlan
	taken     bool // the address belongs to another account
	toldOwner bool // the account-exists email went out
	limited   bool // the limits are reached: nothing sent
	lost      bool // another request recorded its send first: this one sends nothing
	proved    *faclient.User
}

func (r *conversionRequest) run(ctx context.Context) (string, error) {
	// First: record the send on this stub (the lock), and for a first address set it in
	// the same write. A refused duplicate changes nothing; record again without it.
	u, err := r.c.updates.Update(ctx, r.userID, r.claim(true))
	if errors.Is(err, ErrTaken) && r.plan == planInPlace {
		r.taken = true
		u, err = r.c.updates.update(ctx, r.userID, &r.first, r.claim(false))
	}
	if r.proved != nil {
		return r.userID, r.convertProved(ctx)
	}
	if errors.Is(err, ErrGone) {
		// The stub is gone: a concurrent request may have moved the profile to this
		// address, and then the new stub exists (one read); else it is gone for good.
		return r.followMove(ctx)
	}
	if err != nil {
		return "", err
	}
	if r.limited || r.lost {
		return r.target(), nil
	}
	target := r.userID
	if r.plan == planMove {
		if target, err = r.move(ctx, u); err != nil {
			return target, err
		}
	}
	if r.plan == planResend {
		r.taken = !strings.EqualFold(u.Email, r.email)
	}
	err = r.send(ctx, target)
	if err != nil {
		r.unrecord(ctx, target)
	}
	return target, err
}

// unrecord takes back the record of a send that failed, so that pressing the button
// again sends at once and the failure does not count against the limits. Best effort:
// if it fails too, the next request waits out the duplicate window.
func (r *conversionRequest) unrecord(ctx context.Context, target string) {
	_, _ = r.c.updates.Update(ctx, target, func(u faclient.User) (Edit, error) {
		sends, _ := u.Data[DataEmailSends].([]any)
		if last, _ := u.Data[DataEmailLastSentTo].(string); last != r.email || len(sends) == 0 || sends[len(sends)-1] != float64(r.now.UnixMilli()) {
			return Edit{}, nil
		}
		data := u.Data
		data[DataEmailSends] = sends[:len(sends)-1]
		delete(data, DataEmailLastSentTo)
		return Edit{Data: data}, nil
	})
}

// claim is the Change that records this request's send, or finds that it must not send.
func (r *conversionRequest) claim(withAddress bool) Change {
	return func(u faclient.User) (Edit, error) {
		if anonymous, _ := u.Data[DataAnonymous].(bool); !anonymous {
			return Edit{}, ErrNotAnonymous
		}
		if PasswordSet(u) {
			r.proved = &u
			return Edit{}, fmt.Errorf("%w: user %s proved its address", ErrNotAnonymous, u.ID)
		}
		sends, _ := u.Data[DataEmailSends].([]any)
		if !r.read {
			r.read, r.sends, r.first = true, sends, u
			r.first.Data = cloneData(u.Data)
			r.plan = r.planFor(u)
		} else if !sameSends(sends, r.sends) {
			r.lost = true // another request recorded a send since our first read
			return Edit{}, nil
		}
		if last, _ := u.Data[DataEmailLastSentTo].(string); strings.EqualFold(last, r.email) &&
			len(sendsSince(sends, r.now.Add(-r.c.duplicate))) > 0 {
			r.lost = true // a second click on the same address: the first one sends
			return Edit{}, nil
		}
		recent := sendsSince(sends, r.now.Add(-24*time.Hour))
		if len(recent) >= r.c.opts.Limits.PerDay || len(sendsSince(recent, r.now.Add(-time.Hour))) >= r.c.opts.Limits.PerHour {
			r.limited = true
			return Edit{}, nil
		}
		data := u.Data
		data[DataEmailSends] = append(recent, r.now.UnixMilli())
		data[DataEmailLastSentTo] = r.email
		if _, set := data[DataEmailPending]; !set {
			data[DataEmailPending] = r.now.UnixMilli()
		}
		edit := Edit{Data: data}
		if r.plan != planMove {
			// A move records the address on the new stub; this one is deleted.
			data[DataEmailRequested] = r.email
		}
		if r.plan == planInPlace && withAddress {
			// The stub never had an address, so no link can have set its password: the
			// password instant as read is the baseline of the proof (PasswordSet).
			data[DataAddressPassword] = u.PasswordLastUpdateInstant
			edit.Ops = []faclient.PatchOperation{{Op: "add", Path: "/user/email", Value: r.email}}
		}
		return edit, nil
	}
}

// planFor decides from the stub as first read.
func (r *conversionRequest) planFor(u faclient.User) conversionPlan {
	requested, _ := u.Data[DataEmailRequested].(string)
	if requested == "" {
		requested = u.Email // a stub from before emailRequested was kept
	}
	if strings.EqualFold(requested, r.email) {
		return planResend
	}
	if NeverAskedForAddress(u) {
		return planInPlace
	}
	return planMove
}

// target is where the profile is (or, for the loser of a race, will be) after this
// request.
func (r *conversionRequest) target() string {
	if r.plan == planMove && r.lost {
		return MovedID(r.userID, r.email)
	}
	return r.userID
}

// move creates the fresh stub that carries the profile under the new address and
// deletes the old one (u, as just written with the send recorded). The new stub's id is
// MovedID: a run interrupted after creating it finds it again. It is created without an
// address and given it in a second write that records its password instant (the
// baseline of the proof, PasswordSet): FusionAuth stamps that instant itself, after the
// insert, so it is known only from the create answer, and no link can reach a stub
// without an address. A duplicate refusal of that write means another account holds
// the address: the stub keeps none.
func (r *conversionRequest) move(ctx context.Context, u faclient.User) (string, error) {
	username, err := RandomString(64)
	if err != nil {
		return "", err
	}
	password, err := RandomString(64)
	if err != nil {
		return "", err
	}
	data := cloneData(u.Data)
	data[DataEmailRequested] = r.email
	delete(data, DataEmailReleasedAt)
	delete(data, DataAddressPassword)
	id := MovedID(r.userID, r.email)
	var read *faclient.User
	created, err := r.c.fa.CreateUser(ctx, id, faclient.UserRequest{User: faclient.User{Username: username, Password: password, Data: data}})
	switch {
	case err == nil:
		read = &created.User
	case faclient.IsDuplicate(err, "userId"):
		// An earlier run of this same move created it and stopped before the end:
		// finish that one (read afresh).
	default:
		return "", fusionAuthError(err, "move user "+r.userID+" to a fresh stub")
	}
	_, err = r.c.updates.update(ctx, id, read, func(u faclient.User) (Edit, error) {
		if strings.EqualFold(u.Email, r.email) {
			return Edit{}, nil // given it by the earlier run
		}
		data := u.Data
		if data == nil {
			data = map[string]any{}
		}
		data[DataAddressPassword] = u.PasswordLastUpdateInstant
		return Edit{Data: data, Ops: []faclient.PatchOperation{{Op: "add", Path: "/user/email", Value: r.email}}}, nil
	})
	r.taken = errors.Is(err, ErrTaken)
	if err != nil && !r.taken {
		return "", fmt.Errorf("give the fresh stub %s its address: %w", id, err)
	}
	// Deleting the old stub is what kills its links. If it fails, nothing is sent and
	// the visitor (already given the new stub) asks again; meanwhile the old links still
	// prove only the old address, for the old stub: no other address can be reached
	// with them, and prune releases that address after the pending window.
	if err := r.c.fa.DeleteUser(ctx, r.userID); err != nil && !faclient.IsNotFound(err) {
		return id, fusionAuthError(err, "delete user "+r.userID+" after moving its profile to "+id)
	}
	return id, nil
}

// followMove finds the stub that a concurrent request moved the profile to, for this
// same address. Errors: ErrGone when there is none.
func (r *conversionRequest) followMove(ctx context.Context) (string, error) {
	id := MovedID(r.userID, r.email)
	if _, err := readActive(ctx, r.c.fa, id); err != nil {
		return "", err
	}
	return id, nil
}

// send sends the one email of this request to the address: the set-password link of
// the stub target, or the account-exists email when another account holds it.
func (r *conversionRequest) send(ctx context.Context, target string) error {
	if r.taken {
		if r.c.opts.AccountExistsTemplateID == "" {
			return fmt.Errorf("%w: no account-exists template configured; the owner of a taken address was not told", ErrEmailNotSent)
		}
		_, err := r.c.fa.SendEmail(ctx, r.c.opts.AccountExistsTemplateID, faclient.SendRequest{
			ApplicationID: r.c.opts.ApplicationID,
			ToAddresses:   []faclient.EmailAddress{{Address: r.email}},
			RequestData:   map[string]any{"signInURL": r.c.opts.SignInURL},
		})
		if err != nil {
			return fmt.Errorf("%w: %w", ErrEmailNotSent, fusionAuthError(err, "send account-exists email for user "+target))
		}
		r.toldOwner = true
		return nil
	}
	_, err := r.c.fa.ForgotPassword(ctx, faclient.ForgotPasswordRequest{
		LoginID:       r.email,
		ApplicationID: r.c.opts.ApplicationID,
		State:         ConversionState,
	})
	if err != nil {
		// Whatever FusionAuth said, the address is saved and the email is not sent:
		// that is what the visitor can act on (send again).
		return fmt.Errorf("%w: %w", ErrEmailNotSent, fusionAuthError(err, "start set-password email for user "+target))
	}
	return nil
}

// convertProved handles a stub that proved its address: an account in all but name. If
// it has logged in since, it is converted now (the webhook may have failed); either way
// its address stays.
func (r *conversionRequest) convertProved(ctx context.Context) error {
	if LoggedIn(*r.proved) {
		if _, err := Reconcile(ctx, r.c.updates, r.userID, r.now); err != nil {
			return err
		}
	}
	return fmt.Errorf("%w: user %s proved its address", ErrNotAnonymous, r.userID)
}

// Visitor reads the profile of userID for the register page: one call. Errors:
// ErrGone, ErrUnavailable.
func (c *Converter) Visitor(ctx context.Context, userID string) (Profile, error) {
	u, err := readActive(ctx, c.fa, userID)
	if err != nil {
		return Profile{}, err
	}
	return ProfileOf(u), nil
}

// sendsSince keeps the entries of an emailSends log at or after t.
func sendsSince(sends []any, t time.Time) []any {
	out := make([]any, 0, len(sends)+1)
	for _, s := range sends {
		if ms, ok := s.(float64); ok && int64(ms) >= t.UnixMilli() {
			out = append(out, s)
		}
	}
	return out
}

// sameSends reports whether two emailSends logs are the same: a request that finds the
// log changed since it first read it knows another request recorded a send.
func sameSends(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
