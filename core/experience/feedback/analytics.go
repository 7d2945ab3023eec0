package feedback

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
)

// Filter narrows the answers the figures and the export cover.
type Filter struct {
	Module string
	Step   string
	Kind   Kind
	From   time.Time // answered at or after; zero for no bound
	To     time.Time // answered before; zero for no bound
}

// Counts are the raw tallies of one group of answers of one kind, from
// which every figure is computed.
type Counts struct {
	N    int64 `json:"responses"`
	Sum  int64 `json:"-"`
	GE3  int64 `json:"-"`
	GE4  int64 `json:"-"`
	GE5  int64 `json:"-"`
	GE9  int64 `json:"-"`
	LE6  int64 `json:"-"`
	Kind Kind  `json:"kind"`
}

func (c *Counts) add(o Counts) {
	c.N += o.N
	c.Sum += o.Sum
	c.GE3 += o.GE3
	c.GE4 += o.GE4
	c.GE5 += o.GE5
	c.GE9 += o.GE9
	c.LE6 += o.LE6
}

func pct(n, d int64) float64 {
	if d == 0 {
		return 0
	}
	return 100 * float64(n) / float64(d)
}

// Figure is the headline figure of a group of answers of one kind:
// CSAT % (share of 4–5), NPS (% 9–10 − % 0–6), CES mean (and share of 5–7)
// or the share of positive reactions.
type Figure struct {
	Kind      Kind    `json:"kind"`
	Responses int64   `json:"responses"`
	Value     float64 `json:"value" doc:"CSAT %, NPS, CES mean or % positive reactions"`
	// Promoters, Passives and Detractors are NPS shares in %.
	Promoters  float64 `json:"promoters,omitempty"`
	Passives   float64 `json:"passives,omitempty"`
	Detractors float64 `json:"detractors,omitempty"`
	// HighShare is, for CES, the share of 5–7 answers in %.
	HighShare float64 `json:"high_share,omitempty"`
}

// Compute turns tallies into the figure of their kind.
func (c Counts) Compute() Figure {
	f := Figure{Kind: c.Kind, Responses: c.N}
	if c.N == 0 {
		return f
	}
	switch c.Kind {
	case CSAT:
		f.Value = pct(c.GE4, c.N)
	case NPS:
		f.Promoters, f.Detractors = pct(c.GE9, c.N), pct(c.LE6, c.N)
		f.Passives = pct(c.N-c.GE9-c.LE6, c.N)
		f.Value = f.Promoters - f.Detractors
	case CES:
		f.Value = float64(c.Sum) / float64(c.N)
		f.HighShare = pct(c.GE5, c.N)
	case Reaction:
		f.Value = pct(c.GE3, c.N)
	}
	return f
}

// Tally counts scores of one kind (tests and callers with raw answers).
func Tally(kind Kind, scores ...int) Counts {
	c := Counts{Kind: kind}
	for _, s := range scores {
		c.N++
		c.Sum += int64(s)
		if s >= 3 {
			c.GE3++
		}
		if s >= 4 {
			c.GE4++
		}
		if s >= 5 {
			c.GE5++
		}
		if s >= 9 {
			c.GE9++
		}
		if s <= 6 {
			c.LE6++
		}
	}
	return c
}

// Group is the figures of one module, step or week.
type Group struct {
	Key     string   `json:"key"`
	Figures []Figure `json:"figures"`
	Total   int64    `json:"responses"`
}

// Report is the analytics page and API.
type Report struct {
	Overall  []Figure `json:"overall"`
	ByModule []Group  `json:"by_module"`
	ByStep   []Group  `json:"by_step"`
	ByWeek   []Group  `json:"by_week"`
	Total    int64    `json:"responses"`
}

