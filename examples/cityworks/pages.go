package cityworks

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

func (m *Module) mountPages(r fiber.Router) {
	acc := m.acc
	cust := acc.RequirePage(accounts.Customer)
	staff := acc.RequirePage(accounts.Staff, accounts.Admin)
	r.Get("/", acc.RequirePage(), m.homePage)
	r.Post("/reports", cust, m.reportSubmit)
	r.Get("/segments/:id", staff, m.segmentPage)
	r.Get("/planner", staff, m.plannerPage)
	r.Post("/planner/:id", staff, m.scheduleSubmit)
	r.Get("/crew", acc.RequirePage(accounts.Staff), m.crewPage)
	r.Post("/crew/:id", acc.RequirePage(accounts.Staff), m.crewSubmit)
	r.Get("/works/:org", m.publicPage) // no sign-in: the public feed
}

var flash = map[string]string{
	"reported":  "Thank you: your report is received.",
	"scheduled": "The work is scheduled.",
	"updated":   "The job is updated.",
}

func (m *Module) render(c *fiber.Ctx, name, title string, data map[string]any) error {
	page := &web.Page{Title: title, Data: data, TitleIsContent: data["TitleIsContent"] == true}
	if msg, ok := flash[c.Query("msg")]; ok {
		page.Flash, page.FlashKind = msg, "ok"
	}
	if e, ok := c.Locals("cityworks.err").(*errs.Error); ok {
		page.Flash, page.FlashKind = e.Message, "error"
		fields := map[string]string{}
		for _, f := range e.Fields {
			fields[strings.TrimPrefix(f.Field, "body.")] = f.Message
		}
		if len(e.Fields) == 1 {
			page.Flash = e.Fields[0].Message
		}
		data["Errors"] = fields
		c.Status(fiber.StatusUnprocessableEntity)
	}
	if data["Errors"] == nil {
		data["Errors"] = map[string]string{}
	}
	return web.RenderPage(c, "cityworks/"+name, page)
}

// failed shows a person's mistake on the page it came from (422); other
// errors go to the error page.
func failed(c *fiber.Ctx, err error, again fiber.Handler) error {
	e, ok := errs.As(err)
	if !ok || e.Kind == errs.Internal || e.Kind == errs.NotFound || e.Kind == errs.Forbidden {
		return err
	}
	c.Locals("cityworks.err", e)
	return again(c)
}

func me(c *fiber.Ctx) *accounts.Principal {
	p, _ := accounts.PrincipalOf(c)
	return p
}

func (m *Module) homePage(c *fiber.Ctx) error {
	p := me(c)
	ctx := c.UserContext()
	if p.Is(accounts.Customer) {
		reports, err := m.Reports(ctx, p, "")
		if err != nil {
			return err
		}
		var segs []Segment
		if err := store.Org(m.st.DB.WithContext(ctx), p.OrgID).Order("name").Find(&segs).Error; err != nil {
			return err
		}
		form := map[string]string{"problem": c.FormValue("problem"), "place": c.FormValue("place"), "description": c.FormValue("description"), "segment_id": c.FormValue("segment_id")}
		opts := make([]web.Option, len(problems))
		for i, pr := range problems {
			opts[i] = web.Option{Value: pr, Label: problemText[pr]}
		}
		return m.render(c, "citizen", "Report a problem", map[string]any{"Reports": reports, "Segments": segs, "Form": form, "Problems": opts})
	}
	q, err := m.visibleSegments(ctx, p, store.Org(m.st.DB.WithContext(ctx), p.OrgID))
	if err != nil {
		return err
	}
	var segs []Segment
	if err := q.Order("name").Find(&segs).Error; err != nil {
		return err
	}
	cong, err := m.Congestions(ctx, p, false, 20)
	if err != nil {
		return err
	}
	return m.render(c, "traffic", "Traffic", map[string]any{"Segments": segs, "Congestions": cong})
}

func (m *Module) reportSubmit(c *fiber.Ctx) error {
	seg, _ := strconv.ParseUint(c.FormValue("segment_id"), 10, 64)
	_, err := m.CreateReport(c.UserContext(), me(c), NewReport{Problem: c.FormValue("problem"), Place: c.FormValue("place"),
		Description: c.FormValue("description"), SegmentID: uint(seg)})
	if err != nil {
		return failed(c, err, m.homePage)
	}
	return c.Redirect("/m/cityworks/?msg=reported", fiber.StatusSeeOther)
}

