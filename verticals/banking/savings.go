package banking

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/money"
	"github.com/portalkit/portalkit/core/store"
)

// SavingsDraftKey is the form-draft key of the savings opening form.
const SavingsDraftKey = "banking.savings"

// SavingsApplication is what the customer fills in to open a savings
// account.
type SavingsApplication struct {
	Name          string
	Purpose       string
	FromAccountID uint  // funds the first deposit
	FirstDeposit  int64 // minor units, 0 for none
	AcceptedTerms bool
	TermsVersion  string
	IP            string
	// Goal, when not nil, is set on the new account in the same
	// transaction.
	Goal *SavingsGoalIn
}

// SavingsGoalIn is the goal set while opening a savings account: its name
// defaults to the account's.
type SavingsGoalIn struct {
	Name     string    `json:"name,omitempty" maxLength:"80" doc:"Default: the account's name"`
	Target   int64     `json:"target_minor" minimum:"1" maximum:"1000000000000000"`
	Deadline time.Time `json:"deadline"`
}

// Savings purposes offered by the form.
var savingsPurposes = []string{"emergency fund", "holiday", "home", "education", "other"}

// validateStep checks the fields of one step of the opening form (1-3;
// 0 checks them all) on the day now.
func validateStep(step int, a SavingsApplication, now time.Time) []errs.FieldError {
	var out []errs.FieldError
	if step == 0 || step == 1 {
		if len(strings.TrimSpace(a.Name)) > 80 {
			out = append(out, errs.Field("name", "must be at most 80 characters"))
		}
		ok := a.Purpose == ""
		for _, p := range savingsPurposes {
			ok = ok || p == a.Purpose
		}
		if !ok {
			out = append(out, errs.Field("purpose", "choose one of the purposes offered"))
		}
		if g := a.Goal; g != nil {
			if len(strings.TrimSpace(g.Name)) > 80 {
				out = append(out, errs.Field("goal.name", "must be at most 80 characters"))
			}
			if msg := money.CheckPositive(g.Target); msg != "" {
				out = append(out, errs.Field("goal.target_minor", msg))
			}
			if g.Deadline.IsZero() || !day(g.Deadline).After(day(now)) {
				out = append(out, errs.Field("goal.deadline", "must be a date in the future"))
			}
		}
	}
	if step == 0 || step == 2 {
		if a.FirstDeposit < 0 {
			out = append(out, errs.Field("first_deposit", "must not be negative"))
		}
		if a.FirstDeposit > 0 && a.FromAccountID == 0 {
			out = append(out, errs.Field("from_account_id", "choose the account the first deposit comes from"))
		}
	}
	if step == 0 || step == 3 {
		if !a.AcceptedTerms {
			out = append(out, errs.Field("accept_terms", "you must accept the terms to open the account"))
		}
		if a.TermsVersion != TermsVersion {
			out = append(out, errs.Field("terms_version", "the terms have changed; read them again"))
		}
	}
	return out
}

// OpenSavings opens a savings account for the calling customer, recording
// the terms version, time and IP, moves the first deposit from the chosen
// current account and sets the goal tied to the account (if a.Goal is not
// nil; the first deposit counts towards it), all in one transaction.
// finish, when not nil, runs in the same transaction (the page clears the
// form's draft there). The goal is nil when none was asked for.
func (s *Service) OpenSavings(ctx context.Context, p *accounts.Principal, a SavingsApplication, finish func(tx *gorm.DB) error) (*Account, *SavingsGoal, error) {
	if p.Role != accounts.Customer {
		return nil, nil, errs.Forbiddenf("customers open their own savings accounts")
	}
	if fields := validateStep(0, a, s.now()); len(fields) > 0 {
		return nil, nil, errs.Validation("the application is not complete", fields...)
	}
	var from *AccountView
	if a.FirstDeposit > 0 {
		var err error
		if from, err = s.Account(ctx, p, a.FromAccountID); err != nil || from.OwnerID != p.UserID {
			return nil, nil, errs.InvalidField("from_account_id", "is not one of your accounts")
		}
		if from.Balance < a.FirstDeposit {
			return nil, nil, errs.InvalidField("first_deposit", "is more than the account holds")
		}
	}
	now := s.now()
	name := strings.TrimSpace(a.Name)
	if name == "" && a.Purpose != "" {
		name = "Savings: " + a.Purpose
	}
	var acct *Account
	var goal *SavingsGoal
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		acct, err = s.OpenAccount(ctx, tx, p.OrgID, NewAccount{OwnerID: p.UserID, Kind: KindSavings, Name: name, Currency: "EUR",
			TermsVersion: a.TermsVersion, TermsAt: &now, TermsIP: a.IP})
		if err != nil {
			return err
		}
		if from != nil {
			if _, err := s.Move(ctx, tx, p.OrgID, &from.Account, acct, a.FirstDeposit, fmt.Sprintf("open:%d", acct.ID), "First deposit", now); err != nil {
				if errs.Is(err, errs.Conflict) {
					return errs.InvalidField("first_deposit", "is more than the account holds")
				}
				return err
			}
		}
		if a.Goal != nil {
			// After the customer's other goals: a new goal does not take
			// the plan's money from the ones set before.
			var others int64
			if err := store.Org(tx, p.OrgID).Model(&SavingsGoal{}).Where("owner_id = ?", p.UserID).Count(&others).Error; err != nil {
				return err
			}
			g := NewGoal{Name: a.Goal.Name, Target: a.Goal.Target, Deadline: a.Goal.Deadline, Priority: int(min(others+1, 10)), AccountID: &acct.ID}
			if strings.TrimSpace(g.Name) == "" {
				// The account's name as the customer reads it: goal names
				// are the customer's words, shown as they are.
				g.Name = tr(p.Locale, acct.Name)
			}
			if goal, err = s.addGoal(tx, p, g, a.FirstDeposit); err != nil {
				if e, ok := errs.As(err); ok {
					for i := range e.Fields {
						e.Fields[i].Field = "goal." + e.Fields[i].Field
					}
				}
				return err
			}
		}
		if finish != nil {
			return finish(tx)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return acct, goal, nil
}
