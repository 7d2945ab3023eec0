package banking

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/chart"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/experience/drafts"
	"github.com/portalkit/portalkit/core/money"
	"github.com/portalkit/portalkit/core/web"
)

func (s *Service) mountPages(r fiber.Router) {
	acc := s.acc
	cust := acc.RequirePage(accounts.Customer)
	staff := acc.RequirePage(accounts.Staff, accounts.Admin)
	r.Get("/", acc.RequirePage(), s.homePage)
	r.Get("/transactions", cust, s.transactionsPage)
	r.Post("/transactions/:id/category", cust, s.categorySubmit)
	r.Get("/import", cust, s.importPage)
	r.Post("/import", cust, s.importUpload)
	r.Post("/import/:id", cust, s.importConfirm)
	r.Get("/bills", cust, s.billsPage)
	r.Post("/bills", cust, s.billSubmit)
	r.Post("/bills/detect", cust, s.detectSubmit)
	r.Post("/payments", cust, s.paymentSubmit)
	r.Get("/budgets", cust, s.budgetsPage)
	r.Post("/budgets", cust, s.budgetSubmit)
	r.Get("/goals", cust, s.goalsPage)
	r.Post("/goals", cust, s.goalSubmit)
	r.Post("/goals/:id/message", acc.RequirePage(), s.goalMessageSubmit)
	r.Post("/plan/accept", cust, s.acceptSubmit)
	r.Get("/reports", cust, s.reportsPage)
	r.Get("/reports/:month", acc.RequirePage(), s.reportPage)
	r.Get("/reports/:month/pdf", acc.RequirePage(), s.reportPDF)
	r.Get("/savings/open", cust, s.savingsPage)
	r.Post("/savings/open", cust, s.savingsSubmit)
	r.Get("/advisor", staff, s.advisorPage)
	r.Get("/advisor/:customer", staff, s.customerPage)
	r.Post("/rules", staff, s.ruleSubmit)
}

var flash = map[string]string{
	"opened":    "Your savings account is open.",
	"imported":  "The statement is imported.",
	"corrected": "The category is corrected, for this merchant's past and future transactions.",
	"bill":      "The bill is saved.",
	"detected":  "We looked for recurring bills in your last six months.",
	"payment":   "The payment is scheduled.",
	"budget":    "The budget is saved.",
	"goal":      "The goal is saved.",
	"accepted":  "The plan is accepted: we will move the money every month.",
	"sent":      "Your message is sent.",
	"rule":      "The rule is saved.",
}

// pageErr is a form error shown on the page it came from.
type pageErr struct {
	Message string
	Fields  map[string]string
}

func render(c *fiber.Ctx, name, title string, data map[string]any) error {
	page := &web.Page{Title: title, Data: data}
	if m, ok := flash[c.Query("msg")]; ok {
		page.Flash, page.FlashKind = m, "ok"
	}
	if pe, ok := c.Locals("banking.err").(*pageErr); ok {
		page.Flash, page.FlashKind = pe.Message, "error"
		data["Errors"] = pe.Fields
		c.Status(fiber.StatusUnprocessableEntity)
	}
	if data["Errors"] == nil {
		data["Errors"] = map[string]string{}
	}
	return web.RenderPage(c, "banking/"+name, page)
}

// failed shows a user error on the page again (422); other errors go up.
func failed(c *fiber.Ctx, err error, again fiber.Handler) error {
	e, ok := errs.As(err)
	if !ok || e.Kind == errs.Internal {
		return err
	}
	if e.Kind == errs.NotFound || e.Kind == errs.Forbidden {
		return err
	}
	pe := &pageErr{Message: e.Message, Fields: map[string]string{}}
	for _, f := range e.Fields {
		pe.Fields[strings.TrimPrefix(f.Field, "body.")] = f.Message
	}
	switch len(e.Fields) {
	case 0:
	case 1:
		pe.Message = e.Fields[0].Message
	default:
		pe.Message = "Please correct the fields marked below."
	}
	c.Locals("banking.err", pe)
	return again(c)
}

// formMoney reads an amount typed in the viewer's format ("12,50" in
// Italian) as minor units.
func formMoney(c *fiber.Ctx, field, locale string) (int64, error) {
	v := strings.TrimSpace(c.FormValue(field))
	if v == "" {
		return 0, nil
	}
	a, err := money.Parse(v, "EUR", locale)
	if err != nil {
		return 0, errs.InvalidField(field, "is not an amount")
	}
	return a.Minor, nil
}

