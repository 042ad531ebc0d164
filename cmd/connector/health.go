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

// healthHandler serves /healthz (the process is up) and /readyz (the pool
// is receiving; 503 with the reason while it is paused).
func healthHandler(pool *worker.Pool) http.Handler {
	mux := http.NewServeMux()
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

// serveHealth listens on addr until ctx ends. An empty addr serves nothing.
func serveHealth(ctx context.Context, addr string, pool *worker.Pool, log zerolog.Logger) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("health endpoint: %w", err)
	}
	srv := &http.Server{Handler: healthHandler(pool), ReadHeaderTimeout: 5 * time.Second}
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
	log.Info().Str("addr", ln.Addr().String()).Msg("serving /healthz and /readyz")
	return nil
}
