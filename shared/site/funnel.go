package site

import (
	"context"
	"log/slog"
	"time"

	"github.com/changebank/anonuser/shared/metrics"
)

// The anonymous funnel's metrics (namespace metrics.Namespace): each step counts one
// where it happens, on a log line that is its EMF record, with the function that served
// it as the Function dimension and nothing personal (no user id, no address).
const (
	MetricStubCreated            = "StubCreated"            // a first visit created a profile (video)
	MetricCrawlerTurnedAway      = "CrawlerTurnedAway"      // an automated client without a cookie got the page uncounted (video)
	MetricClientOverLimit        = "ClientOverLimit"        // a client over a limit was refused (video, register; with Limit)
	MetricClientLimitUnavailable = "ClientLimitUnavailable" // a limit could not be counted: refused (video, register; with Limit)
	MetricEmailRequested         = "EmailRequested"         // POST /register accepted an address (register)
	MetricConverted              = "Converted"              // a stub became an account (webhook, or register at /callback)
	MetricSignedIn               = "SignedIn"               // /callback signed someone in (register)
	MetricMerged                 = "Merged"                 // a stub merged into the account that signed in (register)
	MetricForgotten              = "Forgotten"              // the visitor's data was deleted (register; with Kind)
	MetricWatchDropped           = "WatchDropped"           // a visit or progress report not recorded: FusionAuth or the lease store failed (video)
)

// The dimensions of the funnel's metrics.
const (
	DimFunction = "Function" // the Lambda function that emitted it: video, register or webhook
	DimLimit    = "Limit"    // the limit.Rule's name: stub, stub-total or register
	DimKind     = "Kind"     // whose data was forgotten: anonymous or account
)

// FunnelMetrics are every metric the site's handlers emit, each with its dimensions.
var FunnelMetrics = []metrics.Spec{
	{Name: MetricStubCreated, Dimensions: []string{DimFunction}},
	{Name: MetricCrawlerTurnedAway, Dimensions: []string{DimFunction}},
	{Name: MetricClientOverLimit, Dimensions: []string{DimLimit, DimFunction}},
	{Name: MetricClientLimitUnavailable, Dimensions: []string{DimLimit, DimFunction}},
	{Name: MetricEmailRequested, Dimensions: []string{DimFunction}},
	{Name: MetricConverted, Dimensions: []string{DimFunction}},
	{Name: MetricSignedIn, Dimensions: []string{DimFunction}},
	{Name: MetricMerged, Dimensions: []string{DimFunction}},
	{Name: MetricForgotten, Dimensions: []string{DimKind, DimFunction}},
	{Name: MetricWatchDropped, Dimensions: []string{DimFunction}},
}

// The Function dimension's values: the Lambda function whose handler emits the metric
// (Video: video; Register, SignIn, Me: register; Webhook: webhook).
const (
	fnVideo    = "video"
	fnRegister = "register"
	fnWebhook  = "webhook"
)

// functionDim is the Function dimension of a metric emitted by function.
func functionDim(function string) metrics.Dimension {
	return metrics.Dimension{Name: DimFunction, Value: function}
}

// step logs one funnel step of function at level: msg names it, and the line is the
// step's EMF record, counting one. attrs must be nothing personal.
func step(ctx context.Context, log *slog.Logger, level slog.Level, msg, metric, function string, attrs ...any) {
	log.Log(ctx, level, msg, append(metrics.Count(metric, time.Now(), functionDim(function)), attrs...)...)
}
