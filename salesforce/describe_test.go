package salesforce

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestPrepareChecksSchema(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(*Config)
		describe func(string) string
		problem  string // in the *SetupError; "" when Prepare succeeds
	}{
		{"valid", nil, nil, ""},
		{"target-missing", func(c *Config) { c.TargetField = "Summry__c" }, nil, "does not exist"},
		{"target-read-only", func(c *Config) { c.TargetField = "Read_Only_Notes__c" }, nil,
			"not updateable"},
		{"target-not-text", func(c *Config) { c.TargetField = "Done__c" }, nil, "not a text field"},
		{"lookup-missing", func(c *Config) { c.LookupField = "Nope__c" }, nil, "does not exist"},
		{"lookup-not-filterable", func(c *Config) { c.LookupField = "Description" }, nil,
			"not filterable"},
		{"lookup-forced-external", func(c *Config) {
			c.LookupField, c.LookupExternalID = "CallObject", ExternalIDYes
		}, nil, "not an External ID"},
		{"origin-missing", func(c *Config) { c.OriginField = "Origin__c" }, nil, "does not exist"},
		{"origin-not-filterable", func(c *Config) { c.OriginField = "Description" }, nil,
			"not filterable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newTestOrg(t, okRoute)
			if tt.describe != nil {
				o.setDescribe(tt.describe(taskDescribe))
			}
			c := o.client(Append, tt.edit)

			err := c.Prepare(context.Background())
			if tt.problem == "" {
				if err != nil {
					t.Fatalf("Prepare: %v", err)
				}
				return
			}
			var setup *SetupError
			if !errors.As(err, &setup) || !strings.Contains(setup.Problem, tt.problem) {
				t.Fatalf("error = %v, want *SetupError with %q", err, tt.problem)
			}
			if got := ClassOf(err); got != Systemic {
				t.Errorf("class = %v, want systemic", got)
			}
		})
	}
}

func TestPrepareObjectNotFound(t *testing.T) {
	o := newTestOrg(t, okRoute)
	c := o.client(Append, func(cfg *Config) { cfg.Object = "Tsak" })
	o.setDescribe(`[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]`)
	o.describeStatus.Store(http.StatusNotFound)

	err := c.Prepare(context.Background())
	var setup *SetupError
	if !errors.As(err, &setup) {
		t.Fatalf("error = %v, want *SetupError", err)
	}
}

func TestApplyPreparesOnceLazily(t *testing.T) {
	o := newTestOrg(t, okRoute)
	c := o.client(Overwrite, nil)
	ctx := context.Background()
	for range 3 {
		if _, err := c.Apply(ctx, Summary{CallID: "c-1", Text: "x", SummaryID: "s"}); err != nil {
			t.Fatalf("Apply: %v", err)
		}
	}
	if got := o.describes.Load(); got != 1 {
		t.Errorf("describes = %d, want 1", got)
	}
}

func TestProbeRenewsAndDescribes(t *testing.T) {
	o := newTestOrg(t, okRoute)
	c := o.client(Overwrite, nil)
	ctx := context.Background()
	if err := c.Prepare(ctx); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	o.expireTokens()
	if err := c.Probe(ctx); err != nil {
		t.Fatalf("Probe: %v", err)
	}
	if got := o.describes.Load(); got != 2 {
		t.Errorf("describes = %d, want 2", got)
	}
	if got := o.tokenRequests.Load(); got != 2 {
		t.Errorf("token requests = %d, want 2", got)
	}
}
