package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/callsummary/connector/worker"
)

// healthHandler serves /healthz (the process is up), /readyz (the pool is
// receiving; 503 with the reason while it is paused) and, when metrics is
// not nil, /metrics.
func healthHandler(pool *worker.Pool, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if pool.Ready() {
			fmt.Fprintln(w, "ready")
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		if paused, reason := pool.Paused(); paused {
			fmt.Fprintln(w, "paused:", reason)
			return
		}
		if pool.ReceiveFailing() {
			fmt.Fprintln(w, "receive from the queue failing")
			return
		}
		fmt.Fprintln(w, "starting")
	})
	return mux
}

// serveHealth serves h on addr until ctx ends. An empty addr serves nothing.
func serveHealth(ctx context.Context, addr string, h http.Handler, log zerolog.Logger) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("health endpoint: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("health endpoint stopped")
		}
	}()
	log.Info().Str("addr", ln.Addr().String()).Msg("serving /healthz, /readyz and /metrics")
	return nil
}
