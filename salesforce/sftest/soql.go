package sftest

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// SOQL limits (salesforce-api.md §4).
const (
	maxStatement = 100000
	maxLiteral   = 4000
)

// tokenKind classifies SOQL tokens.
type tokenKind int

const (
	tokEOF tokenKind = iota
	tokIdent
	tokString
	tokNumber
	tokPunct
)

type token struct {
	kind tokenKind
	text string // identifier, punctuation or number as written; a string's value
	pos  int    // byte offset in the statement
}

// queryError is a SOQL error with the position Salesforce reports.
type queryError struct {
	code, text string
	pos        int
}

// lex splits a SOQL statement into tokens.
func lex(q string) ([]token, *queryError) {
	var toks []token
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case isLetter(c) || c == '_':
			j := scan(q, i, isNameByte)
			toks = append(toks, token{kind: tokIdent, text: q[i:j], pos: i})
			i = j
		case isDigit(c):
			j := scan(q, i, isDigit)
			toks = append(toks, token{kind: tokNumber, text: q[i:j], pos: i})
			i = j
		case c == '\'':
			value, end, err := lexString(q, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{kind: tokString, text: value, pos: i})
			i = end
		default:
			n := punctLen(q[i:])
			if n == 0 {
				return nil, &queryError{"MALFORMED_QUERY", unexpected(q[i:]), i}
			}
			toks = append(toks, token{kind: tokPunct, text: q[i : i+n], pos: i})
			i += n
		}
	}
	return append(toks, token{kind: tokEOF, pos: len(q)}), nil
}

