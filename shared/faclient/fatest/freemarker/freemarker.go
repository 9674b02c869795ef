// Package freemarker renders the subset of Apache FreeMarker (square-bracket syntax) that
// FusionAuth email templates here use, with FreeMarker's semantics for it:
//
//	${a.b}            interpolation; a missing value is an error
//	${a.b!'default'}  default when b is missing (a must exist); ${(a.b)!'x'} guards the chain
//	${a.b?url}        URL-escaping (UTF-8), strings only
//	[#if a??] [#if (a.b)??] [#if a.flag] [#if !(a??)]  [#elseif …] [#else] [/#if]
//	[#-- comment --]
//
// Anything else is a parse error naming it, so that a template the FusionAuth stand-in
// (package fatest) cannot render faithfully is refused when it is saved rather than
// rendered wrongly.
package freemarker

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Template is a parsed template.
type Template struct {
	nodes []node
}

type node interface{}

type textNode string

type interpNode struct {
	expr expression
	src  string
}

type ifNode struct {
	branches []branch
	elseBody []node
}

type branch struct {
	cond expression
	body []node
}

// expression is an expression node.
type expression struct {
	op      string // "path", "string", "number", "bool", "default", "exists", "builtin", "not", "paren"
	path    []string
	str     string
	num     float64
	boolean bool
	x       *expression // operand
	def     *expression // default value (nil = empty)
	builtin string
}

// Parse parses a template; syntax outside the supported subset is an error naming it.
func Parse(src string) (*Template, error) {
	p := &parser{src: src}
	nodes, end, err := p.parseNodes()
	if err != nil {
		return nil, err
	}
	if end != "" {
		return nil, fmt.Errorf("[#%s] without a matching [#if]", end)
	}
	return &Template{nodes: nodes}, nil
}

type parser struct {
	src string
	pos int
}

// markers that start something the parser must look at.
var markers = []string{"${", "#{", "[#", "[/#", "[@", "[/@", "<#", "</#", "<@", "</@"}

// parseNodes parses until the end of input or a closing/branch tag, which it returns
// ("/if", "else", "elseif <expr>").
func (p *parser) parseNodes() ([]node, string, error) {
	var nodes []node
	for p.pos < len(p.src) {
		next, marker := -1, ""
		for _, m := range markers {
			if i := strings.Index(p.src[p.pos:], m); i >= 0 && (next < 0 || i < next) {
				next, marker = i, m
			}
		}
		if next < 0 {
			nodes = append(nodes, textNode(p.src[p.pos:]))
			p.pos = len(p.src)
			break
		}
		if next > 0 {
			nodes = append(nodes, textNode(p.src[p.pos:p.pos+next]))
			p.pos += next
		}
		switch marker {
		case "${":
			body, err := p.until(p.pos+2, '}')
			if err != nil {
				return nil, "", err
			}
			expr, err := parseExpr(body)
			if err != nil {
				return nil, "", fmt.Errorf("${%s}: %w", body, err)
			}
			nodes = append(nodes, interpNode{expr: expr, src: "${" + body + "}"})
		case "[#":
			if strings.HasPrefix(p.src[p.pos:], "[#--") {
				end := strings.Index(p.src[p.pos:], "--]")
				if end < 0 {
					return nil, "", errors.New("unterminated [#-- comment")
				}
				p.pos += end + 3
				continue
			}
			body, err := p.until(p.pos+2, ']')
			if err != nil {
				return nil, "", err
			}
			name, rest, _ := strings.Cut(strings.TrimSpace(body), " ")
			rest = strings.TrimSpace(rest)
			switch name {
			case "if":
				n, err := p.parseIf(rest)
				if err != nil {
					return nil, "", err
				}
				nodes = append(nodes, n)
			case "else":
				if rest != "" {
					return nil, "", fmt.Errorf("[#else %s]: unexpected text", rest)
				}
				return nodes, "else", nil
			case "elseif":
				return nodes, "elseif " + rest, nil
			default:
				return nil, "", fmt.Errorf("unsupported FreeMarker directive [#%s] (supported: if, elseif, else, comments)", name)
			}
		case "[/#":
			body, err := p.until(p.pos+3, ']')
			if err != nil {
				return nil, "", err
			}
			if strings.TrimSpace(body) != "if" {
				return nil, "", fmt.Errorf("unsupported FreeMarker closing tag [/#%s]", body)
			}
			return nodes, "/if", nil
		default:
			return nil, "", fmt.Errorf("unsupported FreeMarker syntax %q at offset %d (supported: ${…}, [#if]/[#elseif]/[#else]/[/#if], [#-- --])", marker, p.pos)
		}
	}
	return nodes, "", nil
}

