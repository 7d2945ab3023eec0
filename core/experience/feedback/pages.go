package feedback

import (
	"bufio"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/chart"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/experience/drafts"
	"github.com/portalkit/portalkit/core/web"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed i18n/*.json
var translationFS embed.FS

// Templates returns the feedback templates (prefix "feedback").
func Templates() fs.FS {
	sub, _ := fs.Sub(templateFS, "templates")
	return sub
}

// Translations returns the feedback texts.
func Translations() fs.FS {
	sub, _ := fs.Sub(translationFS, "i18n")
	return sub
}

// Nav is the analytics page for staff and admins.
func Nav() []web.NavItem {
	return []web.NavItem{{Label: "Feedback", Path: "/staff/feedback", Roles: []string{string(accounts.Staff), string(accounts.Admin)}, Order: 706}}
}

// Inline is the pending prompt of the page's viewer, computed only when a
// template asks for it: {{with .Extra.Feedback}}{{.HTML $}}{{end}}.
type Inline struct {
	s    *Service
	ctx  context.Context
	p    *accounts.Principal
	next string
	log  *slog.Logger
}

// Decorator puts Inline on every page a customer sees.
func (s *Service) Decorator() func(*fiber.Ctx, *web.Page) {
	return func(c *fiber.Ctx, page *web.Page) {
		p, ok := accounts.PrincipalOf(c)
		if !ok || !p.Is(accounts.Customer) || p.UserID == 0 {
			return
		}
		if page.Extra == nil {
			page.Extra = map[string]any{}
		}
		page.Extra["Feedback"] = &Inline{s: s, ctx: c.UserContext(), p: p, next: safeNext(c.OriginalURL()), log: s.log}
	}
}

type option struct {
	Score int
	Text  string
	Label string
}

var reactionFaces = []option{{1, "👎", "Negative"}, {2, "😐", "Neutral"}, {3, "👍", "Positive"}}

var scaleEnds = map[Kind][2]string{
	CSAT:     {"Very dissatisfied", "Very satisfied"},
	NPS:      {"Not at all likely", "Extremely likely"},
	CES:      {"Strongly disagree", "Strongly agree"},
	Reaction: {"Negative", "Positive"},
}

// HTML renders the prompt to show now, or nothing. A failure never breaks
// the page: it is logged and the prompt left out.
func (in *Inline) HTML(page *web.Page) template.HTML {
	if in == nil {
		return ""
	}
	pr, err := in.s.Pending(in.ctx, in.p.OrgID, in.p.UserID)
	if err != nil {
		in.log.Warn("feedback: pending prompt", "err", err)
		return ""
	}
	if pr == nil {
		return ""
	}
	v := in.s.view(pr, page.Lang)
	var opts []option
	if pr.Kind == Reaction {
		for _, o := range reactionFaces {
			opts = append(opts, option{o.Score, o.Text, page.T(o.Label)})
		}
	} else {
		for i := v.Min; i <= v.Max; i++ {
			opts = append(opts, option{i, strconv.Itoa(i), strconv.Itoa(i)})
		}
	}
	ends := scaleEnds[pr.Kind]
	out, err := page.Fragment("feedback/prompt", map[string]any{"Prompt": v, "Options": opts, "Low": ends[0], "High": ends[1], "Next": in.next})
	if err != nil {
		in.log.Warn("feedback: prompt template", "err", err)
		return ""
	}
	return out
}

// safeNext keeps a local path to return to, or "/".
func safeNext(v string) string {
	if !strings.HasPrefix(v, "/") || strings.HasPrefix(v, "//") || strings.HasPrefix(v, "/\\") || strings.ContainsAny(v, "\r\n") {
		return "/"
	}
	return v
}

// MountPages adds the customer's answer pages under /feedback and the
// staff analytics at /staff/feedback (and .csv).
func (s *Service) MountPages(app *fiber.App, acc *accounts.Service) {
	cust := app.Group("/feedback", acc.RequirePage(accounts.Customer))
	cust.Post("/:id/answer", s.answerSubmit)
	cust.Get("/:id/comment", s.commentPage)
	cust.Post("/:id/comment", s.commentSubmit)
	cust.Post("/:id/dismiss", s.dismissSubmit)
	app.Get("/staff/feedback", acc.RequirePage(accounts.Staff, accounts.Admin), s.analyticsPage)
	app.Get("/staff/feedback.csv", acc.RequirePage(accounts.Staff, accounts.Admin), s.csvExport)
}

func promptID(c *fiber.Ctx) (uint, error) {
	return web.PathID(c, "id")
}

func (s *Service) answerSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := promptID(c)
	if err != nil {
		return err
	}
	score, err := strconv.Atoi(c.FormValue("score"))
	if err != nil {
		return errs.InvalidField("score", "choose one of the answers")
	}
	if _, err := s.Answer(c.UserContext(), p, id, score); err != nil {
		return err
	}
	return c.Redirect(fmt.Sprintf("/feedback/%d/comment?next=%s", id, url.QueryEscape(safeNext(c.FormValue("next")))), fiber.StatusSeeOther)
}

func (s *Service) commentPage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := promptID(c)
	if err != nil {
		return err
	}
	pr, err := s.own(s.st.DB.WithContext(c.UserContext()), p, id)
	if err != nil {
		return err
	}
	if pr.Status != StatusAnswered {
		return errs.NotFoundf("not found")
	}
	offer, err := drafts.ForPage(c, CommentDraftKey(pr.ID))
	if err != nil {
		return err
	}
	return web.Render(c, "feedback/comment", "Thank you", map[string]any{"Prompt": s.view(pr, langOf(p)), "Saved": pr, "Draft": offer,
		"Next": safeNext(c.Query("next")), "Max": MaxComment})
}

func (s *Service) commentSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := promptID(c)
	if err != nil {
		return err
	}
	next := safeNext(c.FormValue("next"))
	if _, err := s.Comment(c.UserContext(), p, id, c.FormValue("comment")); err != nil {
		e, ok := errs.As(err)
		if !ok || e.Kind != errs.Invalid {
			return err
		}
		pr, lerr := s.own(s.st.DB.WithContext(c.UserContext()), p, id)
		if lerr != nil {
			return lerr
		}
		offer, _ := drafts.ForPage(c, CommentDraftKey(id))
		c.Status(fiber.StatusUnprocessableEntity)
		return web.Render(c, "feedback/comment", "Thank you", map[string]any{"Prompt": s.view(pr, langOf(p)), "Saved": pr, "Draft": offer,
			"Next": next, "Max": MaxComment, "Error": "Please keep your comment under 2000 characters.", "Comment": c.FormValue("comment")})
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

func (s *Service) dismissSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := promptID(c)
	if err != nil {
		return err
	}
	if err := s.Dismiss(c.UserContext(), p, id); err != nil && !errs.Is(err, errs.Conflict) {
		return err
	}
	return c.Redirect(safeNext(c.FormValue("next")), fiber.StatusSeeOther)
}

var kindTitle = map[Kind]string{CSAT: "CSAT", NPS: "NPS", CES: "CES", Reaction: "Reactions"}

// card is one headline figure on the analytics page.
type card struct {
	Title string
	Value string
	Note  string
	N     int64
	Kind  Kind
}

func (s *Service) analyticsPage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	q := map[string]string{"module": c.Query("module"), "step": c.Query("step"), "kind": c.Query("kind"), "from": c.Query("from"), "to": c.Query("to")}
	data := map[string]any{"Query": q}
	f, err := ParseFilter(q["module"], q["step"], q["kind"], q["from"], q["to"])
	var rep *Report
	if err == nil {
		rep, err = s.Analytics(c.UserContext(), p, f)
	}
	if err != nil {
		e, ok := errs.As(err)
		if !ok || e.Kind != errs.Invalid {
			return err
		}
		c.Status(fiber.StatusUnprocessableEntity)
		data["Error"] = "Please check the filters: dates are written YYYY-MM-DD and the end comes after the start."
		rep = &Report{}
	}
	mods, steps, err := s.Choices(c.UserContext(), p)
	if err != nil {
		return err
	}
	data["Modules"], data["Steps"], data["Kinds"] = mods, steps, []Kind{CSAT, NPS, CES, Reaction}
	data["Report"], data["IsAdmin"] = rep, p.Is(accounts.Admin)
	data["Cards"] = cards(rep.Overall)
	data["Weekly"], data["Scores"] = weeklyCharts(rep)
	v := url.Values{}
	for k, val := range q {
		if val != "" {
			v.Set(k, val)
		}
	}
	data["CSV"] = "/staff/feedback.csv?" + v.Encode()
	return web.Render(c, "feedback/analytics", "Feedback analytics", data)
}

// Format renders a figure's value for tables.
func (f Figure) Format() string {
	switch f.Kind {
	case NPS:
		return fmt.Sprintf("%+.0f", f.Value)
	case CES:
		return fmt.Sprintf("%.2f", f.Value)
	}
	return fmt.Sprintf("%.0f%%", f.Value)
}

// Title is the figure's kind as a heading.
func (f Figure) Title() string { return kindTitle[f.Kind] }

func cards(figs []Figure) []card {
	out := make([]card, 0, len(figs))
	for _, f := range figs {
		cd := card{Title: kindTitle[f.Kind], Value: f.Format(), N: f.Responses, Kind: f.Kind}
		switch f.Kind {
		case CSAT:
			cd.Note = "share of 4–5 answers"
		case NPS:
			cd.Note = "% promoters (9–10) − % detractors (0–6)"
		case CES:
			cd.Note = "mean on 1–7"
		case Reaction:
			cd.Note = "share of positive reactions"
		}
		out = append(out, cd)
	}
	return out
}

// weeklyCharts are the responses per week (bar) and CSAT % and NPS per
// week (line).
func weeklyCharts(r *Report) (*chart.Chart, *chart.Chart) {
	if len(r.ByWeek) == 0 {
		return nil, nil
	}
	labels := make([]string, 0, len(r.ByWeek))
	counts := chart.Series{Name: "Responses"}
	csat, nps := chart.Series{Name: "CSAT %"}, chart.Series{Name: "NPS"}
	for _, g := range r.ByWeek {
		labels = append(labels, g.Key)
		counts.Values = append(counts.Values, float64(g.Total))
		cv, nv := 0.0, 0.0
		for _, f := range g.Figures {
			switch f.Kind {
			case CSAT:
				cv = f.Value
			case NPS:
				nv = f.Value
			}
		}
		csat.Values = append(csat.Values, cv)
		nps.Values = append(nps.Values, nv)
	}
	bar := &chart.Chart{Kind: chart.Bar, Title: "Responses per week", LabelHeader: "Week", ValueName: "Responses", Labels: labels, Series: []chart.Series{counts}, ID: "fb-weekly"}
	// Only the scores that have answers: a missing NPS is not an NPS of 0.
	var series []chart.Series
	for _, f := range r.Overall {
		switch f.Kind {
		case CSAT:
			series = append(series, csat)
		case NPS:
			series = append(series, nps)
		}
	}
	if len(series) == 0 {
		return bar, nil
	}
	line := &chart.Chart{Kind: chart.Line, Title: "CSAT % and NPS per week", LabelHeader: "Week", ValueName: "Score", Labels: labels, Series: series, ID: "fb-scores"}
	return bar, line
}

func (s *Service) csvExport(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	f, err := ParseFilter(c.Query("module"), c.Query("step"), c.Query("kind"), c.Query("from"), c.Query("to"))
	if err != nil {
		return err
	}
	// Check access and filters before the headers go out.
	if _, err := s.scope(c.UserContext(), p, f); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="feedback.csv"`)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	ctx := context.WithoutCancel(c.UserContext())
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		if _, err := s.WriteCSV(ctx, w, p, f); err != nil {
			s.log.Warn("feedback: CSV export stopped", "err", err)
		}
		_ = w.Flush()
	})
	return nil
}
