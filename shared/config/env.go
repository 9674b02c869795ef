package config

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Env reads variables through a lookup function and collects problems.
type Env struct {
	lookup func(string) (string, bool)
	errs   []error
	read   map[string]bool
}

// NewEnv returns an Env reading through lookup (os.LookupEnv in production).
func NewEnv(lookup func(string) (string, bool)) *Env {
	return &Env{lookup: lookup, read: map[string]bool{}}
}

func (e *Env) get(name string) (string, bool) {
	e.read[name] = true
	v, ok := e.lookup(name)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

func (e *Env) fail(name, format string, args ...any) {
	e.errs = append(e.errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

// required reads a variable that must be set, noting it when it is not.
func (e *Env) required(name string) (string, bool) {
	v, ok := e.get(name)
	if !ok {
		e.fail(name, "required but not set")
	}
	return v, ok
}

// String returns a required variable.
func (e *Env) String(name string) string {
	v, _ := e.required(name)
	return v
}

// StringOr returns an optional variable or def.
func (e *Env) StringOr(name, def string) string {
	if v, ok := e.get(name); ok {
		return v
	}
	return def
}

// URL returns a required absolute http(s) URL without a trailing slash.
func (e *Env) URL(name string) string {
	if v, ok := e.required(name); ok {
		return e.checkURL(name, v)
	}
	return ""
}

// URLOr returns an optional absolute http(s) URL or def.
func (e *Env) URLOr(name, def string) string {
	if v, ok := e.get(name); ok {
		return e.checkURL(name, v)
	}
	return def
}

func (e *Env) checkURL(name, v string) string {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		e.fail(name, "must be an absolute http(s) URL, got %q", v)
		return ""
	}
	return strings.TrimRight(v, "/")
}

// isUUID reports whether v is a UUID in its 8-4-4-4-12 hex form. Written out rather than
// as a regexp, which every function would compile at cold start.
func isUUID(v string) bool {
	if len(v) != 36 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'):
			return false
		}
	}
	return true
}

// UUID returns a required UUID, lower-cased.
func (e *Env) UUID(name string) string {
	v, ok := e.required(name)
	if !ok {
		return ""
	}
	if !isUUID(v) {
		e.fail(name, "must be a UUID, got %q", v)
		return ""
	}
	return strings.ToLower(v)
}

// IntOr returns an optional integer within [lo, hi], or def.
func (e *Env) IntOr(name string, def, lo, hi int) int {
	v, ok := e.get(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		e.fail(name, "must be an integer from %d to %d, got %q", lo, hi, v)
		return def
	}
	return n
}

// PrefixesOr returns an optional comma-separated list of IP addresses and CIDR
// prefixes (an address is its own /32 or /128), or none.
func (e *Env) PrefixesOr(name string) []netip.Prefix {
	v, ok := e.get(name)
	if !ok {
		return nil
	}
	var out []netip.Prefix
	for f := range strings.SplitSeq(v, ",") {
		f = strings.TrimSpace(f)
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil || a.Zone() != "" {
				e.fail(name, "must be IP addresses or CIDR prefixes separated by commas, got %q", f)
				return nil
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		out = append(out, p.Masked())
	}
	return out
}

// BoolOr returns an optional boolean ("true"/"false"/"1"/"0"), or def.
func (e *Env) BoolOr(name string, def bool) bool {
	v, ok := e.get(name)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.fail(name, "must be true or false, got %q", v)
		return def
	}
	return b
}

// isToken reports whether v is an RFC 6265 cookie name: an RFC 7230 token of letters,
// digits and !#$%&'*+-.^_|~.
func isToken(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || strings.IndexByte("!#$%&'*+-.^_|~", c) >= 0) {
			return false
		}
	}
	return true
}

// CookieNameOr returns an optional cookie name (an RFC 6265 token), or def.
func (e *Env) CookieNameOr(name, def string) string {
	v, ok := e.get(name)
	if !ok {
		return def
	}
	if !isToken(v) {
		e.fail(name, "must be a cookie name (letters, digits, -_.), got %q", v)
		return def
	}
	return v
}

// Err returns every problem found, joined, or nil.
func (e *Env) Err() error {
	if len(e.errs) == 0 {
		return nil
	}
	return fmt.Errorf("configuration: %w", errors.Join(e.errs...))
}

// Names returns every variable name read so far, sorted: the template test checks
// that the SAM template sets each of them.
func (e *Env) Names() []string {
	return slices.Sorted(maps.Keys(e.read))
}