func formDate(c *fiber.Ctx, field string) (time.Time, error) {
	v := strings.TrimSpace(c.FormValue(field))
	t, err := time.Parse("2006-01-02", v)
	if err != nil {
		return time.Time{}, errs.InvalidField(field, "is not a date")
	}
	return t, nil
}

func viewerLang(p *accounts.Principal) string { return lang(p.Locale) }

func (s *Service) homePage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	if p.Is(accounts.Staff, accounts.Admin) {
		return c.Redirect("/m/banking/advisor", fiber.StatusSeeOther)
	}
	ctx := c.UserContext()
	accts, err := s.Accounts(ctx, p, p.UserID)
	if err != nil {
		return err
	}
	recent, _, err := s.Transactions(ctx, p, TxnFilter{OwnerID: p.UserID, Limit: 10})
	if err != nil {
		return err
	}
	up, err := s.UpcomingPayments(ctx, p, 0, 30)
	if err != nil {
		return err
	}
	if len(up) > 5 {
		up = up[:5]
	}
	hasSavings := false
	for _, a := range accts {
		hasSavings = hasSavings || a.Kind == KindSavings
	}
	data := map[string]any{"Accounts": accts, "Recent": recent, "Upcoming": up, "HasSavings": hasSavings}
	// The goal just set while opening a savings account, named in the
	// confirmation.
	if id, err := strconv.ParseUint(c.Query("goal"), 10, 64); err == nil && c.Query("msg") == "opened" {
		if g, err := s.Goal(ctx, p, uint(id)); err == nil {
			data["NewGoal"] = g
			for _, a := range accts {
				if g.AccountID != nil && a.ID == *g.AccountID {
					data["NewGoalAccount"] = a.Name
				}
			}
		}
	}
	return render(c, "home", "My money", data)
}

func (s *Service) transactionsPage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	f := TxnFilter{OwnerID: p.UserID, Category: c.Query("category"), Query: c.Query("q"), Limit: 100}
	f.From, _ = time.Parse("2006-01-02", c.Query("from"))
	f.To, _ = time.Parse("2006-01-02", c.Query("to"))
	list, total, err := s.Transactions(c.UserContext(), p, f)
	if err != nil {
		return err
	}
	return render(c, "transactions", "Transactions", map[string]any{"List": list, "Total": total, "Categories": Categories,
		"Q": c.Query("q"), "Category": c.Query("category"), "From": c.Query("from"), "To": c.Query("to")})
}

func (s *Service) categorySubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.Recategorise(c.UserContext(), p, id, Category(c.FormValue("category"))); err != nil {
		return failed(c, err, s.transactionsPage)
	}
	return c.Redirect("/m/banking/transactions?msg=corrected", fiber.StatusSeeOther)
}

func (s *Service) importPage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	accts, err := s.Accounts(c.UserContext(), p, p.UserID)
	if err != nil {
		return err
	}
	return render(c, "import", "Import a statement", map[string]any{"Accounts": accts})
}

func (s *Service) importUpload(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	acct, _ := strconv.ParseUint(c.FormValue("account_id"), 10, 64)
	fh, err := c.FormFile("file")
	if err != nil {
		return failed(c, errs.InvalidField("file", "choose a CSV file"), s.importPage)
	}
	if fh.Size > MaxStatementBytes {
		return failed(c, errs.InvalidField("file", "is larger than 5 MB"), s.importPage)
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxStatementBytes+1))
	if err != nil {
		return err
	}
	pv, err := s.UploadStatement(c.UserContext(), p, uint(acct), fh.Filename, data)
	if err != nil {
		return failed(c, err, s.importPage)
	}
	return render(c, "import_preview", "Check the import", map[string]any{"P": pv})
}

func mappingFrom(c *fiber.Ctx) *ColumnMap {
	col := func(k string) int {
		n, err := strconv.Atoi(c.FormValue(k))
		if err != nil {
			return -1
		}
		return n
	}
	return &ColumnMap{Date: col("date"), Description: col("description"), Amount: col("amount"), Debit: col("debit"), Credit: col("credit"),
		Currency: col("currency"), Reference: col("reference"), DateFormat: c.FormValue("date_format"), Locale: c.FormValue("locale")}
}

