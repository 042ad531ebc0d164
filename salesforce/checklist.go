package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// Check is one line of the setup checklist: what was checked, whether it
// passed, and what was found.
type Check struct {
	Name   string `json:"check"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Checklist checks the setup against the org the way a person handing the
// connector over would: a token, then the object and each configured field
// from describe. It goes on past a failed line where it can, so that one
// run shows every mistake; lines that depend on a failed one are left out.
// It does not change the client's state.
func (c *Client) Checklist(ctx context.Context) []Check {
	var list []Check
	add := func(name string, err error, detail string) bool {
		if err != nil {
			detail = err.Error()
		}
		list = append(list, Check{Name: name, OK: err == nil, Detail: detail})
		return err == nil
	}
	tok, err := c.token(ctx)
	if !add("domain reachable, token granted", err, "instance "+instanceOf(tok)) {
		return list
	}
	d, err := c.describeObject(ctx)
	if !add("object "+c.cfg.Object+" exists", err, "describe answered") {
		return list
	}
	c.checkLookupLines(d, add)
	c.checkTargetLines(d, add)
	add("write mode", nil, string(c.cfg.WriteMode)+", too-long policy "+string(c.cfg.TooLong))
	return list
}

func instanceOf(tok *token) string {
	if tok == nil {
		return ""
	}
	return tok.instanceURL
}

func (c *Client) checkLookupLines(d *describeResult, add func(string, error, string) bool) {
	lookup, err := c.checkLookup(d, c.cfg.LookupField, c.cfg.LookupExternalID)
	if add("lookup field "+c.cfg.LookupField+" exists and is filterable", err, "found") {
		add("lookup path", nil, lookupPath(lookup, c.cfg.LookupExternalID))
	}
	if c.cfg.OriginField == "" {
		add("origin field", nil, "not set (SF_ORIGIN_FIELD)")
		return
	}
	origin, err := c.checkLookup(d, c.cfg.OriginField, ExternalIDAuto)
	add("origin field "+c.cfg.OriginField+" exists and is filterable", err,
		lookupPath(origin, ExternalIDAuto))
}

// lookupPath says how a field will be searched, and why.
func lookupPath(f lookupField, mode ExternalIDMode) string {
	how := "SOQL query"
	if f.externalID {
		how = "External ID endpoint for a lone call id, SOQL query for batches"
	}
	why := map[ExternalIDMode]string{
		ExternalIDAuto: fmt.Sprintf("describe says externalId=%v and SF_LOOKUP_EXTERNAL_ID=auto",
			f.externalID),
		ExternalIDYes: "SF_LOOKUP_EXTERNAL_ID=true",
		ExternalIDNo:  "SF_LOOKUP_EXTERNAL_ID=false",
	}[mode]
	return how + " (" + why + ")"
}

func (c *Client) checkTargetLines(d *describeResult, add func(string, error, string) bool) {
	f, err := c.checkTarget(d)
	add("target field "+c.cfg.TargetField+" exists and is updateable", err,
		fmt.Sprintf("%s, %d characters", f.Type, f.Length))
}

// describeObject fetches the object's describe without checking it.
func (c *Client) describeObject(ctx context.Context) (*describeResult, error) {
	resp, err := c.do(ctx, request{
		method: http.MethodGet,
		path:   "sobjects/" + c.cfg.Object + "/describe",
	})
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", c.cfg.Object, err)
	}
	if resp.status != http.StatusOK {
		return nil, describeError(c.cfg.Object, resp)
	}
	var d describeResult
	if err := json.Unmarshal(resp.body, &d); err != nil {
		return nil, fmt.Errorf("describe %s: decode: %w", c.cfg.Object, err)
	}
	if d.Name == "" {
		d.Name = c.cfg.Object
	}
	return &d, nil
}
