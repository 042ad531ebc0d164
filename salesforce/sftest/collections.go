package sftest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Limits of sObject Collections (salesforce-api.md §6).
const (
	collectionsVersion = 42       // first API version serving sObject Collections
	maxRetrieveIDs     = 2000     // ids of one retrieve
	maxUpdateRecords   = 200      // records of one update
	maxURILength       = 16 << 10 // request URI of any data request
)

// Per-record status codes and messages of sObject Collections writes.
const (
	codeRolledBack = "ALL_OR_NONE_OPERATION_ROLLED_BACK"
	msgRolledBack  = "Record rolled back because not all records were valid and the request " +
		"was using AllOrNone header"
)

// saveResult is the outcome of one record of a collections write.
type saveResult struct {
	ID      string        `json:"id,omitempty"`
	Success bool          `json:"success"`
	Errors  []recordError `json:"errors"`
}

// recordError is one error of a saveResult. Unlike REST error arrays it
// names its code statusCode and always carries a fields list.
type recordError struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
}

// uriTooLong refuses any data request whose request URI is longer than
// Salesforce's front end accepts: a collections retrieve by GET of about
// 800 ids, or a query of a few hundred literals, gets 414.
func uriTooLong(r *http.Request) *failure {
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	if len(uri) <= maxURILength {
		return nil
	}
	return fail(http.StatusRequestURITooLong, "URI_TOO_LONG",
		fmt.Sprintf("The request URI is longer than %d characters", maxURILength))
}

// needVersion answers 404 below the API version that introduced a
// resource. The version has passed checkVersion.
func needVersion(c *call, first int) *failure {
	major, _ := strconv.Atoi(strings.TrimSuffix(c.version, ".0"))
	if major < first {
		return notFound()
	}
	return nil
}

func missingArgument(name string) *failure {
	return fail(http.StatusBadRequest, "MISSING_ARGUMENT", "Required parameter '"+name+"' is missing")
}

func exceededIDLimit(limit int) *failure {
	return fail(http.StatusBadRequest, "EXCEEDED_ID_LIMIT", fmt.Sprintf(
		"record limit reached. cannot submit more than %d records into this call", limit))
}

// decodeBody reads a JSON request body into v.
func decodeBody(r *http.Request, v any) *failure {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return jsonError("could not read the request body")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return jsonError("No content to map due to end-of-input")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return jsonError(err.Error())
	}
	return nil
}

// serveCollectionsGet answers GET composite/sobjects/{Obj}?ids=&fields=
// and POST of the same path with {"ids":[...],"fields":[...]}: the
// records in the order of the ids, null where an id finds no live record.
func (o *Org) serveCollectionsGet(c *call) *failure {
	if f := needVersion(c, collectionsVersion); f != nil {
		return f
	}
	objName, _ := url.PathUnescape(c.segs[2])
	ids, names, f := retrieveParams(c.r)
	if f != nil {
		return f
	}

	o.mu.RLock()
	rows, f := o.retrieve(c, objName, ids, names)
	o.mu.RUnlock()
	if f != nil {
		return f
	}
	writeJSON(c.w, http.StatusOK, rows)
	return nil
}

// retrieveParams reads the ids and field names of a retrieve, from the
// query string of a GET or the body of a POST. Both are required.
func retrieveParams(r *http.Request) (ids, names []string, f *failure) {
	if r.Method == http.MethodPost {
		var body struct {
			IDs    []string `json:"ids"`
			Fields []string `json:"fields"`
		}
		if f := decodeBody(r, &body); f != nil {
			return nil, nil, f
		}
		ids, names = body.IDs, body.Fields
	} else {
		q := r.URL.Query()
		ids, names = splitList(q.Get("ids")), splitList(q.Get("fields"))
	}
	switch {
	case len(ids) == 0:
		return nil, nil, missingArgument("ids")
	case len(names) == 0:
		return nil, nil, missingArgument("fields")
	}
	return ids, names, nil
}

