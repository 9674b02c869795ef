package prune

import "encoding/json"

// Summary is the result of a run, logged, returned and emitted as metrics. In JSON a
// dry run says what it would do: wouldDelete and wouldRelease stand where a real run
// has deleted and emailsReleased (and wouldReconcile for reconciled), so nobody reads
// a dry run as one that acted.
type Summary struct {
	DryRun     bool  // counted only, changed nothing
	Reconciled int64 // stubs that logged in while their webhook failed, converted (dry run: would be)
	Matched    int64 // stale stubs found at the start of the run
	Deleted    int64 // deleted (dry run: would be deleted)
	// Dropped is what the deleted stubs held, for each key a visitor accrues
	// (anon.Totals: watch count, watch seconds), so a run says how much history it let go.
	Dropped            map[string]int64
	EmailsReleased     int64  // unverified emails removed (dry run: would be)
	RemainingAnonymous int64  // stubs left after the run (dry run: would be left)
	PendingConversions int64  // stubs with an email awaiting first login
	Converted          int64  // former stubs that became accounts
	Complete           bool   // false: stopped by the cap or the deadline; run again
	StoppedBy          string // "cap", "deadline" or "error" (FusionAuth failed) when not Complete
	FusionAuthCalls    int    // API calls the run made
}

// summaryJSON is Summary on the wire; exactly one of each acted/would pair is set.
type summaryJSON struct {
	DryRun             bool             `json:"dryRun"`
	Reconciled         *int64           `json:"reconciled,omitempty"`
	WouldReconcile     *int64           `json:"wouldReconcile,omitempty"`
	Matched            int64            `json:"matched"`
	Deleted            *int64           `json:"deleted,omitempty"`
	WouldDelete        *int64           `json:"wouldDelete,omitempty"`
	Dropped            map[string]int64 `json:"dropped,omitempty"`
	WouldDrop          map[string]int64 `json:"wouldDrop,omitempty"`
	EmailsReleased     *int64           `json:"emailsReleased,omitempty"`
	WouldRelease       *int64           `json:"wouldRelease,omitempty"`
	RemainingAnonymous int64            `json:"remainingAnonymous"`
	PendingConversions int64            `json:"pendingConversions"`
	Converted          int64            `json:"converted"`
	Complete           bool             `json:"complete"`
	StoppedBy          string           `json:"stoppedBy,omitempty"`
	FusionAuthCalls    int              `json:"fusionAuthCalls"`
}

// MarshalJSON writes the summary with a dry run's counts named for what it would do.
func (s Summary) MarshalJSON() ([]byte, error) {
	j := summaryJSON{
		DryRun: s.DryRun, Matched: s.Matched, RemainingAnonymous: s.RemainingAnonymous,
		PendingConversions: s.PendingConversions, Converted: s.Converted, Complete: s.Complete,
		StoppedBy: s.StoppedBy, FusionAuthCalls: s.FusionAuthCalls,
	}
	if s.DryRun {
		j.WouldDelete, j.WouldRelease, j.WouldReconcile, j.WouldDrop = &s.Deleted, &s.EmailsReleased, &s.Reconciled, s.Dropped
	} else {
		j.Deleted, j.EmailsReleased, j.Reconciled, j.Dropped = &s.Deleted, &s.EmailsReleased, &s.Reconciled, s.Dropped
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes (a Lambda result read back in tests and
// by whoever invokes the function by hand).
func (s *Summary) UnmarshalJSON(b []byte) error {
	var j summaryJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*s = Summary{
		DryRun: j.DryRun, Matched: j.Matched, RemainingAnonymous: j.RemainingAnonymous,
		PendingConversions: j.PendingConversions, Converted: j.Converted, Complete: j.Complete,
		StoppedBy: j.StoppedBy, FusionAuthCalls: j.FusionAuthCalls, Dropped: j.Dropped,
	}
	if j.WouldDrop != nil {
		s.Dropped = j.WouldDrop
	}
	for _, c := range []struct{ into, acted, would *int64 }{
		{&s.Deleted, j.Deleted, j.WouldDelete},
		{&s.EmailsReleased, j.EmailsReleased, j.WouldRelease},
		{&s.Reconciled, j.Reconciled, j.WouldReconcile},
	} {
		switch {
		case c.acted != nil:
			*c.into = *c.acted
		case c.would != nil:
			*c.into = *c.would
		}
	}
	return nil
}
