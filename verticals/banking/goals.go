package banking

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/money"
	"github.com/portalkit/portalkit/core/schedule"
	"github.com/portalkit/portalkit/core/store"
)

// NewGoal is a goal to create or change.
type NewGoal struct {
	Name     string    `json:"name" minLength:"1" maxLength:"80"`
	Target   int64     `json:"target_minor" minimum:"1" maximum:"1000000000000000"`
	Currency string    `json:"currency,omitempty" doc:"Default EUR"`
	Deadline time.Time `json:"deadline"`
	Priority int       `json:"priority" minimum:"1" maximum:"10"`
	// AccountID ties the goal to one of the caller's savings accounts.
	AccountID *uint `json:"account_id,omitempty" minimum:"1" doc:"One of your savings accounts the goal saves into (optional)"`
}

// checkGoalAccount fails unless id is one of owner's savings accounts
// (422 naming account_id: another customer's account is not theirs).
func checkGoalAccount(db *gorm.DB, org, owner uint, id *uint) error {
	if id == nil {
		return nil
	}
	var n int64
	if err := store.Org(db, org).Model(&Account{}).Where("id = ? AND owner_id = ? AND kind = ?", *id, owner, KindSavings).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return errs.InvalidField("account_id", "is not one of your savings accounts")
	}
	return nil
}

func (s *Service) validGoal(in *NewGoal) error {
	var fields []errs.FieldError
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		fields = append(fields, errs.Field("name", "is required"))
	}
	if msg := money.CheckPositive(in.Target); msg != "" {
		fields = append(fields, errs.Field("target_minor", msg))
	}
	if in.Currency == "" {
		in.Currency = "EUR"
	}
	in.Currency = strings.ToUpper(in.Currency)
	if !money.ValidCurrency(in.Currency) {
		fields = append(fields, errs.Field("currency", "must be an ISO 4217 code such as EUR"))
	}
	if in.Deadline.IsZero() || !day(in.Deadline).After(day(s.now())) {
		fields = append(fields, errs.Field("deadline", "must be a date in the future"))
	}
	if in.Priority < 1 || in.Priority > 10 {
		fields = append(fields, errs.Field("priority", "must be between 1 (most important) and 10"))
	}
	if len(fields) > 0 {
		return errs.Validation("the goal is not valid", fields...)
	}
	return nil
}

// AddGoal creates a goal for the calling customer, tied to one of their
// savings accounts when in.AccountID is set.
func (s *Service) AddGoal(ctx context.Context, p *accounts.Principal, in NewGoal) (*SavingsGoal, error) {
	if p.Role != accounts.Customer {
		return nil, errs.Forbiddenf("customers set their own goals")
	}
	return s.addGoal(s.st.DB.WithContext(ctx), p, in, 0)
}

// addGoal creates the caller's goal in db (a transaction when opening an
// account), with saved already counted towards it.
func (s *Service) addGoal(db *gorm.DB, p *accounts.Principal, in NewGoal, saved int64) (*SavingsGoal, error) {
	if err := s.validGoal(&in); err != nil {
		return nil, err
	}
	if err := checkGoalAccount(db, p.OrgID, p.UserID, in.AccountID); err != nil {
		return nil, err
	}
	g := &SavingsGoal{OwnerID: p.UserID, Name: in.Name, Target: in.Target, Saved: saved, Currency: in.Currency, Deadline: day(in.Deadline),
		Priority: in.Priority, AccountID: in.AccountID}
	return g, store.Org(db, p.OrgID).Create(g).Error
}

// Goal returns one goal the caller may read.
func (s *Service) Goal(ctx context.Context, p *accounts.Principal, id uint) (*SavingsGoal, error) {
	var g SavingsGoal
	if err := s.db(ctx, p.OrgID).First(&g, id).Error; err != nil {
		return nil, errs.NotFoundf("goal not found")
	}
	if err := s.acc.Reach(ID).CanRead(ctx, p, p.OrgID, g.OwnerID); err != nil {
		return nil, errs.NotFoundf("goal not found")
	}
	return &g, nil
}

