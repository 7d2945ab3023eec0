package dashboard

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
)

// Layout is one person's arrangement of their dashboard: the order of the
// widgets they placed and the ones they hid. Widgets not in Order follow,
// in default order; IDs of widgets no longer available to the person (a
// module disabled since) are kept and ignored, so re-enabling the module
// restores their place.
type Layout struct {
	ID uint `gorm:"primaryKey"`
	store.OrgOwned
	// UserID is the person; (org_id, user_id) is unique.
	UserID uint `gorm:"not null"`
	// OrderIDs and HiddenIDs are comma-separated widget IDs.
	OrderIDs  string    `gorm:"column:order_ids;size:4000;not null;default:''"`
	HiddenIDs string    `gorm:"column:hidden_ids;size:4000;not null;default:''"`
	UpdatedAt time.Time `gorm:"not null"`
}

// TableName keeps the table in the dashboard namespace.
func (Layout) TableName() string { return "dashboard_layouts" }

// layoutV1 is the table as its first migration created it; later changes
// get migrations of their own.
type layoutV1 struct {
	ID        uint   `gorm:"primaryKey"`
	OrgID     uint   `gorm:"not null;uniqueIndex:dashboard_layouts_user,priority:1"`
	UserID    uint   `gorm:"not null;uniqueIndex:dashboard_layouts_user,priority:2"`
	OrderIDs  string `gorm:"column:order_ids;size:4000;not null;default:''"`
	HiddenIDs string `gorm:"column:hidden_ids;size:4000;not null;default:''"`
	UpdatedAt time.Time
}

func (layoutV1) TableName() string { return "dashboard_layouts" }

// Migrations are the dashboard's versioned migrations.
func (s *Service) Migrations() []store.Migration {
	return []store.Migration{
		{ID: "0001_layouts", Up: store.CreateTables(&layoutV1{})},
	}
}

// maxLayoutIDs bounds a stored layout: far more widgets than any
// dashboard has, and well inside the column.
const maxLayoutIDs = 100

func splitIDs(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// layoutOf reads p's layout; a person who never changed theirs has none.
func (s *Service) layoutOf(ctx context.Context, p *accounts.Principal) (order, hidden []string, err error) {
	var rows []Layout
	err = store.Org(s.st.DB.WithContext(ctx), p.OrgID).Where("user_id = ?", p.UserID).Limit(1).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return nil, nil, err
	}
	return splitIDs(rows[0].OrderIDs), splitIDs(rows[0].HiddenIDs), nil
}

// arrange orders the available widgets by the person's order (listed ones
// first, in their order; the rest in default order) and splits off the
// hidden ones. all is the complete order, hidden included.
func arrange(avail []*registered, order, hidden []string) (all, visible, hid []*registered) {
	if len(order) == 0 && len(hidden) == 0 { // the default layout
		return avail, slices.Clone(avail), nil
	}
	pos := make(map[string]int, len(order))
	for i, id := range order {
		if _, dup := pos[id]; !dup {
			pos[id] = i
		}
	}
	all = make([]*registered, 0, len(avail))
	var rest []*registered
	for _, w := range avail {
		if _, ok := pos[w.key]; ok {
			all = append(all, w)
		} else {
			rest = append(rest, w)
		}
	}
	slices.SortStableFunc(all, func(a, b *registered) int { return pos[a.key] - pos[b.key] })
	all = append(all, rest...)
	for _, w := range all {
		if slices.Contains(hidden, w.key) {
			hid = append(hid, w)
		} else {
			visible = append(visible, w)
		}
	}
	return all, visible, hid
}

// LayoutView is a person's dashboard arrangement as the API shows it.
type LayoutView struct {
	Order     []string     `json:"order" doc:"Every widget available to you, in the order shown (hidden ones included)"`
	Hidden    []string     `json:"hidden" doc:"The widgets you hid"`
	Available []WidgetInfo `json:"available" doc:"Every widget available to you, in default order, with its title in your language"`
	Custom    bool         `json:"custom" doc:"Whether you changed the default layout"`
}

// Layout returns p's arrangement.
func (s *Service) Layout(ctx context.Context, p *accounts.Principal) (*LayoutView, error) {
	order, hidden, err := s.layoutOf(ctx, p)
	if err != nil {
		return nil, err
	}
	avail := s.available(p)
	all, _, hid := arrange(avail, order, hidden)
	v := &LayoutView{Order: keys(all), Hidden: keys(hid), Available: make([]WidgetInfo, len(avail)), Custom: order != nil || hidden != nil}
	for i, w := range avail {
		v.Available[i] = WidgetInfo{ID: w.key, Title: s.t(p.Locale, w.Title), Size: w.Size}
	}
	return v, nil
}

func keys(ws []*registered) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.key
	}
	return out
}

