package banking

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/money"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/store"
)

// --- bills ---

// Bills lists a customer's bills, next due first.
func (s *Service) Bills(ctx context.Context, p *accounts.Principal, ownerID uint) ([]BankBill, error) {
	owner, err := s.ownerFor(ctx, p, ownerID)
	if err != nil {
		return nil, err
	}
	var out []BankBill
	return out, s.db(ctx, p.OrgID).Where("owner_id = ?", owner).Order("next_due, id").Find(&out).Error
}

// ownerFor resolves whose data a request is about: the customer
// themselves, or (staff, admins, integrators) the customer named.
func (s *Service) ownerFor(ctx context.Context, p *accounts.Principal, ownerID uint) (uint, error) {
	if p.Role == accounts.Customer || ownerID == 0 {
		if p.Role != accounts.Customer {
			return 0, errs.InvalidField("owner_id", "is required for staff and integrators")
		}
		return p.UserID, nil
	}
	if err := s.acc.Reach(ID).CanRead(ctx, p, p.OrgID, ownerID); err != nil {
		return 0, err
	}
	return ownerID, nil
}

// NewBill is a bill entered by hand.
type NewBill struct {
	Name     string    `json:"name" minLength:"1" maxLength:"120"`
	Amount   int64     `json:"amount_minor" minimum:"1" maximum:"1000000000000000"`
	Currency string    `json:"currency" minLength:"3" maxLength:"3"`
	Every    int       `json:"every_days" minimum:"7" maximum:"366"`
	NextDue  time.Time `json:"next_due"`
}

// AddBill records a bill by hand.
func (s *Service) AddBill(ctx context.Context, p *accounts.Principal, in NewBill) (*BankBill, error) {
	if p.Role != accounts.Customer {
		return nil, errs.Forbiddenf("customers enter their own bills")
	}
	var fields []errs.FieldError
	if strings.TrimSpace(in.Name) == "" {
		fields = append(fields, errs.Field("name", "is required"))
	}
	if msg := money.CheckPositive(in.Amount); msg != "" {
		fields = append(fields, errs.Field("amount_minor", msg))
	}
	if !money.ValidCurrency(strings.ToUpper(in.Currency)) {
		fields = append(fields, errs.Field("currency", "must be an ISO 4217 code such as EUR"))
	}
	if in.Every < 7 || in.Every > 366 {
		fields = append(fields, errs.Field("every_days", "must be between 7 and 366"))
	}
	if in.NextDue.IsZero() {
		fields = append(fields, errs.Field("next_due", "is required"))
	}
	if len(fields) > 0 {
		return nil, errs.Validation("the bill is not valid", fields...)
	}
	b := &BankBill{OwnerID: p.UserID, Name: strings.TrimSpace(in.Name), Amount: in.Amount, Currency: strings.ToUpper(in.Currency), Every: in.Every, NextDue: day(in.NextDue)}
	return b, s.db(ctx, p.OrgID).Create(b).Error
}

// DeleteBill removes one of the caller's bills.
func (s *Service) DeleteBill(ctx context.Context, p *accounts.Principal, id uint) error {
	var b BankBill
	if err := s.db(ctx, p.OrgID).First(&b, id).Error; err != nil {
		return errs.NotFoundf("bill not found")
	}
	if err := s.acc.Reach(ID).CanWrite(ctx, p, p.OrgID, b.OwnerID, false); err != nil {
		return errs.NotFoundf("bill not found")
	}
	return s.db(ctx, p.OrgID).Delete(&BankBill{}, b.ID).Error
}