// parseIf parses an if block after its opening tag.
func (p *parser) parseIf(cond string) (ifNode, error) {
	var n ifNode
	for {
		expr, err := parseExpr(cond)
		if err != nil {
			return n, fmt.Errorf("[#if %s]: %w", cond, err)
		}
		body, end, err := p.parseNodes()
		if err != nil {
			return n, err
		}
		n.branches = append(n.branches, branch{cond: expr, body: body})
		switch {
		case end == "/if":
			return n, nil
		case end == "else":
			body, end, err := p.parseNodes()
			if err != nil {
				return n, err
			}
			if end != "/if" {
				return n, errors.New("[#else] must be followed by [/#if]")
			}
			n.elseBody = body
			return n, nil
		case strings.HasPrefix(end, "elseif "):
			cond = strings.TrimPrefix(end, "elseif ")
		default:
			return n, fmt.Errorf("[#if %s] is not closed by [/#if]", cond)
		}
	}
}

// until returns the text from start to the closing delimiter (skipping string literals)
// and moves past the delimiter.
func (p *parser) until(start int, closing byte) (string, error) {
	var quote byte
	for i := start; i < len(p.src); i++ {
		c := p.src[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == closing:
			body := p.src[start:i]
			p.pos = i + 1
			return body, nil
		}
	}
	return "", fmt.Errorf("unterminated tag at offset %d (missing %q)", start, closing)
}

// ----- expressions -----

type token struct {
	kind string // "ident", "string", "number", or the punctuation itself
	text string
}

func tokenize(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '?' && i+1 < len(s) && s[i+1] == '?':
			out = append(out, token{kind: "??"})
			i += 2
		case c == '.' || c == '(' || c == ')' || c == '!' || c == '?':
			out = append(out, token{kind: string(c)})
			i++
		case c == '\'' || c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != c; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
					switch s[j] {
					case 'n':
						b.WriteByte('\n')
					case 't':
						b.WriteByte('\t')
					default:
						b.WriteByte(s[j])
					}
					continue
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, errors.New("unterminated string literal")
			}
			out = append(out, token{kind: "string", text: b.String()})
			i = j + 1
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
				j++
			}
			out = append(out, token{kind: "number", text: s[i:j]})
			i = j
		case c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(s) && (s[j] == '_' || s[j] == '$' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			out = append(out, token{kind: "ident", text: s[i:j]})
			i = j
		default:
			return nil, fmt.Errorf("unsupported operator or character %q", s[i:])
		}
	}
	return out, nil
}

type exprParser struct {
	toks []token
	pos  int
}

func (p *exprParser) peek() token {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return token{kind: "eof"}
}

func (p *exprParser) next() token {
	t := p.peek()
	p.pos++
	return t
}

// parseExpr parses one expression; anything left over is an error.
func parseExpr(s string) (expression, error) {
	toks, err := tokenize(s)
	if err != nil {
		return expression{}, err
	}
	p := &exprParser{toks: toks}
	e, err := p.unary()
	if err != nil {
		return expression{}, err
	}
	if t := p.peek(); t.kind != "eof" {
		return expression{}, fmt.Errorf("unsupported expression syntax at %q", t.kind+t.text)
	}
	return e, nil
}

func (p *exprParser) unary() (expression, error) {
	if p.peek().kind == "!" {
		p.next()
		x, err := p.unary()
		if err != nil {
			return expression{}, err
		}
		return expression{op: "not", x: &x}, nil
	}
	e, err := p.primary()
	if err != nil {
		return expression{}, err
	}
	for {
		switch p.peek().kind {
		case "??":
			p.next()
			x := e
			e = expression{op: "exists", x: &x}
		case "!":
			p.next()
			x := e
			e = expression{op: "default", x: &x}
			if k := p.peek().kind; k == "string" || k == "number" || k == "ident" || k == "(" {
				d, err := p.primary()
				if err != nil {
					return expression{}, err
				}
				e.def = &d
			}
		case "?":
			p.next()
			t := p.next()
			if t.kind != "ident" {
				return expression{}, errors.New("expected a built-in name after ?")
			}
			if t.text != "url" {
				return expression{}, fmt.Errorf("unsupported FreeMarker built-in ?%s (supported: ?url, ??)", t.text)
			}
			x := e
			e = expression{op: "builtin", x: &x, builtin: t.text}
		default:
			return e, nil
		}
	}
}

func (p *exprParser) primary() (expression, error) {
	t := p.next()
	switch t.kind {
	case "(":
		x, err := p.unary()
		if err != nil {
			return expression{}, err
		}
		if p.next().kind != ")" {
			return expression{}, errors.New("missing )")
		}
		return expression{op: "paren", x: &x}, nil
	case "string":
		return expression{op: "string", str: t.text}, nil
	case "number":
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return expression{}, fmt.Errorf("bad number %q", t.text)
		}
		return expression{op: "number", num: f}, nil
	case "ident":
		if t.text == "true" || t.text == "false" {
			return expression{op: "bool", boolean: t.text == "true"}, nil
		}
		path := []string{t.text}
		for p.peek().kind == "." {
			p.next()
			n := p.next()
			if n.kind != "ident" {
				return expression{}, errors.New("expected a name after the dot")
			}
			path = append(path, n.text)
		}
		return expression{op: "path", path: path}, nil
	case "eof":
		return expression{}, errors.New("empty expression")
	}
	return expression{}, fmt.Errorf("unsupported expression syntax at %q", t.kind+t.text)
}