// splitList splits a comma-separated parameter; empty gives nil.
func splitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// retrieve renders the records of a retrieve. The caller holds o.mu.
func (o *Org) retrieve(c *call, objName string, ids, names []string) ([]*row, *failure) {
	s, ok := o.object(objName)
	if !ok {
		return nil, notFound()
	}
	if len(ids) > maxRetrieveIDs {
		return nil, exceededIDLimit(maxRetrieveIDs)
	}
	fields, f := namedFields(s, names)
	if f != nil {
		return nil, f
	}
	rows := make([]*row, len(ids))
	for i, id := range ids {
		rec, err := o.lookupRecord(s.def.Name, id)
		if err != nil {
			continue // invalid, of another type, unknown or deleted: null
		}
		r := newRow(s, rec, c.recordURL(s.def.Name, rec.id), fields)
		rows[i] = &r
	}
	return rows, nil
}

// namedFields resolves field names, each once, in the order given.
func namedFields(s *sobject, names []string) ([]*Field, *failure) {
	var out []*Field
	seen := make(map[*Field]bool, len(names))
	for _, name := range names {
		f, ok := s.field(name)
		if !ok {
			return nil, fail(http.StatusBadRequest, "INVALID_FIELD", noSuchColumn(name, s.def.Name))
		}
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out, nil
}

// recordUpdate is one record of a collections PATCH, parsed.
type recordUpdate struct {
	s       *sobject
	id      string       // as sent, "" when absent or null
	id18    string       // the id when well formed and of type s, else ""
	members []fieldValue // the fields to write, without attributes and id
}

// serveCollectionsPatch answers PATCH composite/sobjects: one save result
// per record, in request order, with 200 unless the request itself is
// malformed.
func (o *Org) serveCollectionsPatch(c *call) *failure {
	if f := needVersion(c, collectionsVersion); f != nil {
		return f
	}
	var body struct {
		AllOrNone bool              `json:"allOrNone"`
		Records   []json.RawMessage `json:"records"`
	}
	if f := decodeBody(c.r, &body); f != nil {
		return f
	}
	if body.Records == nil {
		return missingArgument("records")
	}
	if len(body.Records) > maxUpdateRecords {
		return exceededIDLimit(maxUpdateRecords)
	}

	o.mu.Lock()
	results, f := o.updateRecords(c, body.Records, body.AllOrNone || c.allOrNone)
	o.mu.Unlock()
	if f != nil {
		return f
	}
	writeJSON(c.w, http.StatusOK, results)
	return nil
}

// updateRecords checks and writes the records in order. With allOrNone and
// any record failed, nothing stays written. The caller holds o.mu for
// writing.
func (o *Org) updateRecords(
	c *call, raws []json.RawMessage, allOrNone bool,
) ([]saveResult, *failure) {
	updates, f := o.parseUpdates(raws)
	if f != nil {
		return nil, f
	}
	unit := &journal{}
	results := make([]saveResult, len(updates))
	failed := false
	for i, u := range updates {
		res, f := o.updateOne(u, unit, c.set)
		if f != nil {
			o.rollback(unit)
			return nil, f
		}
		results[i] = res
		failed = failed || !res.Success
	}

	c.partial = failed
	if failed && allOrNone {
		o.rollback(unit)
		markRolledBack(results)
		return results, nil
	}
	c.journal.absorb(unit)
	return results, nil
}

// parseUpdates reads each record's type, id and fields. A record that is
// not a JSON object, or has no known attributes.type, makes the whole
// request malformed. The caller holds o.mu.
func (o *Org) parseUpdates(raws []json.RawMessage) ([]recordUpdate, *failure) {
	out := make([]recordUpdate, len(raws))
	for i, raw := range raws {
		members, f := decodeObject(raw)
		if f != nil {
			return nil, f
		}
		u := recordUpdate{}
		var typeName string
		for _, m := range members {
			switch {
			case m.name == "attributes":
				typeName = attributesType(m.raw)
			case strings.EqualFold(m.name, fieldID):
				u.id = idText(m.raw)
			default:
				u.members = append(u.members, m)
			}
		}
		s, ok := o.object(typeName)
		if !ok {
			return nil, invalidType(i, typeName)
		}
		u.s = s
		if key, ok := canonicalID(u.id); ok && strings.HasPrefix(key, s.def.KeyPrefix) {
			u.id18 = key + checksum(key)
		}
		out[i] = u
	}
	return out, nil
}

func attributesType(raw json.RawMessage) string {
	var attrs struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(raw, &attrs) != nil {
		return ""
	}
	return attrs.Type
}

// idText is the id member as text: a string as is, null as "", anything
// else as its JSON text, which is never a well-formed id.
func idText(raw json.RawMessage) string {
	var s *string
	if json.Unmarshal(raw, &s) == nil {
		if s == nil {
			return ""
		}
		return *s
	}
	return string(raw)
}

func invalidType(index int, typeName string) *failure {
	if typeName == "" {
		return fail(http.StatusBadRequest, "INVALID_TYPE", fmt.Sprintf(
			"record %d: each record must name its sObject type in attributes.type", index))
	}
	return fail(http.StatusBadRequest, "INVALID_TYPE", fmt.Sprintf(
		"record %d: sObject type '%s' is not supported", index, typeName))
}

// updateOne checks and writes one record. Its own failures become its
// save result; a failure returned ends the whole request (a JSON value
// that cannot be read). The caller holds o.mu for writing.
func (o *Org) updateOne(u recordUpdate, unit *journal, set *settings) (saveResult, *failure) {
	rec, changes, f := o.checkUpdate(u, set)
	if f == nil {
		f = o.drawRecordFault()
	}
	switch {
	case f != nil && f.errors[0].ErrorCode == "JSON_PARSER_ERROR":
		return saveResult{}, f
	case f != nil:
		return saveResult{ID: u.id18, Errors: recordErrors(f)}, nil
	}
	unit.save(u.s, rec)
	o.apply(u.s, rec, changes)
	return saveResult{ID: rec.id, Success: true, Errors: []recordError{}}, nil
}

// checkUpdate runs the checks of one record in order: the id, the fields
// (as a single PATCH checks them), then the record and unique values.
func (o *Org) checkUpdate(u recordUpdate, set *settings) (*record, []change, *failure) {
	switch {
	case u.id == "":
		return nil, nil, fail(http.StatusBadRequest, "MISSING_ARGUMENT",
			"Id not specified in an update call").withFields()
	case u.id18 == "":
		return nil, nil, fail(http.StatusBadRequest, "MALFORMED_ID",
			u.s.def.Label+" ID: id value of incorrect type: "+u.id).withFields(fieldID)
	}
	changes, f := validateChanges(u.s, u.members, set)
	if f != nil {
		return nil, nil, f
	}
	rec := u.s.records[u.id18[:15]]
	switch {
	case rec == nil:
		return nil, nil, fail(http.StatusBadRequest, "INVALID_CROSS_REFERENCE_KEY",
			"invalid cross reference id").withFields()
	case rec.deleted:
		return nil, nil, entityDeleted()
	}
	if f := checkUnique(u.s, rec, changes); f != nil {
		return nil, nil, f
	}
	return rec, changes, nil
}

// recordErrors turns REST errors into the errors of a save result.
func recordErrors(f *failure) []recordError {
	out := make([]recordError, len(f.errors))
	for i, e := range f.errors {
		fields, _ := e.Fields.([]string)
		if fields == nil {
			fields = []string{}
		}
		out[i] = recordError{StatusCode: e.ErrorCode, Message: e.Message, Fields: fields}
	}
	return out
}

// markRolledBack turns the successes of a failed all-or-none write into
// rollback errors.
func markRolledBack(results []saveResult) {
	for i := range results {
		if results[i].Success {
			results[i].Success = false
			results[i].Errors = []recordError{{
				StatusCode: codeRolledBack, Message: msgRolledBack, Fields: []string{},
			}}
		}
	}
}

// recordFault draws a SetRecordFaultRate fault for a single record write
// made by a composite subrequest; direct calls draw none.
func (o *Org) recordFault(c *call) *failure {
	if !c.recordFaults {
		return nil
	}
	return o.drawRecordFault()
}

// drawRecordFault draws a SetRecordFaultRate fault for one record.
func (o *Org) drawRecordFault() *failure {
	fault, ok := o.faults.drawRecord()
	if !ok {
		return nil
	}
	return &failure{status: fault.Status, errors: fault.body()}
}
