package esquery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Query is a compiled query. The zero value and a nil *Query match nothing. A Query is immutable
// and safe for concurrent use.
type Query struct {
	root node
}

// Match reports whether the user document doc (the FusionAuth user object, JSON-decoded into
// map[string]any; numbers may be float64, int64, int or json.Number) matches the query.
func (q *Query) Match(doc map[string]any) bool {
	if q == nil || q.root == nil || doc == nil {
		return false
	}
	return q.root.match(doc)
}

// Parse compiles an Elasticsearch JSON query (the inner query, as FusionAuth's `query` parameter
// carries it, e.g. {"bool":{"must":[{"term":{"data.anonymousUser":true}}]}}). Date math ("now")
// uses the current time; see ParseAt.
func Parse(raw []byte) (*Query, error) { return ParseAt(raw, time.Now()) }

// ParseAt is Parse with "now" for date math fixed to now.
func ParseAt(raw []byte, now time.Time) (*Query, error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("parse query: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("parse query: query must be a JSON object, got %s", jsonType(v))
	}
	if _, ok := obj["query"]; ok {
		return nil, fmt.Errorf("parse query: %w", unsupported(`query clause "query" (pass the inner query without the {"query":…} wrapper)`))
	}
	p := parser{now: now.UTC()}
	root, err := p.clause(obj)
	if err != nil {
		return nil, fmt.Errorf("parse query: %w", err)
	}
	return &Query{root: root}, nil
}

// decodeJSON decodes one JSON value, keeping numbers as json.Number and rejecting duplicate keys
// and trailing data (Elasticsearch rejects both).
func decodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("empty or truncated JSON")
		}
		return nil, fmt.Errorf("malformed JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("malformed JSON: trailing data after the query object")
	}
	return v, nil
}

// maxDepth bounds JSON nesting (Elasticsearch's own limit is far lower in practice).
const maxDepth = 100

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("JSON nested deeper than %d levels", maxDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := map[string]any{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key is not a string")
				}
				if _, dup := m[k]; dup {
					return nil, fmt.Errorf("duplicate key %q", k)
				}
				if m[k], err = decodeValue(dec, depth+1); err != nil {
					return nil, err
				}
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return m, nil
		case '[':
			a := []any{}
			for dec.More() {
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return a, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	}
	return tok, nil
}

// clauseNames are the supported query clauses.
var clauseNames = map[string]bool{
	"bool": true, "constant_score": true, "nested": true,
	"match_all": true, "match_none": true, "ids": true,
	"term": true, "terms": true, "range": true, "exists": true,
	"match": true, "match_phrase": true, "wildcard": true, "prefix": true,
}

// parser compiles query objects. nested is the path of the enclosing nested query ("" at
// the root): field names inside it are resolved against the nested objects.
type parser struct {
	now    time.Time
	nested string
}

// clause compiles one query object ({"<clause>": body}).
func (p *parser) clause(obj map[string]any) (node, error) {
	if len(obj) != 1 {
		if len(obj) == 0 {
			return nil, fmt.Errorf("empty query object")
		}
		return nil, fmt.Errorf("query object must hold exactly one clause, got %s", strings.Join(sortedKeys(obj), ", "))
	}
	for name, body := range obj {
		if !clauseNames[name] {
			return nil, unsupported("query clause %q", name)
		}
		n, err := p.clauseBody(name, body)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return n, nil
	}
	return nil, fmt.Errorf("empty query object")
}

func (p *parser) clauseBody(name string, body any) (node, error) {
	switch name {
	case "bool":
		return p.boolQuery(body)
	case "constant_score":
		return p.constantScoreQuery(body)
	case "nested":
		return p.nestedQuery(body)
	case "match_all", "match_none":
		return matchAllOrNone(name, body)
	case "ids":
		return idsQuery(body)
	case "term":
		return p.termQuery(body)
	case "terms":
		return p.termsQuery(body)
	case "range":
		return p.rangeQuery(body)
	case "exists":
		return p.existsQuery(body)
	case "match":
		return p.matchQuery(body)
	case "match_phrase":
		return p.matchPhraseQuery(body)
	case "wildcard", "prefix":
		return p.patternQuery(name, body)
	}
	return nil, unsupported("query clause %q", name)
}