// UpdateGoal changes one of the caller's goals.
func (s *Service) UpdateGoal(ctx context.Context, p *accounts.Principal, id uint, in NewGoal) (*SavingsGoal, error) {
	g, err := s.Goal(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if err := s.acc.Reach(ID).CanWrite(ctx, p, p.OrgID, g.OwnerID, false); err != nil {
		return nil, err
	}
	if err := s.validGoal(&in); err != nil {
		return nil, err
	}
	if err := checkGoalAccount(s.st.DB.WithContext(ctx), p.OrgID, g.OwnerID, in.AccountID); err != nil {
		return nil, err
	}
	g.Name, g.Target, g.Deadline, g.Priority, g.AccountID = in.Name, in.Target, day(in.Deadline), in.Priority, in.AccountID
	return g, s.db(ctx, p.OrgID).Model(&SavingsGoal{}).Where("id = ?", g.ID).
		Updates(map[string]any{"name": g.Name, "target": g.Target, "deadline": g.Deadline, "priority": g.Priority, "account_id": g.AccountID}).Error
}

// DeleteGoal removes one of the caller's goals.
func (s *Service) DeleteGoal(ctx context.Context, p *accounts.Principal, id uint) error {
	g, err := s.Goal(ctx, p, id)
	if err != nil {
		return err
	}
	if err := s.acc.Reach(ID).CanWrite(ctx, p, p.OrgID, g.OwnerID, false); err != nil {
		return err
	}
	return s.db(ctx, p.OrgID).Delete(&SavingsGoal{}, g.ID).Error
}

// Goals lists a customer's goals by priority.
func (s *Service) Goals(ctx context.Context, p *accounts.Principal, ownerID uint) ([]SavingsGoal, error) {
	owner, err := s.ownerFor(ctx, p, ownerID)
	if err != nil {
		return nil, err
	}
	var out []SavingsGoal
	return out, s.db(ctx, p.OrgID).Where("owner_id = ?", owner).Order("priority, deadline, id").Find(&out).Error
}

// planInput gathers what the plan for month needs about owner: the
// expected income (a third of the credits of the three months before,
// transfers between own accounts excluded), the bills and the open
// payments due in the month, the budgets, and the goals.
func (s *Service) planInput(db *gorm.DB, org, owner uint, month time.Time) (PlanInput, error) {
	all, err := s.planInputs(db, org, []uint{owner}, month, nil)
	return all[owner], err
}

// ProposePlan is the plan the budget tool proposes for this month.
func (s *Service) ProposePlan(ctx context.Context, p *accounts.Principal, ownerID uint) (*SavingsPlan, error) {
	owner, err := s.ownerFor(ctx, p, ownerID)
	if err != nil {
		return nil, err
	}
	in, err := s.planInput(s.db(ctx, p.OrgID), p.OrgID, owner, s.now())
	if err != nil {
		return nil, err
	}
	plan, err := MakePlan(in)
	if err != nil {
		return nil, errs.New(errs.Invalid, "%s", err.Error())
	}
	return &plan, nil
}

// ActiveRule returns the customer's active savings rule, if any.
func (s *Service) ActiveRule(ctx context.Context, p *accounts.Principal, ownerID uint) (*SavingsRule, error) {
	owner, err := s.ownerFor(ctx, p, ownerID)
	if err != nil {
		return nil, err
	}
	var r SavingsRule
	if err := s.db(ctx, p.OrgID).Where("owner_id = ? AND active = ?", owner, true).Order("id DESC").Limit(1).Find(&r).Error; err != nil {
		return nil, err
	}
	if r.ID == 0 {
		return nil, nil
	}
	return &r, nil
}

// firstAccount returns the owner's oldest account of a kind.
func firstAccount(db *gorm.DB, org, owner uint, kind string) (*Account, error) {
	var a Account
	if err := store.Org(db, org).Where("owner_id = ? AND kind = ?", owner, kind).Order("id").Limit(1).Find(&a).Error; err != nil {
		return nil, err
	}
	if a.ID == 0 {
		return nil, nil
	}
	return &a, nil
}

// AcceptPlan accepts this month's proposed plan: from now on, on day of
// every month, the planned amounts move from the current account to the
// savings account, allocated to the goals.
func (s *Service) AcceptPlan(ctx context.Context, p *accounts.Principal, dayOfMonth int) (*SavingsRule, error) {
	if p.Role != accounts.Customer {
		return nil, errs.Forbiddenf("customers accept their own plan")
	}
	if dayOfMonth < 1 || dayOfMonth > 28 {
		return nil, errs.InvalidField("day", "must be between 1 and 28")
	}
	plan, err := s.ProposePlan(ctx, p, 0)
	if err != nil {
		return nil, err
	}
	if plan.ToSave.Minor <= 0 {
		return nil, errs.InvalidField("plan", "there is nothing to save this month: add a goal, or check your budgets and bills")
	}
	db := s.db(ctx, p.OrgID)
	from, err := firstAccount(db, p.OrgID, p.UserID, KindCurrent)
	if err != nil {
		return nil, err
	}
	to, err := firstAccount(db, p.OrgID, p.UserID, KindSavings)
	if err != nil {
		return nil, err
	}
	if from == nil || to == nil {
		return nil, errs.InvalidField("plan", "you need a current and a savings account; open a savings account first")
	}
	alloc := map[uint]int64{}
	for _, g := range plan.Goals {
		if g.Monthly.Minor > 0 {
			alloc[g.GoalID] = g.Monthly.Minor
		}
	}
	b, _ := json.Marshal(alloc)
	r := &SavingsRule{OwnerID: p.UserID, FromID: from.ID, ToID: to.ID, Day: dayOfMonth, Amount: plan.ToSave.Minor, Currency: plan.ToSave.Currency,
		Allocation: string(b), Active: true, AcceptedAt: s.now()}
	err = s.st.Tx(ctx, func(tx *gorm.DB) error {
		if err := store.Org(tx, p.OrgID).Model(&SavingsRule{}).Where("owner_id = ? AND active = ?", p.UserID, true).Update("active", false).Error; err != nil {
			return err
		}
		if err := store.Org(tx, p.OrgID).Create(r).Error; err != nil {
			return err
		}
		return s.bus.Publish(ctx, events.Event{Name: EventPlanAccepted, OrgID: p.OrgID, ActorID: p.UserID, SubjectID: p.UserID, Data: r, Tx: tx})
	})
	return r, err
}

// RunTransfers moves the money of every active savings rule whose day
// has come in its owner's time zone (the organisation's when the owner has
// none), from 06:00 local time, at most once per rule and local month: the
// transfer row's unique (rule, month) and the ledger entries commit in one
// transaction. A rule whose current account lacks the money is tried again
// on the next run. It returns how many rules moved money.
func (s *Service) RunTransfers(ctx context.Context, now time.Time) (int, error) {
	orgs, err := s.acc.OrgsWithModule(ctx, ID)
	if err != nil {
		return 0, err
	}
	moved := 0
	zones := map[string]*time.Location{}
	// The latest local month anywhere (UTC+14): a rule that moved money in
	// it is done wherever its owner lives, so the hourly run skips it in
	// SQL and checks only the rest against their own zone.
	latest := monthKey(now.UTC().Add(14 * time.Hour))
	for _, org := range orgs {
		o, err := s.acc.OrgByID(ctx, org)
		if err != nil {
			return moved, err
		}
		var rules []struct {
			SavingsRule
			Zone string
			Last string // the latest month the rule moved money, "" before the first
		}
		// Days 1–28 only, so a rule's day exists in every month.
		if err := store.Org(s.st.DB.WithContext(ctx), org).Table("banking_savings_rules r").
			Select("r.*, COALESCE(NULLIF(u.time_zone, ''), ?) AS zone, COALESCE((SELECT MAX(t.month) FROM banking_transfers t WHERE t.rule_id = r.id), '') AS last", o.TimeZone).
			Joins("JOIN accounts_users u ON u.id = r.owner_id AND u.org_id = r.org_id").
			Where("r.active = ? AND NOT EXISTS (SELECT 1 FROM banking_transfers d WHERE d.rule_id = r.id AND d.month >= ?)", true, latest).
			Order("r.id").Scan(&rules).Error; err != nil {
			return moved, err
		}
		for i := range rules {
			r := &rules[i]
			loc, ok := zones[r.Zone]
			if !ok {
				if loc, err = time.LoadLocation(r.Zone); err != nil {
					loc = time.UTC
				}
				zones[r.Zone] = loc
			}
			local := now.In(loc)
			month := monthKey(local)
			if r.Last >= month || local.Day() < r.Day || local.Day() == r.Day && local.Hour() < transferHour {
				continue
			}
			done, err := s.transferOnce(ctx, org, &r.SavingsRule, month, now)
			if err != nil && !errs.Is(err, errs.Conflict) {
				return moved, fmt.Errorf("savings rule %d: %w", r.ID, err)
			}
			if done {
				moved++
			}
		}
	}
	return moved, nil
}

// transferHour is the local hour from which a rule's day moves money.
const transferHour = 6

func (s *Service) transferOnce(ctx context.Context, org uint, r *SavingsRule, month string, now time.Time) (bool, error) {
	done := false
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		t := Transfer{RuleID: r.ID, Month: month, Amount: r.Amount}
		res := store.Org(tx, org).Clauses(clause.OnConflict{DoNothing: true}).Create(&t)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return nil // another instance moved it
		}
		var from, to Account
		if err := store.Org(tx, org).First(&from, r.FromID).Error; err != nil {
			return err
		}
		if err := store.Org(tx, org).First(&to, r.ToID).Error; err != nil {
			return err
		}
		if _, err := s.Move(ctx, tx, org, &from, &to, r.Amount, fmt.Sprintf("plan:%d:%s", r.ID, month), "Savings plan "+month, now); err != nil {
			return err
		}
		var alloc map[uint]int64
		if err := json.Unmarshal([]byte(r.Allocation), &alloc); err != nil {
			return err
		}
		for gid, amt := range alloc {
			if err := store.Org(tx, org).Model(&SavingsGoal{}).Where("id = ? AND owner_id = ?", gid, r.OwnerID).
				Update("saved", gorm.Expr("saved + ?", amt)).Error; err != nil {
				return err
			}
		}
		done = true
		return nil
	})
	return done, err
}

func (s *Service) transferJob(ctx context.Context, r *schedule.Run) error {
	_, err := s.RunTransfers(ctx, r.Slot)
	return err
}

// MessageAboutGoal opens a secure conversation with the goal's owner
// (their assigned staff) about the goal.
func (s *Service) MessageAboutGoal(ctx context.Context, p *accounts.Principal, id uint, body string) (uint, error) {
	g, err := s.Goal(ctx, p, id)
	if err != nil {
		return 0, err
	}
	if strings.TrimSpace(body) == "" {
		return 0, errs.InvalidField("body", "is required")
	}
	var conv uint
	err = s.st.Tx(ctx, func(tx *gorm.DB) error {
		cv, err := s.msgs.OpenFor(ctx, tx, p, g.OwnerID, ID, "goal", itoa(g.ID), g.Name, body)
		if err != nil {
			return err
		}
		conv = cv.ID
		return nil
	})
	return conv, err
}
