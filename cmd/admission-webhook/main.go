// Command admission-webhook serves klint as a validating and mutating
// admission webhook, on the same engine and config as the klint CLI.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/klint-dev/klint/pkg/admission"
	"github.com/klint-dev/klint/pkg/config"
	"github.com/klint-dev/klint/pkg/tlscert"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
)

func main() {
	// Every signal is counted from the start: the first cancels ctx (the
	// drain), the second exits. Both are registered before anything
	// runs, so no signal falls between the two.
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGTERM, os.Interrupt)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go exitOnSecondSignal(signals, stop)
	// KLINT_CPUPROFILE writes a CPU profile of the process, until it
	// exits (docs/development.md; test/loadgen -cpuprofile).
	if p := os.Getenv("KLINT_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil && pprof.StartCPUProfile(f) == nil {
			defer f.Close()
			defer pprof.StopCPUProfile()
		}
	}
	if err := newRootCmd(os.Stdout, os.Stderr, nil).ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "admission-webhook:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

type serveFlags struct {
	listen, metricsListen string
	certFile, keyFile     string
	config                string
	policies              []string
	drainDelay            time.Duration
	shutdownTimeout       time.Duration
	budget                time.Duration
	maxBody, maxInFlight  int64
	maxClientInFlight     int64
	bodyTimeout           time.Duration
	clientCA              string
	// noop answers every request "allowed" without judging it: the
	// baseline that make bench-webhook compares the engine against.
	noop bool
}

// gcPercent is the webhook's GOGC unless the environment sets one.
const gcPercent = 400

// newRootCmd builds the command; started, when set, receives the bound
// addresses (for tests that listen on port 0).
func newRootCmd(stdout, stderr io.Writer, started func(webhook, metrics net.Addr)) *cobra.Command {
	var f serveFlags
	root := &cobra.Command{
		Use:           "admission-webhook",
		Short:         "Serve klint as a validating and mutating admission webhook over HTTPS",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd.Context(), f, stderr, started)
		},
	}
	fl := root.Flags()
	fl.StringVar(&f.listen, "listen", ":8443", "address of the HTTPS server (/validate, /mutate, /healthz, /readyz)")
	fl.StringVar(&f.metricsListen, "metrics-listen", "127.0.0.1:9090", "address of the plain-HTTP metrics server (/metrics, /healthz, /readyz); loopback by default, since it has no authentication (with --client-ca, /metrics is also served on the HTTPS port to clients with a certificate)")
	fl.StringVar(&f.certFile, "tls-cert-file", "", "serving certificate (PEM); re-read when it changes")
	fl.StringVar(&f.keyFile, "tls-private-key-file", "", "serving key (PEM); re-read when it changes")
	fl.StringVar(&f.config, "config", "", "klint config file (.klint.yaml format, with its admission section)")
	fl.StringArrayVar(&f.policies, "policy", nil, "directory of Rego policies (repeatable)")
	fl.DurationVar(&f.drainDelay, "drain-delay", 5*time.Second, "on SIGTERM, how long /readyz fails before the server stops accepting connections")
	fl.DurationVar(&f.shutdownTimeout, "shutdown-timeout", 20*time.Second, "how long in-flight requests may take to finish on shutdown")
	fl.DurationVar(&f.budget, "request-budget", 2*time.Second, "longest time spent judging one object; a request over it gets an error response (the API server's own timeout, sent with each request, also bounds it)")
	fl.Int64Var(&f.maxBody, "max-body-bytes", admission.DefaultMaxBody, "largest AdmissionReview accepted (the API server's own limit is 3 MiB per object, and a review can carry two)")
	fl.Int64Var(&f.maxInFlight, "max-in-flight-bytes", 128<<20, "memory the requests being read and judged may take at once (body bytes, plus 1 KiB per JSON token once read); beyond it requests are answered 429 (see docs/webhook.md for sizing against the memory limit)")
	fl.Int64Var(&f.maxClientInFlight, "max-client-in-flight-bytes", 0, "body bytes one client (one remote address, over any number of connections and streams) may have in flight at once (default a quarter of --max-in-flight-bytes, and room for one body of --max-body-bytes)")
	fl.DurationVar(&f.bodyTimeout, "body-timeout", 5*time.Second, "how long a request's body may take to arrive after its headers (the API server sends it at once)")
	fl.StringVar(&f.clientCA, "client-ca", "", "CA bundle (PEM) of client certificates: /validate, /mutate and /metrics on the HTTPS port then require a client certificate it signed (the API server presents one when its AdmissionConfiguration names it; see docs/webhook.md)")
	fl.BoolVar(&f.noop, "benchmark-noop", false, "answer every request allowed without judging it (benchmark baseline)")
	_ = fl.MarkHidden("benchmark-noop")
	_ = root.MarkFlagRequired("tls-cert-file")
	_ = root.MarkFlagRequired("tls-private-key-file")
	root.AddCommand(newCertsCmd(stdout))
	return root
}

