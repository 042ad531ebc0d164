package sftest

import (
	"strings"
	"time"
)

// Object describes an sObject type: its API name, label, the three-character
// prefix of its record ids, and its fields.
type Object struct {
	Name, Label, KeyPrefix string
	Fields                 []Field
}

// Field describes one field of an Object as describe reports it. Type is a
// Salesforce field type such as id, string, textarea or datetime; Length
// is the maximum length in characters of text fields.
type Field struct {
	Name, Label, Type string
	Length            int

	ExternalID, IDLookup, Unique, CaseSensitive, Updateable, Filterable, Nillable bool
}

// Names of the system fields every object has.
const (
	fieldID           = "Id"
	fieldCreated      = "CreatedDate"
	fieldLastModified = "LastModifiedDate"
)

// sobject is an Object with its records and lookup structures. It is
// guarded by Org.mu.
type sobject struct {
	def       Object
	fields    map[string]*Field  // by lower-case name
	records   map[string]*record // by 15-character id
	index     map[string]valueIndex
	definedAt time.Time
}

// valueIndex finds records by the folded value of one field: fold key, then
// 15-character id.
type valueIndex map[string]map[string]*record

// record is one stored record. values is keyed by canonical field name and
// holds strings, time.Time for datetimes, nil, or what Insert was given.
type record struct {
	id      string // 18 characters
	seq     uint64
	values  map[string]any
	deleted bool
}

// field returns the field called name, in any case.
func (s *sobject) field(name string) (*Field, bool) {
	f, ok := s.fields[strings.ToLower(name)]
	return f, ok
}

// newSObject builds the stored form of def, completing missing system
// fields.
func newSObject(def Object, now time.Time) *sobject {
	def.Fields = withSystemFields(def.Fields)
	s := &sobject{
		def:       def,
		fields:    make(map[string]*Field, len(def.Fields)),
		records:   make(map[string]*record),
		index:     make(map[string]valueIndex),
		definedAt: now,
	}
	for i := range s.def.Fields {
		f := &s.def.Fields[i]
		if f.Label == "" {
			f.Label = f.Name
		}
		s.fields[strings.ToLower(f.Name)] = f
		if indexed(f) {
			s.index[f.Name] = make(valueIndex)
		}
	}
	return s
}

// withSystemFields returns fields with Id, CreatedDate and LastModifiedDate
// added where missing.
func withSystemFields(fields []Field) []Field {
	out := append([]Field(nil), fields...)
	have := make(map[string]bool, len(out))
	for _, f := range out {
		have[strings.ToLower(f.Name)] = true
	}
	if !have["id"] {
		out = append([]Field{idField("Record ID")}, out...)
	}
	if !have["lastmodifieddate"] {
		out = append(out, dateField(fieldLastModified, "Last Modified Date"))
	}
	if !have["createddate"] {
		out = append(out, dateField(fieldCreated, "Created Date"))
	}
	return out
}

// indexed says whether lookups on f go through a value index.
func indexed(f *Field) bool {
	return textual(f) && f.Name != fieldID && (f.Filterable || f.ExternalID || f.IDLookup)
}

// textual says whether f holds text that is compared as a string.
func textual(f *Field) bool {
	switch f.Type {
	case "id", "string", "textarea", "email", "phone", "url", "picklist", "combobox",
		"reference", "encryptedstring":
		return true
	}
	return false
}

// DefaultObjects returns the schema of a new Org: Task and Case with the
// fields the connector uses.
func DefaultObjects() []Object {
	return []Object{
		{Name: "Task", Label: "Task", KeyPrefix: "00T", Fields: commonFields("Activity ID", "Comments")},
		{Name: "Case", Label: "Case", KeyPrefix: "500", Fields: commonFields("Case ID", "Description")},
	}
}

func commonFields(idLabel, descriptionLabel string) []Field {
	return []Field{
		idField(idLabel),
		textField("Subject", "Subject", "string", 255, true),
		textField("Description", descriptionLabel, "textarea", 32000, false),
		textField("CallObject", "Call Object Identifier", "string", 255, true),
		{
			Name: "Call_Id__c", Label: "Call Id", Type: "string", Length: 255,
			ExternalID: true, IDLookup: true, Unique: true,
			Updateable: true, Filterable: true, Nillable: true,
		},
		textField("Origin_Call_Id__c", "Origin Call Id", "string", 255, true),
		textField("Summary__c", "Summary", "textarea", 131072, false),
		textField("Short_Summary__c", "Short Summary", "textarea", 500, false),
		{
			Name: "Read_Only_Notes__c", Label: "Read Only Notes", Type: "textarea",
			Length: 1000, Nillable: true,
		},
		dateField(fieldLastModified, "Last Modified Date"),
		dateField(fieldCreated, "Created Date"),
	}
}

func idField(label string) Field {
	return Field{
		Name: fieldID, Label: label, Type: "id", Length: 18,
		IDLookup: true, Filterable: true,
	}
}

func textField(name, label, typ string, length int, filterable bool) Field {
	return Field{
		Name: name, Label: label, Type: typ, Length: length,
		Updateable: true, Filterable: filterable, Nillable: true,
	}
}

func dateField(name, label string) Field {
	return Field{Name: name, Label: label, Type: "datetime", Filterable: true}
}
