package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cloudflix/cloudflix/internal/webhook"
)

// The browser test's step about webhooks: the account page adds an
// endpoint (a receiver on loopback, which the platform is told to allow),
// shows its secret once, sends it a test event that arrives signed with
// that secret, shows the delivery in its log, and deletes it.

// signedEvents is a webhook receiver that keeps the types of the events
// whose signature checks with its secret.
type signedEvents struct {
	mu     sync.Mutex
	secret string
	got    []string
	bad    int
}

func (s *signedEvents) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if webhook.Verify(r.Header.Get(webhook.SignatureHeader), s.secret, body, 5*time.Minute, time.Now()) != nil {
		s.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	s.got = append(s.got, r.Header.Get(webhook.EventTypeHeader))
}

func browserWebhooks(t *testing.T, tb *tab) {
	rcv := &signedEvents{}
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)

	tb.do("open the account page", chromedp.Navigate(tb.base+"/account"))
	tb.wait("the Webhooks section, with no endpoint yet", `document.getElementById("webhooks")?.textContent.includes("No webhooks yet")`, uiWait)
	tb.do("add an endpoint for ready and failed videos",
		chromedp.SendKeys(chromedp.ID("webhook-url"), srv.URL+"/events"),
		chromedp.Click(chromedp.ID("webhook-event-video-deleted")),
		chromedp.Click(chromedp.ID("webhook-event-comment-created")),
		chromedp.Click(chromedp.ID("webhook-create")))
	tb.wait("the secret is shown once, with a warning", `(() => {
		const box = document.getElementById("webhook-secret");
		return document.getElementById("webhook-secret-value")?.value.startsWith("whsec_") && box.textContent.includes("only this once");
	})()`, uiWait)
	rcv.mu.Lock()
	rcv.secret = evalJS[string](tb, `document.getElementById("webhook-secret-value").value`)
	rcv.mu.Unlock()
	tb.wait("the endpoint is listed with its events", `[...document.querySelectorAll("#webhooks .webhook")].some((r) =>
		r.textContent.includes(`+jsString(srv.URL+"/events")+`) && r.textContent.includes("video.ready") &&
		r.textContent.includes("video.failed") && !r.textContent.includes("video.deleted"))`, uiWait)
	tb.screenshot("account-webhook")

	tb.do("send a test event", chromedp.Click(chromedp.CSS(`#webhooks .webhook .actions button:nth-child(2)`)))
	tb.wait("the log shows the test event delivered", `(() => {
		const row = document.querySelector('#webhooks .webhook-deliveries tr[data-state="delivered"]');
		return row !== null && row.textContent.includes("webhook.test") && row.textContent.includes("200");
	})()`, time.Minute)
	rcv.mu.Lock()
	got, bad := append([]string{}, rcv.got...), rcv.bad
	rcv.mu.Unlock()
	if len(got) != 1 || got[0] != "webhook.test" || bad != 0 {
		t.Errorf("the receiver took %v and refused %d badly signed deliveries; want one webhook.test", got, bad)
	}
	tb.screenshot("account-webhook-log")

	tb.do("delete the endpoint", chromedp.Click(chromedp.CSS(`#webhooks .webhook button[aria-label^="Delete webhook"]`)))
	tb.wait("deleting asks first", `document.getElementById("delete-webhook")?.open === true`, uiWait)
	tb.do("confirm", chromedp.Click(chromedp.ID("delete-webhook-submit")))
	tb.wait("the endpoint is no longer listed", `document.getElementById("delete-webhook") === null &&
		document.querySelector("#webhooks .webhook") === null`, uiWait)
}