// checkOptions accepts only the options that do not change which documents match (boost, _name)
// plus the named extra keys, and validates their types.
func checkOptions(o map[string]any, allowed ...string) error {
	for k, v := range o {
		switch k {
		case "boost":
			if _, ok := v.(json.Number); !ok {
				return fmt.Errorf("boost must be a number, got %s", jsonType(v))
			}
			continue
		case "_name":
			if _, ok := v.(string); !ok {
				return fmt.Errorf("_name must be a string, got %s", jsonType(v))
			}
			continue
		}
		found := false
		for _, a := range allowed {
			if k == a {
				found = true
				break
			}
		}
		if !found {
			return unsupported("option %q", k)
		}
	}
	return nil
}

func asObject(v any) (map[string]any, error) {
	o, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("expected an object, got %s", jsonType(v))
	}
	return o, nil
}

func sortedKeys(o map[string]any) []string {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// singleField splits {"<field>": value} (plus the allowed sibling options) into its field and value.
func singleField(o map[string]any, siblings ...string) (string, any, error) {
	var name string
	var val any
	n := 0
	for k, v := range o {
		if k == "boost" || k == "_name" || contains(siblings, k) {
			continue
		}
		name, val = k, v
		n++
	}
	if n != 1 {
		return "", nil, fmt.Errorf("expected exactly one field, got %d (%s)", n, strings.Join(sortedKeys(o), ", "))
	}
	rest := make(map[string]any, len(o)-1)
	for k, v := range o {
		if k != name {
			rest[k] = v
		}
	}
	if err := checkOptions(rest, siblings...); err != nil {
		return "", nil, err
	}
	return name, val, nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func (p *parser) boolQuery(body any) (node, error) {
	o, err := asObject(body)
	if err != nil {
		return nil, err
	}
	if err := checkOptions(o, "must", "filter", "must_not", "should", "minimum_should_match"); err != nil {
		return nil, err
	}
	b := &boolNode{}
	for _, occ := range []string{"must", "filter", "must_not", "should"} {
		v, ok := o[occ]
		if !ok {
			continue
		}
		var items []any
		switch t := v.(type) {
		case []any:
			items = t
		case map[string]any:
			items = []any{t}
		default:
			return nil, fmt.Errorf("%s: expected an object or an array, got %s", occ, jsonType(v))
		}
		for i, it := range items {
			io, err := asObject(it)
			if err != nil {
				return nil, fmt.Errorf("%s[%d]: %w", occ, i, err)
			}
			n, err := p.clause(io)
			if err != nil {
				return nil, fmt.Errorf("%s[%d]: %w", occ, i, err)
			}
			switch occ {
			case "must", "filter":
				b.must = append(b.must, n)
			case "must_not":
				b.mustNot = append(b.mustNot, n)
			default:
				b.should = append(b.should, n)
			}
		}
	}
	msm := 0
	if len(b.must) == 0 && len(b.should) > 0 {
		msm = 1
	}
	if v, ok := o["minimum_should_match"]; ok {
		n, err := minimumShouldMatch(v, len(b.should))
		if err != nil {
			return nil, fmt.Errorf("minimum_should_match: %w", err)
		}
		msm = n
		if len(b.must) == 0 && len(b.should) > 0 && msm < 1 {
			msm = 1 // a disjunction still needs one match
		}
	}
	b.minShould = msm
	return b, nil
}

// minimumShouldMatch evaluates the integer, negative and percentage forms against n clauses.
func minimumShouldMatch(v any, n int) (int, error) {
	var s string
	switch t := v.(type) {
	case json.Number:
		s = t.String()
	case string:
		s = strings.TrimSpace(t)
	default:
		return 0, fmt.Errorf("expected a number or a string, got %s", jsonType(v))
	}
	pct := strings.HasSuffix(s, "%")
	s = strings.TrimSuffix(s, "%")
	x, err := strconv.Atoi(s)
	if err != nil {
		return 0, unsupported("minimum_should_match %q", v)
	}
	var r int
	switch {
	case pct && x < 0:
		r = n - int(math.Floor(float64(n)*float64(-x)/100))
	case pct:
		r = int(math.Floor(float64(n) * float64(x) / 100))
	case x < 0:
		r = n + x
	default:
		r = x
	}
	if r < 0 {
		r = 0
	}
	return r, nil
}

// fieldClause reads the body shared by the single-field clauses (term, terms, match,
// range, …): an object with exactly one field name, resolved against the nested path.
func (p *parser) fieldClause(body any) (field, string, any, error) {
	o, err := asObject(body)
	if err != nil {
		return field{}, "", nil, err
	}
	name, val, err := singleField(o)
	if err != nil {
		return field{}, "", nil, err
	}
	f, err := resolveField(name, p.nested)
	if err != nil {
		return field{}, "", nil, err
	}
	return f, name, val, nil
}

// leafNode builds the node for a field leaf.
func leafNode(f field, lm leafMatcher) node {
	path := f.path
	return &fieldNode{path: &path, lm: lm}
}

func (p *parser) termQuery(body any) (node, error) {
	f, name, val, err := p.fieldClause(body)
	if err != nil {
		return nil, err
	}
	ci := false
	if vo, ok := val.(map[string]any); ok {
		if err := checkOptions(vo, "value", "case_insensitive"); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if c, ok := vo["case_insensitive"]; ok {
			if ci, ok = c.(bool); !ok {
				return nil, fmt.Errorf("%s: case_insensitive must be a boolean, got %s", name, jsonType(c))
			}
		}
		if val, ok = vo["value"]; !ok {
			return nil, fmt.Errorf("%s: missing value", name)
		}
	}
	q, err := newQueryValue(val, p.now)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return leafNode(f, &termLeaf{kind: f.kind, v: q, ci: ci}), nil
}

func (p *parser) rangeQuery(body any) (node, error) {
	f, name, val, err := p.fieldClause(body)
	if err != nil {
		return nil, err
	}
	ro, err := asObject(val)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := checkOptions(ro, "gt", "gte", "lt", "lte"); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	r := &rangeLeaf{kind: f.kind}
	for _, op := range []string{"gt", "gte", "lt", "lte"} {
		v, ok := ro[op]
		if !ok {
			continue
		}
		lower := op == "gt" || op == "gte"
		b := &r.hi
		if lower {
			b = &r.lo
		}
		if b.set {
			return nil, fmt.Errorf("%s: both %s and %s given", name, op, map[string]string{"gte": "gt", "lte": "lt"}[op])
		}
		nb, err := p.bound(f.kind, v, op == "gt" || op == "lte")
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", name, op, err)
		}
		nb.incl = op == "gte" || op == "lte"
		*b = nb
	}
	if !r.lo.set && !r.hi.set {
		return nil, fmt.Errorf("%s: range needs gt, gte, lt or lte", name)
	}
	return leafNode(f, r), nil
}

// bound interprets a range bound for a field of the given kind; roundUp is the date-math rounding
// direction (gt and lte round up).
func (p *parser) bound(kind fieldKind, v any, roundUp bool) (bound, error) {
	b := bound{set: true}
	switch t := v.(type) {
	case json.Number:
		f, err := t.Float64()
		if err != nil {
			return b, fmt.Errorf("invalid number %s: %w", t, err)
		}
		b.num, b.isNum, b.ms, b.isDate, b.str = f, true, int64(f), true, t.String()
	case string:
		b.str = t
		b.num, b.isNum = parseNumber(t)
		if ms, err := parseDateMath(t, p.now, roundUp); err == nil {
			b.ms, b.isDate = ms, true
		} else if kind == kindDate {
			return b, fmt.Errorf("invalid date bound: %w", err)
		}
	default:
		return b, fmt.Errorf("expected a number or a string, got %s", jsonType(v))
	}
	switch kind {
	case kindDate:
		if !b.isDate {
			return b, fmt.Errorf("invalid date bound %v", v)
		}
	case kindNumber:
		if !b.isNum {
			return b, fmt.Errorf("bound %v is not a number", v)
		}
	}
	return b, nil
}

func (p *parser) existsQuery(body any) (node, error) {
	o, err := asObject(body)
	if err != nil {
		return nil, err
	}
	if err := checkOptions(o, "field"); err != nil {
		return nil, err
	}
	name, ok := o["field"].(string)
	if !ok {
		return nil, fmt.Errorf("field must be a string")
	}
	f, err := resolveField(name, p.nested)
	if err != nil {
		return nil, err
	}
	return leafNode(f, existsLeaf{}), nil
}
