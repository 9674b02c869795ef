package esquery

import (
	"fmt"
	"strings"
	"time"
)

// ParseQueryString compiles a FusionAuth queryString: Lucene query-string syntax, as
// Elasticsearch's query_string query reads it with its default OR operator, after FusionAuth's
// own pre-processing (see [PrepareQueryString], which the caller applies). Supported:
//
//   - `*` and `*:*` (every user);
//   - bare terms and "phrases" (no field), matched case-insensitively against the default
//     fields (see defaultFieldNames and every value under data);
//   - `field:value`, `field:"phrase"`, `field:(a OR b)`, with `*`/`?` wildcards
//     (case-insensitive), `field:*` (the field exists) and `_exists_:field`; values are
//     analyzed like the field, so `data.anonymousUser:true` matches a boolean and
//     `email:*@example.com` a suffix;
//   - ranges `field:[a TO b]`, `field:{a TO b}` and the mixed forms, `field:>=a` (and >, <,
//     <=), `*` for an open end, with date math (now-30d) on date fields;
//   - AND, OR, NOT, &&, ||, !, + and - prefixes, parentheses, backslash escapes.
//
// Boosts (^), fuzzy and proximity (~), regular expressions (/re/), wildcard field names
// (data.*:x), `*:term` and a range without a field are an *UnsupportedError. Date math uses
// the current time; see ParseQueryStringAt.
func ParseQueryString(s string) (*Query, error) { return ParseQueryStringAt(s, time.Now()) }

// ParseQueryStringAt is ParseQueryString with "now" for date math fixed to now.
func ParseQueryStringAt(s string, now time.Time) (*Query, error) {
	p := qsParser{parser: parser{now: now.UTC()}, s: s}
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("parse query string: empty query")
	}
	n, err := p.clauses("", false)
	if err != nil {
		return nil, fmt.Errorf("parse query string %q: %w", s, err)
	}
	return &Query{root: n}, nil
}

type qsParser struct {
	parser
	s     string
	i     int
	depth int
}

const (
	conjNone = iota
	conjAnd
	conjOr
)

const (
	modNone = iota
	modReq
	modNot
)

const (
	occShould = iota
	occMust
	occMustNot
)

type qsClause struct {
	occ int
	n   node
}

