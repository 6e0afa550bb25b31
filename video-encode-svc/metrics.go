package encodesvc

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// queueCollector reports the job queue's depth when Prometheus scrapes, so
// dashboards and alerts need no exporter of the broker's own.
type queueCollector struct {
	queue     QueueStats
	messages  *prometheus.Desc
	consumers *prometheus.Desc
}

// NewQueueCollector returns a collector of the queue's pending and
// dead-lettered messages and its consumers.
func NewQueueCollector(q QueueStats) prometheus.Collector {
	return &queueCollector{
		queue: q,
		messages: prometheus.NewDesc("cloudflix_queue_messages",
			"Messages in the encode queue, by state: pending (waiting for a worker) or dead_lettered.", []string{"state"}, nil),
		consumers: prometheus.NewDesc("cloudflix_queue_consumers",
			"Consumers attached to the encode queue.", nil, nil),
	}
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.messages
	ch <- c.consumers
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.queue.Stats(ctx)
	if err != nil {
		slog.Warn("queue stats for metrics", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.messages, prometheus.GaugeValue, float64(st.Pending), "pending")
	ch <- prometheus.MustNewConstMetric(c.messages, prometheus.GaugeValue, float64(st.DeadLettered), "dead_lettered")
	ch <- prometheus.MustNewConstMetric(c.consumers, prometheus.GaugeValue, float64(st.Consumers))
}