// ----- evaluation -----

// missingError reports an undefined value; last says whether only the last step of a
// bare path was missing (what `a.b!x` and `a.b??` tolerate).
type missingError struct {
	name string
	last bool
}

func (m *missingError) Error() string {
	return "The following has evaluated to null or missing: " + m.name
}

// eval evaluates an expression against vars.
func (e expression) eval(vars map[string]any) (any, error) {
	switch e.op {
	case "string":
		return e.str, nil
	case "number":
		return e.num, nil
	case "bool":
		return e.boolean, nil
	case "paren":
		return e.x.eval(vars)
	case "path":
		var cur any = vars
		for i, part := range e.path {
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s is not a hash", strings.Join(e.path[:i], "."))
			}
			v, ok := m[part]
			if !ok || v == nil {
				return nil, &missingError{name: strings.Join(e.path[:i+1], "."), last: i == len(e.path)-1}
			}
			cur = v
		}
		return cur, nil
	case "exists", "default":
		v, err := e.x.eval(vars)
		var miss *missingError
		if errors.As(err, &miss) && (e.x.op == "paren" || miss.last) {
			if e.op == "exists" {
				return false, nil
			}
			if e.def == nil {
				return "", nil
			}
			return e.def.eval(vars)
		}
		if err != nil {
			return nil, err
		}
		if e.op == "exists" {
			return true, nil
		}
		return v, nil
	case "not":
		b, err := evalAs[bool](*e.x, vars, "the ! operator", "a boolean")
		if err != nil {
			return nil, err
		}
		return !b, nil
	case "builtin":
		s, err := evalAs[string](*e.x, vars, "?"+e.builtin, "a string")
		if err != nil {
			return nil, err
		}
		return urlEscape(s), nil
	}
	return nil, fmt.Errorf("unknown expression %q", e.op)
}

// evalAs evaluates x, an operand of op that needs a T (kind, e.g. "a string").
func evalAs[T any](x expression, vars map[string]any, op, kind string) (T, error) {
	var t T
	v, err := x.eval(vars)
	if err != nil {
		return t, err
	}
	t, ok := v.(T)
	if !ok {
		return t, fmt.Errorf("%s needs %s, got %T", op, kind, v)
	}
	return t, nil
}

// Render renders the template with vars. A missing value that is not guarded by ! or ??
// is an error, as in FreeMarker.
func (t *Template) Render(vars map[string]any) (string, error) {
	var b strings.Builder
	if err := renderNodes(&b, t.nodes, vars); err != nil {
		return "", err
	}
	return b.String(), nil
}

func renderNodes(b *strings.Builder, nodes []node, vars map[string]any) error {
	for _, n := range nodes {
		switch n := n.(type) {
		case textNode:
			b.WriteString(string(n))
		case interpNode:
			v, err := n.expr.eval(vars)
			if err != nil {
				return fmt.Errorf("%s: %w", n.src, err)
			}
			s, err := format(v)
			if err != nil {
				return fmt.Errorf("%s: %w", n.src, err)
			}
			b.WriteString(s)
		case ifNode:
			body := n.elseBody
			for _, br := range n.branches {
				v, err := br.cond.eval(vars)
				if err != nil {
					return fmt.Errorf("[#if]: %w", err)
				}
				ok, isBool := v.(bool)
				if !isBool {
					return fmt.Errorf("[#if] condition must be a boolean, got %T", v)
				}
				if ok {
					body = br.body
					break
				}
			}
			if err := renderNodes(b, body, vars); err != nil {
				return err
			}
		}
	}
	return nil
}

// format formats an interpolated value as FreeMarker does by default (en_US numbers
// with grouping, at most three decimals); booleans and containers cannot be interpolated.
func format(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int64:
		return groupDigits(strconv.FormatInt(x, 10)), nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return groupDigits(strconv.FormatInt(int64(x), 10)), nil
		}
		s := strconv.FormatFloat(x, 'f', 3, 64)
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		intPart, frac, _ := strings.Cut(s, ".")
		if frac != "" {
			return groupDigits(intPart) + "." + frac, nil
		}
		return groupDigits(intPart), nil
	case bool:
		return "", errors.New("a boolean cannot be interpolated (FreeMarker needs ?c or ?string)")
	}
	return "", fmt.Errorf("a %T cannot be interpolated", v)
}

func groupDigits(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// urlEscape is FreeMarker's ?url with UTF-8: everything except ASCII letters,
// digits and - _ . ! ~ * ' ( ) is percent-encoded (space as %20).
func urlEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			strings.IndexByte("-_.!~*'()", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