func (s *Service) importConfirm(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	m := mappingFrom(c)
	if c.FormValue("action") != "import" {
		pv, err := s.PreviewImport(c.UserContext(), p, id, m)
		if err != nil {
			return failed(c, err, s.importPage)
		}
		return render(c, "import_preview", "Check the import", map[string]any{"P": pv})
	}
	if _, err := s.ConfirmImport(c.UserContext(), p, id, m); err != nil {
		pv, perr := s.PreviewImport(c.UserContext(), p, id, m)
		if perr != nil {
			return failed(c, err, s.importPage)
		}
		return failed(c, err, func(c *fiber.Ctx) error {
			return render(c, "import_preview", "Check the import", map[string]any{"P": pv})
		})
	}
	return c.Redirect("/m/banking/transactions?msg=imported", fiber.StatusSeeOther)
}

func (s *Service) billsPage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	ctx := c.UserContext()
	bills, err := s.Bills(ctx, p, 0)
	if err != nil {
		return err
	}
	up, err := s.UpcomingPayments(ctx, p, 0, 45)
	if err != nil {
		return err
	}
	accts, err := s.Accounts(ctx, p, p.UserID)
	if err != nil {
		return err
	}
	return render(c, "bills", "Bills and payments", map[string]any{"Bills": bills, "Upcoming": up, "Accounts": accts})
}

func (s *Service) billSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	amt, err := formMoney(c, "amount", viewerLang(p))
	if err != nil {
		return failed(c, err, s.billsPage)
	}
	due, err := formDate(c, "next_due")
	if err != nil {
		return failed(c, err, s.billsPage)
	}
	every, _ := strconv.Atoi(c.FormValue("every_days"))
	if _, err := s.AddBill(c.UserContext(), p, NewBill{Name: c.FormValue("name"), Amount: amt, Currency: "EUR", Every: every, NextDue: due}); err != nil {
		return failed(c, err, s.billsPage)
	}
	return c.Redirect("/m/banking/bills?msg=bill", fiber.StatusSeeOther)
}

func (s *Service) detectSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	if _, err := s.DetectBills(c.UserContext(), p, 0); err != nil {
		return failed(c, err, s.billsPage)
	}
	return c.Redirect("/m/banking/bills?msg=detected", fiber.StatusSeeOther)
}

func (s *Service) paymentSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	amt, err := formMoney(c, "amount", viewerLang(p))
	if err != nil {
		return failed(c, err, s.billsPage)
	}
	due, err := formDate(c, "due_on")
	if err != nil {
		return failed(c, err, s.billsPage)
	}
	acct, _ := strconv.ParseUint(c.FormValue("account_id"), 10, 64)
	if amt <= 0 {
		return failed(c, errs.InvalidField("amount", "must be positive"), s.billsPage)
	}
	if _, err := s.SchedulePayment(c.UserContext(), p, NewPayment{AccountID: uint(acct), Payee: c.FormValue("payee"), Amount: amt, DueOn: due}); err != nil {
		return failed(c, err, s.billsPage)
	}
	return c.Redirect("/m/banking/bills?msg=payment", fiber.StatusSeeOther)
}

func (s *Service) budgetsPage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	bs, err := s.Budgets(c.UserContext(), p, 0)
	if err != nil {
		return err
	}
	var spend []Category
	for _, k := range Categories {
		if k != CatIncome && k != CatSavings && k != CatTransfers {
			spend = append(spend, k)
		}
	}
	return render(c, "budgets", "Budgets", map[string]any{"Budgets": bs, "Charts": budgetCharts(bs), "Categories": spend})
}

func (s *Service) budgetSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	amt, err := formMoney(c, "amount", viewerLang(p))
	if err != nil {
		return failed(c, err, s.budgetsPage)
	}
	pct, _ := strconv.Atoi(c.FormValue("alert_pct"))
	if _, err := s.SetBudget(c.UserContext(), p, Category(c.FormValue("category")), amt, "EUR", pct); err != nil {
		return failed(c, err, s.budgetsPage)
	}
	return c.Redirect("/m/banking/budgets?msg=budget", fiber.StatusSeeOther)
}

func (s *Service) goalsPage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	ctx := c.UserContext()
	gs, err := s.Goals(ctx, p, 0)
	if err != nil {
		return err
	}
	plan, err := s.ProposePlan(ctx, p, 0)
	if err != nil {
		return err
	}
	rule, err := s.ActiveRule(ctx, p, 0)
	if err != nil {
		return err
	}
	accts, err := s.Accounts(ctx, p, p.UserID)
	if err != nil {
		return err
	}
	savings := []AccountView{}
	byID := map[uint]AccountView{}
	for _, a := range accts {
		if a.Kind == KindSavings {
			savings = append(savings, a)
			byID[a.ID] = a
		}
	}
	// Each goal's account, when it has one (the same order as Goals).
	goalAccts := make([]*AccountView, len(gs))
	for i, g := range gs {
		if a, ok := byID[derefID(g.AccountID)]; ok {
			goalAccts[i] = &a
		}
	}
	return render(c, "goals", "Savings goals", map[string]any{"Goals": gs, "Charts": goalCharts(gs), "Plan": plan, "Rule": rule,
		"Savings": savings, "GoalAccounts": goalAccts, "Values": map[string]string{"account_id": c.FormValue("account_id"),
			"name": c.FormValue("name"), "target": c.FormValue("target"), "deadline": c.FormValue("deadline"), "priority": c.FormValue("priority")}})
}

