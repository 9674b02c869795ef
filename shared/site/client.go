package site

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/changebank/anonuser/shared/limit"
	"github.com/changebank/anonuser/shared/metrics"
)

// ClientLimits counts events per client under a rule (*limit.Memory locally,
// *limit.DynamoDB in AWS, shared by every instance).
type ClientLimits interface {
	// Allow counts one event of client under rule at now and reports whether it is
	// within the rule. An error means the count could not be kept.
	Allow(ctx context.Context, rule limit.Rule, client string, now time.Time) (bool, error)
}

var (
	_ ClientLimits = (*limit.Memory)(nil)
	_ ClientLimits = (*limit.DynamoDB)(nil)
)

// AllClients is the client a ceiling over everyone counts under.
const AllClients = "*"

// Clients names the client a request comes from: its peer address (on Lambda, the
// sourceIp API Gateway reports), never a header a client can set. Only when the peer is
// a trusted proxy (a CDN or load balancer in front) is X-Forwarded-For read, from the
// right: the first address that is not itself a trusted proxy is the client.
type Clients struct {
	Trusted []netip.Prefix
}

// Key returns the client of r: an IPv4 address, or an IPv6 client's /64 (one
// household or host is given a /64, and can pick any address in it). ok is false when
// r carries no address.
func (c Clients) Key(r *http.Request) (key string, ok bool) {
	addr, ok := peer(r.RemoteAddr)
	if !ok {
		return "", false
	}
	if c.trusted(addr) {
		if fwd, ok := c.forwarded(r.Header.Values("X-Forwarded-For")); ok {
			addr = fwd
		}
	}
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String(), true
	}
	return addr.String(), true
}

func (c Clients) trusted(a netip.Addr) bool {
	for _, p := range c.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwarded reads X-Forwarded-For from the right, past the trusted proxies; a value
// that does not parse stops the walk (what is left of it was written by the client).
func (c Clients) forwarded(values []string) (netip.Addr, bool) {
	hops := strings.Split(strings.Join(values, ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil || a.Zone() != "" {
			return netip.Addr{}, false
		}
		if a = a.Unmap(); !c.trusted(a) {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// peer parses a RemoteAddr ("host:port", or a bare address).
func peer(remote string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone("").Unmap(), true
}

// ClientLimit limits what one client may cause, and optionally what all clients
// together may: an event is counted against Rule for its client, then, if allowed,
// against Total under AllClients.
type ClientLimit struct {
	Limits  ClientLimits
	Rule    limit.Rule
	Total   limit.Rule // zero Max: no ceiling over all clients
	Clients Clients
	Now     func() time.Time // default time.Now
}

// Refusals of a limit.
var (
	errOverLimit        = errors.New("client over its limit")
	errLimitUnavailable = errors.New("client limit unavailable")
)

// allow counts one event of r's client. It returns errOverLimit over the limit and
// errLimitUnavailable when the count cannot be kept (nothing is created then: a limit
// that fails open is no limit in a flood). Each refusal is logged once, as a metric of
// function (the Function dimension: FunctionVideo, FunctionRegister). A nil limit allows everything.
func (l *ClientLimit) allow(r *http.Request, log *slog.Logger, function string) error {
	if l == nil {
		return nil
	}
	ctx := r.Context()
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	at := now()
	client, ok := l.Clients.Key(r)
	if !ok {
		err := fmt.Errorf("%w: no client address in %q", errLimitUnavailable, r.RemoteAddr)
		log.ErrorContext(ctx, "client limit: request has no address", append(metrics.Count(MetricClientLimitUnavailable, at, limitDim(l.Rule), functionDim(function)), "error", err)...)
		return err
	}
	rules := []struct {
		rule   limit.Rule
		client string
	}{{l.Rule, client}, {l.Total, AllClients}}
	for i, c := range rules {
		if i > 0 && c.rule.Max == 0 {
			continue // no ceiling over all clients
		}
		allowed, err := l.Limits.Allow(ctx, c.rule, c.client, at)
		if err != nil {
			err = fmt.Errorf("%w: %w", errLimitUnavailable, err)
			log.ErrorContext(ctx, "client limit unavailable: refused", append(metrics.Count(MetricClientLimitUnavailable, at, limitDim(c.rule), functionDim(function)), "error", err)...)
			return err
		}
		if !allowed {
			log.WarnContext(ctx, "client over its limit: refused", append(metrics.Count(MetricClientOverLimit, at, limitDim(c.rule), functionDim(function)),
				"client", c.client, "max", c.rule.Max, "per", c.rule.Per.String())...)
			return errOverLimit
		}
	}
	return nil
}

func limitDim(r limit.Rule) metrics.Dimension {
	return metrics.Dimension{Name: DimLimit, Value: r.Name}
}
