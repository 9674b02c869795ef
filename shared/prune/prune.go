package prune

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/faclient"
)

// Store is what pruning needs from FusionAuth (*faclient.Client): search and bulk
// delete, and reading and test-and-set patching one user (anon.ProfileStore) for the
// per-user steps, which go through package anon's rules.
type Store interface {
	// SearchUsersByQuery searches users. Errors: 400 bad query, 401, 503.
	SearchUsersByQuery(ctx context.Context, req faclient.SearchRequest) (*faclient.SearchResponse, error)
	// DeleteUsersByQuery deletes (or counts, on a dry run) users by query. Errors: 400, 401, 503.
	DeleteUsersByQuery(ctx context.Context, req faclient.UserDeleteRequest) (*faclient.UserDeleteResponse, error)
	anon.ProfileStore
}

var _ Store = (*faclient.Client)(nil)

// MaxBatch is FusionAuth's limit on users affected by one bulk delete and on the
// search result window.
const MaxBatch = 10_000

// Options tune a run.
type Options struct {
	Retention         time.Duration    // stubs untouched this long are deleted; default 30 days
	RetentionOneVisit time.Duration    // stubs watched once, without an email: sooner, default 7 days (at most Retention)
	PendingEmail      time.Duration    // an unverified email older than this is released; default 7 days
	MaxPerRun         int              // at most this many deletions plus releases per run; default 50,000
	BatchSize         int              // users per bulk delete / search page; default and maximum 10,000
	DryRun            bool             // count, change nothing
	Margin            time.Duration    // stop this long before the context's deadline; default 5 s
	Now               func() time.Time // default time.Now
	Metrics           io.Writer        // receives each run's CloudWatch EMF line (Lambda: stdout); nil: none
}

// Pruner runs prune passes against FusionAuth.
type Pruner struct {
	store Store
	locks anon.Locks
	opts  Options
	log   *slog.Logger
}

