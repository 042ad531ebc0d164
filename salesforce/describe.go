package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// schema is what Prepare learnt from describe, with the org's spelling of
// each name.
type schema struct {
	object       string
	lookup       lookupField
	origin       *lookupField // nil when no origin field is configured
	target       string
	targetLength int // in characters (UTF-16 code units)
}

// lookupField is a field that holds call ids and the way to search it.
type lookupField struct {
	name          string
	externalID    bool // search through the External ID endpoint
	caseSensitive bool // values match only in the same case
}

// describeResult holds the parts of an sObject describe that are used.
type describeResult struct {
	Name   string          `json:"name"`
	Fields []describeField `json:"fields"`
}

type describeField struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Length     int    `json:"length"`
	ExternalID bool   `json:"externalId"`
	IDLookup   bool   `json:"idLookup"`
	Filterable bool   `json:"filterable"`
	Updateable bool   `json:"updateable"`
	// CaseSensitive is set on fields whose values compare with case, such
	// as a case-sensitive unique External ID.
	CaseSensitive bool `json:"caseSensitive"`
}

// Prepare fetches a token if none is cached and describes the object: the
// lookup field must exist and be filterable, the origin field (if any) too,
// and the target field must exist and be updateable. It records which lookup
// path each field takes and the target's length. A mismatch is a
// *SetupError. Prepare may be called again at any time; Apply calls it when
// it has never succeeded.
func (c *Client) Prepare(ctx context.Context) error {
	_, err := c.shared(ctx, "prepare", func(fctx context.Context) (any, error) {
		sch, err := c.describe(fctx)
		if err != nil {
			return nil, err
		}
		c.schema.Store(sch)
		return sch, nil
	})
	return err
}

// Probe checks that the client works again after a systemic failure: it
// fetches a token if there is none (or renews a refused one) and describes
// the object afresh, as Prepare does.
func (c *Client) Probe(ctx context.Context) error { return c.Prepare(ctx) }

// UsesExternalID reports whether the lookup field is searched through the
// External ID endpoint. It is false until Prepare has succeeded.
func (c *Client) UsesExternalID() bool {
	sch := c.schema.Load()
	return sch != nil && sch.lookup.externalID
}

// currentSchema returns the schema, preparing first if that never succeeded.
func (c *Client) currentSchema(ctx context.Context) (*schema, error) {
	if sch := c.schema.Load(); sch != nil {
		return sch, nil
	}
	if err := c.Prepare(ctx); err != nil {
		return nil, err
	}
	return c.schema.Load(), nil
}

func (c *Client) describe(ctx context.Context) (*schema, error) {
	d, err := c.describeObject(ctx)
	if err != nil {
		return nil, err
	}
	return c.checkSchema(d)
}

// describeError tells a missing object (a setup problem) from other failures.
func describeError(object string, resp *response) error {
	apiErr := resp.apiError()
	if resp.status == http.StatusNotFound || apiErr.Code == "INVALID_TYPE" {
		return &SetupError{Problem: fmt.Sprintf("object %s does not exist or is not accessible (%s)",
			object, apiErr.Code)}
	}
	return fmt.Errorf("describe %s: %w", object, apiErr)
}

func (c *Client) checkSchema(d *describeResult) (*schema, error) {
	if d.Name == "" {
		d.Name = c.cfg.Object
	}
	sch := &schema{object: d.Name}
	lookup, err := c.checkLookup(d, c.cfg.LookupField, c.cfg.LookupExternalID)
	if err != nil {
		return nil, err
	}
	sch.lookup = lookup
	if c.cfg.OriginField != "" {
		origin, err := c.checkLookup(d, c.cfg.OriginField, ExternalIDAuto)
		if err != nil {
			return nil, err
		}
		sch.origin = &origin
	}
	target, err := c.checkTarget(d)
	if err != nil {
		return nil, err
	}
	sch.target, sch.targetLength = target.Name, target.Length
	return sch, nil
}

func (c *Client) checkLookup(d *describeResult, name string, mode ExternalIDMode) (lookupField, error) {
	f, err := findField(d, name)
	if err != nil {
		return lookupField{}, err
	}
	if !f.Filterable {
		return lookupField{}, setupErrorf("field %s.%s is not filterable", d.Name, f.Name)
	}
	// Only External ID fields are documented for the External ID endpoint;
	// idLookup alone (Id, Name) is not taken as enough.
	ext := f.ExternalID
	switch mode {
	case ExternalIDYes:
		if !ext {
			return lookupField{}, setupErrorf("field %s.%s is not an External ID field", d.Name, f.Name)
		}
	case ExternalIDNo:
		ext = false
	}
	return lookupField{name: f.Name, externalID: ext, caseSensitive: f.CaseSensitive}, nil
}

func (c *Client) checkTarget(d *describeResult) (describeField, error) {
	f, err := findField(d, c.cfg.TargetField)
	if err != nil {
		return describeField{}, err
	}
	if !f.Updateable {
		return describeField{}, setupErrorf("field %s.%s is not updateable", d.Name, f.Name)
	}
	if f.Length <= 0 {
		return describeField{}, setupErrorf("field %s.%s is a %s, not a text field",
			d.Name, f.Name, f.Type)
	}
	return f, nil
}

// findField finds a field by API name, case-insensitively as Salesforce does.
func findField(d *describeResult, name string) (describeField, error) {
	for _, f := range d.Fields {
		if strings.EqualFold(f.Name, name) {
			return f, nil
		}
	}
	return describeField{}, setupErrorf("field %s.%s does not exist or is not accessible", d.Name, name)
}

func setupErrorf(format string, args ...any) *SetupError {
	return &SetupError{Problem: fmt.Sprintf(format, args...)}
}
