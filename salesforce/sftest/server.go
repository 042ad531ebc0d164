package sftest

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server is an Org served over HTTP on two loopback listeners: the token
// endpoint on Domain and the data API on InstanceURL, so a client that
// ignores instance_url fails.
type Server struct {
	Domain      string // base URL for token requests, e.g. http://127.0.0.1:41001
	InstanceURL string // base URL of the data API, returned as instance_url

	servers []*http.Server
	done    sync.WaitGroup
}

// Start serves the org on two new listeners on 127.0.0.1:0 and sets its
// instance URL. Close the server when done.
func (o *Org) Start() (*Server, error) {
	tokenLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("sftest: listen for token endpoint: %w", err)
	}
	dataLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tokenLn.Close()
		return nil, fmt.Errorf("sftest: listen for data api: %w", err)
	}

	s := &Server{
		Domain:      "http://" + tokenLn.Addr().String(),
		InstanceURL: "http://" + dataLn.Addr().String(),
	}
	o.SetInstanceURL(s.InstanceURL)
	s.serve(tokenLn, o.TokenHandler())
	s.serve(dataLn, o.DataHandler())
	return s, nil
}

func (s *Server) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // a library does not log
	}
	s.servers = append(s.servers, srv)
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		_ = srv.Serve(ln) // ends with ErrServerClosed once Close is called

	}()
}

// Close stops both listeners and closes open connections at once; it
// returns when the servers have stopped.
func (s *Server) Close() {
	for _, srv := range s.servers {
		srv.Close()
	}
	s.done.Wait()
}
