package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"printdock/server/hub"
)

// Metrics are the server's Prometheus metrics, in a registry of their own (several servers may run in
// one test process).
type Metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	authFailures *prometheus.CounterVec
	logouts      *prometheus.CounterVec
	jobsSubmit   *prometheus.CounterVec
	jobsSent     prometheus.Counter
	jobStatus    *prometheus.CounterVec
}

// NewMetrics returns the metrics; connected reports the number of connected agents when scraped.
func NewMetrics(connected func() int) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "printdock_http_requests_total",
			Help: "HTTP requests by method, route pattern and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "printdock_http_request_duration_seconds",
			Help:    "HTTP request duration by route pattern (websocket sessions excluded).",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "printdock_auth_failures_total",
			Help: "Failed authentications by surface (rest, agent, oauth) and result (unauthenticated, forbidden, rate_limited).",
		}, []string{"surface", "result"}),
		logouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "printdock_logouts_sent_total",
			Help: "Forced logout messages sent to agents, by reason.",
		}, []string{"reason"}),
		jobsSubmit: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "printdock_jobs_submitted_total",
			Help: "Accepted job submissions: created, or an idempotent repeat (duplicate).",
		}, []string{"result"}),
		jobsSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "printdock_jobs_sent_total",
			Help: "Job messages queued for agents (deliveries and redeliveries).",
		}),
		jobStatus: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "printdock_job_status_total",
			Help: "job_status reports from agents the job queue accepted, by state.",
		}, []string{"state"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.authFailures, m.logouts, m.jobsSubmit, m.jobsSent, m.jobStatus,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "printdock_agents_connected",
			Help: "Agent websocket sessions established now.",
		}, func() float64 {
			if connected == nil {
				return 0
			}
			return float64(connected())
		}))
	return m
}

func newMetricsForHub(h *hub.Hub) *Metrics {
	return NewMetrics(func() int {
		if h == nil {
			return 0
		}
		return h.Count()
	})
}

// Registry returns the registry (to add collectors).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// LogoutSent counts one logout message (the hub's LogoutSent hook).
func (m *Metrics) LogoutSent(reason string) { m.logouts.WithLabelValues(reason).Inc() }

// JobSent counts one job message queued for an agent (the hub's JobSent hook).
func (m *Metrics) JobSent() { m.jobsSent.Inc() }

// JobStatus counts one accepted job_status report (the hub's JobStatus hook).
func (m *Metrics) JobStatus(state string) {
	switch state {
	case "received", "printing", "done", "failed":
		m.jobStatus.WithLabelValues(state).Inc()
	}
}

// AuthFailure counts one failed authentication.
func (m *Metrics) AuthFailure(surface, result string) {
	m.authFailures.WithLabelValues(surface, result).Inc()
}

func (m *Metrics) observe(r *http.Request, route string, status int, d time.Duration) {
	method := r.Method
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
	default:
		method = "OTHER"
	}
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	if status != http.StatusSwitchingProtocols {
		m.duration.WithLabelValues(route).Observe(d.Seconds())
	}
}
