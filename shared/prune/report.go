package prune

import (
	"context"
	"encoding/json"
	"io"
)

// RunAndReport runs one pass, logs its summary (as an error when the run failed) and
// writes it to metrics as CloudWatch embedded metrics; a failed write is logged and does
// not fail the run. The Lambda function and the local stack's schedule both run passes
// this way.
func (p *Pruner) RunAndReport(ctx context.Context, metrics io.Writer) (Summary, error) {
	s, err := p.Run(ctx)
	if werr := WriteEMF(metrics, s, p.opts.Now()); werr != nil {
		p.log.WarnContext(ctx, "prune metrics not written", "error", werr)
	}
	if err != nil {
		p.log.ErrorContext(ctx, "prune failed", "summary", s, "error", err)
		return s, err
	}
	p.log.InfoContext(ctx, "prune finished", "summary", s)
	return s, nil
}

// DryRunRequested reports whether a scheduled event's detail asks for a dry run, as a
// manual invoke may: {"detail": {"dryRun": true}}. Anything else, malformed included, is
// a real run, which is what the schedule sends.
func DryRunRequested(detail json.RawMessage) bool {
	var d struct {
		DryRun bool `json:"dryRun"`
	}
	return len(detail) > 0 && json.Unmarshal(detail, &d) == nil && d.DryRun
}
