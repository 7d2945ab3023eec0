package dashboard

import (
	"time"
)

// WorkList is the data of a work card on a staff or admin dashboard: how
// many things wait for someone, the first few (the oldest first), each
// linking to where it is dealt with, and the page where all of them are.
// Core services and modules return it from a widget's DataFunc and name
// WorkTemplate as the widget's Template.
type WorkList struct {
	// Count is how many things wait (may exceed len(Items)).
	Count int64 `json:"count"`
	// Items are the first few, oldest first.
	Items []WorkItem `json:"items"`
	// Link is the page where they are all dealt with; LinkLabel its label
	// (English, translated when shown).
	Link      string `json:"link"`
	LinkLabel string `json:"link_label"`
	// Empty is shown when nothing waits (English, translated when shown).
	Empty string `json:"empty"`
}

// WorkItem is one thing waiting.
type WorkItem struct {
	// Title names it (a subject, a customer's name: shown as it is).
	Title string `json:"title"`
	// Detail says more: data or text already in the viewer's language.
	Detail string `json:"detail,omitempty"`
	// Note is English text translated when shown (a module's alert title).
	Note string `json:"note,omitempty"`
	// Since is when it started waiting; Waiting says for how long, in the
	// viewer's language ("3 h 5 min").
	Since   *time.Time `json:"since,omitempty"`
	Waiting string     `json:"waiting,omitempty"`
	// Link opens it where it is dealt with.
	Link string `json:"link"`
}

// WorkTemplate is the template that renders a WorkList card.
const WorkTemplate = "dashboard/widget_work"

// WorkItems is how many items a work card lists.
const WorkItems = 5

// Waited formats how long something has waited in locale: "< 1 min",
// "12 min", "3 h 5 min", "2 d 4 h".
func (s *Service) Waited(locale string, d time.Duration) string {
	switch {
	case d < time.Minute:
		return s.catalog.T(locale, "< 1 min")
	case d < time.Hour:
		return s.catalog.T(locale, "%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return s.catalog.T(locale, "%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	}
	return s.catalog.T(locale, "%d d %d h", int(d.Hours())/24, int(d.Hours())%24)
}

// T translates key for locale with the portal's catalog (widgets' data
// functions build their details with it).
func (s *Service) T(locale, key string, args ...any) string { return s.catalog.T(locale, key, args...) }
