package encodesvc

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Backlog tells how much work waits for the encoders.
type Backlog interface {
	EncodeBacklog(ctx context.Context) (waiting int, oldest time.Time, err error)
}

// pipelineCollector reports, when Prometheus scrapes, the job queue's depth
// and the backlog of videos waiting to be encoded, so dashboards and alerts
// need no exporter of the broker's own.
type pipelineCollector struct {
	queue      QueueStats
	backlog    Backlog
	messages   *prometheus.Desc
	consumers  *prometheus.Desc
	waiting    *prometheus.Desc
	backlogAge *prometheus.Desc
}

// NewPipelineCollector returns a collector of the queue's pending and
// dead-lettered messages, its consumers, and the encode backlog.
func NewPipelineCollector(q QueueStats, b Backlog) prometheus.Collector {
	return &pipelineCollector{
		queue:   q,
		backlog: b,
		messages: prometheus.NewDesc("cloudflix_queue_messages",
			"Messages in the encode queue, by state: pending (waiting for a worker) or dead_lettered.", []string{"state"}, nil),
		consumers: prometheus.NewDesc("cloudflix_queue_consumers",
			"Consumers attached to the encode queue.", nil, nil),
		waiting: prometheus.NewDesc("cloudflix_encode_backlog_videos",
			"Videos uploaded and waiting for an encoder.", nil, nil),
		backlogAge: prometheus.NewDesc("cloudflix_encode_backlog_age_seconds",
			"How long the video that has waited longest for an encoder has waited; 0 when none waits.", nil, nil),
	}
}

func (c *pipelineCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.messages
	ch <- c.consumers
	ch <- c.waiting
	ch <- c.backlogAge
}

func (c *pipelineCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if st, err := c.queue.Stats(ctx); err != nil {
		slog.Warn("queue stats for metrics", "err", err)
	} else {
		ch <- prometheus.MustNewConstMetric(c.messages, prometheus.GaugeValue, float64(st.Pending), "pending")
		ch <- prometheus.MustNewConstMetric(c.messages, prometheus.GaugeValue, float64(st.DeadLettered), "dead_lettered")
		ch <- prometheus.MustNewConstMetric(c.consumers, prometheus.GaugeValue, float64(st.Consumers))
	}
	if n, oldest, err := c.backlog.EncodeBacklog(ctx); err != nil {
		slog.Warn("encode backlog for metrics", "err", err)
	} else {
		age := 0.0
		if n > 0 {
			age = max(time.Since(oldest).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, float64(n))
		ch <- prometheus.MustNewConstMetric(c.backlogAge, prometheus.GaugeValue, age)
	}
}
