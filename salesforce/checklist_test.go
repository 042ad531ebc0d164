package salesforce

import (
	"context"
	"strings"
	"testing"
)

func TestChecklist(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(*Config)
		failing  []string // names of the lines that fail, in order
		contains string   // some line's detail holds this
	}{
		{"correct-setup", nil, nil, "External ID endpoint"},
		{"soql-field", func(c *Config) { c.LookupField = "CallObject" }, nil, "SOQL query"},
		{"wrong-secret", func(c *Config) { c.ClientSecret = "nope" }, []string{"domain reachable, token granted"},
			"invalid_client"},
		{"missing-object", func(c *Config) { c.Object = "Nothing__c" }, []string{"object Nothing__c exists"},
			"does not exist"},
		{"missing-lookup-field", func(c *Config) { c.LookupField = "Call_Key__c" },
			[]string{"lookup field Call_Key__c exists and is filterable"}, "does not exist"},
		{"lookup-not-filterable", func(c *Config) { c.LookupField = "Description" },
			[]string{"lookup field Description exists and is filterable"}, "not filterable"},
		{"forced-external-id-on-plain-field", func(c *Config) {
			c.LookupField, c.LookupExternalID = "CallObject", ExternalIDYes
		}, []string{"lookup field CallObject exists and is filterable"}, "not an External ID"},
		{"missing-origin-field", func(c *Config) { c.OriginField = "Origin__c" },
			[]string{"origin field Origin__c exists and is filterable"}, "does not exist"},
		{"target-read-only", func(c *Config) { c.TargetField = "Read_Only_Notes__c" },
			[]string{"target field Read_Only_Notes__c exists and is updateable"}, "not updateable"},
		{"two-mistakes-at-once", func(c *Config) { c.LookupField, c.TargetField = "Nope__c", "Nada__c" },
			[]string{"lookup field Nope__c exists and is filterable",
				"target field Nada__c exists and is updateable"}, "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startOrg(t)
			c := e.client(Append, tt.edit)
			list := c.Checklist(context.Background())
			var failing []string
			found := false
			for _, line := range list {
				if !line.OK {
					failing = append(failing, line.Name)
				}
				found = found || strings.Contains(line.Detail, tt.contains)
				if strings.Contains(line.Detail, testSecret) {
					t.Errorf("line %q shows the secret", line.Name)
				}
			}
			if strings.Join(failing, "|") != strings.Join(tt.failing, "|") {
				t.Errorf("failing lines %q, want %q\n%+v", failing, tt.failing, list)
			}
			if !found {
				t.Errorf("no line mentions %q:\n%+v", tt.contains, list)
			}
		})
	}
}