// SetLayout stores p's arrangement: order lists widgets in the order wanted
// (those left out follow in default order), hidden the widgets to hide.
// Every ID must be a widget available to p and appear at most once in each
// list; otherwise nothing is stored and the error names each offending
// entry (422).
func (s *Service) SetLayout(ctx context.Context, p *accounts.Principal, order, hidden []string) (*LayoutView, error) {
	if p == nil || p.UserID == 0 {
		return nil, errs.Forbiddenf("only people have a dashboard")
	}
	avail := map[string]bool{}
	for _, w := range s.available(p) {
		avail[w.key] = true
	}
	var fields []errs.FieldError
	var unknown []string
	check := func(name string, list []string) {
		seen := map[string]bool{}
		if len(list) > maxLayoutIDs {
			fields = append(fields, errs.Field("body."+name, fmt.Sprintf("at most %d widgets", maxLayoutIDs)))
			return
		}
		for i, id := range list {
			field := fmt.Sprintf("body.%s[%d]", name, i)
			switch {
			case !avail[id]:
				fields = append(fields, errs.FieldError{Field: field, Message: fmt.Sprintf("unknown widget %q", id), Value: id})
				if !slices.Contains(unknown, id) {
					unknown = append(unknown, id)
				}
			case seen[id]:
				fields = append(fields, errs.FieldError{Field: field, Message: fmt.Sprintf("widget %q is listed twice", id), Value: id})
			}
			seen[id] = true
		}
	}
	check("order", order)
	check("hidden", hidden)
	if len(fields) > 0 {
		msg := "the layout is not valid"
		if len(unknown) > 0 {
			msg = "unknown widget IDs: " + strings.Join(unknown, ", ")
		}
		return nil, errs.Validation(msg, fields...)
	}
	if err := s.saveLayout(ctx, p, order, hidden); err != nil {
		return nil, err
	}
	return s.Layout(ctx, p)
}

func (s *Service) saveLayout(ctx context.Context, p *accounts.Principal, order, hidden []string) error {
	row := Layout{UserID: p.UserID, OrderIDs: strings.Join(order, ","), HiddenIDs: strings.Join(hidden, ","), UpdatedAt: s.now()}
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		return store.Org(tx, p.OrgID).Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "org_id"}, {Name: "user_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"order_ids", "hidden_ids", "updated_at"}),
		}).Create(&row).Error
	})
	s.Forget(p.OrgID, p.UserID) // committed (or not): the next board reads it
	return err
}

// ResetLayout returns p to the default layout of their role.
func (s *Service) ResetLayout(ctx context.Context, p *accounts.Principal) error {
	if p == nil || p.UserID == 0 {
		return errs.Forbiddenf("only people have a dashboard")
	}
	err := store.Org(s.st.DB.WithContext(ctx), p.OrgID).Where("user_id = ?", p.UserID).Delete(&Layout{}).Error
	s.Forget(p.OrgID, p.UserID)
	return err
}

// Layout changes the dashboard page offers.
const (
	ActionUp    = "up"
	ActionDown  = "down"
	ActionHide  = "hide"
	ActionShow  = "show"
	ActionReset = "reset"
)

// Change applies one page action to p's layout: move widget id up or down
// among the visible widgets, hide or show it, or reset the layout.
func (s *Service) Change(ctx context.Context, p *accounts.Principal, id, action string) error {
	if action == ActionReset {
		return s.ResetLayout(ctx, p)
	}
	order, hidden, err := s.layoutOf(ctx, p)
	if err != nil {
		return err
	}
	all, visible, _ := arrange(s.available(p), order, hidden)
	idx := slices.IndexFunc(all, func(w *registered) bool { return w.key == id })
	if idx < 0 {
		return errs.InvalidField("widget", fmt.Sprintf("unknown widget %q", id))
	}
	// Keep the stored hidden list to widgets that exist for p.
	hidden = slices.DeleteFunc(slices.Clone(hidden), func(h string) bool {
		return !slices.ContainsFunc(all, func(w *registered) bool { return w.key == h })
	})
	switch action {
	case ActionUp, ActionDown:
		vi := slices.IndexFunc(visible, func(w *registered) bool { return w.key == id })
		if vi < 0 {
			return errs.InvalidField("widget", "show the widget before moving it")
		}
		vj := vi - 1
		if action == ActionDown {
			vj = vi + 1
		}
		if vj < 0 || vj >= len(visible) {
			return nil // already first or last
		}
		j := slices.Index(all, visible[vj])
		all[idx], all[j] = all[j], all[idx]
	case ActionHide:
		if !slices.Contains(hidden, id) {
			hidden = append(hidden, id)
		}
	case ActionShow:
		hidden = slices.DeleteFunc(hidden, func(h string) bool { return h == id })
	default:
		return errs.InvalidField("action", "must be up, down, hide, show or reset")
	}
	return s.saveLayout(ctx, p, keys(all), hidden)
}
