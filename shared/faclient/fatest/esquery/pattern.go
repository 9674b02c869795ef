package esquery

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Wildcard patterns, shared by the wildcard and prefix clauses and by query-string terms
// such as email:*@example.com.

// pattern is a compiled wildcard pattern: '*' matches any run of characters, '?' one character,
// and a backslash escapes the next character.
type pattern struct {
	elems []patElem
	fold  bool
}

type patElem struct {
	r    rune
	kind byte // 0 literal, '?' any one, '*' any run
}

func compilePattern(p string, fold bool) pattern {
	var out pattern
	out.fold = fold
	for i := 0; i < len(p); {
		r, size := utf8.DecodeRuneInString(p[i:])
		i += size
		switch r {
		case '\\':
			if i < len(p) {
				r, size = utf8.DecodeRuneInString(p[i:])
				i += size
			}
			out.elems = append(out.elems, patElem{r: foldRune(r, fold)})
		case '*':
			if n := len(out.elems); n == 0 || out.elems[n-1].kind != '*' {
				out.elems = append(out.elems, patElem{kind: '*'})
			}
		case '?':
			out.elems = append(out.elems, patElem{kind: '?'})
		default:
			out.elems = append(out.elems, patElem{r: foldRune(r, fold)})
		}
	}
	return out
}

func foldRune(r rune, fold bool) rune {
	if fold {
		return unicode.ToLower(r)
	}
	return r
}

// match reports whether s matches the whole pattern (iterative glob matching with one backtrack
// point; it does not allocate).
func (p *pattern) match(s string) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		r, size := utf8.DecodeRuneInString(s[si:])
		r = foldRune(r, p.fold)
		if pi < len(p.elems) {
			e := p.elems[pi]
			switch {
			case e.kind == '*':
				starP, starS = pi, si
				pi++
				continue
			case e.kind == '?' || e.r == r:
				pi++
				si += size
				continue
			}
		}
		if starP < 0 {
			return false
		}
		_, size = utf8.DecodeRuneInString(s[starS:])
		starS += size
		si = starS
		pi = starP + 1
	}
	for pi < len(p.elems) && p.elems[pi].kind == '*' {
		pi++
	}
	return pi == len(p.elems)
}

// hasWildcard reports whether s holds an unescaped '*' or '?'.
func hasWildcard(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '*', '?':
			return true
		}
	}
	return false
}

// unescape removes query-string backslash escapes.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// escapePattern escapes the pattern characters of s, so that it matches literally.
func escapePattern(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '*' || r == '?' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// onlyStars reports whether the pattern s is one or more unescaped '*' and nothing else.
func onlyStars(s string) bool {
	return s != "" && strings.Trim(s, "*") == ""
}

// patternLeaf is the wildcard and prefix queries: keyword fields match the whole value, text
// fields any token; numbers, booleans and dates never match a pattern.
type patternLeaf struct {
	kind fieldKind
	pat  pattern
}

func (p *patternLeaf) leaf(x any) bool {
	s, ok := x.(string)
	if !ok {
		return false
	}
	switch p.kind {
	case kindKeyword, kindLowerKeyword:
		return p.pat.match(s)
	case kindDate, kindNumber:
		return false
	case kindDynamic:
		if _, isDate := parseISODate(s, true); isDate {
			return false
		}
	}
	for start, end := nextToken(s, 0); start >= 0; start, end = nextToken(s, end) {
		if p.pat.match(s[start:end]) {
			return true
		}
	}
	return false
}

// newPatternLeaf compiles a wildcard pattern. Only keyword fields compare case-sensitively (unless
// ci): text and exact_lower fields hold lower-cased terms and the pattern is normalized to match.
func newPatternLeaf(kind fieldKind, s string, ci bool) *patternLeaf {
	return &patternLeaf{kind: kind, pat: compilePattern(s, ci || kind != kindKeyword)}
}

// patternQuery compiles {"wildcard":{"email":"*@example.com"}} and {"prefix":{"email":"jo"}},
// short or long form ({"value":…, "case_insensitive":…}; wildcard also takes "wildcard").
func (p *parser) patternQuery(clause string, body any) (node, error) {
	f, name, val, err := p.fieldClause(body)
	if err != nil {
		return nil, err
	}
	ci := false
	if vo, ok := val.(map[string]any); ok {
		keys := []string{"value", "case_insensitive"}
		if clause == "wildcard" {
			keys = append(keys, "wildcard")
		}
		if err := checkOptions(vo, keys...); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if c, ok := vo["case_insensitive"]; ok {
			if ci, ok = c.(bool); !ok {
				return nil, fmt.Errorf("%s: case_insensitive must be a boolean, got %s", name, jsonType(c))
			}
		}
		v, hasValue := vo["value"]
		w, hasWildcard := vo["wildcard"]
		switch {
		case hasValue && hasWildcard:
			return nil, fmt.Errorf("%s: both value and wildcard given", name)
		case hasWildcard:
			v = w
		case !hasValue:
			return nil, fmt.Errorf("%s: missing value", name)
		}
		val = v
	}
	s, ok := val.(string)
	if !ok {
		return nil, fmt.Errorf("%s: value must be a string, got %s", name, jsonType(val))
	}
	if clause == "prefix" {
		s = escapePattern(s) + "*"
	}
	return leafNode(f, newPatternLeaf(f.kind, s, ci)), nil
}
