package sftest

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// queryResult is the body of a query answer.
type queryResult struct {
	TotalSize      int    `json:"totalSize"`
	Done           bool   `json:"done"`
	NextRecordsURL string `json:"nextRecordsUrl,omitempty"`
	Records        []row  `json:"records"`
}

// plan is a statement checked against the schema.
type plan struct {
	s      *sobject
	fields []*Field
	where  cond
	limit  int
}

// cond is a compiled WHERE condition.
type cond interface {
	// holds says whether rec satisfies the condition.
	holds(rec *record) bool
	// candidates returns a superset of the matching records found through
	// value indexes, or false when only a scan can tell.
	candidates(s *sobject) ([]*record, bool)
}

// serveQuery answers GET query?q=.
func (o *Org) serveQuery(c *call) *failure {
	q := c.r.URL.Query().Get("q")
	if strings.TrimSpace(q) == "" {
		return fail(http.StatusBadRequest, "MALFORMED_QUERY", "A query string has to be specified")
	}
	st, qerr := parseSelect(q)
	if qerr != nil {
		return fail(http.StatusBadRequest, qerr.code, qerr.message(q))
	}

	o.mu.RLock()
	rows, f := o.run(c, st)
	o.mu.RUnlock()
	if f != nil {
		return f
	}
	writeJSON(c.w, http.StatusOK, o.firstPage(c, rows))
	return nil
}

// run checks the statement against the schema and collects its rows. The
// caller holds o.mu.
func (o *Org) run(c *call, st *selectStmt) ([]row, *failure) {
	p, qerr := o.compile(st)
	if qerr != nil {
		return nil, fail(http.StatusBadRequest, qerr.code, qerr.message(st.statement))
	}
	recs := p.execute()
	rows := make([]row, len(recs))
	for i, rec := range recs {
		rows[i] = newRow(p.s, rec, c.recordURL(p.s.def.Name, rec.id), p.fields)
	}
	return rows, nil
}

// compile resolves names: the object, then the selected fields, then the
// fields of the condition.
func (o *Org) compile(st *selectStmt) (*plan, *queryError) {
	s, ok := o.object(st.object.text)
	if !ok {
		return nil, &queryError{"INVALID_TYPE", fmt.Sprintf("sObject type '%s' is not supported. "+
			"If you are attempting to use a custom object, be sure to append the '__c' after "+
			"the entity name. Please reference your WSDL or the describe call for the "+
			"appropriate names.", st.object.text), st.object.pos}
	}
	p := &plan{s: s, limit: st.limit}
	seen := make(map[string]bool)
	for _, t := range st.fields {
		f, ok := s.field(t.text)
		if !ok {
			return nil, &queryError{"INVALID_FIELD", noSuchColumn(t.text, s.def.Name), t.pos}
		}
		if seen[f.Name] {
			return nil, &queryError{"MALFORMED_QUERY", "duplicate field selected: " + f.Name, t.pos}
		}
		seen[f.Name] = true
		p.fields = append(p.fields, f)
	}
	if st.where != nil {
		where, err := compileExpr(s, st.where)
		if err != nil {
			return nil, err
		}
		p.where = where
	}
	return p, nil
}

func compileExpr(s *sobject, e expr) (cond, *queryError) {
	switch e := e.(type) {
	case *compareExpr:
		return compileCompare(s, e)
	case *junctionExpr:
		j := &junction{and: e.and}
		for _, part := range e.parts {
			c, err := compileExpr(s, part)
			if err != nil {
				return nil, err
			}
			j.parts = append(j.parts, c)
		}
		return j, nil
	}
	return nil, &queryError{"MALFORMED_QUERY", "unsupported condition", 0}
}

func compileCompare(s *sobject, e *compareExpr) (cond, *queryError) {
	f, ok := s.field(e.field.text)
	if !ok {
		return nil, &queryError{"INVALID_FIELD", noSuchColumn(e.field.text, s.def.Name), e.field.pos}
	}
	if !f.Filterable {
		return nil, &queryError{"INVALID_FIELD",
			"field '" + f.Name + "' can not be filtered in query call", e.field.pos}
	}
	c := &compare{field: f, negate: e.negate}
	for _, lit := range e.values {
		v, err := literalValue(f, lit)
		if err != nil {
			return nil, err
		}
		c.values = append(c.values, v)
	}
	return c, nil
}

// literalValue checks a literal against the field it is compared with.
func literalValue(f *Field, lit literal) (literal, *queryError) {
	if lit.null {
		return lit, nil
	}
	if !textual(f) {
		return lit, &queryError{"INVALID_QUERY_FILTER_OPERATOR", "value of filter criterion for " +
			"field '" + f.Name + "' must be of type " + f.Type + " and should not be enclosed in quotes",
			lit.pos}
	}
	if f.Name == fieldID {
		id, ok := canonicalID(lit.text)
		if !ok {
			return lit, &queryError{"INVALID_QUERY_FILTER_OPERATOR",
				"invalid ID field: " + lit.text, lit.pos}
		}
		lit.text = id
	}
	return lit, nil
}

// execute returns the matching live records in creation order, up to the
// limit.
func (p *plan) execute() []*record {
	var recs []*record
	if cands, ok := candidatesOf(p.s, p.where); ok {
		recs = dedupe(cands)
		sortBySeq(recs)
	} else {
		recs = p.s.liveRecords()
	}
	out := recs[:0:0]
	for _, rec := range recs {
		if rec.deleted || p.where != nil && !p.where.holds(rec) {
			continue
		}
		out = append(out, rec)
		if p.limit >= 0 && len(out) >= p.limit {
			break
		}
	}
	return out
}

