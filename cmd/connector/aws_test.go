package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/callsummary/connector/worker/sqstest"
)

func TestCheckQueues(t *testing.T) {
	srv := sqstest.New()
	url, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	queue, _ := srv.CreateQueue("summaries", nil)
	client := sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", "")})
	missing := url + "/000000000000/missing-dlq"

	tests := []struct {
		name    string
		urls    []string
		wantErr string
	}{
		{"both-exist", []string{queue, queue}, ""},
		{"dlq-missing", []string{queue, missing}, "missing-dlq"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkQueues(context.Background(), client, tt.urls...)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("got %v, want no error", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("got %v, want an error naming %q", err, tt.wantErr)
			}
		})
	}
}
