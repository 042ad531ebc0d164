package sftest

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// serveRecordGet answers GET sobjects/{Obj}/{Id}[?fields=a,b].
func (o *Org) serveRecordGet(c *call) *failure {
	objName, _ := url.PathUnescape(c.segs[1])
	idSeg, _ := url.PathUnescape(c.segs[2])

	o.mu.RLock()
	r, f := o.readRecord(c, objName, idSeg)
	o.mu.RUnlock()
	if f != nil {
		return f
	}
	writeJSON(c.w, http.StatusOK, r)
	return nil
}

// readRecord renders a record found by id. The caller holds o.mu.
func (o *Org) readRecord(c *call, objName, idSeg string) (row, *failure) {
	s, ok := o.object(objName)
	if !ok {
		return row{}, notFound()
	}
	fields, f := selectedFields(s, c.r.URL.Query().Get("fields"))
	if f != nil {
		return row{}, f
	}
	rec, err := o.lookupRecord(objName, idSeg)
	switch err {
	case errBadID:
		return row{}, badIDSegment(idSeg)
	case errNoRecord:
		return row{}, notFound()
	case errIsDeleted:
		return row{}, entityDeleted()
	}
	return newRow(s, rec, c.recordURL(s.def.Name, rec.id), fields), nil
}

// selectedFields resolves a ?fields= list, or all fields when it is empty.
func selectedFields(s *sobject, list string) ([]*Field, *failure) {
	if strings.TrimSpace(list) == "" {
		return s.allFields(), nil
	}
	var out []*Field
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		f, ok := s.field(name)
		if !ok {
			return nil, fail(http.StatusBadRequest, "INVALID_FIELD", noSuchColumn(name, s.def.Name))
		}
		out = append(out, f)
	}
	return out, nil
}

// noSuchColumn is the INVALID_FIELD text for reads and queries.
func noSuchColumn(field, object string) string {
	return "No such column '" + field + "' on entity '" + object + "'. If you are attempting " +
		"to use a custom field, be sure to append the '__c' after the custom field name. " +
		"Please reference your WSDL or the describe call for the appropriate names."
}

