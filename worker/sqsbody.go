package worker

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// ownRequestBody makes every attempt of an SQS call send a request body
// that only net/http closes; the worker passes it to every call it makes.
// The SDK closes the body it built as soon as the response headers
// arrive, but net/http may still be using it: after writing
// Content-Length bytes it reads on to check that nothing is left. When the
// queue answers before that check (a nearby queue and a busy client), the
// check fails on the closed body, net/http closes the connection under the
// response, and the SDK retries; the messages of the lost answer stay hidden
// until their visibility timeout. A copy in memory is sent together with the
// headers, after the check, and nothing but net/http holds it. A retried
// receive hides messages; a retried dead-letter send doubles one.
func ownRequestBody(o *sqs.Options) {
	o.HTTPClient = ownBodyClient{next: o.HTTPClient}
}

// ownBodyClient sends each request with an in-memory copy of its body.
type ownBodyClient struct {
	next sqs.HTTPClient
}

// Do sends r with a copy of its body that nobody else can close.
func (c ownBodyClient) Do(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return c.next.Do(r)
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}

	r = r.Clone(r.Context())
	r.GetBody = func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(body)), nil
	}
	r.Body, _ = r.GetBody()
	return c.next.Do(r)
}
