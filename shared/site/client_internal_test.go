package site

import (
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/limit"
)

// TestClientKey pins whom a request is counted against: the peer address, an IPv6
// client's /64, and X-Forwarded-For only behind a trusted proxy, read from the right.
func TestClientKey(t *testing.T) {
	proxies := Clients{Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}}
	cases := []struct {
		name    string
		clients Clients
		remote  string
		xff     []string
		want    string
		ok      bool
	}{
		{"IPv4 peer", Clients{}, "198.51.100.7:5123", nil, "198.51.100.7", true},
		{"bare address", Clients{}, "198.51.100.7", nil, "198.51.100.7", true},
		{"IPv6 peer is its /64", Clients{}, "[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:443", nil, "2001:db8:1:2::/64", true},
		{"another address of the same /64", Clients{}, "[2001:db8:1:2::1]:443", nil, "2001:db8:1:2::/64", true},
		{"IPv4-mapped IPv6 is the IPv4 address", Clients{}, "[::ffff:198.51.100.7]:80", nil, "198.51.100.7", true},
		{"zone dropped", Clients{}, "[fe80::1%eth0]:80", nil, "fe80::/64", true},
		{"X-Forwarded-For ignored without a trusted proxy", Clients{}, "198.51.100.7:1", []string{"203.0.113.9"}, "198.51.100.7", true},
		{"X-Forwarded-For ignored from an untrusted peer", proxies, "198.51.100.7:1", []string{"203.0.113.9"}, "198.51.100.7", true},
		{"trusted proxy: the client it saw", proxies, "10.1.2.3:1", []string{"203.0.113.9"}, "203.0.113.9", true},
		{"trusted proxy: a forged left part is skipped", proxies, "10.1.2.3:1", []string{"192.0.2.1, 203.0.113.9"}, "203.0.113.9", true},
		{"two trusted hops, two headers", proxies, "10.1.2.3:1", []string{"192.0.2.1", "203.0.113.9, 10.9.9.9"}, "203.0.113.9", true},
		{"trusted proxy, IPv6 client", proxies, "[2001:db8:ffff::1]:1", []string{"2001:db8:5:6::7"}, "2001:db8:5:6::/64", true},
		{"trusted proxy, garbage: the proxy itself", proxies, "10.1.2.3:1", []string{"not-an-ip"}, "10.1.2.3", true},
		{"trusted proxy, only proxies: the proxy itself", proxies, "10.1.2.3:1", []string{"10.4.4.4"}, "10.1.2.3", true},
		{"trusted proxy, no header", proxies, "10.1.2.3:1", nil, "10.1.2.3", true},
		{"no address", Clients{}, "", nil, "", false},
		{"not an address", Clients{}, "pipe:0", nil, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/video", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			got, ok := tc.clients.Key(r)
			if got != tc.want || ok != tc.ok {
				t.Errorf("Key(%q, %q)=%q,%v want %q,%v", tc.remote, tc.xff, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestClientLimitNeverSkipsThePerClientRule: a rule of Max 0 (a wiring mistake) is an
// unavailable limit, never no limit; only the ceiling over all clients may be absent.
func TestClientLimitNeverSkipsThePerClientRule(t *testing.T) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	r := httptest.NewRequest("GET", "/video", nil)
	l := &ClientLimit{Limits: limit.NewMemory(), Rule: limit.Rule{Name: "stub", Max: 0, Per: time.Hour}}
	if err := l.allow(r, log, FunctionVideo); !errors.Is(err, errLimitUnavailable) {
		t.Errorf("per-client rule of Max 0: err=%v, want errLimitUnavailable", err)
	}
	l.Rule.Max = 1
	if err := l.allow(r, log, FunctionVideo); err != nil {
		t.Errorf("no ceiling over all clients: err=%v, want allowed", err)
	}
	if err := l.allow(r, log, FunctionVideo); !errors.Is(err, errOverLimit) {
		t.Errorf("second event of a Max 1 rule: err=%v, want errOverLimit", err)
	}
}
