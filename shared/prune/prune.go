package prune

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/faclient"
)

// Store is what pruning needs from FusionAuth (*faclient.Client).
type Store interface {
	// SearchUsersByQuery searches users. Errors: 400 bad query, 401, 503.
	SearchUsersByQuery(ctx context.Context, req faclient.SearchRequest) (*faclient.SearchResponse, error)
	// DeleteUsersByQuery deletes (or counts, on a dry run) users by query. Errors: 400, 401, 503.
	DeleteUsersByQuery(ctx context.Context, req faclient.UserDeleteRequest) (*faclient.UserDeleteResponse, error)
	// RetrieveUser reads a user. Errors: 404, 401.
	RetrieveUser(ctx context.Context, userID string) (*faclient.UserResponse, error)
	// PatchUser merges fields into a user. Errors: 404, 401.
	PatchUser(ctx context.Context, userID string, req map[string]any) (*faclient.UserResponse, error)
}

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
	opts  Options
	log   *slog.Logger
}

// New returns a Pruner with opts' defaults filled in.
func New(store Store, opts Options, log *slog.Logger) *Pruner {
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
	return &Pruner{store: store, opts: opts, log: log}
}

// Queries: FusionAuth takes Elasticsearch JSON as a string. Instants are epoch ms
// computed here, not "now-30d" date math, so a run is one consistent snapshot.
//
// staleStubs matches stubs without an email untouched since cutoff, and those watched
// only once untouched since oneVisitCutoff (which is not before cutoff): both idle
// past the one-visit cutoff, and either past the full one or at one watch. Most
// one-visit stubs are one-off visitors whose cookie is gone, and each costs a monthly
// active user, so they go sooner.
func staleStubs(cutoff, oneVisitCutoff time.Time) string {
	idleBefore := func(t time.Time) map[string]any {
		return map[string]any{"range": map[string]any{"lastUpdateInstant": map[string]any{"lt": t.UnixMilli()}}}
	}
	return mustJSON(map[string]any{"bool": map[string]any{
		"filter": []any{
			map[string]any{"term": map[string]any{"data." + anon.DataAnonymous: true}},
			idleBefore(oneVisitCutoff),
			map[string]any{"bool": map[string]any{
				"should": []any{
					idleBefore(cutoff),
					map[string]any{"term": map[string]any{"data." + anon.DataWatchCount: 1}},
				},
				"minimum_should_match": 1,
			}},
		},
		"must_not": []any{map[string]any{"exists": map[string]any{"field": "email"}}},
	}})
}

func expiredPendingEmails(cutoff time.Time) string {
	return mustJSON(map[string]any{"bool": map[string]any{
		"filter": []any{
			map[string]any{"term": map[string]any{"data." + anon.DataAnonymous: true}},
			map[string]any{"exists": map[string]any{"field": "email"}},
			map[string]any{"range": map[string]any{"data." + anon.DataEmailPending: map[string]any{"lt": cutoff.UnixMilli()}}},
		},
	}})
}

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

