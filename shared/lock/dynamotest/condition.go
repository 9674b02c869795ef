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
// keywords. The real list has about 570 words; a bare attribute name on it is refused here
// as DynamoDB refuses it, and one off it is taken as a name, which DynamoDB may refuse.
var reserved = map[string]bool{
	"AND": true, "BETWEEN": true, "IN": true, "NOT": true, "OR": true,
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

// checkCondition parses p's condition expression, checks its placeholders against p's
// ExpressionAttributeNames and ExpressionAttributeValues as DynamoDB does, and evaluates
// it against item (nil: no item). It returns nil when the write may proceed.
func checkCondition(p *request, item map[string]Attr) *apiError {
	if p.cond == nil {
		switch {
		case p.names != nil:
			return validation("ExpressionAttributeNames can only be specified when using expressions")
		case p.values != nil:
			return validation("ExpressionAttributeValues can only be specified when using expressions")
		}
		return nil
	}
	switch {
	case p.names != nil && len(p.names) == 0:
		return validation("ExpressionAttributeNames must not be empty")
	case p.values != nil && len(p.values) == 0:
		return validation("ExpressionAttributeValues must not be empty")
	}
	c, e := parseCondition(*p.cond, p.names, p.values)
	if e != nil {
		return e
	}
	for _, t := range c {
		if t.holds(item, p.values) {
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

// token is one lexical token: a word, a #name or :value placeholder, or punctuation.
var token = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*|[#:][A-Za-z0-9_]+|<>|<=|>=|[()=<>,.\[\]])`)

// parser reads a condition expression with the placeholders it may use.
type parser struct {
	toks       []string
	names      map[string]string
	values     map[string]Attr
	usedNames  map[string]bool
	usedValues map[string]bool
}

func parseCondition(expr string, names map[string]string, values map[string]Attr) (condition, *apiError) {
	p := &parser{names: names, values: values, usedNames: map[string]bool{}, usedValues: map[string]bool{}}
	for rest := expr; strings.TrimSpace(rest) != ""; {
		m := token.FindStringSubmatch(rest)
		if m == nil {
			return nil, validation("Invalid ConditionExpression: Syntax error; token: %q", strings.TrimSpace(rest))
		}
		p.toks = append(p.toks, m[1])
		rest = rest[len(m[0]):]
	}
	if len(p.toks) == 0 {
		return nil, validation("Invalid ConditionExpression: The expression can not be empty;")
	}
	var c condition
	for {
		t, e := p.term()
		if e != nil {
			return nil, e
		}
		c = append(c, t)
		if len(p.toks) == 0 {
			break
		}
		if !strings.EqualFold(p.toks[0], "OR") {
			return nil, p.unsupported(p.toks[0])
		}
		p.toks = p.toks[1:]
	}
	if unused := unusedKeys(names, p.usedNames); unused != "" {
		return nil, validation("Value provided in ExpressionAttributeNames unused in expressions: keys: {%s}", unused)
	}
	if unused := unusedKeys(values, p.usedValues); unused != "" {
		return nil, validation("Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}", unused)
	}
	return c, nil
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
		return validation("Invalid ConditionExpression: Syntax error; token: %q, expected %q", got, want)
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
			return term{}, validation("Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: attribute_not_exists, operand type: value")
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
		return operand{}, validation("Invalid ConditionExpression: Syntax error; token: <EOF>")
	case tok[0] == '#':
		name, ok := p.names[tok]
		if !ok {
			return operand{}, validation("Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: %s", tok)
		}
		p.usedNames[tok] = true
		return operand{name: name}, nil
	case tok[0] == ':':
		if _, ok := p.values[tok]; !ok {
			return operand{}, validation("Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: %s", tok)
		}
		p.usedValues[tok] = true
		return operand{value: tok}, nil
	case reserved[strings.ToUpper(tok)]:
		return operand{}, validation("Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: %s", tok)
	case isWord(tok):
		return operand{name: tok}, nil
	}
	return operand{}, p.unsupported(tok)
}

// unsupported refuses a token of the condition grammar that the fake does not implement.
func (p *parser) unsupported(tok string) *apiError {
	if tok == "" {
		return validation("Invalid ConditionExpression: Syntax error; token: <EOF>")
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

// parseNumber reads a DynamoDB number exactly, for comparisons.
func parseNumber(s string) (*big.Rat, bool) {
	if !number.MatchString(s) {
		return nil, false
	}
	return new(big.Rat).SetString(s)
}