// DetectBills finds recurring bills in the customer's last 6 months and
// records new ones (a bill already known by name is kept as is).
func (s *Service) DetectBills(ctx context.Context, p *accounts.Principal, ownerID uint) ([]BankBill, error) {
	owner, err := s.ownerFor(ctx, p, ownerID)
	if err != nil {
		return nil, err
	}
	var rows []Entry
	since := day(s.now()).AddDate(0, -6, 0)
	if err := s.db(ctx, p.OrgID).Select("booked_on", "merchant", "amount", "currency").
		Where("owner_id = ? AND booked_on >= ? AND amount < 0 AND merchant <> ''", owner, since).Find(&rows).Error; err != nil {
		return nil, err
	}
	txns := make([]Txn, len(rows))
	for i, r := range rows {
		txns[i] = Txn{Date: r.BookedOn, Merchant: r.Merchant, Amount: money.New(r.Amount, r.Currency)}
	}
	found := DetectRecurring(txns)
	err = s.st.Tx(ctx, func(tx *gorm.DB) error {
		for _, f := range found {
			var n int64
			if err := store.Org(tx, p.OrgID).Model(&BankBill{}).Where("owner_id = ? AND name = ?", owner, f.Merchant).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				continue
			}
			if err := store.Org(tx, p.OrgID).Create(&BankBill{OwnerID: owner, Name: f.Merchant, Amount: f.Amount.Minor, Currency: f.Amount.Currency,
				Every: f.Every, NextDue: day(f.NextDue), Detected: true}).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Bills(ctx, p, owner)
}

// --- payments ---

// NewPayment is a payment the customer schedules.
type NewPayment struct {
	AccountID uint      `json:"account_id" minimum:"1"`
	Payee     string    `json:"payee" minLength:"1" maxLength:"120"`
	Amount    int64     `json:"amount_minor" minimum:"1" maximum:"1000000000000000"`
	DueOn     time.Time `json:"due_on"`
}

// SchedulePayment records a scheduled payment from one of the customer's
// accounts.
func (s *Service) SchedulePayment(ctx context.Context, p *accounts.Principal, in NewPayment) (*BankPayment, error) {
	a, err := s.Account(ctx, p, in.AccountID)
	if err != nil {
		return nil, errs.InvalidField("account_id", "is not one of your accounts")
	}
	if err := s.acc.Reach(ID).CanWrite(ctx, p, p.OrgID, a.OwnerID, false); err != nil {
		return nil, err
	}
	if in.DueOn.IsZero() || day(in.DueOn).Before(day(s.now())) {
		return nil, errs.InvalidField("due_on", "must be today or later")
	}
	pay := &BankPayment{OwnerID: a.OwnerID, AccountID: a.ID, Payee: strings.TrimSpace(in.Payee), Amount: in.Amount, Currency: a.Currency,
		DueOn: day(in.DueOn), Status: PaymentScheduled}
	return pay, s.db(ctx, p.OrgID).Create(pay).Error
}

// Payments lists a customer's payments, soonest first.
func (s *Service) Payments(ctx context.Context, p *accounts.Principal, ownerID uint) ([]BankPayment, error) {
	owner, err := s.ownerFor(ctx, p, ownerID)
	if err != nil {
		return nil, err
	}
	var out []BankPayment
	return out, s.db(ctx, p.OrgID).Where("owner_id = ?", owner).Order("due_on, id").Limit(500).Find(&out).Error
}

func (s *Service) payment(ctx context.Context, p *accounts.Principal, id uint) (*BankPayment, error) {
	var pay BankPayment
	if err := s.db(ctx, p.OrgID).First(&pay, id).Error; err != nil {
		return nil, errs.NotFoundf("payment not found")
	}
	if err := s.acc.Reach(ID).CanRead(ctx, p, p.OrgID, pay.OwnerID); err != nil {
		return nil, errs.NotFoundf("payment not found")
	}
	return &pay, nil
}

// CancelPayment cancels a payment still scheduled (the customer).
func (s *Service) CancelPayment(ctx context.Context, p *accounts.Principal, id uint) error {
	pay, err := s.payment(ctx, p, id)
	if err != nil {
		return err
	}
	if err := s.acc.Reach(ID).CanWrite(ctx, p, p.OrgID, pay.OwnerID, false); err != nil {
		return err
	}
	res := s.db(ctx, p.OrgID).Where("id = ? AND status = ?", id, PaymentScheduled).Delete(&BankPayment{})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errs.Conflictf("only a scheduled payment can be cancelled; this one is %s", pay.Status)
	}
	return nil
}

// SetPaymentStatus moves a payment on (the bank's systems): pending,
// settled (books the debit, refusing to overdraw) or failed.
func (s *Service) SetPaymentStatus(ctx context.Context, p *accounts.Principal, id uint, status string) (*BankPayment, error) {
	pay, err := s.payment(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if pay.Status == status {
		return pay, nil
	}
	if pay.Status == PaymentSettled || pay.Status == PaymentFailed {
		return nil, errs.Conflictf("the payment is already %s", pay.Status)
	}
	err = s.st.Tx(ctx, func(tx *gorm.DB) error {
		up := map[string]any{"status": status}
		if status == PaymentSettled {
			if _, err := s.lockAccount(tx, p.OrgID, pay.AccountID); err != nil {
				return err
			}
			bal, err := balance(tx, p.OrgID, pay.AccountID)
			if err != nil {
				return err
			}
			if bal < pay.Amount {
				return ErrInsufficientFunds
			}
			e := Entry{AccountID: pay.AccountID, OwnerID: pay.OwnerID, ExternalID: "payment:" + itoa(pay.ID), BookedOn: day(s.now()),
				Description: pay.Payee, Amount: -pay.Amount, Currency: pay.Currency}
			rules, err := rulesFor(tx, p.OrgID, pay.OwnerID)
			if err != nil {
				return err
			}
			categorise(&e, rules)
			if _, err := s.insertEntries(tx, p.OrgID, []Entry{e}); err != nil {
				return err
			}
			if err := s.booked(ctx, tx, p.OrgID, p.UserID, []Entry{e}); err != nil {
				return err
			}
			now := s.now()
			up["settled_at"] = now
			pay.SettledAt = &now
			if err := s.checkBudgets(ctx, tx, p.OrgID, []Entry{e}); err != nil {
				return err
			}
		}
		res := store.Org(tx, p.OrgID).Model(&BankPayment{}).Where("id = ? AND status = ?", pay.ID, pay.Status).Updates(up)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errs.Conflictf("the payment changed meanwhile; try again")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pay.Status = status
	return pay, nil
}

// Upcoming is one thing due soon: a bill or a payment.
type Upcoming struct {
	Kind     string    `json:"kind" enum:"bill,payment"`
	ID       uint      `json:"id"`
	Name     string    `json:"name"`
	Amount   int64     `json:"amount_minor"`
	Currency string    `json:"currency"`
	DueOn    time.Time `json:"due_on"`
	Status   string    `json:"status,omitempty"`
}

// UpcomingPayments lists bills and open payments due in the next days.
func (s *Service) UpcomingPayments(ctx context.Context, p *accounts.Principal, ownerID uint, days int) ([]Upcoming, error) {
	owner, err := s.ownerFor(ctx, p, ownerID)
	if err != nil {
		return nil, err
	}
	from := day(s.now())
	to := from.AddDate(0, 0, days)
	var bills []BankBill
	if err := s.db(ctx, p.OrgID).Where("owner_id = ?", owner).Find(&bills).Error; err != nil {
		return nil, err
	}
	out := []Upcoming{}
	for _, b := range bills {
		for due := b.NextDue; !due.After(to); due = due.AddDate(0, 0, b.Every) {
			if !due.Before(from) {
				out = append(out, Upcoming{Kind: "bill", ID: b.ID, Name: b.Name, Amount: b.Amount, Currency: b.Currency, DueOn: due})
			}
		}
	}
	var pays []BankPayment
	if err := s.db(ctx, p.OrgID).Where("owner_id = ? AND status IN ? AND due_on <= ?", owner, []string{PaymentScheduled, PaymentPending}, to).Find(&pays).Error; err != nil {
		return nil, err
	}
	for _, x := range pays {
		out = append(out, Upcoming{Kind: "payment", ID: x.ID, Name: x.Payee, Amount: x.Amount, Currency: x.Currency, DueOn: x.DueOn, Status: x.Status})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].DueOn.Before(out[j].DueOn) })
	return out, nil
}

// --- budgets ---

// BudgetStatus is a budget with this month's spending.
type BudgetStatus struct {
	Budget
	Spent int64 `json:"spent_minor"`
	// Percent of the budget spent this month.
	Percent int64 `json:"percent"`
}

// SetBudget creates or changes the customer's budget for a category.
func (s *Service) SetBudget(ctx context.Context, p *accounts.Principal, cat Category, amount int64, currency string, alertPct int) (*Budget, error) {
	if p.Role != accounts.Customer {
		return nil, errs.Forbiddenf("customers set their own budgets")
	}
	var fields []errs.FieldError
	if !ValidCategory(cat) || cat == CatIncome {
		fields = append(fields, errs.Field("category", "is not a spending category"))
	}
	if msg := money.CheckPositive(amount); msg != "" {
		fields = append(fields, errs.Field("amount_minor", msg))
	}
	if alertPct == 0 {
		alertPct = 80
	}
	if alertPct < 10 || alertPct > 200 {
		fields = append(fields, errs.Field("alert_pct", "must be between 10 and 200"))
	}
	if currency == "" {
		currency = "EUR"
	}
	if len(fields) > 0 {
		return nil, errs.Validation("the budget is not valid", fields...)
	}
	b := &Budget{OwnerID: p.UserID, Category: cat, Amount: amount, Currency: strings.ToUpper(currency), AlertPct: alertPct}
	err := s.db(ctx, p.OrgID).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "org_id"}, {Name: "owner_id"}, {Name: "category"}},
		DoUpdates: clause.AssignmentColumns([]string{"amount", "currency", "alert_pct"})}).Create(b).Error
	if err != nil {
		return nil, err
	}
	var saved Budget
	return &saved, s.db(ctx, p.OrgID).Where("owner_id = ? AND category = ?", p.UserID, cat).First(&saved).Error
}

