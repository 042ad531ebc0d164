package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"
)

// record is what Apply needs of a record.
type record struct {
	id           string
	target       string    // "" when the field is null
	targetKnown  bool      // the answer carried the target field
	lastModified time.Time // zero when the answer did not carry it
}

// extensionPattern matches values ending in a dot and letters or digits,
// which Salesforce takes as a format or domain suffix in a path ("x.inc"),
// and also "." and "..".
var extensionPattern = regexp.MustCompile(`\.[A-Za-z0-9]*$`)

// pathSafe reports whether value can travel as one path segment of the
// External ID endpoint. Others are looked up through SOQL.
func pathSafe(value string) bool {
	return value != "" && !strings.Contains(value, "/") && !extensionPattern.MatchString(value)
}

// findByExternalID reads the record through the External ID endpoint. It
// only ever GETs: a PATCH or POST there would be an upsert.
func (c *Client) findByExternalID(ctx context.Context, sch *schema, field, value string) (
	record, bool, error) {
	resp, err := c.do(ctx, request{
		method: http.MethodGet,
		path:   "sobjects/" + sch.object + "/" + field + "/" + url.PathEscape(value),
	})
	if err != nil {
		return record{}, false, fmt.Errorf("find %s by %s: %w", sch.object, field, err)
	}
	switch {
	case resp.status == http.StatusOK:
		rec, err := parseRecord(resp.body, sch.target, "")
		return rec, err == nil, err
	case resp.status == http.StatusMultipleChoices:
		ids := parseChoices(resp.body)
		return record{}, false, &AmbiguousMatchError{
			Object: sch.object, Field: field, CallID: value, RecordIDs: ids}
	case resp.status == http.StatusNotFound && resp.apiError().Code == "NOT_FOUND":
		return record{}, false, nil
	}
	return record{}, false, fmt.Errorf("find %s by %s: %w", sch.object, field, resp.apiError())
}

// parseChoices reads the record ids from a 300 answer, a bare JSON array of
// record URLs.
func parseChoices(body []byte) []string {
	var urls []string
	if json.Unmarshal(body, &urls) != nil {
		return nil
	}
	ids := make([]string, 0, len(urls))
	for _, u := range urls {
		ids = append(ids, path.Base(u))
	}
	return ids
}

// parseRecord reads Id, the target field and LastModifiedDate from a record
// as the REST API returns it (sObject row, External ID GET, query row or
// collections row). knownID is the Id of a record read by Id, which need
// not repeat it; otherwise it is "" and the body must carry the Id.
func parseRecord(body []byte, target, knownID string) (record, error) {
	fields, err := decodeFields(body)
	if err != nil {
		return record{}, err
	}
	return recordOf(fields, target, knownID)
}

func decodeFields(body []byte) (map[string]json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, fmt.Errorf("decode record: %w", err)
	}
	return fields, nil
}

func recordOf(fields map[string]json.RawMessage, target, knownID string) (record, error) {
	rec := record{id: knownID}
	if raw, ok := fields["Id"]; ok && knownID == "" {
		_ = json.Unmarshal(raw, &rec.id)
	}
	if rec.id == "" {
		return record{}, errors.New("decode record: no Id")
	}
	if raw, ok := fieldValue(fields, target); ok {
		var v *string
		if err := json.Unmarshal(raw, &v); err != nil {
			return record{}, fmt.Errorf("decode record: %s is not text", target)
		}
		rec.targetKnown = true
		if v != nil {
			rec.target = *v
		}
	}
	if raw, ok := fieldValue(fields, "LastModifiedDate"); ok {
		rec.lastModified = parseDateTime(raw)
	}
	return rec, nil
}

// fieldValue looks a field up by its exact name, then case-insensitively.
func fieldValue(fields map[string]json.RawMessage, name string) (json.RawMessage, bool) {
	if raw, ok := fields[name]; ok {
		return raw, true
	}
	for k, raw := range fields {
		if strings.EqualFold(k, name) {
			return raw, true
		}
	}
	return nil, false
}

// dateTimeLayouts are the forms of a Salesforce datetime: the REST form
// "2026-05-01T10:15:00.000+0000", and RFC 3339 to be lenient.
var dateTimeLayouts = []string{"2006-01-02T15:04:05.000-0700", time.RFC3339Nano}

// parseDateTime returns the zero time for null or unreadable values.
func parseDateTime(raw json.RawMessage) time.Time {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return time.Time{}
	}
	for _, layout := range dateTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}