// serveRecordPatch answers PATCH sobjects/{Obj}/{Id}: 204 on success.
func (o *Org) serveRecordPatch(c *call) *failure {
	objName, _ := url.PathUnescape(c.segs[1])
	idSeg, _ := url.PathUnescape(c.segs[2])
	members, f := readFields(c.r)
	if f != nil {
		return f
	}

	o.mu.Lock()
	f = o.patchRecord(c, objName, idSeg, members)
	o.mu.Unlock()
	if f != nil {
		return f
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// patchRecord validates and applies an update by id, in the order of
// salesforce-api.md §5. The caller holds o.mu for writing.
func (o *Org) patchRecord(c *call, objName, idSeg string, members []fieldValue) *failure {
	s, ok := o.object(objName)
	if !ok {
		return notFound()
	}
	changes, f := validateChanges(s, members, c.set)
	if f != nil {
		return f
	}
	since, f := ifUnmodifiedSince(c.r)
	if f != nil {
		return f
	}

	key, ok := canonicalID(idSeg)
	rec := s.records[key]
	if ok && rec != nil && !since.IsZero() && modifiedSince(rec, since) {
		return preconditionFailed()
	}
	switch {
	case ok && rec != nil && rec.deleted:
		return entityDeleted()
	case ok && rec == nil:
		return notFound()
	case !ok:
		return badIDSegment(idSeg)
	}
	if f := checkUnique(s, rec, changes); f != nil {
		return f
	}
	if f := o.recordFault(c); f != nil {
		return f
	}
	c.journal.save(s, rec)
	o.apply(s, rec, changes)
	return nil
}

// extIDTarget is a resolved sobjects/{Obj}/{Field}/{value} path.
type extIDTarget struct {
	s     *sobject
	field *Field
	value string
}

// externalIDTarget resolves and checks an external-id path. Anything that
// Salesforce could not look up by path answers 404 NOT_FOUND. The caller
// holds o.mu.
func (o *Org) externalIDTarget(c *call) (extIDTarget, *failure) {
	objName, err1 := url.PathUnescape(c.segs[1])
	fieldName, err2 := url.PathUnescape(c.segs[2])
	rawValue := strings.Join(c.segs[3:], "/")
	value, err3 := url.PathUnescape(rawValue) // once; a raw '+' stays a plus
	if err1 != nil || err2 != nil || err3 != nil {
		return extIDTarget{}, notFound()
	}
	s, ok := o.object(objName)
	if !ok {
		return extIDTarget{}, notFound()
	}
	f, ok := s.field(fieldName)
	if !ok || !f.ExternalID && !f.IDLookup {
		return extIDTarget{}, notFound()
	}
	if value == "" || strings.Contains(value, "/") || hasExtension(value, c.set.extensions) {
		return extIDTarget{}, notFound()
	}
	return extIDTarget{s: s, field: f, value: value}, nil
}

// extensionPattern is the default rule: a trailing dot and letters reads
// as a format or domain suffix.
var extensionPattern = regexp.MustCompile(`\.[A-Za-z]+$`)

func hasExtension(value string, suffixes []string) bool {
	if suffixes == nil {
		return extensionPattern.MatchString(value)
	}
	lower := strings.ToLower(value)
	for _, suffix := range suffixes {
		if suffix != "" && strings.HasSuffix(lower, strings.ToLower(suffix)) {
			return true
		}
	}
	return false
}

// matches finds the live records an external-id path names.
func (t extIDTarget) matches(set *settings) []*record {
	caseSensitive := t.field.CaseSensitive
	switch set.extIDCase {
	case extIDCaseSensitive:
		caseSensitive = true
	case extIDCaseInsensitive:
		caseSensitive = false
	}
	return t.s.match(t.field, t.value, caseSensitive)
}

// serveExternalIDGet answers GET sobjects/{Obj}/{Field}/{value}: 200 with
// the record, 300 with the URLs of several, 404 for none.
func (o *Org) serveExternalIDGet(c *call) *failure {
	o.mu.RLock()
	status, body, f := o.lookupExternalID(c)
	o.mu.RUnlock()
	if f != nil {
		return f
	}
	writeJSON(c.w, status, body)
	return nil
}

// lookupExternalID builds the answer of an external-id GET. The caller
// holds o.mu.
func (o *Org) lookupExternalID(c *call) (int, any, *failure) {
	t, f := o.externalIDTarget(c)
	if f != nil {
		return 0, nil, f
	}
	recs := t.matches(c.set)
	switch len(recs) {
	case 0:
		return 0, nil, notFound()
	case 1:
		fields := t.s.allFields()
		if c.set.extIDFields {
			if fields, f = selectedFields(t.s, c.r.URL.Query().Get("fields")); f != nil {
				return 0, nil, f
			}
		}
		return http.StatusOK, newRow(t.s, recs[0], c.recordURL(t.s.def.Name, recs[0].id), fields), nil
	}
	return http.StatusMultipleChoices, recordURLs(c, t.s, recs), nil
}

func recordURLs(c *call, s *sobject, recs []*record) []string {
	urls := make([]string, len(recs))
	for i, rec := range recs {
		urls[i] = c.recordURL(s.def.Name, rec.id)
	}
	return urls
}

// upsertResult is the body of an upsert that created or updated a record.
type upsertResult struct {
	ID      string   `json:"id"`
	Success bool     `json:"success"`
	Errors  []string `json:"errors"`
	Created bool     `json:"created"`
}

// serveUpsert answers PATCH or POST sobjects/{Obj}/{Field}/{value}: it
// updates the one matching record (200), creates one when none matches
// (201), or lists several (300). The connector must never call it.
func (o *Org) serveUpsert(c *call) *failure {
	members, f := readFields(c.r)
	if f != nil {
		return f
	}

	o.mu.Lock()
	status, body, f := o.upsert(c, members)
	o.mu.Unlock()
	if f != nil {
		return f
	}
	if body == nil {
		c.w.WriteHeader(status)
		return nil
	}
	writeJSON(c.w, status, body)
	return nil
}

// upsert validates and applies an upsert. The caller holds o.mu for
// writing.
func (o *Org) upsert(c *call, members []fieldValue) (int, any, *failure) {
	t, f := o.externalIDTarget(c)
	if f != nil {
		return 0, nil, f
	}
	changes, f := validateChanges(t.s, members, c.set)
	if f != nil {
		return 0, nil, f
	}
	recs := t.matches(c.set)
	switch len(recs) {
	case 0:
		return o.upsertCreate(c, t, changes)
	case 1:
		return o.upsertUpdate(c, t, recs[0], changes)
	}
	return http.StatusMultipleChoices, recordURLs(c, t.s, recs), nil
}

func (o *Org) upsertCreate(c *call, t extIDTarget, changes []change) (int, any, *failure) {
	if t.field.Name == fieldID {
		return 0, nil, notFound()
	}
	changes = append(changes, change{field: t.field, value: t.value})
	if f := checkUnique(t.s, nil, changes); f != nil {
		return 0, nil, f
	}
	if f := o.recordFault(c); f != nil {
		return 0, nil, f
	}
	rec, err := o.insert(t.s, nil)
	if err != nil {
		return 0, nil, fail(http.StatusInternalServerError, "UNKNOWN_EXCEPTION", err.Error())
	}
	c.journal.created(t.s, rec)
	for _, ch := range changes {
		t.s.set(rec, ch.field.Name, ch.value)
	}
	res := upsertResult{ID: rec.id, Success: true, Errors: []string{}, Created: true}
	return http.StatusCreated, res, nil
}

func (o *Org) upsertUpdate(
	c *call, t extIDTarget, rec *record, changes []change,
) (int, any, *failure) {
	if f := checkUnique(t.s, rec, changes); f != nil {
		return 0, nil, f
	}
	if f := o.recordFault(c); f != nil {
		return 0, nil, f
	}
	c.journal.save(t.s, rec)
	o.apply(t.s, rec, changes)
	if major, _ := strconv.Atoi(strings.TrimSuffix(c.version, ".0")); major < 46 {
		return http.StatusNoContent, nil, nil // before 46.0 an update answered 204
	}
	return http.StatusOK, upsertResult{ID: rec.id, Success: true, Errors: []string{}}, nil
}
