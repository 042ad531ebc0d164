package sftest

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// Org is a Salesforce org held in memory: a schema, records, connected-app
// clients and the knobs that make it misbehave on purpose. Create one with
// NewOrg; the zero value is not usable. All methods are safe for concurrent
// use, also while its handlers serve requests.
type Org struct {
	orgID, userID string

	mu      sync.RWMutex // guards objects and seq
	objects map[string]*sobject
	seq     uint64

	auth     authState
	knobs    knobs
	faults   faultState
	counts   counters
	cursors  cursorStore
	clock    atomic.Pointer[func() time.Time]
	instance atomic.Pointer[string]
}

// NewOrg returns an org with the default schema (DefaultObjects), no
// records and no clients.
func NewOrg() *Org {
	o := &Org{
		orgID:   newID("00D", 7),
		userID:  newID("005", 11),
		objects: make(map[string]*sobject),
	}
	o.auth.init()
	o.knobs.init()
	o.counts.init()
	o.cursors.init()
	o.SetClock(time.Now)
	for _, obj := range DefaultObjects() {
		o.DefineObject(obj)
	}
	return o
}

// SetClock sets the source of LastModifiedDate, CreatedDate and issued_at;
// the default is time.Now.
func (o *Org) SetClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	o.clock.Store(&now)
}

// now returns the org's current time in UTC with millisecond precision, as
// Salesforce stores datetimes.
func (o *Org) now() time.Time {
	return (*o.clock.Load())().UTC().Truncate(time.Millisecond)
}

// DefineObject adds obj to the schema, replacing an object of the same name
// (in any case). Missing Id, CreatedDate and LastModifiedDate fields are
// added, and an empty KeyPrefix is made up. Records of a replaced object are
// kept, minus values of fields it no longer has.
func (o *Org) DefineObject(obj Object) {
	o.mu.Lock()
	defer o.mu.Unlock()

	if obj.Label == "" {
		obj.Label = obj.Name
	}
	if obj.KeyPrefix == "" {
		obj.KeyPrefix = "a0" + encodeBase62(uint64(len(o.objects)), 1)
	}
	s := newSObject(obj, o.now())
	key := strings.ToLower(obj.Name)
	if old, ok := o.objects[key]; ok {
		for id, rec := range old.records {
			s.records[id] = rec
			s.adopt(rec)
		}
	}
	o.objects[key] = s
}

// adopt fits rec, taken over from a replaced definition, to this one.
func (s *sobject) adopt(rec *record) {
	for name, v := range rec.values {
		f, ok := s.field(name)
		if !ok {
			delete(rec.values, name)
			continue
		}
		if f.Name != name {
			delete(rec.values, name)
			rec.values[f.Name] = v
		}
		if !rec.deleted {
			s.indexAdd(f, rec)
		}
	}
	for _, f := range s.def.Fields {
		if _, ok := rec.values[f.Name]; !ok {
			rec.values[f.Name] = nil
		}
	}
}

// object returns the object called name, in any case. The caller holds mu.
func (o *Org) object(name string) (*sobject, bool) {
	s, ok := o.objects[strings.ToLower(name)]
	return s, ok
}

// Insert stores a new record and returns its 18-character id, which the
// org generates. Fields are keyed by field name in any case; text values
// should be strings (empty text is stored as null, as Salesforce does) and
// datetimes time.Time or RFC 3339 strings. CreatedDate and LastModifiedDate
// default to the clock. Insert checks no lengths or uniqueness, so tests
// can seed states the API would refuse, such as two records sharing an
// external id. It panics if the object or a field is not defined, or if
// fields sets Id: that is a mistake in the calling test, not a condition
// to handle.
func (o *Org) Insert(object string, fields map[string]any) string {
	o.mu.Lock()
	defer o.mu.Unlock()

	s, ok := o.object(object)
	if !ok {
		panic(fmt.Sprintf("sftest: insert: no object %q", object))
	}
	rec, err := o.insert(s, fields)
	if err != nil {
		panic("sftest: insert: " + err.Error())
	}
	return rec.id
}

