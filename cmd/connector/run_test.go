package main

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/rs/zerolog"

	"github.com/callsummary/connector/salesforce"
	"github.com/callsummary/connector/salesforce/sftest"
)

func TestCheckSalesforceAtStartup(t *testing.T) {
	tests := []struct {
		name     string
		secret   string
		limit    bool // the org answers REQUEST_LIMIT_EXCEEDED
		wantExit int  // 0: start
	}{
		{"ready", "startup-secret", false, 0},
		{"api-limit-reached-starts-paused", "startup-secret", true, 0},
		{"wrong-secret-refuses", "not-the-secret", false, exitSetup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org := sftest.NewOrg()
			org.AddClient("startup-client", "startup-secret")
			if tt.limit {
				org.SetEnforceLimit(true)
				org.SetUsage(1000, 1000)
			}
			srv, err := org.Start()
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			sf, err := salesforce.New(salesforce.Config{
				Domain: srv.Domain, ClientID: "startup-client", ClientSecret: tt.secret,
				APIVersion: "66.0", Object: "Task", LookupField: "Call_Id__c",
				TargetField: "Summary__c", WriteMode: salesforce.Append,
			})
			if err != nil {
				t.Fatal(err)
			}
			err = checkSalesforce(context.Background(), sf, zerolog.New(io.Discard))
			var exit *exitError
			switch {
			case tt.wantExit == 0 && err != nil:
				t.Errorf("got %v, want a start", err)
			case tt.wantExit != 0 && (!errors.As(err, &exit) || exit.code != tt.wantExit):
				t.Errorf("got %v, want exit %d", err, tt.wantExit)
			}
		})
	}
}