// New returns a Pruner with opts' defaults filled in. Its per-user writes take the
// profile leases from locks, the ones the other functions take (anon.Updater).
func New(store Store, locks anon.Locks, opts Options, log *slog.Logger) *Pruner {
	if opts.Retention <= 0 {
		opts.Retention = 30 * 24 * time.Hour
	}
	if opts.RetentionOneVisit <= 0 {
		opts.RetentionOneVisit = 7 * 24 * time.Hour
	}
	if opts.PendingEmail <= 0 {
		opts.PendingEmail = 7 * 24 * time.Hour
	}
	if opts.MaxPerRun <= 0 {
		opts.MaxPerRun = 50_000
	}
	if opts.BatchSize <= 0 || opts.BatchSize > MaxBatch {
		opts.BatchSize = MaxBatch
	}
	if opts.Margin <= 0 {
		opts.Margin = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Metrics == nil {
		opts.Metrics = io.Discard
	}
	return &Pruner{store: store, locks: locks, opts: opts, log: log}
}

// Queries: FusionAuth takes Elasticsearch JSON as a string. Instants are epoch ms
// computed here, not "now-30d" date math, so a run is one consistent snapshot.
//
// staleStubs matches stubs without an email untouched since cutoff, and those watched
// only once untouched since oneVisitCutoff (which is not before cutoff): both idle
// past the one-visit cutoff, and either past the full one or at one watch. Most
// one-visit stubs are one-off visitors whose cookie is gone, and each costs a monthly
// active user, so they go sooner. Never anyone who logged in since the one-visit
// cutoff (lastLoginInstant is indexed): FusionAuth records a login when a user is
// created with a password (fusionauth-issues #1312), so every stub has a
// lastLoginInstant, its creation, which is not a later login; the query accepts it when
// absent too, as the docs' older users have it. A stub without an email cannot have set
// a password (only a link to its address can, and an address is only released from a
// stub that did not) and so cannot have logged in; the clause keeps prune off a person
// whatever a failed webhook left in data.
func staleStubs(cutoff, oneVisitCutoff time.Time) string {
	idleBefore := func(field string, t time.Time) map[string]any {
		return map[string]any{"range": map[string]any{field: map[string]any{"lt": t.UnixMilli()}}}
	}
	return mustJSON(map[string]any{"bool": map[string]any{
		"filter": []any{
			map[string]any{"term": map[string]any{"data." + anon.DataAnonymous: true}},
			idleBefore("lastUpdateInstant", oneVisitCutoff),
			map[string]any{"bool": map[string]any{
				"should": []any{
					idleBefore("lastUpdateInstant", cutoff),
					map[string]any{"term": map[string]any{"data." + anon.DataWatchCount: 1}},
				},
				"minimum_should_match": 1,
			}},
			map[string]any{"bool": map[string]any{
				"should": []any{
					idleBefore("lastLoginInstant", oneVisitCutoff),
					map[string]any{"bool": map[string]any{"must_not": []any{map[string]any{"exists": map[string]any{"field": "lastLoginInstant"}}}}},
				},
				"minimum_should_match": 1,
			}},
		},
		"must_not": []any{
			map[string]any{"exists": map[string]any{"field": "email"}},
		},
	}})
}

// expiredPendingEmails matches stubs that asked for an address before cutoff (free or
// taken alike: both look the same to their visitor, so both are released the same).
// Whether one proved its address (and so may have logged in) is read per user
// (anon.Release): passwordLastUpdateInstant is not searchable, and every stub has a
// lastLoginInstant from its creation.
func expiredPendingEmails(cutoff time.Time) string {
	return mustJSON(map[string]any{"bool": map[string]any{
		"filter": []any{
			map[string]any{"term": map[string]any{"data." + anon.DataAnonymous: true}},
			map[string]any{"range": map[string]any{"data." + anon.DataEmailPending: map[string]any{"lt": cutoff.UnixMilli()}}},
		},
	}})
}

// pendingStubs (pendingQuery) are what reconciliation reads: stubs holding an address,
// some of which logged in after proving it while the webhook that should have converted
// them failed (FusionAuth sends it once and forgets), so prune does. Which did is read
// per user (anon.Reconcile): a login after the password was set, which no query can
// express (the creation login makes lastLoginInstant's presence say nothing). One read
// per pending stub per run: pending stubs are those asked within the pending window,
// plus the few that proved an address and never signed in.
var (
	anonymousQuery = mustJSON(map[string]any{"term": map[string]any{"data." + anon.DataAnonymous: true}})
	pendingQuery   = mustJSON(map[string]any{"bool": map[string]any{"filter": []any{
		map[string]any{"term": map[string]any{"data." + anon.DataAnonymous: true}},
		map[string]any{"exists": map[string]any{"field": "email"}},
	}}})
	convertedQuery = mustJSON(map[string]any{"exists": map[string]any{"field": "data." + anon.DataConvertedAt}})
)

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only static shapes of maps, strings and numbers are marshalled
	}
	return string(b)
}

// Run performs one pass (convert stubs that logged in while their webhook failed,
// count, delete stale stubs, release expired pending addresses, count again), writes
// its summary as metrics and logs it, once. It returns the summary even when it stops
// early; an error means FusionAuth failed and the summary holds what was done before.
func (p *Pruner) Run(ctx context.Context) (Summary, error) {
	s, err := p.pass(ctx)
	if err != nil {
		s.Complete, s.StoppedBy = false, "error"
	}
	if werr := WriteEMF(p.opts.Metrics, s, p.opts.Now()); werr != nil {
		p.log.WarnContext(ctx, "prune metrics not written", "error", werr)
	}
	if err != nil {
		p.log.ErrorContext(ctx, "prune failed", "summary", s, "error", err)
		return s, err
	}
	p.log.InfoContext(ctx, "prune finished", "summary", s)
	return s, nil
}

