package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
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

// String returns a required variable.
func (e *Env) String(name string) string {
	v, ok := e.get(name)
	if !ok {
		e.fail(name, "required but not set")
	}
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
	v, ok := e.get(name)
	if !ok {
		e.fail(name, "required but not set")
		return ""
	}
	return e.checkURL(name, v)
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

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// UUID returns a required UUID, lower-cased.
func (e *Env) UUID(name string) string {
	v, ok := e.get(name)
	if !ok {
		e.fail(name, "required but not set")
		return ""
	}
	if !uuidPattern.MatchString(v) {
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

var cookieNamePattern = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+\-.^_|~]+$`)

// CookieNameOr returns an optional cookie name (an RFC 6265 token), or def.
func (e *Env) CookieNameOr(name, def string) string {
	v, ok := e.get(name)
	if !ok {
		return def
	}
	if !cookieNamePattern.MatchString(v) {
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
	names := make([]string, 0, len(e.read))
	for n := range e.read {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
