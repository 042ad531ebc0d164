package sftest

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// observedWrite is one call of a write observer.
type observedWrite struct {
	Object, ID string
	At         time.Time
}

// writeRecorder collects what a write observer is told.
type writeRecorder struct {
	mu     sync.Mutex
	writes []observedWrite
}

func (w *writeRecorder) observe(object, id string, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, observedWrite{Object: object, ID: id, At: at})
}

func (w *writeRecorder) list() []observedWrite {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]observedWrite(nil), w.writes...)
}

// observed are the records of one observer test: a and b plain Tasks, c a
// Task found by the external id c-3.
type observed struct {
	h       *harness
	a, b, c string
}

func TestSetWriteObserver(t *testing.T) {
	tests := []struct {
		name  string
		write func(o observed)
		want  func(o observed) []string // ids reported, in order
	}{
		{
			name: "record-patch",
			write: func(o observed) {
				o.h.do(http.MethodPatch, testVersion+"/sobjects/Task/"+o.a, `{"Subject":"x"}`)
			},
			want: func(o observed) []string { return []string{o.a} },
		},
		{
			name: "record-patch-refused",
			write: func(o observed) {
				long := `{"Short_Summary__c":"` + strings.Repeat("x", 501) + `"}`
				o.h.do(http.MethodPatch, testVersion+"/sobjects/Task/"+o.a, long)
			},
			want: func(observed) []string { return nil },
		},
		{
			name: "conditional-patch-refused",
			write: func(o observed) {
				o.h.do(http.MethodPatch, testVersion+"/sobjects/Task/"+o.a, `{"Subject":"x"}`,
					"If-Unmodified-Since", "Mon, 01 Jan 2001 00:00:00 GMT")
			},
			want: func(observed) []string { return nil },
		},
		{
			name: "collections-patch",
			write: func(o observed) {
				o.h.patchCollection(updateBody(o.h.t, false,
					map[string]any{"attributes": map[string]any{"type": "Task"}, "id": o.b,
						"Subject": "x"},
					map[string]any{"attributes": map[string]any{"type": "Task"}, "id": o.a,
						"Subject": "y"}))
			},
			want: func(o observed) []string { return []string{o.b, o.a} },
		},
		{
			name: "composite-subrequests",
			write: func(o observed) {
				o.h.composite(compositeBody(o.h.t, false,
					sub{Method: "PATCH", URL: testVersion + "/sobjects/Task/" + o.c,
						Body: map[string]any{"Subject": "x"}},
					sub{Method: "GET", URL: testVersion + "/sobjects/Task/" + o.b},
					sub{Method: "PATCH", URL: testVersion + "/sobjects/Task/" + o.a,
						Body: map[string]any{"Subject": "y"}}))
			},
			want: func(o observed) []string { return []string{o.c, o.a} },
		},
		{
			name: "upsert-update",
			write: func(o observed) {
				o.h.do(http.MethodPatch, testVersion+"/sobjects/Task/Call_Id__c/c-3",
					`{"Subject":"x"}`)
			},
			want: func(o observed) []string { return []string{o.c} },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := observed{h: newHarness(t)}
			o.a = o.h.org.Insert("Task", map[string]any{"Subject": "a"})
			o.b = o.h.org.Insert("Task", map[string]any{"Subject": "b"})
			o.c = o.h.org.Insert("Task", map[string]any{"Call_Id__c": "c-3"})
			var rec writeRecorder
			o.h.org.SetWriteObserver(rec.observe)

			tt.write(o)

			got := rec.list()
			var gotIDs []string
			for _, w := range got {
				gotIDs = append(gotIDs, w.ID)
			}
			if diff := cmp.Diff(tt.want(o), gotIDs); diff != "" {
				t.Fatalf("reported ids mismatch (-want +got):\n%s", diff)
			}
			for _, w := range got {
				checkObservedWrite(t, o.h.org, w)
			}
		})
	}
}

// checkObservedWrite wants w to name a Task and carry the record's
// LastModifiedDate, which no later write changed in these tests.
func checkObservedWrite(t *testing.T, org *Org, w observedWrite) {
	t.Helper()
	values, ok := org.Get("Task", w.ID)
	if !ok {
		t.Fatalf("reported record %s does not exist", w.ID)
	}
	if w.Object != "Task" {
		t.Errorf("object = %q, want %q", w.Object, "Task")
	}
	if want := values["LastModifiedDate"]; w.At != want {
		t.Errorf("at = %v, want the record's LastModifiedDate %v", w.At, want)
	}
}

func TestSetWriteObserverNilRemoves(t *testing.T) {
	h := newHarness(t)
	id := h.org.Insert("Task", map[string]any{"Subject": "a"})
	var rec writeRecorder
	h.org.SetWriteObserver(rec.observe)
	h.do(http.MethodPatch, testVersion+"/sobjects/Task/"+id, `{"Subject":"x"}`)

	h.org.SetWriteObserver(nil)
	h.do(http.MethodPatch, testVersion+"/sobjects/Task/"+id, `{"Subject":"y"}`)

	if got, want := len(rec.list()), 1; got != want {
		t.Errorf("observer called %d times, want %d", got, want)
	}
}