// pass is one prune pass, without reporting.
func (p *Pruner) pass(ctx context.Context) (Summary, error) {
	s := Summary{DryRun: p.opts.DryRun, Complete: true}
	calls := 0
	now := p.opts.Now()
	budget := int64(p.opts.MaxPerRun)
	// Every per-user step reads and writes through anon's Updater (the profile's lease
	// held), counted here.
	updates := anon.NewUpdater(countingStore{Store: p.store, calls: &calls}, p.locks)

	var err error
	s.Reconciled, err = p.eachUser(ctx, &s, pendingQuery, &budget, &calls,
		"stub converted by reconciliation: its login webhook did not convert it", func(id string) (bool, error) {
			if p.opts.DryRun {
				return p.would(ctx, updates, id, func(u faclient.User) bool { return anon.LoggedIn(u) && anon.ProvedAddress(u) })
			}
			return anon.Reconcile(ctx, updates, id, now)
		})
	if err != nil {
		return p.finish(s, calls), fmt.Errorf("reconcile logged-in stubs: %w", err)
	}

	stale := staleStubs(now.Add(-p.opts.Retention), now.Add(-min(p.opts.RetentionOneVisit, p.opts.Retention)))
	if s.Complete {
		matched, err := p.count(ctx, stale, &calls)
		if err != nil {
			return p.finish(s, calls), fmt.Errorf("count stale stubs: %w", err)
		}
		s.Matched = matched
	}

	// Delete in bounded batches until everything matched at the start is gone. The
	// count, not an empty page, ends the loop: a search index that lags behind a
	// delete must not make the loop spin on users that are already gone. Each batch is
	// read first, so the summary can say what the deleted stubs held (anon.Totals);
	// the delete names those ids and the staleness query again, so a stub that stopped
	// being stale since the read is kept.
	s.Dropped = anon.Totals()
	for s.Complete && s.Deleted < s.Matched {
		if stop := p.stopReason(ctx, budget); stop != "" {
			s.Complete, s.StoppedBy = false, stop
			break
		}
		limit := int(min(int64(p.opts.BatchSize), budget, s.Matched-s.Deleted))
		start := 0
		if p.opts.DryRun {
			start = int(s.Deleted) // a dry run deletes nothing: page past what it counted
		}
		calls++
		page, err := p.store.SearchUsersByQuery(ctx, faclient.SearchRequest{Search: faclient.UserSearchCriteria{
			Query: stale, NumberOfResults: &limit, StartRow: start, SortFields: []faclient.SortField{{Name: "id"}},
		}})
		if err != nil {
			return p.finish(s, calls), fmt.Errorf("read stale stubs: %w", err)
		}
		deleted, err := p.deleteBatch(ctx, stale, page.Users, &calls)
		if err != nil {
			return p.finish(s, calls), err
		}
		s.Deleted += int64(len(deleted))
		budget -= int64(len(deleted))
		for name, n := range anon.Totals(deleted...) {
			s.Dropped[name] += n
		}
		if len(deleted) < limit {
			break // fewer left than counted (deleted or visited elsewhere meanwhile)
		}
	}

	if s.Complete {
		cutoff := now.Add(-p.opts.PendingEmail)
		s.EmailsReleased, err = p.eachUser(ctx, &s, expiredPendingEmails(cutoff), &budget, &calls,
			"unverified email released", func(id string) (bool, error) {
				if p.opts.DryRun {
					return p.would(ctx, updates, id, func(u faclient.User) bool { return anon.Releasable(u, cutoff) })
				}
				return anon.Release(ctx, updates, id, cutoff, now)
			})
		if err != nil {
			return p.finish(s, calls), fmt.Errorf("release pending emails: %w", err)
		}
	}

	if err := p.census(ctx, &s, &calls); err != nil {
		return p.finish(s, calls), err
	}
	if p.opts.DryRun {
		// Report what the run would leave behind, so a dry run reads like the real one.
		s.RemainingAnonymous -= s.Deleted + s.Reconciled
		s.PendingConversions -= s.EmailsReleased + s.Reconciled
		s.Converted += s.Reconciled
	}
	return p.finish(s, calls), nil
}

