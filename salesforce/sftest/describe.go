package sftest

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// describeResult is the sObject Describe body, with the keys the connector
// and salesforce-api.md §8 use.
type describeResult struct {
	Name        string            `json:"name"`
	Label       string            `json:"label"`
	LabelPlural string            `json:"labelPlural"`
	KeyPrefix   string            `json:"keyPrefix"`
	Custom      bool              `json:"custom"`
	Queryable   bool              `json:"queryable"`
	Retrievable bool              `json:"retrieveable"`
	Createable  bool              `json:"createable"`
	Updateable  bool              `json:"updateable"`
	Deletable   bool              `json:"deletable"`
	Fields      []fieldDescribe   `json:"fields"`
	URLs        map[string]string `json:"urls"`
}

type fieldDescribe struct {
	Name          string  `json:"name"`
	Label         string  `json:"label"`
	Type          string  `json:"type"`
	SoapType      string  `json:"soapType"`
	Length        int     `json:"length"`
	ByteLength    int     `json:"byteLength"`
	Custom        bool    `json:"custom"`
	ExternalID    bool    `json:"externalId"`
	IDLookup      bool    `json:"idLookup"`
	Unique        bool    `json:"unique"`
	CaseSensitive bool    `json:"caseSensitive"`
	Updateable    bool    `json:"updateable"`
	Createable    bool    `json:"createable"`
	Nillable      bool    `json:"nillable"`
	Filterable    bool    `json:"filterable"`
	Sortable      bool    `json:"sortable"`
	Calculated    bool    `json:"calculated"`
	HTMLFormatted bool    `json:"htmlFormatted"`
	ExtraTypeInfo *string `json:"extraTypeInfo"`
}

// serveDescribe answers GET sobjects/{Obj}/describe, or 304 when
// If-Modified-Since is not older than the object's definition.
func (o *Org) serveDescribe(c *call) *failure {
	name, _ := url.PathUnescape(c.segs[1])

	o.mu.RLock()
	s, ok := o.object(name)
	var res describeResult
	if ok {
		res = describe(s, c.base())
	}
	o.mu.RUnlock()
	if !ok {
		return notFound()
	}

	if since := c.r.Header.Get("If-Modified-Since"); since != "" {
		t, err := http.ParseTime(since)
		if err == nil && !s.definedAt.Truncate(time.Second).After(t) {
			c.w.WriteHeader(http.StatusNotModified)
			return nil
		}
	}
	writeJSON(c.w, http.StatusOK, res)
	return nil
}

func describe(s *sobject, base string) describeResult {
	name := s.def.Name
	res := describeResult{
		Name: name, Label: s.def.Label, LabelPlural: s.def.Label + "s",
		KeyPrefix: s.def.KeyPrefix, Custom: strings.HasSuffix(name, "__c"),
		Queryable: true, Retrievable: true, Createable: true, Updateable: true, Deletable: true,
		URLs: map[string]string{
			"sobject":     base + "/sobjects/" + name,
			"describe":    base + "/sobjects/" + name + "/describe",
			"rowTemplate": base + "/sobjects/" + name + "/{ID}",
		},
	}
	for _, f := range s.allFields() {
		res.Fields = append(res.Fields, describeField(f))
	}
	return res
}

func describeField(f *Field) fieldDescribe {
	d := fieldDescribe{
		Name: f.Name, Label: f.Label, Type: f.Type, SoapType: soapType(f.Type),
		Length: f.Length, ByteLength: byteLength(f),
		Custom:     strings.HasSuffix(f.Name, "__c"),
		ExternalID: f.ExternalID, IDLookup: f.IDLookup, Unique: f.Unique,
		CaseSensitive: f.CaseSensitive, Updateable: f.Updateable, Createable: f.Updateable,
		Nillable: f.Nillable, Filterable: f.Filterable, Sortable: f.Filterable,
	}
	if f.Type == "textarea" {
		plain := "plaintextarea"
		d.ExtraTypeInfo = &plain
	}
	return d
}

// byteLength follows Salesforce, which reserves three bytes per character
// of text fields.
func byteLength(f *Field) int {
	if f.Type == "id" || f.Type == "reference" {
		return f.Length
	}
	if textual(f) {
		return 3 * f.Length
	}
	return 0
}

func soapType(fieldType string) string {
	switch fieldType {
	case "id", "reference":
		return "tns:ID"
	case "datetime":
		return "xsd:dateTime"
	case "date":
		return "xsd:date"
	case "boolean":
		return "xsd:boolean"
	case "double", "currency", "percent":
		return "xsd:double"
	case "int":
		return "xsd:int"
	}
	return "xsd:string"
}