// DeleteBudget removes one of the caller's budgets.
func (s *Service) DeleteBudget(ctx context.Context, p *accounts.Principal, id uint) error {
	var b Budget
	if err := s.db(ctx, p.OrgID).First(&b, id).Error; err != nil {
		return errs.NotFoundf("budget not found")
	}
	if err := s.acc.Reach(ID).CanWrite(ctx, p, p.OrgID, b.OwnerID, false); err != nil {
		return errs.NotFoundf("budget not found")
	}
	return s.db(ctx, p.OrgID).Delete(&Budget{}, b.ID).Error
}

// spentByCategory sums owner's debits per category in [from, to).
func spentByCategory(tx *gorm.DB, org, owner uint, from, to time.Time) (map[Category]int64, error) {
	var rows []struct {
		Category Category
		Total    int64
	}
	err := store.Org(tx, org).Model(&Entry{}).Select("category, -SUM(amount) AS total").
		Where("owner_id = ? AND amount < 0 AND booked_on >= ? AND booked_on < ? AND category <> ?", owner, from, to, CatSavings).
		Group("category").Scan(&rows).Error
	out := map[Category]int64{}
	for _, r := range rows {
		out[r.Category] = r.Total
	}
	return out, err
}

// Budgets returns the customer's budgets with this month's spending.
func (s *Service) Budgets(ctx context.Context, p *accounts.Principal, ownerID uint) ([]BudgetStatus, error) {
	owner, err := s.ownerFor(ctx, p, ownerID)
	if err != nil {
		return nil, err
	}
	var bs []Budget
	if err := s.db(ctx, p.OrgID).Where("owner_id = ?", owner).Order("category").Find(&bs).Error; err != nil {
		return nil, err
	}
	m := monthStart(s.now())
	spent, err := spentByCategory(s.db(ctx, p.OrgID), p.OrgID, owner, m, m.AddDate(0, 1, 0))
	if err != nil {
		return nil, err
	}
	out := make([]BudgetStatus, len(bs))
	for i, b := range bs {
		out[i] = BudgetStatus{Budget: b, Spent: spent[b.Category]}
		if b.Amount > 0 {
			out[i].Percent = spent[b.Category] * 100 / b.Amount
		}
	}
	return out, nil
}