func derefID(id *uint) uint {
	if id == nil {
		return 0
	}
	return *id
}

func (s *Service) goalSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	amt, err := formMoney(c, "target", viewerLang(p))
	if err != nil {
		return failed(c, err, s.goalsPage)
	}
	dl, err := formDate(c, "deadline")
	if err != nil {
		return failed(c, err, s.goalsPage)
	}
	prio, _ := strconv.Atoi(c.FormValue("priority"))
	in := NewGoal{Name: c.FormValue("name"), Target: amt, Deadline: dl, Priority: prio}
	if v := c.FormValue("account_id"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 {
			return failed(c, errs.InvalidField("account_id", "is not one of your savings accounts"), s.goalsPage)
		}
		id := uint(n)
		in.AccountID = &id
	}
	if _, err := s.AddGoal(c.UserContext(), p, in); err != nil {
		return failed(c, err, s.goalsPage)
	}
	return c.Redirect("/m/banking/goals?msg=goal", fiber.StatusSeeOther)
}

func (s *Service) goalMessageSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	back := "/m/banking/goals?msg=sent"
	if p.Is(accounts.Staff, accounts.Admin) {
		g, err := s.Goal(c.UserContext(), p, id)
		if err != nil {
			return err
		}
		back = fmt.Sprintf("/m/banking/advisor/%d?msg=sent", g.OwnerID)
	}
	if _, err := s.MessageAboutGoal(c.UserContext(), p, id, c.FormValue("body")); err != nil {
		if p.Is(accounts.Customer) {
			return failed(c, err, s.goalsPage)
		}
		return err
	}
	return c.Redirect(back, fiber.StatusSeeOther)
}

func (s *Service) acceptSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	d, _ := strconv.Atoi(c.FormValue("day"))
	if _, err := s.AcceptPlan(c.UserContext(), p, d); err != nil {
		return failed(c, err, s.goalsPage)
	}
	return c.Redirect("/m/banking/goals?msg=accepted", fiber.StatusSeeOther)
}

func (s *Service) reportsPage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	rs, err := s.Reports(c.UserContext(), p, 0)
	if err != nil {
		return err
	}
	type row struct {
		Month string
		Name  string
		Short bool
	}
	out := make([]row, len(rs))
	for i, r := range rs {
		m, _ := time.Parse("2006-01", r.Month)
		out[i] = row{r.Month, MonthName(viewerLang(p), m), r.Short}
	}
	return render(c, "reports", "Monthly reports", map[string]any{"Reports": out})
}

// reportFor finds the report of the page's month for the viewer (or, for
// staff, the customer in ?customer=).
func (s *Service) reportFor(c *fiber.Ctx) (*ReportView, uint, error) {
	p, _ := accounts.PrincipalOf(c)
	var owner uint
	if !p.Is(accounts.Customer) {
		n, _ := strconv.ParseUint(c.Query("customer"), 10, 64)
		if n == 0 {
			return nil, 0, errs.NotFoundf("report not found")
		}
		owner = uint(n)
	}
	return s.ReportByMonth(c.UserContext(), p, owner, c.Params("month"))
}

func categoryChart(r Report) chart.Chart {
	ch := chart.Chart{Kind: chart.Bar, Title: "Spending by category", LabelHeader: "Category", ValueName: "Spent", Unit: "€", Decimals: 2, LabelsAreKeys: true,
		Series: []chart.Series{{Name: "This month"}, {Name: "Last month"}, {Name: "3-month average"}}}
	for _, l := range r.ByCategory {
		ch.Labels = append(ch.Labels, string(l.Category))
		ch.Series[0].Values = append(ch.Series[0].Values, float64(l.ThisMonth.Minor)/100)
		ch.Series[1].Values = append(ch.Series[1].Values, float64(l.LastMonth.Minor)/100)
		ch.Series[2].Values = append(ch.Series[2].Values, float64(l.Avg3.Minor)/100)
	}
	return ch
}