// deleteBatch deletes the stale stubs of users (in a dry run: deletes nothing and
// reports them all) and returns the data of those deleted.
func (p *Pruner) deleteBatch(ctx context.Context, stale string, users []faclient.User, calls *int) ([]map[string]any, error) {
	if len(users) == 0 {
		return nil, nil
	}
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	gone := map[string]bool{}
	if p.opts.DryRun {
		for _, id := range ids {
			gone[id] = true
		}
	} else {
		*calls++
		query := mustJSON(map[string]any{"bool": map[string]any{"filter": []any{
			json.RawMessage(stale), map[string]any{"ids": map[string]any{"values": ids}},
		}}})
		resp, err := p.store.DeleteUsersByQuery(ctx, faclient.UserDeleteRequest{Query: query, HardDelete: true, Limit: len(ids)})
		if err != nil {
			return nil, fmt.Errorf("bulk delete stale stubs: %w", err)
		}
		for _, id := range resp.UserIDs {
			gone[id] = true
		}
	}
	var data []map[string]any
	for _, u := range users {
		if gone[u.ID] {
			data = append(data, u.Data)
		}
	}
	return data, nil
}

// Census counts what a run's summary reports of the users as they are (stubs left,
// conversions pending, accounts converted), changing nothing: 3 FusionAuth calls. The
// local stack's funnel page shows it.
func (p *Pruner) Census(ctx context.Context) (Summary, error) {
	s := Summary{DryRun: true, Complete: true}
	calls := 0
	err := p.census(ctx, &s, &calls)
	return p.finish(s, calls), err
}

func (p *Pruner) census(ctx context.Context, s *Summary, calls *int) error {
	for _, c := range []struct {
		query string
		into  *int64
	}{{anonymousQuery, &s.RemainingAnonymous}, {pendingQuery, &s.PendingConversions}, {convertedQuery, &s.Converted}} {
		n, err := p.count(ctx, c.query, calls)
		if err != nil {
			return fmt.Errorf("count users: %w", err)
		}
		*c.into = n
	}
	return nil
}

func (p *Pruner) finish(s Summary, calls int) Summary {
	s.FusionAuthCalls = calls
	return s
}

// would is a dry run's per-user step: read the user and say whether the real step
// would act on it (decide), changing nothing.
func (p *Pruner) would(ctx context.Context, updates *anon.Updater, id string, decide func(u faclient.User) bool) (bool, error) {
	would := false
	_, err := updates.Update(ctx, id, func(u faclient.User) (anon.Edit, error) {
		would = decide(u)
		return anon.Edit{}, nil
	})
	if errors.Is(err, anon.ErrGone) {
		return false, nil
	}
	return would, err
}

// eachUser is eachMatch for one of the pass's per-user steps: each user act handled in
// a real run is logged with the message done, and a stop before the end marks s
// incomplete. It returns how many act handled.
func (p *Pruner) eachUser(ctx context.Context, s *Summary, query string, budget *int64, calls *int, done string, act func(id string) (bool, error)) (int64, error) {
	n, stop, err := p.eachMatch(ctx, query, budget, calls, func(id string) (bool, error) {
		handled, err := act(id)
		if handled && !p.opts.DryRun {
			p.log.InfoContext(ctx, done, "userId", id)
		}
		return handled, err
	})
	if err == nil && stop != "" {
		s.Complete, s.StoppedBy = false, stop
	}
	return n, err
}