// checkBudgets alerts the owners of newly booked debits whose month's
// spending in a category passed the budget's threshold: once per budget
// per month (the notification's dedupe key).
func (s *Service) checkBudgets(ctx context.Context, tx *gorm.DB, org uint, rows []Entry) error {
	type key struct {
		owner uint
		month time.Time
	}
	touched := map[key]map[Category]bool{}
	for _, e := range rows {
		if e.Amount >= 0 {
			continue
		}
		k := key{e.OwnerID, monthStart(e.BookedOn)}
		if touched[k] == nil {
			touched[k] = map[Category]bool{}
		}
		touched[k][e.Category] = true
	}
	if len(touched) == 0 || s.notify == nil {
		return nil
	}
	var batch []notify.Notification
	for k, cats := range touched {
		var bs []Budget
		if err := store.Org(tx, org).Where("owner_id = ?", k.owner).Find(&bs).Error; err != nil {
			return err
		}
		if len(bs) == 0 {
			continue
		}
		spent, err := spentByCategory(tx, org, k.owner, k.month, k.month.AddDate(0, 1, 0))
		if err != nil {
			return err
		}
		for _, b := range bs {
			if !cats[b.Category] || spent[b.Category]*100 < b.Amount*int64(b.AlertPct) {
				continue
			}
			batch = append(batch, notify.Notification{OrgID: org, UserID: k.owner, Kind: KindBudgetAlert,
				DedupeKey: fmt.Sprintf("budget:%d:%s", b.ID, monthKey(k.month)),
				Data: map[string]any{"category": string(b.Category), "spent_minor": spent[b.Category], "budget_minor": b.Amount,
					"currency": b.Currency, "percent": spent[b.Category] * 100 / b.Amount, "link": "/m/banking/budgets"}})
		}
	}
	if len(batch) == 0 {
		return nil
	}
	_, err := s.notify.SendMany(ctx, tx, batch)
	return err
}
