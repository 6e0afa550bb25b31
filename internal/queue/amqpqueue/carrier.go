package amqpqueue

import amqp "github.com/rabbitmq/amqp091-go"

// headerCarrier lets an OpenTelemetry propagator read and write the trace
// context in AMQP message headers.
type headerCarrier amqp.Table

func (c headerCarrier) Get(key string) string {
	v, _ := c[key].(string)
	return v
}

func (c headerCarrier) Set(key, value string) { c[key] = value }

func (c headerCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}