func (m *Module) segmentPage(c *fiber.Ctx) error {
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	p := me(c)
	s, err := m.segmentFor(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	day, err := m.Day(c.UserContext(), s, m.now())
	if err != nil {
		return err
	}
	all, err := m.Congestions(c.UserContext(), p, false, 200)
	if err != nil {
		return err
	}
	var cong []CongestionView
	for _, x := range all {
		if x.SegmentID == s.ID && len(cong) < 20 {
			cong = append(cong, x)
		}
	}
	return m.render(c, "segment", s.Name, map[string]any{"Segment": s, "Day": day, "Congestions": cong, "TitleIsContent": true})
}

// crewOption is a staff member a planner may send.
type plannerRow struct {
	ReportView
	Crew []web.Option
}

func (m *Module) plannerPage(c *fiber.Ctx) error {
	p := me(c)
	ctx := c.UserContext()
	reports, err := m.Reports(ctx, p, ReportOpen)
	if err != nil {
		return err
	}
	names := map[uint]string{}
	crews := map[uint][]web.Option{}
	rows := make([]plannerRow, len(reports))
	for i, r := range reports {
		rows[i].ReportView = r
		if _, ok := crews[r.DepartmentID]; !ok && r.DepartmentID != 0 {
			ids, err := m.departmentStaff(ctx, nil, p.OrgID, r.DepartmentID)
			if err != nil {
				return err
			}
			for _, id := range ids {
				if _, ok := names[id]; !ok {
					if u, err := m.acc.UserByID(ctx, p.OrgID, id); err == nil {
						names[id] = u.Name
					}
				}
				crews[r.DepartmentID] = append(crews[r.DepartmentID], web.Option{Value: itoa(id), Label: names[id]})
			}
		}
		rows[i].Crew = crews[r.DepartmentID]
	}
	jobs, err := m.Jobs(ctx, p, false)
	if err != nil {
		return err
	}
	views, err := m.jobViews(ctx, p.OrgID, jobs)
	if err != nil {
		return err
	}
	return m.render(c, "planner", "Works planner", map[string]any{"Reports": rows, "Jobs": views, "Today": m.now().Format("2006-01-02")})
}

func (m *Module) scheduleSubmit(c *fiber.Ctx) error {
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	crew, _ := strconv.ParseUint(c.FormValue("crew_id"), 10, 64)
	in := NewJob{CrewID: uint(crew), On: c.FormValue("on"), Note: c.FormValue("note")}
	if in.CrewID == 0 {
		return failed(c, errs.InvalidField("body.crew_id", "choose who does the work"), m.plannerPage)
	}
	if _, err := m.Schedule(c.UserContext(), me(c), id, in); err != nil {
		return failed(c, err, m.plannerPage)
	}
	return c.Redirect("/m/cityworks/planner?msg=scheduled", fiber.StatusSeeOther)
}

func (m *Module) crewPage(c *fiber.Ctx) error {
	p := me(c)
	jobs, err := m.Jobs(c.UserContext(), p, true)
	if err != nil {
		return err
	}
	var open []Job
	for _, j := range jobs {
		if j.Status != JobDone {
			open = append(open, j)
		}
	}
	views, err := m.jobViews(c.UserContext(), p.OrgID, open)
	if err != nil {
		return err
	}
	next := map[string]string{JobScheduled: JobOnTheWay, JobOnTheWay: JobInProgress, JobInProgress: JobDone}
	return m.render(c, "crew", "My jobs", map[string]any{"Jobs": views, "Next": next})
}

func (m *Module) crewSubmit(c *fiber.Ctx) error {
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	in := JobUpdate{Status: c.FormValue("status")}
	lat, lon := strings.TrimSpace(c.FormValue("lat")), strings.TrimSpace(c.FormValue("lon"))
	if lat != "" || lon != "" {
		la, err1 := strconv.ParseFloat(strings.ReplaceAll(lat, ",", "."), 64)
		lo, err2 := strconv.ParseFloat(strings.ReplaceAll(lon, ",", "."), 64)
		if err := errors.Join(err1, err2); err != nil || la < -90 || la > 90 || lo < -180 || lo > 180 {
			return failed(c, errs.InvalidField("body.lat", "type a latitude and a longitude, such as 45.07 and 7.68"), m.crewPage)
		}
		in.Lat, in.Lon = &la, &lo
	}
	if _, err := m.UpdateJob(c.UserContext(), me(c), id, in); err != nil {
		return failed(c, err, m.crewPage)
	}
	return c.Redirect("/m/cityworks/crew?msg=updated", fiber.StatusSeeOther)
}

func (m *Module) publicPage(c *fiber.Ctx) error {
	slug, _ := url.PathUnescape(c.Params("org"))
	org, err := m.acc.OrgBySlug(c.UserContext(), slug)
	if err != nil || !enabledFor(org) {
		return errs.NotFoundf("not found")
	}
	works, err := m.PublicWorks(c.UserContext(), org.ID, 50)
	if err != nil {
		return err
	}
	return m.render(c, "public", "Finished works", map[string]any{"Works": works, "Council": org.Name})
}
