package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// TestMetricsEndpoint runs the worker in process against the fake org and
// the in-process SQS server, sends one message and scrapes /metrics.
func TestMetricsEndpoint(t *testing.T) {
	checkEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	t.Setenv("METRICS_ADDR", addr)
	t.Setenv("NOT_FOUND_GRACE", "0s")
	t.Setenv("LOG_LEVEL", "error")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	stderr := os.Stderr
	os.Stderr, _ = os.Open(os.DevNull)
	defer func() { os.Stderr = stderr }()
	go func() { done <- runWorker(ctx, "") }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("runWorker: %v", err)
		}
	}()

	client, err := newSQSClient(ctx, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(os.Getenv("SQS_QUEUE_URL")),
		MessageBody: aws.String(`{"clientCallId":"nobody","summary":"x"}`)}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`connector_messages_total{outcome="dead-letter",reason="NOT_FOUND"} 1`,
		`connector_message_duration_seconds_count{outcome="dead-letter"} 1`,
		`connector_salesforce_calls_total{resource="token",status="200"} 1`,
		`connector_salesforce_calls_total{resource="describe",status="200"} 1`,
		`connector_salesforce_tokens_total{kind="first"} 1`,
		`connector_ready 1`,
		`connector_paused 0`,
		`connector_salesforce_api_limit 100000`,
		`connector_inflight_messages 0`,
	}
	var body string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		body = scrape(t, "http://"+addr+"/metrics")
		if containsAll(body, want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("/metrics lacks %s", w)
		}
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
