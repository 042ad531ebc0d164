#!/bin/sh
# LocalStack ready hook: creates the summary queue and its dead-letter queue.
# The redrive policy (maxReceiveCount 5) is a safety net under the connector's
# own dead-lettering; the connector spreads its retries so that it decides
# before SQS does.
set -eu

QUEUE=${SUMMARY_QUEUE_NAME:-call-summaries}
DLQ=${SUMMARY_DLQ_NAME:-call-summaries-dlq}

dlq_url=$(awslocal sqs create-queue --queue-name "$DLQ" --query QueueUrl --output text)
dlq_arn=$(awslocal sqs get-queue-attributes --queue-url "$dlq_url" \
  --attribute-names QueueArn --query Attributes.QueueArn --output text)

cat > /tmp/queue-attributes.json <<JSON
{
  "VisibilityTimeout": "60",
  "RedrivePolicy": "{\"deadLetterTargetArn\":\"$dlq_arn\",\"maxReceiveCount\":\"5\"}"
}
JSON
awslocal sqs create-queue --queue-name "$QUEUE" --attributes file:///tmp/queue-attributes.json

echo "queues ready: $QUEUE (dead letters to $DLQ)"