func (s *Service) reportPage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	r, owner, err := s.reportFor(c)
	if err != nil {
		return err
	}
	return render(c, "report", "Monthly report", map[string]any{"R": r.Report, "Month": r.Month, "Name": MonthName(viewerLang(p), r.Report.Month),
		"Chart": categoryChart(r.Report), "Owner": owner, "Staff": !p.Is(accounts.Customer)})
}

func (s *Service) reportPDF(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	r, owner, err := s.reportFor(c)
	if err != nil {
		return err
	}
	u, err := s.acc.UserByID(c.UserContext(), p.OrgID, owner)
	if err != nil {
		return err
	}
	pdf, err := ReportPDF(r.Report, u.Name, p.Locale)
	if err != nil {
		return err
	}
	c.Set("Content-Type", "application/pdf")
	c.Set("Content-Disposition", `attachment; filename="report-`+r.Month+`.pdf"`)
	return c.Send(pdf)
}

// --- savings opening: one form, three steps, one draft ---

func (s *Service) savingsPage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	offer, err := drafts.ForPage(c, SavingsDraftKey)
	if err != nil {
		return err
	}
	if c.Method() == fiber.MethodPost {
		// Mid-way through the steps the fields on the page are the latest:
		// offer no older draft, keep saving this one.
		offer.Saved = false
	}
	accts, err := s.Accounts(c.UserContext(), p, p.UserID)
	if err != nil {
		return err
	}
	var current []AccountView
	for _, a := range accts {
		if a.Kind == KindCurrent {
			current = append(current, a)
		}
	}
	step := 1
	if n, err := strconv.Atoi(c.FormValue("step")); err == nil && n >= 1 && n <= 3 {
		step = n
	}
	if n, err := strconv.Atoi(c.Query("step")); err == nil && n >= 1 && n <= 3 {
		step = n
	}
	values := map[string]string{}
	for _, k := range []string{"name", "purpose", "goal_target", "goal_deadline", "from_account_id", "first_deposit", "accept_terms"} {
		values[k] = c.FormValue(k)
	}
	// A field in error is shown on its step (the final submission checks
	// them all).
	if pe, ok := c.Locals("banking.err").(*pageErr); ok {
		first := 0
		for f := range pe.Fields {
			if n := savingsStepOf(f); first == 0 || n < first {
				first = n
			}
		}
		if first > 0 {
			step = first
		}
	}
	return render(c, "savings_open", "Open a savings account", map[string]any{"Draft": offer, "Step": step, "Values": values,
		"Current": current, "Purposes": savingsPurposes, "Terms": TermsVersion})
}

// savingsFormField names the form's field for a field of the
// application's errors (the goal's are nested in the API).
var savingsFormField = map[string]string{"goal.target_minor": "goal_target", "goal.deadline": "goal_deadline", "goal.name": "name"}

// savingsStepOf is the step of the opening form that holds field.
func savingsStepOf(field string) int {
	switch field {
	case "name", "purpose", "goal_target", "goal_deadline":
		return 1
	case "from_account_id", "first_deposit":
		return 2
	}
	return 3
}

// savingsFailed shows the application's errors on the opening form, each
// on the field that holds it.
func (s *Service) savingsFailed(c *fiber.Ctx, err error) error {
	if e, ok := errs.As(err); ok {
		for i, f := range e.Fields {
			if n, ok := savingsFormField[f.Field]; ok {
				e.Fields[i].Field = n
			}
		}
	}
	return failed(c, err, s.savingsPage)
}

