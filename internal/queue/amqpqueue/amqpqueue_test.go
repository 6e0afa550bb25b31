package amqpqueue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os/exec"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.opentelemetry.io/otel/propagation"

	"github.com/cloudflix/cloudflix/internal/queue"
	"github.com/cloudflix/cloudflix/internal/queue/queuetest"
	"github.com/cloudflix/cloudflix/internal/testenv"
)

const wait = 30 * time.Second

// open opens a queue of the test's own, removed with its dead-letter queue
// when the test ends.
func open(t *testing.T, o Options) *Queue {
	t.Helper()
	if o.URL == "" {
		o.URL = testenv.AMQPURL()
	}
	if o.Queue == "" {
		o.Queue = testenv.QueueName(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	q, err := Open(ctx, o)
	if err != nil {
		t.Fatalf("Open: %v (is RabbitMQ running at %s?)", err, o.URL)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := q.DeleteTopology(ctx); err != nil {
			t.Errorf("DeleteTopology: %v", err)
		}
		if err := q.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return q
}

func TestContract(t *testing.T) {
	t.Parallel()
	queuetest.Run(t, queuetest.Adapter{
		Open: func(t *testing.T, o queuetest.Options) queuetest.Queue {
			return open(t, Options{MaxDeliveries: queuetest.MaxDeliveries, Prefetch: o.Prefetch,
				TracerProvider: o.TracerProvider, Propagator: propagation.TraceContext{}})
		},
		// The broker hands a nacked or returned message out again at once.
		RetryPause: 0,
	})
}

// TestPublishIsPersistentAndConfirmed reads the message back with basic.get
// on a separate connection, so what is checked is what the broker stored.
func TestPublishIsPersistentAndConfirmed(t *testing.T) {
	t.Parallel()
	q := open(t, Options{})
	queuetest.Publish(t, q, queue.Message{ID: "persist-1", Body: []byte("payload")})
	// Without an ID the message still gets one.
	queuetest.Publish(t, q, queue.Message{Body: []byte("anonymous")})

	conn, err := amqp.Dial(testenv.AMQPURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	for i, wantBody := range []string{"payload", "anonymous"} {
		d, ok, err := ch.Get(q.opts.Queue, false)
		if err != nil || !ok {
			t.Fatalf("Get %d: ok=%v err=%v: a confirmed message must be on the queue", i, ok, err)
		}
		if d.DeliveryMode != amqp.Persistent {
			t.Errorf("DeliveryMode = %d, want persistent", d.DeliveryMode)
		}
		if d.ContentType != contentType {
			t.Errorf("ContentType = %q, want %q", d.ContentType, contentType)
		}
		if d.MessageId == "" || (i == 0 && d.MessageId != "persist-1") {
			t.Errorf("MessageId = %q", d.MessageId)
		}
		if string(d.Body) != wantBody {
			t.Errorf("Body = %q, want %q", d.Body, wantBody)
		}
		// Left unacked: closing the channel returns it to the queue.
	}
}

func TestPublishFailsWhenContextEnds(t *testing.T) {
	t.Parallel()
	q := open(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := q.Publish(ctx, queue.Message{ID: "late", Body: []byte("x")}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Publish with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestTopologyIsQuorumWithDeadLetterQueue(t *testing.T) {
	t.Parallel()
	q := open(t, Options{MaxDeliveries: 4})
	// Declaring again with the same arguments is a no-op: a second client
	// (or a reconnect) must not fail on the existing queues.
	again := open(t, Options{Queue: q.opts.Queue, MaxDeliveries: 4})
	if err := again.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	// Declaring with other arguments conflicts, and Open says so.
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if other, err := Open(ctx, Options{URL: testenv.AMQPURL(), Queue: q.opts.Queue, MaxDeliveries: 9}); err == nil {
		other.Close()
		t.Fatal("Open with a different delivery limit succeeded, want a precondition error")
	}
	queues := listQueues(t)
	dlq := q.opts.Queue + ".dlq"
	want := map[string]map[string]any{
		q.opts.Queue: {
			"x-queue-type": "quorum",
			// Four deliveries are a limit of 3: the broker dead-letters a
			// message returned more than the limit times.
			"x-delivery-limit":          float64(3),
			"x-dead-letter-exchange":    "",
			"x-dead-letter-routing-key": dlq,
		},
		dlq: {"x-queue-type": "quorum"},
	}
	for name, wantArgs := range want {
		qu, ok := queues[name]
		if !ok {
			t.Errorf("%s is not among the broker's queues", name)
			continue
		}
		if qu.Type != "quorum" || !qu.Durable {
			t.Errorf("%s: type %s durable %v, want durable quorum", name, qu.Type, qu.Durable)
		}
		args, err := qu.args()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !maps.Equal(args, wantArgs) {
			t.Errorf("%s: arguments %v, want %v", name, args, wantArgs)
		}
	}
}

// brokerQueue is a queue as rabbitmqctl list_queues describes it.
type brokerQueue struct {
	Name    string
	Type    string
	Durable bool
	// Arguments are [name, AMQP type, value] triples.
	Arguments [][]any
}

func (q brokerQueue) args() (map[string]any, error) {
	args := map[string]any{}
	for _, a := range q.Arguments {
		name, ok := a[0].(string)
		if len(a) != 3 || !ok {
			return nil, fmt.Errorf("argument %v is not a [name, type, value] triple", a)
		}
		args[name] = a[2]
	}
	return args, nil
}

// listQueues asks the broker for its queues with rabbitmqctl, which reads
// what the broker holds rather than what a client asked for.
func listQueues(t *testing.T) map[string]brokerQueue {
	t.Helper()
	out, err := rabbitmqctl(t, "list_queues", "--quiet", "--formatter", "json", "name", "type", "durable", "arguments")
	if err != nil {
		t.Fatal(err)
	}
	var list []brokerQueue
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatalf("parse rabbitmqctl list_queues: %v\n%s", err, out)
	}
	queues := map[string]brokerQueue{}
	for _, q := range list {
		queues[q.Name] = q
	}
	return queues
}

// rabbitmqctl runs the broker's control tool, failing the test when it is
// not installed.
func rabbitmqctl(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	if _, err := exec.LookPath("rabbitmqctl"); err != nil {
		t.Fatalf("rabbitmqctl is not on PATH; these tests ask the broker with it: %v", err)
	}
	cmd := exec.Command("rabbitmqctl", args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("rabbitmqctl %s: %w\n%s", args[0], err, strings.TrimSpace(string(out)+"\n"+stderr.String()))
	}
	return out, nil
}

// TestConsumerSurvivesConnectionLoss breaks the connection twice, once from
// the broker's side (rabbitmqctl close_connection, as an operator or a
// broker shutdown would) and once by dropping the socket (as a network
// failure would), and checks that publishing and consuming resume.
func TestConsumerSurvivesConnectionLoss(t *testing.T) {
	t.Parallel()
	name := testenv.Name("cftest-conn-")
	q := open(t, Options{ConnectionName: name})
	got := make(chan string, 10)
	queuetest.Consume(t, q, func(_ context.Context, d queue.Delivery) error {
		got <- d.ID
		return nil
	})
	// A cut may take the ack of the message handled last with it, and the
	// broker then rightly delivers that message again; any other message
	// than the one awaited or one delivered before is wrong.
	delivered := map[string]bool{}
	next := func(want, what string) {
		t.Helper()
		for {
			id := queuetest.Receive(t, got, what)
			if id == want {
				delivered[id] = true
				return
			}
			if !delivered[id] {
				t.Fatalf("%s: got %s, want %s", what, id, want)
			}
		}
	}
	queuetest.Publish(t, q, queue.Message{ID: "before", Body: []byte("x")})
	next("before", "delivery before the failure")

	breaks := []struct {
		name string
		do   func(t *testing.T)
	}{
		{"broker closes the connection", func(t *testing.T) { closeFromBroker(t, name) }},
		{"socket dropped", func(t *testing.T) { q.dropSocket() }},
	}
	for i, b := range breaks {
		q.mu.Lock()
		old := q.cur
		q.mu.Unlock()
		b.do(t)
		select {
		case <-old.lost:
		case <-time.After(wait):
			t.Fatalf("%s: the client did not notice", b.name)
		}
		id := fmt.Sprint("after-", i)
		queuetest.Publish(t, q, queue.Message{ID: id, Body: []byte("x")})
		next(id, "delivery after "+b.name)
		if err := q.Ping(context.Background()); err != nil {
			t.Fatalf("%s: Ping after recovery: %v", b.name, err)
		}
	}
}

// closeFromBroker asks the broker to close the connections whose client
// gave them the name connName.
func closeFromBroker(t *testing.T, connName string) {
	t.Helper()
	out, err := rabbitmqctl(t, "list_connections", "--quiet", "--no-table-headers", "pid", "client_properties")
	if err != nil {
		t.Fatal(err)
	}
	closed := 0
	// Each line is "<pid>\t[client properties]"; the pid in this text form
	// is what close_connection takes (the JSON form is not).
	for line := range strings.Lines(string(out)) {
		pid, props, ok := strings.Cut(strings.TrimSpace(line), "\t")
		if !ok || !strings.Contains(props, `{"connection_name","`+connName+`"}`) {
			continue
		}
		if _, err := rabbitmqctl(t, "close_connection", pid, "test: simulated broker failure"); err != nil {
			t.Fatal(err)
		}
		closed++
	}
	if closed == 0 {
		t.Fatalf("no broker connection named %s in:\n%s", connName, out)
	}
}

func TestCloseEndsConsume(t *testing.T) {
	t.Parallel()
	// keeper outlives q, so that its cleanup can delete the queues.
	keeper := open(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	q, err := Open(ctx, Options{URL: testenv.AMQPURL(), Queue: keeper.opts.Queue})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- q.Consume(context.Background(), func(context.Context, queue.Delivery) error { return nil })
	}()
	deadline := time.Now().Add(wait)
	for {
		st, err := keeper.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Consumers == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("consumer never registered")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := q.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := queuetest.Receive(t, done, "Consume return"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Consume after Close = %v, want ErrClosed", err)
	}
	if err := q.Ping(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Ping after Close = %v, want ErrClosed", err)
	}
	if err := q.Publish(ctx, queue.Message{ID: "x"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Publish after Close = %v, want ErrClosed", err)
	}
}