func (p *qsParser) skipSpace() {
	for p.i < len(p.s) && isSpace(p.s[p.i]) {
		p.i++
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// isTermByte reports whether c may continue a term.
func isTermByte(c byte) bool {
	return !isSpace(c) && !strings.ContainsRune(`()"[]{}^~:/!<>`, rune(c))
}

// word consumes an operator keyword (AND, OR, NOT, &&, ||) at the current position.
func (p *qsParser) word(w string) bool {
	if !strings.HasPrefix(p.s[p.i:], w) {
		return false
	}
	end := p.i + len(w)
	if w[0] != '&' && w[0] != '|' && end < len(p.s) && isTermByte(p.s[end]) {
		return false // a longer term such as ANDROID
	}
	p.i = end
	return true
}

// clauses parses a sequence of clauses up to the end of input or (inGroup) the closing parenthesis.
func (p *qsParser) clauses(field string, inGroup bool) (node, error) {
	var list []qsClause
	conj := conjNone
	for {
		p.skipSpace()
		if p.i >= len(p.s) {
			if inGroup {
				return nil, fmt.Errorf("missing )")
			}
			break
		}
		if p.s[p.i] == ')' {
			if !inGroup {
				return nil, fmt.Errorf("unbalanced ) at offset %d", p.i)
			}
			p.i++
			break
		}
		if p.word("AND") || p.word("&&") || p.word("OR") || p.word("||") {
			op := conjOr
			if c := p.s[p.i-1]; c == 'D' || c == '&' {
				op = conjAnd
			}
			if len(list) == 0 || conj != conjNone {
				return nil, fmt.Errorf("misplaced operator at offset %d", p.i)
			}
			conj = op
			continue
		}
		mod := modNone
		switch {
		case p.word("NOT"):
			mod = modNot
		case p.s[p.i] == '!':
			p.i++
			mod = modNot
		case p.s[p.i] == '-':
			p.i++
			mod = modNot
		case p.s[p.i] == '+':
			p.i++
			mod = modReq
		}
		if mod != modNone {
			p.skipSpace()
		}
		n, err := p.clause(field)
		if err != nil {
			return nil, err
		}
		list = addClause(list, conj, mod, n)
		conj = conjNone
	}
	if conj != conjNone {
		return nil, fmt.Errorf("query ends with an operator")
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("empty query or group")
	}
	if len(list) == 1 && list[0].occ != occMustNot {
		return list[0].n, nil
	}
	b := &boolNode{}
	for _, c := range list {
		switch c.occ {
		case occMust:
			b.must = append(b.must, c.n)
		case occMustNot:
			b.mustNot = append(b.mustNot, c.n)
		default:
			b.should = append(b.should, c.n)
		}
	}
	if len(b.must) == 0 && len(b.should) > 0 {
		b.minShould = 1
	}
	return b, nil
}

// addClause applies Lucene's classic QueryParser rules for the default OR operator.
func addClause(list []qsClause, conj, mod int, n node) []qsClause {
	if len(list) > 0 && conj == conjAnd && list[len(list)-1].occ != occMustNot {
		list[len(list)-1].occ = occMust
	}
	occ := occShould
	switch {
	case mod == modNot:
		occ = occMustNot
	case mod == modReq || conj == conjAnd:
		occ = occMust
	}
	return append(list, qsClause{occ: occ, n: n})
}

// clause parses a group, a term, a phrase or field:value.
func (p *qsParser) clause(field string) (node, error) {
	if p.i >= len(p.s) {
		return nil, fmt.Errorf("missing term at end of query")
	}
	if p.s[p.i] == '(' {
		return p.group(field)
	}
	if p.s[p.i] == '"' {
		phrase, err := p.phrase()
		if err != nil {
			return nil, err
		}
		return p.leaf(field, phrase, true)
	}
	if field == "" && strings.IndexByte("[{<>", p.s[p.i]) >= 0 {
		return nil, unsupported("query-string range without a field")
	}
	term, err := p.term()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.s) && p.s[p.i] == ':' {
		p.i++
		name := unescape(term)
		if name == "*" || name == "_exists_" {
			return p.special(name)
		}
		return p.fieldValue(name)
	}
	return p.leaf(field, term, false)
}

func (p *qsParser) group(field string) (node, error) {
	if p.depth >= 32 {
		return nil, fmt.Errorf("parentheses nested too deeply")
	}
	p.depth++
	defer func() { p.depth-- }()
	p.i++
	return p.clauses(field, true)
}

// special handles `*:*` and `_exists_:field`.
func (p *qsParser) special(name string) (node, error) {
	term, err := p.term()
	if err != nil {
		return nil, err
	}
	if name == "*" {
		if term != "*" {
			return nil, unsupported("query-string search on all fields (*:%s)", term)
		}
		return matchAllNode{}, nil
	}
	f, err := resolveField(unescape(term), "")
	if err != nil {
		return nil, err
	}
	return leafNode(f, existsLeaf{}), nil
}

// fieldValue parses what follows "field:" (Lucene allows whitespace after the colon).
func (p *qsParser) fieldValue(name string) (node, error) {
	p.skipSpace()
	if p.i >= len(p.s) || p.s[p.i] == ')' {
		return nil, fmt.Errorf("missing value for field %q", name)
	}
	switch c := p.s[p.i]; c {
	case '(':
		if _, err := resolveField(name, ""); err != nil {
			return nil, err
		}
		return p.group(name)
	case '"':
		phrase, err := p.phrase()
		if err != nil {
			return nil, err
		}
		return p.leaf(name, phrase, true)
	case '[', '{':
		return p.rangeValue(name)
	case '>', '<':
		return p.compareValue(name)
	}
	term, err := p.term()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.s) && p.s[p.i] == ':' {
		return nil, fmt.Errorf("unexpected ':' after %s:%s (escape it or quote the value)", name, term)
	}
	return p.leaf(name, term, false)
}

// term reads a raw (still escaped) term and rejects the unsupported operators that may follow it.
func (p *qsParser) term() (string, error) {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '\\' {
			if p.i+1 >= len(p.s) {
				return "", fmt.Errorf("dangling backslash")
			}
			p.i += 2
			continue
		}
		if !isTermByte(c) {
			break
		}
		p.i++
	}
	if p.i == start {
		if p.i < len(p.s) {
			c := p.s[p.i]
			switch c {
			case '/':
				return "", unsupported("query-string regular expression")
			case '^':
				return "", unsupported("query-string boost (^)")
			case '~':
				return "", unsupported("query-string fuzzy or proximity search (~)")
			}
			return "", fmt.Errorf("unexpected %q at offset %d", c, p.i)
		}
		return "", fmt.Errorf("missing term at end of query")
	}
	if err := p.checkSuffix(); err != nil {
		return "", err
	}
	return p.s[start:p.i], nil
}

func (p *qsParser) checkSuffix() error {
	if p.i < len(p.s) {
		switch p.s[p.i] {
		case '^':
			return unsupported("query-string boost (^)")
		case '~':
			return unsupported("query-string fuzzy or proximity search (~)")
		case '/':
			return unsupported("query-string regular expression")
		}
	}
	return nil
}