func candidatesOf(s *sobject, c cond) ([]*record, bool) {
	if c == nil {
		return nil, false
	}
	return c.candidates(s)
}

func dedupe(recs []*record) []*record {
	seen := make(map[*record]bool, len(recs))
	out := recs[:0:0]
	for _, rec := range recs {
		if !seen[rec] {
			seen[rec] = true
			out = append(out, rec)
		}
	}
	return out
}

// compare is field = value(s), or its negation.
type compare struct {
	field  *Field
	values []literal
	negate bool
}

func (c *compare) holds(rec *record) bool {
	v := rec.values[c.field.Name]
	for _, lit := range c.values {
		if matchValue(c.field, v, lit) {
			return !c.negate
		}
	}
	return c.negate
}

// matchValue compares a stored value with a literal, ignoring case unless
// the field is case-sensitive. Ids compare by their 15-character form.
func matchValue(f *Field, v any, lit literal) bool {
	if lit.null || v == nil {
		return lit.null && v == nil
	}
	text, ok := v.(string)
	if !ok {
		text = fmt.Sprint(v)
	}
	if f.Name == fieldID {
		return len(text) >= 15 && text[:15] == lit.text
	}
	return equalText(text, lit.text, f.CaseSensitive)
}

func (c *compare) candidates(s *sobject) ([]*record, bool) {
	if c.negate {
		return nil, false
	}
	var out []*record
	for _, lit := range c.values {
		if lit.null {
			return nil, false
		}
		if c.field.Name == fieldID {
			if rec, ok := s.records[lit.text]; ok {
				out = append(out, rec)
			}
			continue
		}
		idx, ok := s.index[c.field.Name]
		if !ok {
			return nil, false
		}
		for _, rec := range idx[foldKey(lit.text)] {
			out = append(out, rec)
		}
	}
	return out, true
}

// junction is several conditions joined by AND or by OR.
type junction struct {
	and   bool
	parts []cond
}

func (j *junction) holds(rec *record) bool {
	for _, part := range j.parts {
		if part.holds(rec) != j.and {
			return !j.and
		}
	}
	return j.and
}

// candidates of an AND are those of its most selective indexed part; of
// an OR, the union of its parts if all are indexed.
func (j *junction) candidates(s *sobject) ([]*record, bool) {
	var best []*record
	found := false
	for _, part := range j.parts {
		cands, ok := part.candidates(s)
		switch {
		case !ok && !j.and:
			return nil, false
		case !ok:
		case j.and && (!found || len(cands) < len(best)):
			best, found = cands, true
		case !j.and:
			best, found = append(best, cands...), true
		}
	}
	return best, found
}

// cursorStore keeps the rows of queries answered in several batches.
type cursorStore struct {
	mu   sync.Mutex
	seq  uint64
	open map[string]*cursor
}

type cursor struct {
	rows  []row
	batch int
}

// maxCursors bounds the open query cursors; beyond it, old ones are
// dropped as Salesforce drops idle ones.
const maxCursors = 1000

func (cs *cursorStore) init() { cs.open = make(map[string]*cursor) }

func (cs *cursorStore) add(cur *cursor) string {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if len(cs.open) >= maxCursors {
		for id := range cs.open {
			delete(cs.open, id)
			break
		}
	}
	cs.seq++
	id := newID("01g", cs.seq)
	cs.open[id] = cur
	return id
}

func (cs *cursorStore) get(id string) (*cursor, bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cur, ok := cs.open[id]
	return cur, ok
}

func (cs *cursorStore) remove(id string) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	delete(cs.open, id)
}

// batchSize reads Sforce-Query-Options: batchSize=N (200 to 2000).
func batchSize(r *http.Request) int {
	for _, opt := range strings.Split(r.Header.Get("Sforce-Query-Options"), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(opt), "=")
		if n, err := strconv.Atoi(v); strings.EqualFold(k, "batchSize") && err == nil {
			return min(max(n, 200), queryBatchSize)
		}
	}
	return queryBatchSize
}

// firstPage answers with the first batch of rows, keeping the rest behind
// nextRecordsUrl.
func (o *Org) firstPage(c *call, rows []row) queryResult {
	batch := batchSize(c.r)
	res := queryResult{TotalSize: len(rows), Done: true, Records: rows}
	if len(rows) <= batch {
		return res
	}
	id := o.cursors.add(&cursor{rows: rows, batch: batch})
	res.Done = false
	res.Records = rows[:batch]
	res.NextRecordsURL = fmt.Sprintf("%s/query/%s-%d", c.base(), id, batch)
	return res
}

// serveQueryMore answers GET query/{locator}-{offset}.
func (o *Org) serveQueryMore(c *call) *failure {
	seg, _ := url.PathUnescape(c.segs[1])
	id, offText, _ := strings.Cut(seg, "-")
	offset, err := strconv.Atoi(offText)
	cur, ok := o.cursors.get(id)
	if err != nil || !ok || offset < 0 || offset >= len(cur.rows) {
		return fail(http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
	}
	end := min(offset+cur.batch, len(cur.rows))
	res := queryResult{
		TotalSize: len(cur.rows), Done: end == len(cur.rows), Records: cur.rows[offset:end],
	}
	if res.Done {
		o.cursors.remove(id)
	} else {
		res.NextRecordsURL = fmt.Sprintf("%s/query/%s-%d", c.base(), id, end)
	}
	writeJSON(c.w, http.StatusOK, res)
	return nil
}