// savingsGoal reads the opening form's optional goal: none when both its
// fields are empty.
func savingsGoal(c *fiber.Ctx, locale string) (*SavingsGoalIn, error) {
	if strings.TrimSpace(c.FormValue("goal_target")) == "" && strings.TrimSpace(c.FormValue("goal_deadline")) == "" {
		return nil, nil
	}
	g := &SavingsGoalIn{}
	var err error
	if g.Target, err = formMoney(c, "goal_target", locale); err != nil {
		return nil, err
	}
	if strings.TrimSpace(c.FormValue("goal_deadline")) != "" {
		if g.Deadline, err = formDate(c, "goal_deadline"); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func (s *Service) savingsSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	dep, err := formMoney(c, "first_deposit", viewerLang(p))
	if err != nil {
		return failed(c, err, s.savingsPage)
	}
	goal, err := savingsGoal(c, viewerLang(p))
	if err != nil {
		return failed(c, err, s.savingsPage)
	}
	from, _ := strconv.ParseUint(c.FormValue("from_account_id"), 10, 64)
	app := SavingsApplication{Name: c.FormValue("name"), Purpose: c.FormValue("purpose"), FromAccountID: uint(from), FirstDeposit: dep,
		AcceptedTerms: c.FormValue("accept_terms") == "yes", TermsVersion: c.FormValue("terms_version"), IP: c.IP(), Goal: goal}
	step, _ := strconv.Atoi(c.FormValue("step"))
	if next, _ := strconv.Atoi(c.FormValue("next")); next > 0 {
		// Going forward checks the step being left; going back checks nothing.
		if next > step {
			if fields := validateStep(step, app, s.now()); len(fields) > 0 {
				return s.savingsFailed(c, errs.Validation("Please correct the fields marked below.", fields...))
			}
		}
		c.Request().PostArgs().Set("step", strconv.Itoa(min(max(next, 1), 3)))
		return s.savingsPage(c)
	}
	_, g, err := s.OpenSavings(c.UserContext(), p, app, func(tx *gorm.DB) error {
		return drafts.Clear(c.UserContext(), tx, p.OrgID, p.UserID, SavingsDraftKey)
	})
	if err != nil {
		return s.savingsFailed(c, err)
	}
	if g != nil {
		return c.Redirect(fmt.Sprintf("/m/banking/?msg=opened&goal=%d", g.ID), fiber.StatusSeeOther)
	}
	return c.Redirect("/m/banking/?msg=opened", fiber.StatusSeeOther)
}

// --- advisor ---

func (s *Service) advisorPage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	ctx := c.UserContext()
	q, err := s.acc.Reach(ID).WhereVisible(ctx, p, s.db(ctx, p.OrgID).Table("accounts_users").Where("role = ?", accounts.Customer).
		Where("EXISTS (SELECT 1 FROM banking_accounts a WHERE a.org_id = accounts_users.org_id AND a.owner_id = accounts_users.id)"), "id")
	if err != nil {
		return err
	}
	// Pages of advisorPageSize customers by name; one more is read to know
	// whether a next page exists.
	page := max(0, c.QueryInt("page"))
	var users []accounts.User
	if err := q.Order("name, id").Offset(page * advisorPageSize).Limit(advisorPageSize + 1).Find(&users).Error; err != nil {
		return err
	}
	more := len(users) > advisorPageSize
	users = users[:min(len(users), advisorPageSize)]
	rules, err := s.OrgRules(ctx, p)
	if err != nil {
		return err
	}
	var prev, next string
	if page > 0 {
		prev = "/m/banking/advisor?page=" + strconv.Itoa(page-1)
	}
	if more {
		next = "/m/banking/advisor?page=" + strconv.Itoa(page+1)
	}
	return render(c, "advisor", "Banking customers", map[string]any{"Customers": users, "Prev": prev, "Next": next, "Rules": rules, "Categories": Categories})
}

// advisorPageSize is how many customers the advisor page lists at once.
const advisorPageSize = 100

func (s *Service) customerPage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	ctx := c.UserContext()
	id, err := web.PathID(c, "customer")
	if err != nil {
		return err
	}
	if err := s.acc.Reach(ID).CanRead(ctx, p, p.OrgID, id); err != nil {
		return err
	}
	u, err := s.acc.UserByID(ctx, p.OrgID, id)
	if err != nil {
		return errs.NotFoundf("customer not found")
	}
	gs, err := s.Goals(ctx, p, id)
	if err != nil {
		return err
	}
	plan, err := s.ProposePlan(ctx, p, id)
	if err != nil {
		return err
	}
	rule, err := s.ActiveRule(ctx, p, id)
	if err != nil {
		return err
	}
	rs, err := s.Reports(ctx, p, id)
	if err != nil {
		return err
	}
	accts, err := s.Accounts(ctx, p, id)
	if err != nil {
		return err
	}
	return render(c, "customer", u.Name, map[string]any{"Customer": u, "Goals": gs, "Charts": goalCharts(gs), "Plan": plan, "Rule": rule,
		"Reports": rs, "Accounts": accts})
}

func (s *Service) ruleSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	if _, err := s.AddOrgRule(c.UserContext(), p, c.FormValue("match"), Category(c.FormValue("category"))); err != nil {
		return failed(c, err, s.advisorPage)
	}
	return c.Redirect("/m/banking/advisor?msg=rule", fiber.StatusSeeOther)
}
