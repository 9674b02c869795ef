package faclient

import (
	"context"
	"time"
)

// SetSleep makes c call f instead of sleeping before a retry, so that tests see the
// backoff without waiting it out.
func SetSleep(c *Client, f func(ctx context.Context, d time.Duration) error) { c.sleep = f }

// Dialer is the dialer DefaultHTTPClient connects with.
var Dialer = dialer
