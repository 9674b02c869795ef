package limit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Rule is one limit: at most Max events per client in each window of Per (windows aligned to the Unix epoch).
type Rule struct {
	Name string // names the rule in keys and errors; must not contain '#'
	Max  int
	Per  time.Duration
}

// Validate reports every problem with r: an empty Name or one containing '#' (the
// DynamoDB item's key separator), a Max below 1, a Per shorter than a second.
func (r Rule) Validate() error {
	var errs []error
	if r.Name == "" {
		errs = append(errs, errors.New("empty name"))
	} else if strings.Contains(r.Name, "#") {
		errs = append(errs, errors.New("name contains '#'"))
	}
	if r.Max < 1 {
		errs = append(errs, fmt.Errorf("max %d is below 1", r.Max))
	}
	if r.Per < time.Second {
		errs = append(errs, fmt.Errorf("per %s is shorter than 1s", r.Per))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("limit rule %q: %w", r.Name, err)
	}
	return nil
}

// Limiter is what both implementations satisfy.
type Limiter interface {
	// Allow counts one event for client under rule in the window containing now and
	// reports whether it is within rule.Max. A refused event is not counted. It fails on
	// an invalid rule, an empty client, a now it cannot place in a window, a context
	// already done, or (DynamoDB) a failure to ask, and then reports false.
	Allow(ctx context.Context, rule Rule, client string, now time.Time) (bool, error)
}

var (
	_ Limiter = (*Memory)(nil)
	_ Limiter = (*DynamoDB)(nil)
)

// window is the window of rule that contains now, [start, end), checked so that both
// implementations fail the same way before any I/O.
func window(ctx context.Context, rule Rule, client string, now time.Time) (start, end time.Time, err error) {
	if err := rule.Validate(); err != nil {
		return start, end, err
	}
	if client == "" {
		return start, end, fmt.Errorf("limit %q: empty client", rule.Name)
	}
	// Windows are counted in Unix nanoseconds, which hold the years 1678 to 2262; the
	// round trip catches a now outside them, the zero time among others.
	n := now.UnixNano()
	if !time.Unix(0, n).Equal(now) {
		return start, end, fmt.Errorf("limit %q: now %s is outside the years 1678 to 2262", rule.Name, now.Format(time.RFC3339))
	}
	if err := ctx.Err(); err != nil {
		return start, end, fmt.Errorf("limit %q: %w", rule.Name, err)
	}
	p := int64(rule.Per)
	s := n - (n%p+p)%p // floor to a multiple of Per, before the epoch too
	return time.Unix(0, s), time.Unix(0, s+p), nil
}