// insert creates a record in s. The caller holds mu for writing.
func (o *Org) insert(s *sobject, fields map[string]any) (*record, error) {
	values, err := s.normalize(fields)
	if err != nil {
		return nil, err
	}
	o.seq++
	now := o.now()
	rec := &record{id: newID(s.def.KeyPrefix, o.seq), seq: o.seq, values: map[string]any{}}
	rec.values[fieldID] = rec.id
	rec.values[fieldCreated] = now
	rec.values[fieldLastModified] = now
	s.records[rec.id[:15]] = rec
	for name, v := range values {
		s.set(rec, name, v)
	}
	for _, f := range s.def.Fields {
		if _, ok := rec.values[f.Name]; !ok {
			rec.values[f.Name] = nil
		}
	}
	return rec, nil
}

// Get returns a copy of the record's values keyed by canonical field name,
// or false if there is no such record or it is deleted. The id may have 15
// or 18 characters.
func (o *Org) Get(object, id string) (map[string]any, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()

	rec, err := o.lookupRecord(object, id)
	if err != nil {
		return nil, false
	}
	return copyValues(rec.values), true
}

// IsDeleted says whether the record exists and is in the recycle bin.
func (o *Org) IsDeleted(object, id string) bool {
	o.mu.RLock()
	defer o.mu.RUnlock()

	s, ok := o.object(object)
	if !ok {
		return false
	}
	key, ok := canonicalID(id)
	if !ok {
		return false
	}
	rec, ok := s.records[key]
	return ok && rec.deleted
}

// Records returns copies of the object's live records in the order they were
// created.
func (o *Org) Records(object string) []map[string]any {
	o.mu.RLock()
	defer o.mu.RUnlock()

	s, ok := o.object(object)
	if !ok {
		return nil
	}
	var out []map[string]any
	for _, rec := range s.liveRecords() {
		out = append(out, copyValues(rec.values))
	}
	return out
}

// Update changes fields of a record as another user would, setting
// LastModifiedDate from the clock unless fields sets it. Like Insert it
// skips the API's checks of lengths and updateability.
func (o *Org) Update(object, id string, fields map[string]any) error {
	o.mu.Lock()
	defer o.mu.Unlock()

	rec, err := o.lookupRecord(object, id)
	if err != nil {
		return fmt.Errorf("sftest: update: %w", err)
	}
	s, _ := o.object(object)
	values, err := s.normalize(fields)
	if err != nil {
		return fmt.Errorf("sftest: update: %w", err)
	}
	s.set(rec, fieldLastModified, o.now())
	for name, v := range values {
		s.set(rec, name, v)
	}
	return nil
}

// Delete moves a record to the recycle bin: it is no longer found by
// queries or lookups, and writes to it answer ENTITY_IS_DELETED. Deleting an
// unknown record does nothing.
func (o *Org) Delete(object, id string) {
	o.mu.Lock()
	defer o.mu.Unlock()

	s, ok := o.object(object)
	if !ok {
		return
	}
	key, ok := canonicalID(id)
	if !ok {
		return
	}
	rec, ok := s.records[key]
	if !ok || rec.deleted {
		return
	}
	for _, f := range s.def.Fields {
		s.indexRemove(&f, rec)
	}
	rec.deleted = true
}

// errNoRecord and its kin explain why lookupRecord found nothing.
var (
	errNoObject  = fmt.Errorf("no such object")
	errBadID     = fmt.Errorf("malformed id")
	errNoRecord  = fmt.Errorf("no such record")
	errIsDeleted = fmt.Errorf("record is deleted")
)

// lookupRecord finds a live record by 15- or 18-character id. The caller
// holds mu.
func (o *Org) lookupRecord(object, id string) (*record, error) {
	s, ok := o.object(object)
	if !ok {
		return nil, errNoObject
	}
	key, ok := canonicalID(id)
	if !ok {
		return nil, errBadID
	}
	rec, ok := s.records[key]
	switch {
	case !ok:
		return nil, errNoRecord
	case rec.deleted:
		return nil, errIsDeleted
	}
	return rec, nil
}

// liveRecords returns the records not deleted, in creation order.
func (s *sobject) liveRecords() []*record {
	out := make([]*record, 0, len(s.records))
	for _, rec := range s.records {
		if !rec.deleted {
			out = append(out, rec)
		}
	}
	sortBySeq(out)
	return out
}

func sortBySeq(recs []*record) {
	sort.Slice(recs, func(i, j int) bool { return recs[i].seq < recs[j].seq })
}

