package esquery

import "fmt"

// UnsupportedError reports a query, option, field or sort specification that this package does not
// understand. Parse, ParseAt, ParseQueryString and Sort return it, possibly wrapped; use errors.As.
type UnsupportedError struct {
	// What names the unsupported thing, e.g. `query clause "fuzzy"`.
	What string
}

// Error implements error.
func (e *UnsupportedError) Error() string { return "unsupported " + e.What }

func unsupported(format string, args ...any) error {
	return &UnsupportedError{What: fmt.Sprintf(format, args...)}
}