// phrase reads a quoted phrase, returning it unescaped but with wildcards escaped (they are
// literal inside quotes).
func (p *qsParser) phrase() (string, error) {
	p.i++ // opening quote
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch c {
		case '\\':
			if p.i+1 >= len(p.s) {
				return "", fmt.Errorf("dangling backslash")
			}
			p.i++
			c = p.s[p.i]
		case '"':
			p.i++
			if err := p.checkSuffix(); err != nil {
				return "", err
			}
			return b.String(), nil
		}
		b.WriteByte(c)
		p.i++
	}
	return "", fmt.Errorf("unterminated phrase")
}

// leaf builds the node for a term (raw, still escaped) or a phrase (quoted, unescaped) on field
// ("" for the default fields).
func (p *qsParser) leaf(name, value string, quoted bool) (node, error) {
	if name == "" {
		if !quoted && onlyStars(value) {
			return matchAllNode{}, nil
		}
		return p.defaultFields(value, quoted)
	}
	f, err := resolveField(name, "")
	if err != nil {
		return nil, err
	}
	lm, err := p.valueLeaf(f.kind, name, value, quoted)
	if err != nil {
		return nil, err
	}
	return leafNode(f, lm), nil
}

// valueLeaf builds the matcher of one query-string value on a field of the given kind: `*`
// is exists, a value with wildcards a pattern, anything else is analyzed as match does.
func (p *qsParser) valueLeaf(kind fieldKind, name, value string, quoted bool) (leafMatcher, error) {
	if !quoted {
		if value == "*" {
			return existsLeaf{}, nil
		}
		if hasWildcard(value) {
			return newPatternLeaf(kind, value, true), nil
		}
		value = unescape(value)
	}
	q, err := newQueryValue(value, p.now)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	phrase := quoted && (kind == kindText || kind == kindDynamic)
	return &matchLeaf{kind: kind, v: q, toks: analyze(q.str), phrase: phrase}, nil
}

// rangeValue parses [a TO b], {a TO b} and the mixed forms.
func (p *qsParser) rangeValue(name string) (node, error) {
	f, err := resolveField(name, "")
	if err != nil {
		return nil, err
	}
	loIncl := p.s[p.i] == '['
	p.i++
	p.skipSpace()
	lo, err := p.rangeBound()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !strings.HasPrefix(p.s[p.i:], "TO") {
		return nil, fmt.Errorf("range on %s: missing TO", name)
	}
	p.i += 2
	p.skipSpace()
	hi, err := p.rangeBound()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.i >= len(p.s) || (p.s[p.i] != ']' && p.s[p.i] != '}') {
		return nil, fmt.Errorf("range on %s: missing ] or }", name)
	}
	hiIncl := p.s[p.i] == ']'
	p.i++
	if err := p.checkSuffix(); err != nil {
		return nil, err
	}
	r := &rangeLeaf{kind: f.kind}
	if lo != "*" {
		if r.lo, err = p.bound(f.kind, lo, !loIncl); err != nil {
			return nil, fmt.Errorf("range on %s: %w", name, err)
		}
		r.lo.incl = loIncl
	}
	if hi != "*" {
		if r.hi, err = p.bound(f.kind, hi, hiIncl); err != nil {
			return nil, fmt.Errorf("range on %s: %w", name, err)
		}
		r.hi.incl = hiIncl
	}
	if !r.lo.set && !r.hi.set {
		return leafNode(f, existsLeaf{}), nil
	}
	return leafNode(f, r), nil
}

func (p *qsParser) rangeBound() (string, error) {
	if p.i < len(p.s) && p.s[p.i] == '"' {
		return p.phrase()
	}
	start := p.i
	for p.i < len(p.s) && !isSpace(p.s[p.i]) && p.s[p.i] != ']' && p.s[p.i] != '}' {
		p.i++
	}
	if p.i == start {
		return "", fmt.Errorf("missing range bound at offset %d", p.i)
	}
	return unescape(p.s[start:p.i]), nil
}

// compareValue parses field:>a, field:>=a, field:<a and field:<=a.
func (p *qsParser) compareValue(name string) (node, error) {
	f, err := resolveField(name, "")
	if err != nil {
		return nil, err
	}
	op := p.s[p.i : p.i+1]
	p.i++
	if p.i < len(p.s) && p.s[p.i] == '=' {
		op += "="
		p.i++
	}
	var v string
	if p.i < len(p.s) && p.s[p.i] == '"' {
		v, err = p.phrase()
	} else {
		v, err = p.term()
		v = unescape(v)
	}
	if err != nil {
		return nil, err
	}
	r := &rangeLeaf{kind: f.kind}
	b, err := p.bound(f.kind, v, op == ">" || op == "<=")
	if err != nil {
		return nil, fmt.Errorf("%s:%s: %w", name, op, err)
	}
	b.incl = strings.HasSuffix(op, "=")
	if op[0] == '>' {
		r.lo = b
	} else {
		r.hi = b
	}
	return leafNode(f, r), nil
}
