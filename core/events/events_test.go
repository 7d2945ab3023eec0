package events

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestPublishManyCallsHandlersPerEventAndBatchHandlersOnce(t *testing.T) {
	b := New()
	var perEvent []string
	var batches [][]string
	var named [][]string
	b.Subscribe("*", func(_ context.Context, e Event) error { perEvent = append(perEvent, e.Name); return nil })
	b.SubscribeBatch("*", func(_ context.Context, es []Event) error {
		var ns []string
		for _, e := range es {
			if e.Time.IsZero() {
				t.Error("an event without a time")
			}
			ns = append(ns, e.Name)
		}
		batches = append(batches, ns)
		return nil
	})
	b.SubscribeBatch("a.x", func(_ context.Context, es []Event) error {
		var ns []string
		for _, e := range es {
			ns = append(ns, e.Name)
		}
		named = append(named, ns)
		return errors.New("refused")
	})
	err := b.PublishMany(context.Background(), []Event{{Name: "a.x"}, {Name: "b.y"}, {Name: "a.x"}})
	if err == nil || !strings.Contains(err.Error(), "event a.x: refused") {
		t.Fatalf("the batch handler's error was not returned: %v", err)
	}
	if strings.Join(perEvent, ",") != "a.x,b.y,a.x" {
		t.Errorf("per-event handler saw %v", perEvent)
	}
	if len(batches) != 1 || strings.Join(batches[0], ",") != "a.x,b.y,a.x" {
		t.Errorf("\"*\" batch handler saw %v, want one batch of three", batches)
	}
	if len(named) != 1 || strings.Join(named[0], ",") != "a.x,a.x" {
		t.Errorf("a.x batch handler saw %v, want one batch of the two a.x", named)
	}
	// Publish is a batch of one.
	batches = nil
	if err := b.Publish(context.Background(), Event{Name: "b.y"}); err != nil {
		t.Fatal(err)
	}
	if len(batches) != 1 || len(batches[0]) != 1 {
		t.Errorf("Publish gave batches %v", batches)
	}
}