// eachMatch pages through the users query matches, sorted by id, and acts on each
// with act until the budget is spent or the deadline near. FusionAuth has no bulk
// update, so act is a read and a patch per user (under the profile's lease, through package anon's
// rules, which re-check the user just read: the search index may lag, and a visitor
// may have acted since). Users act declines are skipped on later pages. It returns how
// many act handled, and why it stopped early ("" when it finished).
func (p *Pruner) eachMatch(ctx context.Context, query string, budget *int64, calls *int, act func(id string) (bool, error)) (int64, string, error) {
	var done int64
	skipped := map[string]bool{}
	for {
		if stop := p.stopReason(ctx, *budget); stop != "" {
			return done, stop, nil
		}
		size := int(min(int64(p.opts.BatchSize), *budget)) + len(skipped)
		size = min(size, MaxBatch)
		*calls++
		page, err := p.store.SearchUsersByQuery(ctx, faclient.SearchRequest{Search: faclient.UserSearchCriteria{
			Query: query, NumberOfResults: &size, SortFields: []faclient.SortField{{Name: "id"}},
		}})
		if err != nil {
			return done, "", fmt.Errorf("search: %w", err)
		}
		progressed := false
		for _, u := range page.Users {
			if skipped[u.ID] {
				continue
			}
			if stop := p.stopReason(ctx, *budget); stop != "" {
				return done, stop, nil
			}
			ok, err := act(u.ID)
			if err != nil {
				return done, "", err
			}
			if ok {
				done++
				*budget--
			}
			if !ok || p.opts.DryRun {
				// A dry run changes nothing, so the next page would find it again.
				skipped[u.ID] = true
			}
			progressed = true
		}
		if !progressed || len(page.Users) < size {
			return done, "", nil
		}
	}
}

// countingStore counts the FusionAuth calls of the per-user steps into the run's total.
type countingStore struct {
	Store
	calls *int
}

func (c countingStore) RetrieveUser(ctx context.Context, userID string) (*faclient.UserResponse, error) {
	*c.calls++
	return c.Store.RetrieveUser(ctx, userID)
}

func (c countingStore) PatchUserJSONPatch(ctx context.Context, userID string, ops []faclient.PatchOperation) (*faclient.UserResponse, error) {
	*c.calls++
	return c.Store.PatchUserJSONPatch(ctx, userID, ops)
}

// count returns how many users match query (accurate beyond 10,000).
func (p *Pruner) count(ctx context.Context, query string, calls *int) (int64, error) {
	one := 1
	*calls++
	resp, err := p.store.SearchUsersByQuery(ctx, faclient.SearchRequest{Search: faclient.UserSearchCriteria{
		Query: query, NumberOfResults: &one, AccurateTotal: true,
	}})
	if err != nil {
		return 0, err
	}
	return resp.Total, nil
}

// stopReason says why the run must stop now: its budget is spent, or its deadline is
// closer than the margin.
func (p *Pruner) stopReason(ctx context.Context, budget int64) string {
	if budget <= 0 {
		return "cap"
	}
	if err := ctx.Err(); err != nil {
		return "deadline"
	}
	if dl, ok := ctx.Deadline(); ok && dl.Sub(p.opts.Now()) < p.opts.Margin {
		return "deadline"
	}
	return ""
}

// WithRetention returns a copy of p that deletes stubs untouched for d instead.
func (p *Pruner) WithRetention(d time.Duration) *Pruner {
	c := *p
	c.opts.Retention = d
	return &c
}

// ForEvent returns the pruner an EventBridge event's detail asks for: a dry-run copy
// when a manual invoke sends {"detail": {"dryRun": true}}, else p. The schedule's own
// events carry an empty detail; a detail that does not parse changes nothing.
func (p *Pruner) ForEvent(detail json.RawMessage) *Pruner {
	var d struct {
		DryRun bool `json:"dryRun"`
	}
	if len(detail) > 0 && json.Unmarshal(detail, &d) == nil && d.DryRun {
		return p.WithDryRun(true)
	}
	return p
}

// WithDryRun returns a copy of p, sharing its FusionAuth client, that only counts
// (dry) or really acts (!dry).
func (p *Pruner) WithDryRun(dry bool) *Pruner {
	c := *p
	c.opts.DryRun = dry
	return &c
}