// exitOnSecondSignal starts the graceful drain (drain) on the first
// SIGTERM or SIGINT and exits at once on the next: an operator pressing
// Ctrl-C twice, or a kubelet escalating, is not kept waiting.
func exitOnSecondSignal(signals <-chan os.Signal, drain context.CancelFunc) {
	<-signals
	drain()
	<-signals
	fmt.Fprintln(os.Stderr, "admission-webhook: second signal, exiting without draining")
	os.Exit(1)
}

// metricsServer serves the metrics and health endpoints in plain HTTP,
// with timeouts so that slow or idle clients cannot hold connections.
func metricsServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 90 * time.Second}
}

func serve(ctx context.Context, f serveFlags, stderr io.Writer, started func(webhook, metrics net.Addr)) error {
	if f.maxBody <= 0 || f.maxInFlight < f.maxBody {
		return fmt.Errorf("--max-in-flight-bytes (%d) must be at least --max-body-bytes (%d), which must be positive", f.maxInFlight, f.maxBody)
	}
	// The in-flight bound is the memory requests may take; let the
	// collector work harder before the heap passes it (unless the
	// operator set GOMEMLIMIT, from the container's limit for instance).
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(f.maxInFlight + 64<<20)
	}
	// With that limit as the guard, the heap may grow to five times what
	// is live before a collection, not twice: far fewer collections at a
	// steady rate of requests, which is what the tail latency was made of
	// (make bench-webhook, docs/webhook.md; GOGC, when set, wins).
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	cfg := &config.File{}
	if f.config != "" {
		var err error
		if cfg, err = config.Load(f.config); err != nil {
			return err
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := admission.NewMetrics(reg)
	reviewer, err := cfg.Reviewer(ctx, f.policies, metrics.ObserveRule)
	if err != nil {
		return err
	}
	reviewer.Budget = f.budget

	certExpiry := prometheus.NewGauge(prometheus.GaugeOpts{Name: "klint_admission_certificate_expiry_timestamp_seconds", Help: "Expiry (Unix time) of the serving certificate in use."})
	reloadErrors := prometheus.NewCounter(prometheus.CounterOpts{Name: "klint_admission_certificate_reload_errors_total", Help: "Changes of the certificate files that could not be loaded (the previous certificate stays in use)."})
	reg.MustRegister(certExpiry, reloadErrors)
	certs, err := tlscert.NewReloader(f.certFile, f.keyFile, func(notAfter time.Time) {
		certExpiry.Set(float64(notAfter.Unix()))
		log.Info("serving certificate loaded", slog.Time("notAfter", notAfter))
	}, func(err error) {
		reloadErrors.Inc()
		log.Error("serving certificate not reloaded; the previous one stays in use", slog.String("error", err.Error()))
	})
	if err != nil {
		return err
	}
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go certs.Watch(wctx)

	var ready atomic.Bool
	ready.Store(true)
	mux := http.NewServeMux()
	validate, mutate := admission.DeciderFunc(reviewer.Validate), admission.DeciderFunc(reviewer.Mutate)
	if f.noop {
		validate, mutate = allowAll, allowAll
	}
	inFlight := admission.NewInFlight(f.maxInFlight)
	if f.maxClientInFlight > 0 {
		inFlight.PerClient = max(f.maxClientInFlight, f.maxBody)
	} else {
		inFlight.PerClient = max(inFlight.PerClient, min(f.maxInFlight, f.maxBody+64<<10))
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: certs.GetCertificate}
	// Without a client CA every endpoint is open to whoever reaches the
	// port (the shipped NetworkPolicy narrows that to the control plane);
	// with one, the admission endpoints and /metrics require a client
	// certificate it signed, and the probes stay open to the kubelet.
	guard := func(h http.Handler) http.Handler { return h }
	if f.clientCA != "" {
		pem, err := os.ReadFile(f.clientCA)
		if err != nil {
			return fmt.Errorf("--client-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("--client-ca %s: no PEM certificate in it", f.clientCA)
		}
		tlsConfig.ClientCAs, tlsConfig.ClientAuth = pool, tls.VerifyClientCertIfGiven
		guard = admission.RequireClientCertificate
		mux.Handle("GET /metrics", guard(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	}
	o := admission.Options{Log: log, Metrics: metrics, Limits: admission.Limits{MaxBody: f.maxBody, InFlight: inFlight, BodyTimeout: f.bodyTimeout}}
	mux.Handle("POST /validate", guard(admission.Endpoint("validate", validate, o)))
	mux.Handle("POST /mutate", guard(admission.Endpoint("mutate", mutate, o)))
	health(mux, &ready)
	srv := &http.Server{
		Handler:           mux,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       90 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	mmux := http.NewServeMux()
	mmux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	health(mmux, &ready)
	msrv := metricsServer(mmux)

	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return err
	}
	mln, err := net.Listen("tcp", f.metricsListen)
	if err != nil {
		ln.Close()
		return err
	}
	errs := make(chan error, 2)
	go func() { errs <- srv.ServeTLS(ln, "", "") }()
	go func() { errs <- msrv.Serve(mln) }()
	log.Info("serving", slog.String("webhook", ln.Addr().String()), slog.String("metrics", mln.Addr().String()),
		slog.Int("rules", len(reviewer.Engine().Rules())), slog.String("kubeVersion", reviewer.Engine().KubeVersion()))
	if started != nil {
		started(ln.Addr(), mln.Addr())
	}

	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
	}
	// Fail readiness first so endpoints stop sending new requests, then
	// let in-flight requests finish.
	// Keep-alive off, so clients open their next request on another
	// replica instead of finding this connection closed.
	ready.Store(false)
	srv.SetKeepAlivesEnabled(false)
	log.Info("shutting down", slog.Duration("drainDelay", f.drainDelay))
	time.Sleep(f.drainDelay)
	sctx, cancel := context.WithTimeout(context.Background(), f.shutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	_ = msrv.Shutdown(sctx)
	log.Info("stopped")
	return err
}

func health(mux *http.ServeMux, ready *atomic.Bool) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
}

func newCertsCmd(stdout io.Writer) *cobra.Command {
	var service, namespace, outDir string
	var valid time.Duration
	var extra []string
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "Generate a CA and a serving certificate for the webhook Service, and print the caBundle",
		Long: `certs writes ca.crt, tls.crt and tls.key to --out-dir for a cluster without
cert-manager: put tls.crt and tls.key in the webhook's Secret and the printed
caBundle in the webhook configurations.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			names := []string{service + "." + namespace + ".svc", service + "." + namespace + ".svc.cluster.local", service + "." + namespace, service}
			var ips []string
			for _, e := range extra {
				if net.ParseIP(e) != nil {
					ips = append(ips, e)
				} else {
					names = append(names, e)
				}
			}
			c, err := tlscert.Generate(names, ips, valid)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(outDir, 0o755); err != nil {
				return err
			}
			for name, data := range map[string][]byte{"ca.crt": c.CACert, "tls.crt": c.ServingCert, "tls.key": c.ServingKey} {
				mode := os.FileMode(0o644)
				if strings.HasSuffix(name, ".key") {
					mode = 0o600
				}
				if err := os.WriteFile(filepath.Join(outDir, name), data, mode); err != nil {
					return err
				}
			}
			_, err = fmt.Fprintln(stdout, base64.StdEncoding.EncodeToString(c.CACert))
			return err
		},
	}
	cmd.Flags().StringVar(&service, "service", "klint-webhook", "webhook Service name")
	cmd.Flags().StringVar(&namespace, "namespace", "klint-system", "webhook Service namespace")
	cmd.Flags().StringVar(&outDir, "out-dir", ".", "directory for ca.crt, tls.crt and tls.key")
	cmd.Flags().DurationVar(&valid, "valid", 365*24*time.Hour, "validity of the certificates")
	cmd.Flags().StringSliceVar(&extra, "host", nil, "extra DNS names or IP addresses (e.g. 127.0.0.1 for a webhook reached by URL)")
	return cmd
}