// scan returns the offset after the run of bytes from q[i] that satisfy in.
func scan(q string, i int, in func(byte) bool) int {
	for i < len(q) && in(q[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isNameByte accepts the bytes of names, dotted relationship paths included.
func isNameByte(c byte) bool { return isLetter(c) || isDigit(c) || c == '_' || c == '.' }

func punctLen(s string) int {
	for _, p := range []string{"!=", "<>", "<=", ">=", "(", ")", ",", "=", "<", ">"} {
		if strings.HasPrefix(s, p) {
			return len(p)
		}
	}
	return 0
}

// unexpected words the parser's complaint about the text at s.
func unexpected(s string) string {
	if s == "" {
		return "unexpected token: <EOF>"
	}
	r := []rune(s)[0]
	return fmt.Sprintf("unexpected token: '%c'", r)
}

// lexString reads the quoted literal starting at q[start] and returns its
// value and the offset after the closing quote.
func lexString(q string, start int) (string, int, *queryError) {
	var units []uint16
	for i := start + 1; i < len(q); {
		c := q[i]
		switch c {
		case '\'':
			if len(units) > maxLiteral {
				return "", 0, &queryError{"MALFORMED_QUERY",
					fmt.Sprintf("String literal is too long: %d characters; the maximum is %d",
						len(units), maxLiteral), start}
			}
			return string(utf16.Decode(units)), i + 1, nil
		case '\\':
			n, adv, err := unescape(q, i)
			if err != nil {
				return "", 0, err
			}
			units = append(units, n...)
			i += adv
		default:
			r, size := utf8.DecodeRuneInString(q[i:])
			units = utf16.AppendRune(units, r)
			i += size
		}
	}
	return "", 0, &queryError{"MALFORMED_QUERY",
		"unexpected token: <EOF>: unterminated string literal", start}
}

// simpleEscapes maps the escape letters SOQL defines to their characters;
// upper-case letters work too.
var simpleEscapes = map[byte]uint16{
	'n': '\n', 'r': '\r', 't': '\t', 'b': '\b', 'f': '\f', '"': '"', '\'': '\'', '\\': '\\',
}

// unescape reads the escape sequence at q[i] (a backslash) and returns its
// UTF-16 units and length. Any escape SOQL does not define is an error.
func unescape(q string, i int) ([]uint16, int, *queryError) {
	if i+1 >= len(q) {
		return nil, 0, badEscape(q, i)
	}
	c := lowerASCII(q[i+1])
	if u, ok := simpleEscapes[c]; ok {
		return []uint16{u}, 2, nil
	}
	if c != 'u' || i+6 > len(q) {
		return nil, 0, badEscape(q, i)
	}
	n, err := strconv.ParseUint(q[i+2:i+6], 16, 16)
	if err != nil {
		return nil, 0, badEscape(q, i)
	}
	return []uint16{uint16(n)}, 6, nil
}

func badEscape(q string, i int) *queryError {
	seq := q[i:min(i+2, len(q))]
	return &queryError{"MALFORMED_QUERY",
		"Invalid string literal '" + seq + "'. Illegal character sequence '" + seq +
			"' in string literal.", i}
}

// selectStmt is a parsed SELECT of the subset the fake understands.
type selectStmt struct {
	fields    []token
	object    token
	where     expr
	limit     int // -1 without LIMIT
	statement string
}

// expr is a parsed WHERE condition.
type expr interface{}

// compareExpr is field = lit, field != lit, field IN (...) or NOT IN.
type compareExpr struct {
	field  token
	values []literal
	negate bool
}

// literal is a quoted string or null.
type literal struct {
	null bool
	text string
	pos  int
}

// junctionExpr joins conditions with one operator; SOQL requires
// parentheses to mix AND and OR.
type junctionExpr struct {
	and   bool
	parts []expr
}

// parser is a recursive-descent parser over the tokens of one statement.
type parser struct {
	toks []token
	i    int
	q    string
}

// parseSelect parses q; errors carry the position Salesforce would show.
func parseSelect(q string) (*selectStmt, *queryError) {
	if n := textLength(q, false); n > maxStatement {
		return nil, &queryError{"MALFORMED_QUERY", fmt.Sprintf(
			"SOQL statements cannot be longer than %d characters.", maxStatement), 0}
	}
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, q: q}
	return p.statement()
}

func (p *parser) peek() token { return p.toks[p.i] }

// keyword consumes the keyword kw (any case) if it comes next.
func (p *parser) keyword(kw string) bool {
	t := p.peek()
	if t.kind == tokIdent && strings.EqualFold(t.text, kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) punct(s string) bool {
	t := p.peek()
	if t.kind == tokPunct && t.text == s {
		p.i++
		return true
	}
	return false
}

// fail reports the next token as unexpected.
func (p *parser) fail() *queryError {
	t := p.peek()
	if t.kind == tokEOF {
		return &queryError{"MALFORMED_QUERY", "unexpected token: <EOF>", t.pos}
	}
	text := t.text
	if t.kind == tokString {
		text = p.q[t.pos:min(len(p.q), t.pos+1)]
	}
	return &queryError{"MALFORMED_QUERY", "unexpected token: '" + text + "'", t.pos}
}

var reserved = map[string]bool{
	"select": true, "from": true, "where": true, "limit": true, "and": true, "or": true,
	"in": true, "not": true, "null": true, "order": true, "by": true, "like": true,
}

func (p *parser) ident() (token, *queryError) {
	t := p.peek()
	if t.kind != tokIdent || reserved[strings.ToLower(t.text)] {
		return token{}, p.fail()
	}
	p.i++
	return t, nil
}

func (p *parser) statement() (*selectStmt, *queryError) {
	st := &selectStmt{limit: -1, statement: p.q}
	if !p.keyword("SELECT") {
		return nil, p.fail()
	}
	var err *queryError
	if st.fields, err = p.selectList(); err != nil {
		return nil, err
	}
	if !p.keyword("FROM") {
		return nil, p.fail()
	}
	if st.object, err = p.ident(); err != nil {
		return nil, err
	}
	if p.keyword("WHERE") {
		if st.where, err = p.condition(); err != nil {
			return nil, err
		}
	}
	if p.keyword("LIMIT") {
		if st.limit, err = p.number(); err != nil {
			return nil, err
		}
	}
	if p.peek().kind != tokEOF {
		return nil, p.fail()
	}
	return st, nil
}

func (p *parser) selectList() ([]token, *queryError) {
	var fields []token
	for {
		f, err := p.ident()
		if err != nil {
			return nil, err
		}
		fields = append(fields, f)
		if !p.punct(",") {
			return fields, nil
		}
	}
}

func (p *parser) number() (int, *queryError) {
	t := p.peek()
	n, err := strconv.Atoi(t.text)
	if t.kind != tokNumber || err != nil {
		return 0, p.fail()
	}
	p.i++
	return n, nil
}

// condition parses terms joined by AND or by OR, not both.
func (p *parser) condition() (expr, *queryError) {
	first, err := p.term()
	if err != nil {
		return nil, err
	}
	var j *junctionExpr
	for {
		var and bool
		switch {
		case p.keyword("AND"):
			and = true
		case p.keyword("OR"):
		default:
			if j == nil {
				return first, nil
			}
			return j, nil
		}
		if j == nil {
			j = &junctionExpr{and: and, parts: []expr{first}}
		} else if j.and != and {
			p.i--
			return nil, p.fail()
		}
		t, err := p.term()
		if err != nil {
			return nil, err
		}
		j.parts = append(j.parts, t)
	}
}

func (p *parser) term() (expr, *queryError) {
	if p.punct("(") {
		e, err := p.condition()
		if err != nil {
			return nil, err
		}
		if !p.punct(")") {
			return nil, p.fail()
		}
		return e, nil
	}
	field, err := p.ident()
	if err != nil {
		return nil, err
	}
	c := &compareExpr{field: field}
	switch {
	case p.punct("="):
	case p.punct("!="), p.punct("<>"):
		c.negate = true
	case p.keyword("IN"):
		return p.inList(c)
	case p.keyword("NOT"):
		if !p.keyword("IN") {
			return nil, p.fail()
		}
		c.negate = true
		return p.inList(c)
	default:
		return nil, p.fail()
	}
	lit, err := p.literal()
	if err != nil {
		return nil, err
	}
	c.values = []literal{lit}
	return c, nil
}

func (p *parser) inList(c *compareExpr) (expr, *queryError) {
	if !p.punct("(") {
		return nil, p.fail()
	}
	for {
		lit, err := p.literal()
		if err != nil {
			return nil, err
		}
		c.values = append(c.values, lit)
		if p.punct(")") {
			return c, nil
		}
		if !p.punct(",") {
			return nil, p.fail()
		}
	}
}

func (p *parser) literal() (literal, *queryError) {
	t := p.peek()
	switch {
	case t.kind == tokString:
		p.i++
		return literal{text: t.text, null: t.text == "", pos: t.pos}, nil
	case t.kind == tokIdent && strings.EqualFold(t.text, "null"):
		p.i++
		return literal{null: true, pos: t.pos}, nil
	}
	return literal{}, p.fail()
}

// message formats a query error as Salesforce does: the statement line
// with a caret under the position, then the row and column.
func (e *queryError) message(q string) string {
	lineStart := strings.LastIndexByte(q[:e.pos], '\n') + 1
	lineEnd := strings.IndexByte(q[e.pos:], '\n')
	if lineEnd < 0 {
		lineEnd = len(q)
	} else {
		lineEnd += e.pos
	}
	row := 1 + strings.Count(q[:e.pos], "\n")
	col := 1 + len([]rune(q[lineStart:e.pos]))
	return fmt.Sprintf("\n%s\n%s^\nERROR at Row:%d:Column:%d\n%s",
		q[lineStart:lineEnd], strings.Repeat(" ", col-1), row, col, e.text)
}
