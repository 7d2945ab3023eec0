package feedback

import (
	"context"
	"encoding/csv"
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
	db, err := s.acc.Reach(Area).WhereVisible(ctx, p, store.Org(s.st.Replica(ctx), p.OrgID).Model(&Prompt{}).Where("status = ?", StatusAnswered), "customer_id")
	if err != nil {
		return nil, err
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
	Module, StepID, Week              string
	Kind                              Kind
	N, Total, GE3, GE4, GE5, GE9, LE6 int64
}

func (r tallyRow) counts() Counts {
	return Counts{Kind: r.Kind, N: r.N, Sum: r.Total, GE3: r.GE3, GE4: r.GE4, GE5: r.GE5, GE9: r.GE9, LE6: r.LE6}
}

var kindOrder = map[Kind]int{CSAT: 0, NPS: 1, CES: 2, Reaction: 3}

// groups sums tallies per key and kind into sorted groups.
type groups map[string]map[Kind]*Counts

func (g groups) add(key string, c Counts) {
	if g[key] == nil {
		g[key] = map[Kind]*Counts{}
	}
	cur := g[key][c.Kind]
	if cur == nil {
		cur = &Counts{Kind: c.Kind}
		g[key][c.Kind] = cur
	}
	cur.add(c)
}

func (g groups) list() []Group {
	keys := make([]string, 0, len(g))
	for k := range g {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]Group, 0, len(keys))
	for _, k := range keys {
		grp := Group{Key: k}
		for _, c := range g[k] {
			grp.Figures = append(grp.Figures, c.Compute())
			grp.Total += c.N
		}
		sort.Slice(grp.Figures, func(i, j int) bool { return kindOrder[grp.Figures[i].Kind] < kindOrder[grp.Figures[j].Kind] })
		out = append(out, grp)
	}
	return out
}

// Analytics computes the figures over the answers p may see. One scan
// tallies every (module, step, week, kind); the overall, per-module,
// per-step and per-week figures are sums of those tallies.
func (s *Service) Analytics(ctx context.Context, p *accounts.Principal, f Filter) (*Report, error) {
	db, err := s.scope(ctx, p, f)
	if err != nil {
		return nil, err
	}
	var rows []tallyRow
	if err := db.Select(tallySQL + ", module, step_id, week").Group("module, step_id, week, kind").Scan(&rows).Error; err != nil {
		return nil, err
	}
	all, byModule, byStep, byWeek := groups{}, groups{}, groups{}, groups{}
	for _, r := range rows {
		c := r.counts()
		all.add("", c)
		byModule.add(r.Module, c)
		byStep.add(r.StepID, c)
		byWeek.add(r.Week, c)
	}
	rep := &Report{Overall: []Figure{}, ByModule: byModule.list(), ByStep: byStep.list(), ByWeek: byWeek.list()}
	if l := all.list(); len(l) == 1 {
		rep.Overall, rep.Total = l[0].Figures, l[0].Total
	}
	return rep, nil
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
	people := map[uint]accounts.User{} // names and e-mails, looked up per batch
	for {
		q := db.Session(&gorm.Session{}).
			Select("id, answered_at, module, step_id, kind, score, comment, subject_ref, customer_id").
			Order("answered_at DESC, id DESC").Limit(batch)
		if lastID != 0 {
			q = q.Where("(answered_at, id) < (?, ?)", lastAt, lastID)
		}
		var rows []ExportRow
		if err := q.Scan(&rows).Error; err != nil {
			return n, err
		}
		var missing []uint
		for _, r := range rows {
			if _, ok := people[r.CustomerID]; !ok {
				people[r.CustomerID] = accounts.User{}
				missing = append(missing, r.CustomerID)
			}
		}
		if len(missing) > 0 {
			var us []accounts.User
			if err := store.Org(s.st.Replica(ctx), p.OrgID).Select("id", "name", "email").Where("id IN ?", missing).Find(&us).Error; err != nil {
				return n, err
			}
			for _, u := range us {
				people[u.ID] = u
			}
		}
		for _, r := range rows {
			u := people[r.CustomerID]
			rec := []string{strconv.FormatUint(uint64(r.ID), 10), r.AnsweredAt.UTC().Format(time.RFC3339), csvSafe(r.Module), csvSafe(r.StepID),
				string(r.Kind), strconv.Itoa(r.Score), csvSafe(r.Comment), csvSafe(r.SubjectRef), strconv.FormatUint(uint64(r.CustomerID), 10),
				csvSafe(u.Name), csvSafe(u.Email)}
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
			return n, err
		}
	}
}
