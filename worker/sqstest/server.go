package sqstest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxRequestBytes bounds a request body. A batch of ten 1 MiB messages,
// JSON-escaped, stays well under it.
const maxRequestBytes = 64 << 20

// shutdownGrace is how long Close lets answers in progress finish.
const shutdownGrace = 5 * time.Second

// Server is an in-memory SQS service that speaks the JSON protocol of the
// AWS SDKs. It keeps standard queues only. The zero value is not usable;
// call New. A Server is safe for concurrent use.
//
// Lock order: Server.mu may be held while a queue's mutex is taken; a
// queue's mutex is never held while taking Server.mu or another queue's.
type Server struct {
	receipts receipts
	fresh    freshConns
	closed   chan struct{}
	closing  sync.Once
	requests atomic.Uint64

	mu         sync.RWMutex
	queues     map[string]*queue
	base       string
	httpServer *http.Server
	served     chan struct{}

	faultMu     sync.Mutex
	failNext    map[string]int
	failEntries func(action, entryID string) bool
	calls       map[string]int
}

// New returns a Server that is not yet listening. Serve it with Start or
// mount it as an http.Handler.
func New() *Server {
	return &Server{
		receipts: newReceipts(),
		closed:   make(chan struct{}),
		queues:   map[string]*queue{},
		failNext: map[string]int{},
		calls:    map[string]int{},
	}
}

// Start listens on a free port of 127.0.0.1 and serves in the background.
// It returns the base URL, such as "http://127.0.0.1:41234", to use as the
// SDK's endpoint. A Server starts at most once.
func (s *Server) Start() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.httpServer != nil {
		return "", errors.New("sqstest: server already started")
	}
	select {
	case <-s.closed:
		return "", errors.New("sqstest: server closed")
	default:
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("sqstest: listen: %w", err)
	}
	s.base = "http://" + ln.Addr().String()
	s.httpServer = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second,
		ConnState: s.fresh.track}
	s.served = make(chan struct{})
	go func(srv *http.Server, done chan struct{}) {
		defer close(done)
		srv.Serve(ln)
	}(s.httpServer, s.served)
	return s.base, nil
}

// URL returns the base URL Start returned, or "" before Start.
func (s *Server) URL() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.base
}

// Close ends every long poll, which then answers with no messages, stops
// listening and waits briefly for answers in progress. Queues stay
// readable through the Go methods. Close may be called more than once.
func (s *Server) Close() {
	s.closing.Do(func() { close(s.closed) })
	s.mu.RLock()
	srv, served := s.httpServer, s.served
	s.mu.RUnlock()
	if srv == nil {
		return
	}
	// Shutdown counts a connection that has sent no request yet as busy for
	// its first seconds; such connections have nothing to finish.
	s.fresh.closeAll()
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		srv.Close()
	}
	<-served
}

// action serves one SQS action. base is the URL prefix of queue URLs in
// the answer.
type action func(s *Server, ctx context.Context, body []byte, base string) (any, *apiError)

// actions are the SQS actions this server implements, by name.
var actions = map[string]action{
	"CreateQueue":                  (*Server).createQueueAction,
	"GetQueueUrl":                  (*Server).getQueueURLAction,
	"GetQueueAttributes":           (*Server).getQueueAttributesAction,
	"SetQueueAttributes":           (*Server).setQueueAttributesAction,
	"ListQueues":                   (*Server).listQueuesAction,
	"DeleteQueue":                  (*Server).deleteQueueAction,
	"PurgeQueue":                   (*Server).purgeQueueAction,
	"SendMessage":                  (*Server).sendMessageAction,
	"SendMessageBatch":             (*Server).sendMessageBatchAction,
	"ReceiveMessage":               (*Server).receiveMessageAction,
	"DeleteMessage":                (*Server).deleteMessageAction,
	"DeleteMessageBatch":           (*Server).deleteMessageBatchAction,
	"ChangeMessageVisibility":      (*Server).changeVisibilityAction,
	"ChangeMessageVisibilityBatch": (*Server).changeVisibilityBatchAction,
}

// ServeHTTP answers one SQS JSON-protocol request: POST with
// X-Amz-Target "AmazonSQS.<Action>". Signatures are accepted unchecked.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, found := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
	if r.Method != http.MethodPost || !found || !isJSONProtocol(r.Header.Get("Content-Type")) {
		s.writeError(w, kindInvalidAction.errorf("This server speaks only the SQS JSON "+
			"protocol: POST with Content-Type application/x-amz-json-1.0 and X-Amz-Target "+
			"AmazonSQS.<Action>."))
		return
	}
	s.count(name)
	if s.takeFailure(name) {
		s.writeError(w, errInternal())
		return
	}
	act, ok := actions[name]
	if !ok {
		s.writeError(w, kindInvalidAction.errorf("The action %s is not valid for this endpoint.",
			name))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes))
	if err != nil {
		s.writeError(w, kindSerialization.errorf("Could not read the request body: %v", err))
		return
	}
	out, aerr := act(s, r.Context(), body, s.baseFor(r))
	if aerr != nil {
		s.writeError(w, aerr)
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}

func isJSONProtocol(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.TrimSpace(mt)
	return mt == "application/x-amz-json-1.0" || mt == "application/x-amz-json-1.1"
}

// baseFor is the scheme and host of queue URLs: the started address, or
// the host the request came to when the Server is mounted elsewhere.
func (s *Server) baseFor(r *http.Request) string {
	if base := s.URL(); base != "" {
		return base
	}
	return "http://" + r.Host
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"__type":"com.amazonaws.sqs#InternalError","message":"encode response"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("x-amzn-RequestId", s.requestID())
	w.WriteHeader(status)
	w.Write(b)
}

func (s *Server) writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("x-amzn-query-error", e.queryErrorHeader())
	s.writeJSON(w, e.kind.status, struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{"com.amazonaws.sqs#" + e.kind.shape, e.message})
}

// requestID returns a request id shaped like SQS's (a UUID).
func (s *Server) requestID() string {
	n := s.requests.Add(1)
	return fmt.Sprintf("00000000-0000-4000-8000-%012x", n)
}

// decode reads a request body into v.
func decode(body []byte, v any) *apiError {
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return kindSerialization.errorf("The request body is not valid for this action: %v", err)
	}
	return nil
}

// queueURL is the URL of the named queue under base.
func queueURL(base, name string) string {
	return base + "/" + accountID + "/" + name
}

// queueNameFromURL extracts the queue name from a queue URL. Like SQS
// emulators generally, it ignores scheme, host and port, so a URL keeps
// working whatever address the server is reached by.
func queueNameFromURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	path := strings.TrimSuffix(u.Path, "/")
	return path[strings.LastIndex(path, "/")+1:]
}

// lookup returns the queue named name, or nil.
func (s *Server) lookup(name string) *queue {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.queues[name]
}

// queueFor returns the queue a request's QueueUrl names.
func (s *Server) queueFor(rawURL string) (*queue, *apiError) {
	if rawURL == "" {
		return nil, errMissingParameter("QueueUrl")
	}
	q := s.lookup(queueNameFromURL(rawURL))
	if q == nil {
		return nil, errQueueDoesNotExist()
	}
	return q, nil
}

// freshConns tracks connections that are open but have not sent a request.
type freshConns struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func (f *freshConns) track(c net.Conn, state http.ConnState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conns == nil {
		f.conns = make(map[net.Conn]struct{})
	}
	if state == http.StateNew {
		f.conns[c] = struct{}{}
		return
	}
	delete(f.conns, c)
}

func (f *freshConns) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		c.Close()
		delete(f.conns, c)
	}
}