// scope returns the answers p may see: staff those of assigned customers,
// admins (and integrators) all of the organisation.
func (s *Service) scope(ctx context.Context, p *accounts.Principal, f Filter) (*gorm.DB, error) {
	if p == nil || !p.Is(accounts.Staff, accounts.Admin, accounts.Integrator) {
		return nil, errs.Forbiddenf("feedback analytics are for staff and admins")
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return nil, errs.InvalidField("to", "must be after from")
	}
	if f.Kind != "" && !f.Kind.Valid() {
		return nil, errs.InvalidField("kind", "must be one of csat, nps, ces, reaction")
	}
	ids, all, err := s.acc.VisibleCustomers(ctx, p)
	if err != nil {
		return nil, err
	}
	db := store.Org(s.st.DB.WithContext(ctx), p.OrgID).Model(&Prompt{}).Where("status = ?", StatusAnswered)
	if !all {
		if len(ids) == 0 {
			ids = []uint{0}
		}
		db = db.Where("customer_id IN ?", ids)
	}
	if f.Module != "" {
		db = db.Where("module = ?", f.Module)
	}
	if f.Step != "" {
		db = db.Where("step_id = ?", f.Step)
	}
	if f.Kind != "" {
		db = db.Where("kind = ?", f.Kind)
	}
	if !f.From.IsZero() {
		db = db.Where("answered_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		db = db.Where("answered_at < ?", f.To.UTC())
	}
	return db, nil
}

const tallySQL = "kind, COUNT(*) AS n, COALESCE(SUM(score), 0) AS total, " +
	"SUM(CASE WHEN score >= 3 THEN 1 ELSE 0 END) AS ge3, SUM(CASE WHEN score >= 4 THEN 1 ELSE 0 END) AS ge4, " +
	"SUM(CASE WHEN score >= 5 THEN 1 ELSE 0 END) AS ge5, SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS ge9, " +
	"SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS le6"

type tallyRow struct {
	Grp                               string
	Kind                              Kind
	N, Total, GE3, GE4, GE5, GE9, LE6 int64
}

func (r tallyRow) counts() Counts {
	return Counts{Kind: r.Kind, N: r.N, Sum: r.Total, GE3: r.GE3, GE4: r.GE4, GE5: r.GE5, GE9: r.GE9, LE6: r.LE6}
}

var kindOrder = map[Kind]int{CSAT: 0, NPS: 1, CES: 2, Reaction: 3}

func (s *Service) grouped(db *gorm.DB, col string) ([]Group, error) {
	var rows []tallyRow
	sel := tallySQL + ", " + col + " AS grp"
	if col == "" {
		sel = tallySQL + ", '' AS grp"
	}
	q := db.Session(&gorm.Session{}).Select(sel)
	if col != "" {
		q = q.Group(col + ", kind")
	} else {
		q = q.Group("kind")
	}
	if err := q.Scan(&rows).Error; err != nil {
		return nil, err
	}
	byKey := map[string]*Group{}
	var keys []string
	for _, r := range rows {
		g, ok := byKey[r.Grp]
		if !ok {
			g = &Group{Key: r.Grp}
			byKey[r.Grp] = g
			keys = append(keys, r.Grp)
		}
		g.Figures = append(g.Figures, r.counts().Compute())
		g.Total += r.N
	}
	sort.Strings(keys)
	out := make([]Group, 0, len(keys))
	for _, k := range keys {
		g := byKey[k]
		sort.Slice(g.Figures, func(i, j int) bool { return kindOrder[g.Figures[i].Kind] < kindOrder[g.Figures[j].Kind] })
		out = append(out, *g)
	}
	return out, nil
}

// Analytics computes the figures over the answers p may see.
func (s *Service) Analytics(ctx context.Context, p *accounts.Principal, f Filter) (*Report, error) {
	db, err := s.scope(ctx, p, f)
	if err != nil {
		return nil, err
	}
	r := &Report{}
	overall, err := s.grouped(db, "")
	if err != nil {
		return nil, err
	}
	if len(overall) == 1 {
		r.Overall, r.Total = overall[0].Figures, overall[0].Total
	}
	if r.ByModule, err = s.grouped(db, "module"); err != nil {
		return nil, err
	}
	if r.ByStep, err = s.grouped(db, "step_id"); err != nil {
		return nil, err
	}
	if r.ByWeek, err = s.grouped(db, "week"); err != nil {
		return nil, err
	}
	if r.Overall == nil {
		r.Overall = []Figure{}
	}
	return r, nil
}

// Choices returns the modules and steps that have answers p may see (the
// filters' choices).
func (s *Service) Choices(ctx context.Context, p *accounts.Principal) (modules, steps []string, err error) {
	db, err := s.scope(ctx, p, Filter{})
	if err != nil {
		return nil, nil, err
	}
	if err := db.Session(&gorm.Session{}).Distinct("module").Order("module").Pluck("module", &modules).Error; err != nil {
		return nil, nil, err
	}
	err = db.Session(&gorm.Session{}).Distinct("step_id").Order("step_id").Pluck("step_id", &steps).Error
	return modules, steps, err
}

// csvSafe guards a cell against formula injection: a value a spreadsheet
// would run (=, +, -, @, tab, carriage return first) gets a leading '.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// ExportRow is one answer in the CSV export.
type ExportRow struct {
	ID         uint
	AnsweredAt time.Time
	Module     string
	StepID     string
	Kind       Kind
	Score      int
	Comment    string
	SubjectRef string
	CustomerID uint
	Name       string
	Email      string
}

// CSVHeader is the export's first line.
var CSVHeader = []string{"id", "answered_at", "module", "step", "kind", "score", "comment", "subject", "customer_id", "customer_name", "customer_email"}

// WriteCSV streams the answers p may see as CSV (UTF-8 with a byte-order
// mark, so spreadsheets read accents right) in batches, newest first, and
// returns how many rows it wrote.
func (s *Service) WriteCSV(ctx context.Context, w io.Writer, p *accounts.Principal, f Filter) (int, error) {
	db, err := s.scope(ctx, p, f)
	if err != nil {
		return 0, err
	}
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return 0, err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return 0, err
	}
	const batch = 1000
	n := 0
	var lastAt time.Time
	var lastID uint
	for {
		q := db.Session(&gorm.Session{}).
			Select("feedback_prompts.id, feedback_prompts.answered_at, feedback_prompts.module, feedback_prompts.step_id, feedback_prompts.kind, " +
				"feedback_prompts.score, feedback_prompts.comment, feedback_prompts.subject_ref, feedback_prompts.customer_id, u.name, u.email").
			Joins("LEFT JOIN accounts_users u ON u.id = feedback_prompts.customer_id AND u.org_id = feedback_prompts.org_id").
			Order("feedback_prompts.answered_at DESC, feedback_prompts.id DESC").Limit(batch)
		if lastID != 0 {
			q = q.Where("(feedback_prompts.answered_at, feedback_prompts.id) < (?, ?)", lastAt, lastID)
		}
		var rows []ExportRow
		if err := q.Scan(&rows).Error; err != nil {
			return n, err
		}
		for _, r := range rows {
			rec := []string{strconv.FormatUint(uint64(r.ID), 10), r.AnsweredAt.UTC().Format(time.RFC3339), csvSafe(r.Module), csvSafe(r.StepID),
				string(r.Kind), strconv.Itoa(r.Score), csvSafe(r.Comment), csvSafe(r.SubjectRef), strconv.FormatUint(uint64(r.CustomerID), 10),
				csvSafe(r.Name), csvSafe(r.Email)}
			if err := cw.Write(rec); err != nil {
				return n, err
			}
			n++
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return n, err
		}
		if len(rows) < batch {
			return n, nil
		}
		lastAt, lastID = rows[len(rows)-1].AnsweredAt, rows[len(rows)-1].ID
		if err := ctx.Err(); err != nil {
			return n, errors.Join(err)
		}
	}
}
