package esquery

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// node is one compiled query clause, evaluated against a user document.
type node interface {
	match(obj map[string]any) bool
}

// fieldNode matches when its leaf accepts any value of its field.
type fieldNode struct {
	path *fieldPath
	lm   leafMatcher
}

func (n *fieldNode) match(obj map[string]any) bool { return n.path.any(obj, n.lm) }

// boolNode is Elasticsearch's bool query; minShould is the effective number of should clauses that
// must match (already defaulted).
type boolNode struct {
	must      []node // must and filter
	mustNot   []node
	should    []node
	minShould int
}

func (n *boolNode) match(obj map[string]any) bool {
	for _, c := range n.must {
		if !c.match(obj) {
			return false
		}
	}
	for _, c := range n.mustNot {
		if c.match(obj) {
			return false
		}
	}
	if n.minShould <= 0 {
		return true
	}
	if n.minShould > len(n.should) {
		return false
	}
	hits := 0
	for i, c := range n.should {
		if c.match(obj) {
			if hits++; hits >= n.minShould {
				return true
			}
		}
		if hits+len(n.should)-i-1 < n.minShould {
			return false
		}
	}
	return false
}

// existsLeaf accepts any value that exists.
type existsLeaf struct{}

func (existsLeaf) leaf(v any) bool { return existsValue(v) }

// queryValue is a scalar from a query, with every coercion Elasticsearch may apply precomputed.
type queryValue struct {
	str     string // string form (numbers keep their literal text)
	lower   string // strings.ToLower(str)
	isLower bool   // str == lower
	num     float64
	isNum   bool
	b       bool
	isBool  bool
	ms      int64
	isDate  bool
}

func newQueryValue(v any, now time.Time) (queryValue, error) {
	var q queryValue
	switch t := v.(type) {
	case string:
		q.str = t
		q.num, q.isNum = parseNumber(t)
		switch t {
		case "true":
			q.b, q.isBool = true, true
		case "false":
			q.isBool = true
		}
		if ms, err := parseDateMath(t, now, false); err == nil {
			q.ms, q.isDate = ms, true
		}
	case json.Number:
		f, err := t.Float64()
		if err != nil {
			return q, fmt.Errorf("invalid number %s: %w", t, err)
		}
		q.str, q.num, q.isNum = t.String(), f, true
		q.ms, q.isDate = int64(f), true
	case float64:
		q.str, q.num, q.isNum = fmt.Sprint(t), t, true
		q.ms, q.isDate = int64(t), true
	case bool:
		q.b, q.isBool = t, true
		q.str = fmt.Sprint(t)
	case nil:
		return q, fmt.Errorf("value must not be null")
	default:
		return q, fmt.Errorf("value must be a string, number or boolean, got %s", jsonType(v))
	}
	q.lower = strings.ToLower(q.str)
	q.isLower = q.lower == q.str
	return q, nil
}

// scalarLeaf holds what term and match share: numbers, booleans and dates compare the same way.
func scalarLeaf(kind fieldKind, q *queryValue, x any) (result, handled bool) {
	switch x := x.(type) {
	case string:
		switch kind {
		case kindDate:
			ms, ok := dateValue(x)
			return ok && q.isDate && ms == q.ms, true
		case kindNumber:
			f, ok := parseNumber(x)
			return ok && q.isNum && f == q.num, true
		case kindDynamic:
			if ms, ok := parseISODate(x, true); ok {
				return q.isDate && ms == q.ms, true
			}
		}
		return false, false
	case bool:
		return q.isBool && q.b == x, true
	case nil, map[string]any:
		return false, true
	}
	f, ok := toFloat(x)
	if !ok {
		return false, true
	}
	if kind == kindDate {
		return q.isDate && int64(f) == q.ms, true
	}
	return q.isNum && f == q.num, true
}

// termLeaf is the term query: the value is not analyzed.
type termLeaf struct {
	kind fieldKind
	v    queryValue
	ci   bool // case_insensitive option
}

func (t *termLeaf) leaf(x any) bool {
	if r, ok := scalarLeaf(t.kind, &t.v, x); ok {
		return r
	}
	s := x.(string)
	switch t.kind {
	case kindKeyword:
		if t.ci {
			return strings.EqualFold(s, t.v.str)
		}
		return s == t.v.str
	case kindLowerKeyword:
		// Indexed lower-cased and the term is not analyzed: only a lower-case term can match.
		return (t.ci || t.v.isLower) && strings.EqualFold(s, t.v.str)
	default: // text
		return (t.ci || t.v.isLower) && hasToken(s, t.v.lower)
	}
}

// bound is one end of a range, with every interpretation Elasticsearch may apply precomputed.
type bound struct {
	set    bool
	incl   bool
	num    float64
	isNum  bool
	ms     int64
	isDate bool
	str    string
}

func (b *bound) cmpNum(f float64, lower bool) bool {
	// NaN satisfies no bound, as no comparison with it holds.
	return !b.set || b.isNum && !math.IsNaN(f) && b.admits(cmp.Compare(f, b.num), lower)
}

func (b *bound) cmpMillis(ms int64, lower bool) bool {
	return !b.set || b.isDate && b.admits(cmp.Compare(ms, b.ms), lower)
}

func (b *bound) cmpStr(s string, lower bool) bool {
	return !b.set || b.admits(strings.Compare(s, b.str), lower)
}

// admits reports whether a value that compares c (negative, zero, positive) with the
// bound's satisfies it as the lower bound (lower) or the upper one.
func (b *bound) admits(c int, lower bool) bool {
	switch {
	case lower && b.incl:
		return c >= 0
	case lower:
		return c > 0
	case b.incl:
		return c <= 0
	default:
		return c < 0
	}
}

// rangeLeaf is the range query.
type rangeLeaf struct {
	kind   fieldKind
	lo, hi bound
}

func (r *rangeLeaf) inNum(f float64) bool { return r.lo.cmpNum(f, true) && r.hi.cmpNum(f, false) }
func (r *rangeLeaf) inMillis(ms int64) bool {
	return r.lo.cmpMillis(ms, true) && r.hi.cmpMillis(ms, false)
}
func (r *rangeLeaf) inStr(s string) bool { return r.lo.cmpStr(s, true) && r.hi.cmpStr(s, false) }

func (r *rangeLeaf) leaf(x any) bool {
	switch x := x.(type) {
	case string:
		return r.leafString(x)
	case nil, bool, map[string]any:
		return false
	}
	f, ok := toFloat(x)
	if !ok {
		return false
	}
	if r.kind == kindDate {
		return r.inMillis(int64(f))
	}
	return r.inNum(f)
}

func (r *rangeLeaf) leafString(s string) bool {
	switch r.kind {
	case kindDate:
		ms, ok := dateValue(s)
		return ok && r.inMillis(ms)
	case kindNumber:
		f, ok := parseNumber(s)
		return ok && r.inNum(f)
	case kindKeyword:
		return r.inStr(s)
	case kindLowerKeyword:
		return r.inStr(strings.ToLower(s))
	case kindDynamic:
		if ms, ok := parseISODate(s, true); ok {
			return r.inMillis(ms)
		}
	}
	for start, end := nextToken(s, 0); start >= 0; start, end = nextToken(s, end) {
		if r.inStr(strings.ToLower(s[start:end])) {
			return true
		}
	}
	return false
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number, float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