// normalize maps Go values given by a test to stored values keyed by
// canonical field name.
func (s *sobject) normalize(fields map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(fields))
	for name, v := range fields {
		f, ok := s.field(name)
		if !ok {
			return nil, fmt.Errorf("no field %q on %s", name, s.def.Name)
		}
		if f.Name == fieldID {
			return nil, fmt.Errorf("the Id of a %s record cannot be set", s.def.Name)
		}
		nv, err := normalizeValue(f, v)
		if err != nil {
			return nil, err
		}
		out[f.Name] = nv
	}
	return out, nil
}

func normalizeValue(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch f.Type {
	case "datetime", "date":
		return normalizeTime(f, v)
	}
	if textual(f) {
		s, ok := v.(string)
		if !ok {
			s = fmt.Sprint(v)
		}
		if s == "" {
			return nil, nil // Salesforce stores empty text as null
		}
		return s, nil
	}
	return v, nil
}

func normalizeTime(f *Field, v any) (any, error) {
	switch t := v.(type) {
	case time.Time:
		return t.UTC().Truncate(time.Millisecond), nil
	case string:
		for _, layout := range []string{time.RFC3339Nano, sfTimeLayout} {
			if parsed, err := time.Parse(layout, t); err == nil {
				return parsed.UTC().Truncate(time.Millisecond), nil
			}
		}
	}
	return nil, fmt.Errorf("field %s: %v is not a datetime", f.Name, v)
}

// sfTimeLayout is how Salesforce writes datetimes in JSON.
const sfTimeLayout = "2006-01-02T15:04:05.000-0700"

// set stores one value, keeping the value index current.
func (s *sobject) set(rec *record, name string, v any) {
	f, _ := s.field(name)
	s.indexRemove(f, rec)
	rec.values[f.Name] = v
	if !rec.deleted {
		s.indexAdd(f, rec)
	}
}

func (s *sobject) indexAdd(f *Field, rec *record) {
	idx, ok := s.index[f.Name]
	str, isStr := rec.values[f.Name].(string)
	if !ok || !isStr {
		return
	}
	key := foldKey(str)
	bucket := idx[key]
	if bucket == nil {
		bucket = make(map[string]*record, 1)
		idx[key] = bucket
	}
	bucket[rec.id[:15]] = rec
}

func (s *sobject) indexRemove(f *Field, rec *record) {
	idx, ok := s.index[f.Name]
	str, isStr := rec.values[f.Name].(string)
	if !ok || !isStr {
		return
	}
	key := foldKey(str)
	delete(idx[key], rec.id[:15])
	if len(idx[key]) == 0 {
		delete(idx, key)
	}
}

// match returns the live records whose field f equals value, ignoring case
// unless caseSensitive, in creation order.
func (s *sobject) match(f *Field, value string, caseSensitive bool) []*record {
	if f.Name == fieldID {
		key, ok := canonicalID(value)
		if rec := s.records[key]; ok && rec != nil && !rec.deleted {
			return []*record{rec}
		}
		return nil
	}
	idx, ok := s.index[f.Name]
	if !ok {
		return s.scan(f, value, caseSensitive)
	}
	var out []*record
	for _, rec := range idx[foldKey(value)] {
		if !caseSensitive || rec.values[f.Name] == value {
			out = append(out, rec)
		}
	}
	sortBySeq(out)
	return out
}

// scan is match for a field without an index.
func (s *sobject) scan(f *Field, value string, caseSensitive bool) []*record {
	var out []*record
	for _, rec := range s.liveRecords() {
		str, ok := rec.values[f.Name].(string)
		if ok && equalText(str, value, caseSensitive) {
			out = append(out, rec)
		}
	}
	return out
}

func equalText(a, b string, caseSensitive bool) bool {
	if caseSensitive {
		return a == b
	}
	return strings.EqualFold(a, b)
}

// foldKey maps s to a key shared by exactly the strings strings.EqualFold
// considers equal: each rune becomes the smallest rune of its case-folding
// orbit.
func foldKey(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToUpper(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(smallestFold(r))
	}
	return b.String()
}

func smallestFold(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return least
}

func copyValues(values map[string]any) map[string]any {
	out := make(map[string]any, len(values))
	for k, v := range values {
		out[k] = v
	}
	return out
}