// Run performs one pass (count, delete stale stubs, release expired pending emails,
// count again), writes its summary as metrics and logs it, once. It returns the
// summary even when it stops early; an error means FusionAuth failed and the summary
// holds what was done before.
func (p *Pruner) Run(ctx context.Context) (Summary, error) {
	s, err := p.pass(ctx)
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
	s := Summary{DryRun: p.opts.DryRun}
	calls := 0
	now := p.opts.Now()
	budget := int64(p.opts.MaxPerRun)
	stale := staleStubs(now.Add(-p.opts.Retention), now.Add(-min(p.opts.RetentionOneVisit, p.opts.Retention)))

	matched, err := p.count(ctx, stale, &calls)
	if err != nil {
		return p.finish(s, calls), fmt.Errorf("count stale stubs: %w", err)
	}
	s.Matched = matched
	s.Complete = true

	// Delete in bounded batches until everything matched at the start is gone. The
	// count, not an empty page, ends the loop: a search index that lags behind a
	// delete must not make the loop spin on users that are already gone.
	for s.Deleted < matched {
		if stop := p.stopReason(ctx, budget); stop != "" {
			s.Complete, s.StoppedBy = false, stop
			break
		}
		limit := min(int64(p.opts.BatchSize), budget, matched-s.Deleted)
		if p.opts.DryRun {
			s.Deleted += limit
			budget -= limit
			continue
		}
		calls++
		resp, err := p.store.DeleteUsersByQuery(ctx, faclient.UserDeleteRequest{Query: stale, HardDelete: true, Limit: int(limit)})
		if err != nil {
			return p.finish(s, calls), fmt.Errorf("bulk delete stale stubs: %w", err)
		}
		s.Deleted += int64(resp.Total)
		budget -= int64(resp.Total)
		if int64(resp.Total) < limit {
			break // fewer left than counted (deleted elsewhere meanwhile)
		}
	}

	if s.Complete {
		released, stop, err := p.releaseEmails(ctx, now, &budget, &calls)
		s.EmailsReleased = released
		if err != nil {
			return p.finish(s, calls), err
		}
		if stop != "" {
			s.Complete, s.StoppedBy = false, stop
		}
	}

	for _, c := range []struct {
		query string
		into  *int64
	}{{anonymousQuery, &s.RemainingAnonymous}, {pendingQuery, &s.PendingConversions}, {convertedQuery, &s.Converted}} {
		n, err := p.count(ctx, c.query, &calls)
		if err != nil {
			return p.finish(s, calls), fmt.Errorf("count users: %w", err)
		}
		*c.into = n
	}
	if p.opts.DryRun {
		// Report what the run would leave behind, so a dry run reads like the real one.
		s.RemainingAnonymous -= s.Deleted
		s.PendingConversions -= s.EmailsReleased
	}
	return p.finish(s, calls), nil
}

func (p *Pruner) finish(s Summary, calls int) Summary {
	s.FusionAuthCalls = calls
	return s
}

// releaseEmails removes unverified emails older than the window from their stubs.
// FusionAuth has no bulk update, so this is a read and a patch per user; the read
// re-checks the user just before the patch so that a visitor who converted since the
// search keeps their email.
func (p *Pruner) releaseEmails(ctx context.Context, now time.Time, budget *int64, calls *int) (int64, string, error) {
	cutoff := now.Add(-p.opts.PendingEmail)
	query := expiredPendingEmails(cutoff)
	var released int64
	skipped := map[string]bool{}
	for {
		if stop := p.stopReason(ctx, *budget); stop != "" {
			return released, stop, nil
		}
		size := int(min(int64(p.opts.BatchSize), *budget)) + len(skipped)
		size = min(size, MaxBatch)
		*calls++
		page, err := p.store.SearchUsersByQuery(ctx, faclient.SearchRequest{Search: faclient.UserSearchCriteria{
			Query: query, NumberOfResults: &size, SortFields: []faclient.SortField{{Name: "id"}},
		}})
		if err != nil {
			return released, "", fmt.Errorf("search pending emails: %w", err)
		}
		progressed := false
		for _, u := range page.Users {
			if skipped[u.ID] {
				continue
			}
			if stop := p.stopReason(ctx, *budget); stop != "" {
				return released, stop, nil
			}
			if p.opts.DryRun {
				skipped[u.ID] = true
				released++
				*budget--
				progressed = true
				continue
			}
			ok, err := p.release(ctx, u.ID, cutoff, calls)
			if err != nil {
				return released, "", err
			}
			if ok {
				released++
				*budget--
			} else {
				skipped[u.ID] = true
			}
			progressed = true
		}
		if !progressed || len(page.Users) < size {
			return released, "", nil
		}
	}
}

func (p *Pruner) release(ctx context.Context, userID string, cutoff time.Time, calls *int) (bool, error) {
	*calls++
	got, err := p.store.RetrieveUser(ctx, userID)
	if faclient.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read user %s: %w", userID, err)
	}
	prof := anon.ProfileOf(got.User)
	since, _ := got.User.Data[anon.DataEmailPending].(float64)
	if !prof.Anonymous || got.User.Email == "" || int64(since) >= cutoff.UnixMilli() {
		return false, nil
	}
	*calls++
	_, err = p.store.PatchUser(ctx, userID, map[string]any{"user": map[string]any{
		"email": nil,
		"data":  map[string]any{anon.DataEmailPending: nil},
	}})
	if faclient.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("release email of user %s: %w", userID, err)
	}
	p.log.InfoContext(ctx, "unverified email released", "userId", userID)
	return true, nil
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
