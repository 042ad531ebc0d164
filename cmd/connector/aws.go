package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// newSQSClient builds an SQS client from the AWS SDK's default chain
// (AWS_REGION, credentials, AWS_ENDPOINT_URL_SQS) with an HTTP timeout that
// must outlast the long poll.
func newSQSClient(ctx context.Context, timeout time.Duration) (*sqs.Client, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx,
		awsconfig.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(timeout)))
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	return sqs.NewFromConfig(cfg), nil
}

func newHTTPClient(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	// Batches send their lookups and writes side by side; keep those
	// connections open instead of the default two per host.
	t.MaxIdleConnsPerHost = salesforceIdleConns
	return &http.Client{Timeout: timeout, Transport: t}
}

// salesforceIdleConns is the idle connections kept to the Salesforce
// instance: more than the calls in flight at once.
const salesforceIdleConns = 64

// checkQueues asks SQS about each queue, which proves that the queue
// exists and that the credentials may reach it.
func checkQueues(ctx context.Context, c *sqs.Client, urls ...string) error {
	for _, u := range urls {
		if _, err := queueAttributes(ctx, c, u); err != nil {
			return fmt.Errorf("sqs check: queue %s: %w", u, err)
		}
	}
	return nil
}

// queueAttributes reads what the checks show of a queue: its visibility
// timeout and redrive policy.
func queueAttributes(ctx context.Context, c *sqs.Client, url string) (map[string]string, error) {
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameVisibilityTimeout, types.QueueAttributeNameRedrivePolicy},
	})
	if err != nil {
		return nil, err
	}
	return out.Attributes, nil
}
