package esquery

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// toFloat converts a JSON-decoded (or hand-built) number to float64: a float64 or a
// json.Number as decoded, or a number of Go's other built-in numeric types.
func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.Type().PkgPath() != "" { // nil, or a named type: not a number here
		return 0, false
	}
	switch {
	case rv.CanInt():
		return float64(rv.Int()), true
	case rv.CanUint() && rv.Kind() != reflect.Uintptr:
		return float64(rv.Uint()), true
	case rv.CanFloat():
		return rv.Float(), true
	}
	return 0, false
}

// parseNumber parses a numeric string the way Elasticsearch coerces strings for numeric fields.
func parseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// parseEpochMillis parses an integer string as epoch milliseconds.
func parseEpochMillis(s string) (int64, bool) {
	ms, err := strconv.ParseInt(s, 10, 64)
	return ms, err == nil
}

// digits parses exactly n ASCII digits at s[i:].
func digits(s string, i, n int) (int, bool) {
	if i+n > len(s) {
		return 0, false
	}
	v := 0
	for k := i; k < i+n; k++ {
		c := s[k]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// parseISODate parses Elasticsearch's strict_date_optional_time (yyyy[-MM[-dd[THH[:mm[:ss[.fff]]][zone]]]])
// into epoch milliseconds. A missing zone means UTC. When needDay is set, at least yyyy-MM-dd is
// required (Elasticsearch's dynamic date detection). It does not allocate.
func parseISODate(s string, needDay bool) (int64, bool) {
	year, ok := digits(s, 0, 4)
	if !ok {
		return 0, false
	}
	month, day, hour, minute, sec, nsec, offset := 1, 1, 0, 0, 0, 0, 0
	p := dateScan{s: s, i: 4}
	if hasDay := p.part('-', &month) && p.part('-', &day); needDay && !hasDay {
		return 0, false
	}
	if p.part('T', &hour) {
		if p.part(':', &minute) && p.part(':', &sec) {
			nsec = p.fraction()
		}
		offset = p.zone()
	}
	if p.bad || p.i != len(s) || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	if day > daysIn(year, month) {
		return 0, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t.UnixMilli() - int64(offset)*1000, true
}

// dateScan reads the parts of an ISO date after its year. bad records a part that was
// begun and not finished; nothing is read after it.
type dateScan struct {
	s   string
	i   int
	bad bool
}

// at reports whether the next byte is one of set.
func (p *dateScan) at(set string) bool {
	return !p.bad && p.i < len(p.s) && strings.IndexByte(set, p.s[p.i]) >= 0
}

// part reads sep and two digits into *v, when sep comes next.
func (p *dateScan) part(sep byte, v *int) bool {
	if p.bad || p.i >= len(p.s) || p.s[p.i] != sep {
		return false
	}
	n, ok := digits(p.s, p.i+1, 2)
	if !ok {
		p.bad = true
		return false
	}
	*v, p.i = n, p.i+3
	return true
}

// fraction reads a decimal fraction of a second (".fff" or ",fff", up to nine digits)
// as nanoseconds, when one comes next.
func (p *dateScan) fraction() (nsec int) {
	if !p.at(".,") {
		return 0
	}
	p.i++
	n, scale := 0, 100000000
	for n < 9 && p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		nsec += int(p.s[p.i]-'0') * scale
		scale /= 10
		p.i++
		n++
	}
	p.bad = n == 0
	return nsec
}

// zone reads "Z", "±hh", "±hhmm" or "±hh:mm" as seconds east of UTC, when one comes next.
func (p *dateScan) zone() (offset int) {
	switch {
	case p.at("Z"):
		p.i++
	case p.at("+-"):
		sign := 1
		if p.s[p.i] == '-' {
			sign = -1
		}
		oh, ok := digits(p.s, p.i+1, 2)
		if !ok || oh > 18 {
			p.bad = true
			return 0
		}
		p.i += 3
		om := 0
		if p.at(":") {
			p.i++
		}
		if p.i < len(p.s) {
			if om, ok = digits(p.s, p.i, 2); !ok || om > 59 {
				p.bad = true
				return 0
			}
			p.i += 2
		}
		offset = sign * (oh*3600 + om*60)
	}
	return offset
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// dateValue converts a stored value of a date field to epoch milliseconds.
func dateValue(v any) (int64, bool) {
	if s, ok := v.(string); ok {
		if ms, ok := parseISODate(s, false); ok {
			return ms, true
		}
		return parseEpochMillis(s)
	}
	if f, ok := toFloat(v); ok {
		return int64(f), true
	}
	return 0, false
}

// parseDateMath evaluates an Elasticsearch date expression: an anchor (now, an ISO-8601 date or
// epoch milliseconds, the latter two followed by "||" when math follows) and then any number of
// +N<unit>, -N<unit> and /<unit> (rounding) operations. roundUp selects the rounding direction used
// by gt and lte (end of the unit) rather than gte and lt (start of the unit).
func parseDateMath(s string, now time.Time, roundUp bool) (int64, error) {
	var t time.Time
	var ops string
	switch {
	case strings.HasPrefix(s, "now"):
		t, ops = now.UTC(), s[3:]
	case strings.Contains(s, "||"):
		i := strings.Index(s, "||")
		ms, ok := parseDateAnchor(s[:i])
		if !ok {
			return 0, fmt.Errorf("invalid date %q", s[:i])
		}
		t, ops = time.UnixMilli(ms).UTC(), s[i+2:]
	default:
		ms, ok := parseDateAnchor(s)
		if !ok {
			return 0, fmt.Errorf("invalid date %q", s)
		}
		return ms, nil
	}
	for ops != "" {
		op := ops[0]
		ops = ops[1:]
		switch op {
		case '+', '-':
			n := 0
			k := 0
			for k < len(ops) && ops[k] >= '0' && ops[k] <= '9' {
				n = n*10 + int(ops[k]-'0')
				k++
				if n > 1_000_000 {
					return 0, fmt.Errorf("date math amount too large in %q", s)
				}
			}
			if k == 0 {
				n = 1
			}
			if k >= len(ops) {
				return 0, fmt.Errorf("date math %q: missing unit", s)
			}
			if op == '-' {
				n = -n
			}
			var err error
			if t, err = addUnit(t, n, ops[k]); err != nil {
				return 0, fmt.Errorf("date math %q: %w", s, err)
			}
			ops = ops[k+1:]
		case '/':
			if ops == "" {
				return 0, fmt.Errorf("date math %q: missing rounding unit", s)
			}
			var err error
			if t, err = roundUnit(t, ops[0], roundUp); err != nil {
				return 0, fmt.Errorf("date math %q: %w", s, err)
			}
			ops = ops[1:]
		default:
			return 0, fmt.Errorf("date math %q: unexpected %q", s, op)
		}
	}
	return t.UnixMilli(), nil
}

func parseDateAnchor(s string) (int64, bool) {
	if ms, ok := parseISODate(s, false); ok {
		return ms, true
	}
	return parseEpochMillis(s)
}

func addUnit(t time.Time, n int, unit byte) (time.Time, error) {
	switch unit {
	case 'y':
		return t.AddDate(n, 0, 0), nil
	case 'M':
		return t.AddDate(0, n, 0), nil
	case 'w':
		return t.AddDate(0, 0, 7*n), nil
	case 'd':
		return t.AddDate(0, 0, n), nil
	case 'h', 'H':
		return t.Add(time.Duration(n) * time.Hour), nil
	case 'm':
		return t.Add(time.Duration(n) * time.Minute), nil
	case 's':
		return t.Add(time.Duration(n) * time.Second), nil
	}
	return t, fmt.Errorf("unknown unit %q", unit)
}

func roundUnit(t time.Time, unit byte, up bool) (time.Time, error) {
	var start, next time.Time
	switch unit {
	case 'y':
		start = time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
		next = start.AddDate(1, 0, 0)
	case 'M':
		start = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		next = start.AddDate(0, 1, 0)
	case 'w':
		start = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		start = start.AddDate(0, 0, -((int(start.Weekday()) + 6) % 7)) // ISO weeks start on Monday.
		next = start.AddDate(0, 0, 7)
	case 'd':
		start = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		next = start.AddDate(0, 0, 1)
	case 'h', 'H':
		start = t.Truncate(time.Hour)
		next = start.Add(time.Hour)
	case 'm':
		start = t.Truncate(time.Minute)
		next = start.Add(time.Minute)
	case 's':
		start = t.Truncate(time.Second)
		next = start.Add(time.Second)
	default:
		return t, fmt.Errorf("unknown rounding unit %q", unit)
	}
	if up {
		return next.Add(-time.Millisecond), nil
	}
	return start, nil
}

// Tokenizing approximates Elasticsearch's standard analyzer (Unicode word boundaries, lower-cased):
// tokens are runs of letters, digits, marks and underscores; '.' and '\'' join two letters or two
// digits ("john.doe", "3.14", "don't"), ',' joins two digits. Everything else separates tokens.

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || r == '_'
}

// nextToken returns the bounds of the first token of s at or after byte offset i, or start < 0.
func nextToken(s string, i int) (start, end int) {
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if isWordRune(r) {
			break
		}
		i += size
	}
	if i >= len(s) {
		return -1, -1
	}
	start = i
	prev := rune(0)
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if isWordRune(r) {
			prev = r
			i += size
			continue
		}
		if r == '.' || r == '\'' || r == '\u2019' || r == ',' {
			next, nsize := utf8.DecodeRuneInString(s[i+size:])
			if nsize > 0 && joins(prev, r, next) {
				prev = next
				i += size + nsize
				continue
			}
		}
		break
	}
	return start, i
}

