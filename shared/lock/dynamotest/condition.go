package dynamotest

import (
	"math/big"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// reserved holds the DynamoDB reserved words ("Reserved words in DynamoDB", Developer
// Guide) that an item like the locks' might use as attribute names, plus the expression
// keywords (update expressions' clause keywords among them). The real list has about 570 words; a bare attribute name on it is refused here
// as DynamoDB refuses it, and one off it is taken as a name, which DynamoDB may refuse.
var reserved = map[string]bool{
	"AND": true, "BETWEEN": true, "IN": true, "NOT": true, "OR": true,
	"ADD": true, "DELETE": true, "REMOVE": true, "SET": true,
	"DATA": true, "DURATION": true, "KEY": true, "LOCK": true, "NAME": true,
	"OWNER": true, "STATUS": true, "TIME": true, "TIMESTAMP": true, "TTL": true, "TYPE": true,
	"UNTIL": true, "USER": true, "VALUE": true,
}

// condition is a parsed condition expression: terms joined by OR.
type condition []term

// term is attribute_not_exists(left.name) when op is "", or left op right.
type term struct {
	op          string // "", "=" or "<"
	left, right operand
}

// operand is an attribute (name, after placeholder substitution) or a value placeholder.
type operand struct {
	name  string
	value string // ":placeholder", when the operand is a value
}

// checkCondition parses p's condition expression, checks the placeholders as
// parseExpressions does, and evaluates the condition against item (nil: no item). It
// returns nil when the write may proceed.
func checkCondition(p *request, item map[string]Attr) *apiError {
	var c condition
	e := parseExpressions(p, p.cond != nil, func(sc *scope) *apiError {
		var e *apiError
		c, e = sc.parseCondition(*p.cond)
		return e
	})
	if e != nil {
		return e
	}
	return c.check(item, p.values)
}

// scope is what a request's expressions may refer to: its ExpressionAttributeNames and
// ExpressionAttributeValues, and which of them the expressions parsed so far used.
type scope struct {
	names      map[string]string
	values     map[string]Attr
	usedNames  map[string]bool
	usedValues map[string]bool
}

// parseExpressions checks p's placeholders as DynamoDB does, around parse, which parses
// all of the request's expressions (hasExpr: it has at least one) in one scope: names or
// values given without an expression, or given empty, are refused before parse, and
// names or values that no expression used are refused after it.
func parseExpressions(p *request, hasExpr bool, parse func(*scope) *apiError) *apiError {
	switch {
	case !hasExpr && p.names != nil:
		return validation("ExpressionAttributeNames can only be specified when using expressions")
	case !hasExpr && p.values != nil:
		return validation("ExpressionAttributeValues can only be specified when using expressions")
	case !hasExpr:
		return nil
	case p.names != nil && len(p.names) == 0:
		return validation("ExpressionAttributeNames must not be empty")
	case p.values != nil && len(p.values) == 0:
		return validation("ExpressionAttributeValues must not be empty")
	}
	sc := &scope{names: p.names, values: p.values, usedNames: map[string]bool{}, usedValues: map[string]bool{}}
	if e := parse(sc); e != nil {
		return e
	}
	if unused := unusedKeys(p.names, sc.usedNames); unused != "" {
		return validation("Value provided in ExpressionAttributeNames unused in expressions: keys: {%s}", unused)
	}
	if unused := unusedKeys(p.values, sc.usedValues); unused != "" {
		return validation("Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}", unused)
	}
	return nil
}

// check evaluates c against item (nil: no item) with the request's values. No condition
// (c empty) holds.
func (c condition) check(item, values map[string]Attr) *apiError {
	if len(c) == 0 {
		return nil
	}
	for _, t := range c {
		if t.holds(item, values) {
			return nil
		}
	}
	return &apiError{status: 400, errType: typeConditionalCheckFailed, message: "The conditional request failed"}
}

func (t term) holds(item map[string]Attr, values map[string]Attr) bool {
	if t.op == "" {
		_, ok := item[t.left.name]
		return !ok
	}
	a, okA := t.left.resolve(item, values)
	b, okB := t.right.resolve(item, values)
	if !okA || !okB || a.Type != b.Type {
		return false
	}
	var cmp int
	if a.Type == "N" {
		x, _ := parseNumber(a.Value) // both were checked when decoded
		y, _ := parseNumber(b.Value)
		cmp = x.Cmp(y)
	} else {
		cmp = strings.Compare(a.Value, b.Value) // Go compares strings by their UTF-8 bytes, as DynamoDB does
	}
	if t.op == "=" {
		return cmp == 0
	}
	return cmp < 0
}

func (o operand) resolve(item, values map[string]Attr) (Attr, bool) {
	if o.value != "" {
		a, ok := values[o.value]
		return a, ok
	}
	a, ok := item[o.name]
	return a, ok
}

// token is one lexical token of a condition expression: a word, a #name or :value
// placeholder, or punctuation.
var token = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*|[#:][A-Za-z0-9_]+|<>|<=|>=|[()=<>,.\[\]])`)

// parser reads one expression in its request's scope.
type parser struct {
	kind string // the parameter, "ConditionExpression" or "UpdateExpression", as messages name it
	toks []string
	*scope
}

// lex splits expr, the parameter kind, into tokens as re finds them.
func (sc *scope) lex(kind, expr string, re *regexp.Regexp) (*parser, *apiError) {
	p := &parser{kind: kind, scope: sc}
	for rest := expr; strings.TrimSpace(rest) != ""; {
		m := re.FindStringSubmatch(rest)
		if m == nil {
			return nil, p.invalid("Syntax error; token: %q", strings.TrimSpace(rest))
		}
		p.toks = append(p.toks, m[1])
		rest = rest[len(m[0]):]
	}
	if len(p.toks) == 0 {
		return nil, p.invalid("The expression can not be empty;")
	}
	return p, nil
}

// invalid is DynamoDB's refusal of the expression being parsed.
func (p *parser) invalid(format string, args ...any) *apiError {
	return validation("Invalid "+p.kind+": "+format, args...)
}

func (sc *scope) parseCondition(expr string) (condition, *apiError) {
	p, e := sc.lex("ConditionExpression", expr, token)
	if e != nil {
		return nil, e
	}
	var c condition
	for {
		t, e := p.term()
		if e != nil {
			return nil, e
		}
		c = append(c, t)
		if len(p.toks) == 0 {
			return c, nil
		}
		if !strings.EqualFold(p.toks[0], "OR") {
			return nil, p.unsupported(p.toks[0])
		}
		p.toks = p.toks[1:]
	}
}

func (p *parser) next() string {
	if len(p.toks) == 0 {
		return ""
	}
	t := p.toks[0]
	p.toks = p.toks[1:]
	return t
}

func (p *parser) expect(want string) *apiError {
	if got := p.next(); got != want {
		return p.invalid("Syntax error; token: %q, expected %q", got, want)
	}
	return nil
}

// term := attribute_not_exists ( path ) | operand (= | <) operand
func (p *parser) term() (term, *apiError) {
	if len(p.toks) > 1 && p.toks[1] == "(" {
		fn := p.next()
		if fn != "attribute_not_exists" {
			return term{}, notImplemented("condition function %s (only attribute_not_exists)", fn)
		}
		p.next()
		path, e := p.operand()
		if e != nil {
			return term{}, e
		}
		if path.value != "" {
			return term{}, p.invalid("Incorrect operand type for operator or function; operator or function: attribute_not_exists, operand type: value")
		}
		return term{left: path}, p.expect(")")
	}
	left, e := p.operand()
	if e != nil {
		return term{}, e
	}
	op := p.next()
	if op != "=" && op != "<" {
		return term{}, p.unsupported(op)
	}
	right, e := p.operand()
	if e != nil {
		return term{}, e
	}
	return term{op: op, left: left, right: right}, nil
}

// operand := #name | :value | name
func (p *parser) operand() (operand, *apiError) {
	tok := p.next()
	switch {
	case tok == "":
		return operand{}, p.invalid("Syntax error; token: <EOF>")
	case tok[0] == '#':
		name, ok := p.names[tok]
		if !ok {
			return operand{}, p.invalid("An expression attribute name used in the document path is not defined; attribute name: %s", tok)
		}
		p.usedNames[tok] = true
		return operand{name: name}, nil
	case tok[0] == ':':
		if _, ok := p.values[tok]; !ok {
			return operand{}, p.invalid("An expression attribute value used in expression is not defined; attribute value: %s", tok)
		}
		p.usedValues[tok] = true
		return operand{value: tok}, nil
	case reserved[strings.ToUpper(tok)]:
		return operand{}, p.invalid("Attribute name is a reserved keyword; reserved keyword: %s", tok)
	case isWord(tok):
		return operand{name: tok}, nil
	}
	return operand{}, p.unsupported(tok)
}

// unsupported refuses a token of the condition grammar that the fake does not implement.
func (p *parser) unsupported(tok string) *apiError {
	if tok == "" {
		return p.invalid("Syntax error; token: <EOF>")
	}
	return notImplemented("%q in a condition expression (only attribute_not_exists(path), a = b, a < b, OR)", tok)
}

// isWord reports whether tok, a token, is a bare attribute name rather than punctuation.
func isWord(tok string) bool {
	return tok[0] == '_' || unicode.IsLetter(rune(tok[0]))
}

// unusedKeys lists, sorted and comma-separated, the keys of defined that used lacks.
func unusedKeys[V any](defined map[string]V, used map[string]bool) string {
	var unused []string
	for k := range defined {
		if !used[k] {
			unused = append(unused, k)
		}
	}
	slices.Sort(unused)
	return strings.Join(unused, ", ")
}

// number is the syntax of a DynamoDB number: decimal, optionally signed, with an optional
// fraction and exponent.
var number = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// parseNumber reads a DynamoDB number exactly, for comparisons and arithmetic.
func parseNumber(s string) (*big.Rat, bool) {
	if !number.MatchString(s) {
		return nil, false
	}
	return new(big.Rat).SetString(s)
}

// formatNumber writes r, a number read by parseNumber or a sum of such, as DynamoDB
// stores and returns numbers: "Leading and trailing zeroes are trimmed" (Developer Guide,
// "Supported data types and naming rules", Number), in plain decimal notation, so 1.50
// is 1.5, 1e2 is 100 and -0 is 0.
func formatNumber(r *big.Rat) string {
	// r's denominator is 2^a·5^b, as a decimal's is: max(a, b) places write it exactly,
	// and a Rat is in lowest terms, so no fewer do.
	d := new(big.Int).Set(r.Denom())
	twos := d.TrailingZeroBits()
	d.Rsh(d, twos)
	fives := uint(0)
	for five := big.NewInt(5); d.BitLen() > 1; fives++ { // d > 1
		d.Quo(d, five)
	}
	// The last of those places is not 0, so there is no trailing zero to trim.
	return r.FloatString(int(max(twos, fives)))
}
