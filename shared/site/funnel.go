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
	MetricAddressTaken           = "AddressTaken"           // of those, one another account holds: its owner was told (register)
	MetricConverted              = "Converted"              // a stub became an account (webhook, or register at /callback)
	MetricSignedIn               = "SignedIn"               // /callback signed someone in (register)
	MetricMerged                 = "Merged"                 // a stub merged into the account that signed in (register)
	MetricForgotten              = "Forgotten"              // the visitor's data was deleted (register; with Kind)
	MetricWatchDropped           = "WatchDropped"           // a visit or progress report not recorded: FusionAuth or the lease store failed (video)
	MetricServerError            = "ServerError"            // a response of 500 or above, or a panic (video, register, webhook; CountServerErrors)
)

// The dimensions of the funnel's metrics.
const (
	DimFunction = metrics.DimFunction // the Lambda function that emitted it
	DimLimit    = "Limit"             // the limit.Rule's name
	DimKind     = "Kind"              // whose data was forgotten
)

// The Limit dimension's values: the names of the client limits.
const (
	LimitStub      = "stub"       // anonymous profiles one client starts per hour (video)
	LimitStubTotal = "stub-total" // anonymous profiles all clients start per UTC day (video)
	LimitRegister  = "register"   // POST /register one client sends per hour (register)
)

// The Kind dimension's values.
const (
	KindAnonymous = "anonymous" // an anonymous profile forgot itself
	KindAccount   = "account"   // a signed-in person deleted their account
)

// FunnelMetrics are every metric the site's handlers emit, each with its dimensions.
var FunnelMetrics = []metrics.Spec{
	{Name: MetricStubCreated, Dimensions: onlyBy(FunctionVideo)},
	{Name: MetricCrawlerTurnedAway, Dimensions: onlyBy(FunctionVideo)},
	{Name: MetricClientOverLimit, Dimensions: limited},
	{Name: MetricClientLimitUnavailable, Dimensions: limited},
	{Name: MetricEmailRequested, Dimensions: onlyBy(FunctionRegister)},
	{Name: MetricAddressTaken, Dimensions: onlyBy(FunctionRegister)},
	{Name: MetricConverted, Dimensions: onlyBy(FunctionWebhook, FunctionRegister)},
	{Name: MetricSignedIn, Dimensions: onlyBy(FunctionRegister)},
	{Name: MetricMerged, Dimensions: onlyBy(FunctionRegister)},
	{Name: MetricForgotten, Dimensions: map[string][]string{DimKind: {KindAnonymous, KindAccount}, DimFunction: {FunctionRegister}}},
	{Name: MetricWatchDropped, Dimensions: onlyBy(FunctionVideo)},
	{Name: MetricServerError, Dimensions: onlyBy(FunctionVideo, FunctionRegister, FunctionWebhook)},
}

// limited are the dimensions of a limit's metrics.
var limited = map[string][]string{DimLimit: {LimitStub, LimitStubTotal, LimitRegister}, DimFunction: {FunctionVideo, FunctionRegister}}

// onlyBy are the dimensions of a metric with no other dimension than the functions that emit it.
func onlyBy(functions ...string) map[string][]string {
	return map[string][]string{DimFunction: functions}
}

// The Function dimension's values: the Lambda function whose handler emits the metric
// (Video: video; Register, SignIn, Me: register; Webhook: webhook).
const (
	FunctionVideo    = "video"
	FunctionRegister = "register"
	FunctionWebhook  = "webhook"
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