func joins(prev, sep, next rune) bool {
	switch {
	case unicode.IsDigit(prev) && unicode.IsDigit(next):
		return true
	case sep == ',':
		return false
	default:
		return unicode.IsLetter(prev) && unicode.IsLetter(next)
	}
}

// analyze returns the lower-cased tokens of s.
func analyze(s string) []string {
	var out []string
	for start, end := nextToken(s, 0); start >= 0; start, end = nextToken(s, end) {
		out = append(out, strings.ToLower(s[start:end]))
	}
	return out
}

// hasToken reports whether one token of s equals the lower-case token tok (case folding the
// stored text instead of allocating a lower-cased copy).
func hasToken(s, tok string) bool {
	for start, end := nextToken(s, 0); start >= 0; start, end = nextToken(s, end) {
		if strings.EqualFold(s[start:end], tok) {
			return true
		}
	}
	return false
}

// eachElem calls fn for each element of a slice value that is not []any (hand-built documents may
// hold []string or []map[string]any); it returns false when v is not such a slice.
func eachElem(v any, fn func(any) bool) (isSlice, matched bool) {
	switch t := v.(type) {
	case []string:
		for _, e := range t {
			if fn(e) {
				return true, true
			}
		}
		return true, false
	case []map[string]any:
		for _, e := range t {
			if fn(e) {
				return true, true
			}
		}
		return true, false
	case nil, string, bool, float64, int64, int, map[string]any, json.Number:
		return false, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return false, false
	}
	if rv.Type().Elem().Kind() == reflect.Uint8 {
		return false, false // []byte is a scalar, not an array.
	}
	for i := 0; i < rv.Len(); i++ {
		if fn(rv.Index(i).Interface()) {
			return true, true
		}
	}
	return true, false
}
