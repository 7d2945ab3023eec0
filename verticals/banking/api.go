package banking

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

var (
	persons  = []accounts.Role{accounts.Customer, accounts.Staff, accounts.Admin}
	readers  = []accounts.Role{accounts.Customer, accounts.Staff, accounts.Admin, accounts.Integrator}
	bankSide = []accounts.Role{accounts.Staff, accounts.Admin, accounts.Integrator}
	custOnly = []accounts.Role{accounts.Customer}
	staffAdm = []accounts.Role{accounts.Staff, accounts.Admin}
	settlers = []accounts.Role{accounts.Admin, accounts.Integrator}
)

func principal(ctx context.Context) *accounts.Principal {
	p, _ := accounts.PrincipalFrom(ctx)
	return p
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func idParam(v uint) map[string]string { return map[string]string{"id": itoa(v)} }

type bankIDInput struct {
	ID uint `path:"id"`
}

type bankOwnerQuery struct {
	OwnerID uint `query:"owner_id" doc:"Staff, admins and integrators: the customer"`
}

// --- authorization matrix fixtures ---

// fixtureCustomer returns the customer an object of owner belongs to: the
// owner itself, or a new customer (assigned to owner when staff).
func fixtureCustomer(tx *gorm.DB, owner *accounts.Principal) (uint, error) {
	if owner.Role == accounts.Customer {
		return owner.UserID, nil
	}
	u := accounts.User{Email: fmt.Sprintf("fixture-%d@matrix.example", time.Now().UnixNano()), Name: "Fixture", Role: accounts.Customer}
	if err := store.Org(tx, owner.OrgID).Create(&u).Error; err != nil {
		return 0, err
	}
	if owner.Role == accounts.Staff {
		if err := store.Org(tx, owner.OrgID).Create(&accounts.Assignment{StaffID: owner.UserID, CustomerID: u.ID, Relation: "advisor"}).Error; err != nil {
			return 0, err
		}
	}
	return u.ID, nil
}

// fixtureSeq makes fixture names and keys unique.
var fixtureSeq atomic.Int64

func (s *Service) fixtureAccounts(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (cur, sav *Account, err error) {
	cust, err := fixtureCustomer(tx, owner)
	if err != nil {
		return nil, nil, err
	}
	if cur, err = s.OpenAccount(ctx, tx, owner.OrgID, NewAccount{OwnerID: cust, Kind: KindCurrent}); err != nil {
		return nil, nil, err
	}
	if sav, err = s.OpenAccount(ctx, tx, owner.OrgID, NewAccount{OwnerID: cust, Kind: KindSavings}); err != nil {
		return nil, nil, err
	}
	e := Entry{AccountID: cur.ID, OwnerID: cust, ExternalID: fmt.Sprintf("fixture-%d-%d", time.Now().UnixNano(), fixtureSeq.Add(1)), BookedOn: day(s.now()),
		Description: "STIPENDIO ACME", Amount: 300000, Currency: "EUR", Category: CatIncome, CategorySource: "default"}
	return cur, sav, store.Org(tx, owner.OrgID).Create(&e).Error
}

func (s *Service) accountFixture(body func(cur, sav *Account) any) accounts.Fixture {
	return func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
		cur, sav, err := s.fixtureAccounts(ctx, tx, owner)
		if err != nil {
			return nil, nil, err
		}
		var b any
		if body != nil {
			b = body(cur, sav)
		}
		return idParam(cur.ID), b, nil
	}
}

func (s *Service) entryFixture(body any) accounts.Fixture {
	return func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
		cur, _, err := s.fixtureAccounts(ctx, tx, owner)
		if err != nil {
			return nil, nil, err
		}
		var e Entry
		if err := store.Org(tx, owner.OrgID).Where("account_id = ?", cur.ID).First(&e).Error; err != nil {
			return nil, nil, err
		}
		return idParam(e.ID), body, nil
	}
}

func (s *Service) importFixture(body any) accounts.Fixture {
	return func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
		cur, _, err := s.fixtureAccounts(ctx, tx, owner)
		if err != nil {
			return nil, nil, err
		}
		im := Import{OwnerID: cur.OwnerID, AccountID: cur.ID, FileName: "x.csv", Content: []byte("Date,Description,Amount\n2026-01-05,CONAD,-12.50\n")}
		if err := store.Org(tx, owner.OrgID).Create(&im).Error; err != nil {
			return nil, nil, err
		}
		return idParam(im.ID), body, nil
	}
}

func (s *Service) ownedFixture(make func(tx *gorm.DB, org, cust uint, cur *Account) (uint, error), body any) accounts.Fixture {
	return func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
		cur, _, err := s.fixtureAccounts(ctx, tx, owner)
		if err != nil {
			return nil, nil, err
		}
		id, err := make(tx, owner.OrgID, cur.OwnerID, cur)
		if err != nil {
			return nil, nil, err
		}
		return idParam(id), body, nil
	}
}

func (s *Service) goalFixture(body any) accounts.Fixture {
	return s.ownedFixture(func(tx *gorm.DB, org, cust uint, _ *Account) (uint, error) {
		g := SavingsGoal{OwnerID: cust, Name: "Holiday", Target: 200000, Currency: "EUR", Deadline: s.now().AddDate(1, 0, 0), Priority: 1}
		err := store.Org(tx, org).Create(&g).Error
		return g.ID, err
	}, body)
}

// --- operations ---

func (s *Service) registerAPI(api huma.API) {
	tag := func(o *huma.Operation) { o.Tags = []string{"Banking"} }

	type bankAccountsOut struct {
		Body struct {
			Accounts []AccountView `json:"accounts"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "banking-accounts", Method: http.MethodGet, Path: "/accounts",
		Summary: "List accounts with balances", Description: "A balance is always the sum of the account's ledger."},
		func(ctx context.Context, in *bankOwnerQuery) (*bankAccountsOut, error) {
			list, err := s.Accounts(ctx, principal(ctx), in.OwnerID)
			if err != nil {
				return nil, err
			}
			out := &bankAccountsOut{}
			out.Body.Accounts = nonNil(list)
			return out, nil
		}, accounts.Allow(readers...), tag)

	type bankAccountOut struct{ Body *AccountView }
	accounts.Register(api, huma.Operation{OperationID: "banking-account-open", Method: http.MethodPost, Path: "/accounts",
		Summary: "Open an account for a customer (bank side)", Description: "Gives it an Italian IBAN with valid check digits.", DefaultStatus: 201},
		func(ctx context.Context, in *struct {
			Body struct {
				OwnerID  uint   `json:"owner_id" minimum:"1"`
				Kind     string `json:"kind" enum:"current,savings"`
				Name     string `json:"name,omitempty" maxLength:"80"`
				Currency string `json:"currency,omitempty" doc:"Default EUR"`
			}
		}) (*bankAccountOut, error) {
			a, err := s.CreateAccount(ctx, principal(ctx), NewAccount{OwnerID: in.Body.OwnerID, Kind: in.Body.Kind, Name: in.Body.Name, Currency: strings.ToUpper(in.Body.Currency)})
			if err != nil {
				return nil, err
			}
			return &bankAccountOut{Body: &AccountView{Account: *a}}, nil
		}, accounts.Allow(bankSide...), tag, web.Idempotent())

	accounts.Register(api, huma.Operation{OperationID: "banking-account", Method: http.MethodGet, Path: "/accounts/{id}", Summary: "An account with its balance"},
		func(ctx context.Context, in *bankIDInput) (*bankAccountOut, error) {
			a, err := s.Account(ctx, principal(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			return &bankAccountOut{Body: a}, nil
		}, accounts.Allow(readers...), tag, accounts.Matrix(s.accountFixture(nil)))

	accounts.Register(api, huma.Operation{OperationID: "banking-account-transfer", Method: http.MethodPost, Path: "/accounts/{id}/transfers",
		Summary: "Move money to another of your accounts", Description: "409 when the account does not have the money: an account is never overdrawn.", DefaultStatus: 204},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id"`
			Body struct {
				ToAccountID uint   `json:"to_account_id" minimum:"1"`
				Amount      int64  `json:"amount_minor" minimum:"1" maximum:"1000000000000000"`
				Reference   string `json:"reference,omitempty" maxLength:"60" doc:"Your reference; the same reference twice moves money once"`
			}
		}) (*struct{}, error) {
			return nil, s.TransferBetween(ctx, principal(ctx), in.ID, in.Body.ToAccountID, in.Body.Amount, in.Body.Reference)
		}, accounts.Allow(custOnly...), tag, accounts.Matrix(s.accountFixture(func(cur, sav *Account) any {
			return map[string]any{"to_account_id": sav.ID, "amount_minor": 1000}
		})), web.Idempotent())

	type bankSavingsIn struct {
		Body struct {
			Name          string         `json:"name,omitempty" maxLength:"80"`
			AcceptedTerms bool           `json:"accepted_terms" doc:"The customer accepted the terms shown"`
			TermsVersion  string         `json:"terms_version" doc:"The version of the terms accepted (GET /savings/terms)"`
			Goal          *SavingsGoalIn `json:"goal,omitempty" doc:"A goal to save towards, tied to the new account (GET /goals shows it with its account_id)"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "banking-savings-open", Method: http.MethodPost, Path: "/savings",
		Summary: "Open a savings account (customers)", Description: "Records the terms version, the time and the caller's IP. With a goal, the account and the goal are created in one transaction: a bad goal field (422) creates neither.", DefaultStatus: 201},
		func(ctx context.Context, in *bankSavingsIn) (*bankAccountOut, error) {
			a, _, err := s.OpenSavings(ctx, principal(ctx), SavingsApplication{Name: in.Body.Name, AcceptedTerms: in.Body.AcceptedTerms,
				TermsVersion: in.Body.TermsVersion, IP: accounts.ClientIP(ctx), Goal: in.Body.Goal}, nil)
			if err != nil {
				return nil, err
			}
			return &bankAccountOut{Body: &AccountView{Account: *a}}, nil
		}, accounts.Allow(custOnly...), tag, web.Idempotent())

	// --- transactions ---
	type bankBatchIn struct {
		Body struct {
			Transactions []TxnInput `json:"transactions" maxItems:"1000"`
		}
	}
	type bankBatchOut struct{ Body *BatchResult }
	accounts.Register(api, huma.Operation{OperationID: "banking-transactions-batch", Method: http.MethodPost, Path: "/transactions/batch",
		Summary: "Book a batch of transactions (integrators)",
		Description: "Every item is validated first: a bad batch is refused whole with a 422 naming each bad item (body.transactions[i].field). " +
			"External IDs are unique per account, so sending the same batch again books nothing twice."},
		func(ctx context.Context, in *bankBatchIn) (*bankBatchOut, error) {
			r, err := s.BookBatch(ctx, principal(ctx), in.Body.Transactions)
			if err != nil {
				return nil, err
			}
			return &bankBatchOut{Body: r}, nil
		}, accounts.Allow(settlers...), tag, web.Idempotent())

	type bankTxnsIn struct {
		OwnerID   uint      `query:"owner_id"`
		AccountID uint      `query:"account_id"`
		Category  string    `query:"category"`
		Q         string    `query:"q" doc:"Merchant contains"`
		From      time.Time `query:"from"`
		To        time.Time `query:"to"`
		Limit     int       `query:"limit" minimum:"0" maximum:"200"`
		Offset    int       `query:"offset" minimum:"0"`
	}
	type bankTxnsOut struct {
		Body struct {
			Transactions []Entry `json:"transactions"`
			Total        int64   `json:"total"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "banking-transactions", Method: http.MethodGet, Path: "/transactions", Summary: "Search transactions"},
		func(ctx context.Context, in *bankTxnsIn) (*bankTxnsOut, error) {
			list, n, err := s.Transactions(ctx, principal(ctx), TxnFilter{OwnerID: in.OwnerID, AccountID: in.AccountID, Category: in.Category, Query: in.Q,
				From: in.From, To: in.To, Limit: in.Limit, Offset: in.Offset})
			if err != nil {
				return nil, err
			}
			out := &bankTxnsOut{}
			out.Body.Transactions, out.Body.Total = nonNil(list), n
			return out, nil
		}, accounts.Allow(readers...), tag)

	type bankEntryOut struct{ Body *Entry }
	accounts.Register(api, huma.Operation{OperationID: "banking-transaction-category", Method: http.MethodPatch, Path: "/transactions/{id}",
		Summary: "Correct a transaction's category", Description: "The correction sticks: the merchant's past and future transactions get the category too."},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id"`
			Body struct {
				Category string `json:"category"`
			}
		}) (*bankEntryOut, error) {
			e, err := s.Recategorise(ctx, principal(ctx), in.ID, Category(in.Body.Category))
			if err != nil {
				return nil, err
			}
			return &bankEntryOut{Body: e}, nil
		}, accounts.Allow(custOnly...), tag, accounts.Matrix(s.entryFixture(map[string]any{"category": "shopping"})))

	// --- CSV imports ---
	type bankPreviewOut struct{ Body *ImportPreview }
	accounts.Register(api, huma.Operation{OperationID: "banking-import-upload", Method: http.MethodPost, Path: "/imports",
		Summary: "Upload a CSV statement", Description: "Returns the guessed column mapping and every row parsed, with its errors. Nothing is booked yet.", DefaultStatus: 201},
		func(ctx context.Context, in *struct {
			Body struct {
				AccountID uint   `json:"account_id" minimum:"1"`
				FileName  string `json:"file_name,omitempty" maxLength:"200"`
				Content   string `json:"content" minLength:"1" doc:"The CSV file's text"`
			}
		}) (*bankPreviewOut, error) {
			pv, err := s.UploadStatement(ctx, principal(ctx), in.Body.AccountID, in.Body.FileName, []byte(in.Body.Content))
			if err != nil {
				return nil, err
			}
			return &bankPreviewOut{Body: pv}, nil
		}, accounts.Allow(custOnly...), tag, web.Idempotent())

	type bankMappingIn struct {
		ID   uint `path:"id"`
		Body struct {
			Mapping *ColumnMap `json:"mapping,omitempty" doc:"Omit to use the guessed mapping"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "banking-import-preview", Method: http.MethodPost, Path: "/imports/{id}/preview",
		Summary: "Preview a statement with a column mapping"},
		func(ctx context.Context, in *bankMappingIn) (*bankPreviewOut, error) {
			pv, err := s.PreviewImport(ctx, principal(ctx), in.ID, in.Body.Mapping)
			if err != nil {
				return nil, err
			}
			return &bankPreviewOut{Body: pv}, nil
		}, accounts.Allow(custOnly...), tag, accounts.Matrix(s.importFixture(map[string]any{})))

	accounts.Register(api, huma.Operation{OperationID: "banking-import-confirm", Method: http.MethodPost, Path: "/imports/{id}/confirm",
		Summary: "Import a statement", Description: "All or nothing: a row with an error refuses the file with a 422 naming each line. Rows already imported are skipped."},
		func(ctx context.Context, in *bankMappingIn) (*bankBatchOut, error) {
			r, err := s.ConfirmImport(ctx, principal(ctx), in.ID, in.Body.Mapping)
			if err != nil {
				return nil, err
			}
			return &bankBatchOut{Body: r}, nil
		}, accounts.Allow(custOnly...), tag, accounts.Matrix(s.importFixture(map[string]any{})), web.Idempotent())

	// --- categorisation rules ---
	type bankRulesOut struct {
		Body struct {
			Rules    []MerchantRule `json:"rules"`
			Defaults []Rule         `json:"defaults"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "banking-rules", Method: http.MethodGet, Path: "/rules", Summary: "Categorisation rules: the organisation's and the shipped defaults"},
		func(ctx context.Context, _ *struct{}) (*bankRulesOut, error) {
			list, err := s.OrgRules(ctx, principal(ctx))
			if err != nil {
				return nil, err
			}
			out := &bankRulesOut{}
			out.Body.Rules, out.Body.Defaults = nonNil(list), DefaultRules
			return out, nil
		}, accounts.Allow(staffAdm...), tag)

	type bankRuleOut struct{ Body *MerchantRule }
	accounts.Register(api, huma.Operation{OperationID: "banking-rule-add", Method: http.MethodPost, Path: "/rules", Summary: "Add an organisation rule (staff)", DefaultStatus: 201},
		func(ctx context.Context, in *struct {
			Body struct {
				Match    string `json:"match" minLength:"1" maxLength:"120" doc:"Merchant text to look for"`
				Category string `json:"category"`
			}
		}) (*bankRuleOut, error) {
			r, err := s.AddOrgRule(ctx, principal(ctx), in.Body.Match, Category(in.Body.Category))
			if err != nil {
				return nil, err
			}
			return &bankRuleOut{Body: r}, nil
		}, accounts.Allow(staffAdm...), tag, web.Idempotent())

	accounts.Register(api, huma.Operation{OperationID: "banking-rule-delete", Method: http.MethodDelete, Path: "/rules/{id}", Summary: "Remove an organisation rule (staff)", DefaultStatus: 204},
		func(ctx context.Context, in *bankIDInput) (*struct{}, error) {
			return nil, s.DeleteOrgRule(ctx, principal(ctx), in.ID)
		}, accounts.Allow(staffAdm...), tag, accounts.Matrix(func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
			r := MerchantRule{Match: fmt.Sprintf("FIXTURE %d %d", time.Now().UnixNano(), fixtureSeq.Add(1)), Category: CatShopping}
			err := store.Org(tx, owner.OrgID).Create(&r).Error
			return idParam(r.ID), nil, err
		}))

	// --- bills, payments, upcoming ---
	type bankBillsOut struct {
		Body struct {
			Bills []BankBill `json:"bills"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "banking-bills", Method: http.MethodGet, Path: "/bills", Summary: "Recurring bills"},
		func(ctx context.Context, in *bankOwnerQuery) (*bankBillsOut, error) {
			list, err := s.Bills(ctx, principal(ctx), in.OwnerID)
			if err != nil {
				return nil, err
			}
			out := &bankBillsOut{}
			out.Body.Bills = nonNil(list)
			return out, nil
		}, accounts.Allow(readers...), tag)
	accounts.Register(api, huma.Operation{OperationID: "banking-bills-detect", Method: http.MethodPost, Path: "/bills/detect",
		Summary: "Detect recurring bills from the last six months", Description: "Three or more debits to one merchant about a month apart, of similar amounts."},
		func(ctx context.Context, in *bankOwnerQuery) (*bankBillsOut, error) {
			list, err := s.DetectBills(ctx, principal(ctx), in.OwnerID)
			if err != nil {
				return nil, err
			}
			out := &bankBillsOut{}
			out.Body.Bills = nonNil(list)
			return out, nil
		}, accounts.Allow(persons...), tag)
	type bankBillOut struct{ Body *BankBill }
	accounts.Register(api, huma.Operation{OperationID: "banking-bill-add", Method: http.MethodPost, Path: "/bills", Summary: "Enter a bill by hand", DefaultStatus: 201},
		func(ctx context.Context, in *struct{ Body NewBill }) (*bankBillOut, error) {
			b, err := s.AddBill(ctx, principal(ctx), in.Body)
			if err != nil {
				return nil, err
			}
			return &bankBillOut{Body: b}, nil
		}, accounts.Allow(custOnly...), tag, web.Idempotent())
	accounts.Register(api, huma.Operation{OperationID: "banking-bill-delete", Method: http.MethodDelete, Path: "/bills/{id}", Summary: "Remove a bill", DefaultStatus: 204},
		func(ctx context.Context, in *bankIDInput) (*struct{}, error) {
			return nil, s.DeleteBill(ctx, principal(ctx), in.ID)
		}, accounts.Allow(custOnly...), tag, accounts.Matrix(s.ownedFixture(func(tx *gorm.DB, org, cust uint, _ *Account) (uint, error) {
			b := BankBill{OwnerID: cust, Name: "ENEL", Amount: 6000, Currency: "EUR", Every: 30, NextDue: day(s.now()).AddDate(0, 0, 5)}
			err := store.Org(tx, org).Create(&b).Error
			return b.ID, err
		}, nil)))

	type bankPaymentsOut struct {
		Body struct {
			Payments []BankPayment `json:"payments"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "banking-payments", Method: http.MethodGet, Path: "/payments", Summary: "Scheduled, pending and settled payments"},
		func(ctx context.Context, in *bankOwnerQuery) (*bankPaymentsOut, error) {
			list, err := s.Payments(ctx, principal(ctx), in.OwnerID)
			if err != nil {
				return nil, err
			}
			out := &bankPaymentsOut{}
			out.Body.Payments = nonNil(list)
			return out, nil
		}, accounts.Allow(readers...), tag)
	type bankPaymentOut struct{ Body *BankPayment }
	accounts.Register(api, huma.Operation{OperationID: "banking-payment-schedule", Method: http.MethodPost, Path: "/payments", Summary: "Schedule a payment", DefaultStatus: 201},
		func(ctx context.Context, in *struct{ Body NewPayment }) (*bankPaymentOut, error) {
			pay, err := s.SchedulePayment(ctx, principal(ctx), in.Body)
			if err != nil {
				return nil, err
			}
			return &bankPaymentOut{Body: pay}, nil
		}, accounts.Allow(custOnly...), tag, web.Idempotent())
	paymentFixture := func(body any) accounts.Fixture {
		return s.ownedFixture(func(tx *gorm.DB, org, cust uint, cur *Account) (uint, error) {
			pay := BankPayment{OwnerID: cust, AccountID: cur.ID, Payee: "ACEA", Amount: 5000, Currency: "EUR", DueOn: day(s.now()).AddDate(0, 0, 3), Status: PaymentScheduled}
			err := store.Org(tx, org).Create(&pay).Error
			return pay.ID, err
		}, body)
	}
	accounts.Register(api, huma.Operation{OperationID: "banking-payment-cancel", Method: http.MethodDelete, Path: "/payments/{id}", Summary: "Cancel a scheduled payment", DefaultStatus: 204},
		func(ctx context.Context, in *bankIDInput) (*struct{}, error) {
			return nil, s.CancelPayment(ctx, principal(ctx), in.ID)
		}, accounts.Allow(custOnly...), tag, accounts.Matrix(paymentFixture(nil)))
	accounts.Register(api, huma.Operation{OperationID: "banking-payment-status", Method: http.MethodPatch, Path: "/payments/{id}",
		Summary: "Move a payment on (the bank)", Description: "settled books the debit; 409 when the account lacks the money."},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id"`
			Body struct {
				Status string `json:"status" enum:"pending,settled,failed"`
			}
		}) (*bankPaymentOut, error) {
			pay, err := s.SetPaymentStatus(ctx, principal(ctx), in.ID, in.Body.Status)
			if err != nil {
				return nil, err
			}
			return &bankPaymentOut{Body: pay}, nil
		}, accounts.Allow(settlers...), tag, accounts.Matrix(paymentFixture(map[string]any{"status": "settled"})))

	type bankUpcomingOut struct {
		Body struct {
			Upcoming []Upcoming `json:"upcoming"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "banking-upcoming", Method: http.MethodGet, Path: "/upcoming", Summary: "Bills and payments due in the next days"},
		func(ctx context.Context, in *struct {
			OwnerID uint `query:"owner_id"`
			Days    int  `query:"days" minimum:"0" maximum:"366" doc:"Default 30"`
		}) (*bankUpcomingOut, error) {
			d := in.Days
			if d == 0 {
				d = 30
			}
			list, err := s.UpcomingPayments(ctx, principal(ctx), in.OwnerID, d)
			if err != nil {
				return nil, err
			}
			out := &bankUpcomingOut{}
			out.Body.Upcoming = list
			return out, nil
		}, accounts.Allow(readers...), tag)

	// --- budgets ---
	type bankBudgetsOut struct {
		Body struct {
			Budgets []BudgetStatus `json:"budgets"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "banking-budgets", Method: http.MethodGet, Path: "/budgets", Summary: "Budgets with this month's spending"},
		func(ctx context.Context, in *bankOwnerQuery) (*bankBudgetsOut, error) {
			list, err := s.Budgets(ctx, principal(ctx), in.OwnerID)
			if err != nil {
				return nil, err
			}
			out := &bankBudgetsOut{}
			out.Body.Budgets = nonNil(list)
			return out, nil
		}, accounts.Allow(readers...), tag)
	type bankBudgetOut struct{ Body *Budget }
	accounts.Register(api, huma.Operation{OperationID: "banking-budget-set", Method: http.MethodPut, Path: "/budgets",
		Summary: "Set a category's monthly budget", Description: "An alert is sent once per month when spending passes alert_pct of the budget."},
		func(ctx context.Context, in *struct {
			Body struct {
				Category string `json:"category"`
				Amount   int64  `json:"amount_minor" minimum:"1" maximum:"1000000000000000"`
				Currency string `json:"currency,omitempty"`
				AlertPct int    `json:"alert_pct,omitempty" doc:"Default 80"`
			}
		}) (*bankBudgetOut, error) {
			b, err := s.SetBudget(ctx, principal(ctx), Category(in.Body.Category), in.Body.Amount, in.Body.Currency, in.Body.AlertPct)
			if err != nil {
				return nil, err
			}
			return &bankBudgetOut{Body: b}, nil
		}, accounts.Allow(custOnly...), tag)
	accounts.Register(api, huma.Operation{OperationID: "banking-budget-delete", Method: http.MethodDelete, Path: "/budgets/{id}", Summary: "Remove a budget", DefaultStatus: 204},
		func(ctx context.Context, in *bankIDInput) (*struct{}, error) {
			return nil, s.DeleteBudget(ctx, principal(ctx), in.ID)
		}, accounts.Allow(custOnly...), tag, accounts.Matrix(s.ownedFixture(func(tx *gorm.DB, org, cust uint, _ *Account) (uint, error) {
			b := Budget{OwnerID: cust, Category: Categories[fixtureSeq.Add(1)%int64(len(Categories))], Amount: 20000, Currency: "EUR", AlertPct: 80}
			store.Org(tx, org).Where("owner_id = ? AND category = ?", cust, b.Category).Delete(&Budget{})
			err := store.Org(tx, org).Create(&b).Error
			return b.ID, err
		}, nil)))

	// --- goals and plan ---
	type bankGoalsOut struct {
		Body struct {
			Goals []SavingsGoal `json:"goals"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "banking-goals", Method: http.MethodGet, Path: "/goals", Summary: "Savings goals"},
		func(ctx context.Context, in *bankOwnerQuery) (*bankGoalsOut, error) {
			list, err := s.Goals(ctx, principal(ctx), in.OwnerID)
			if err != nil {
				return nil, err
			}
			out := &bankGoalsOut{}
			out.Body.Goals = nonNil(list)
			return out, nil
		}, accounts.Allow(readers...), tag)
	type bankGoalOut struct{ Body *SavingsGoal }
	accounts.Register(api, huma.Operation{OperationID: "banking-goal-add", Method: http.MethodPost, Path: "/goals", Summary: "Add a savings goal", DefaultStatus: 201},
		func(ctx context.Context, in *struct{ Body NewGoal }) (*bankGoalOut, error) {
			g, err := s.AddGoal(ctx, principal(ctx), in.Body)
			if err != nil {
				return nil, err
			}
			return &bankGoalOut{Body: g}, nil
		}, accounts.Allow(custOnly...), tag, web.Idempotent())
	accounts.Register(api, huma.Operation{OperationID: "banking-goal", Method: http.MethodGet, Path: "/goals/{id}", Summary: "A savings goal"},
		func(ctx context.Context, in *bankIDInput) (*bankGoalOut, error) {
			g, err := s.Goal(ctx, principal(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			return &bankGoalOut{Body: g}, nil
		}, accounts.Allow(readers...), tag, accounts.Matrix(s.goalFixture(nil)))
	accounts.Register(api, huma.Operation{OperationID: "banking-goal-update", Method: http.MethodPut, Path: "/goals/{id}", Summary: "Change a savings goal"},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id"`
			Body NewGoal
		}) (*bankGoalOut, error) {
			g, err := s.UpdateGoal(ctx, principal(ctx), in.ID, in.Body)
			if err != nil {
				return nil, err
			}
			return &bankGoalOut{Body: g}, nil
		}, accounts.Allow(custOnly...), tag, accounts.Matrix(s.goalFixture(map[string]any{"name": "Car", "target_minor": 500000,
			"deadline": time.Now().AddDate(2, 0, 0).UTC().Format(time.RFC3339), "priority": 2})))
	accounts.Register(api, huma.Operation{OperationID: "banking-goal-delete", Method: http.MethodDelete, Path: "/goals/{id}", Summary: "Remove a savings goal", DefaultStatus: 204},
		func(ctx context.Context, in *bankIDInput) (*struct{}, error) {
			return nil, s.DeleteGoal(ctx, principal(ctx), in.ID)
		}, accounts.Allow(custOnly...), tag, accounts.Matrix(s.goalFixture(nil)))
	accounts.Register(api, huma.Operation{OperationID: "banking-goal-message", Method: http.MethodPost, Path: "/goals/{id}/messages",
		Summary: "Write about a goal (secure messages)", Description: "The customer writes to their advisor, or the assigned advisor to the customer; the conversation is kept per goal.", DefaultStatus: 201},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id"`
			Body struct {
				Body string `json:"body" minLength:"1" maxLength:"5000"`
			}
		}) (*struct {
			Body struct {
				ConversationID uint `json:"conversation_id"`
			}
		}, error) {
			id, err := s.MessageAboutGoal(ctx, principal(ctx), in.ID, in.Body.Body)
			if err != nil {
				return nil, err
			}
			out := &struct {
				Body struct {
					ConversationID uint `json:"conversation_id"`
				}
			}{}
			out.Body.ConversationID = id
			return out, nil
		}, accounts.Allow(persons...), tag, accounts.Matrix(func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
			params, body, err := s.goalFixture(map[string]any{"body": "About this goal"})(ctx, tx, owner)
			if err != nil || owner.Role != accounts.Customer {
				return params, body, err
			}
			// A customer writes to their advisor: give them one.
			adv := accounts.User{Email: fmt.Sprintf("advisor-%d@matrix.example", time.Now().UnixNano()), Name: "Advisor", Role: accounts.Staff}
			if err := store.Org(tx, owner.OrgID).Create(&adv).Error; err != nil {
				return nil, nil, err
			}
			return params, body, store.Org(tx, owner.OrgID).Create(&accounts.Assignment{StaffID: adv.ID, CustomerID: owner.UserID, Relation: "advisor"}).Error
		}), web.Idempotent())

	type bankPlanOut struct {
		Body struct {
			Proposed *SavingsPlan `json:"proposed"`
			Active   *SavingsRule `json:"active,omitempty"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "banking-plan", Method: http.MethodGet, Path: "/plan",
		Summary: "This month's proposed savings plan", Description: "Expected income − bills − pending payments − budgets, allocated to goals by priority and deadline; and the accepted plan, if any."},
		func(ctx context.Context, in *bankOwnerQuery) (*bankPlanOut, error) {
			p := principal(ctx)
			plan, err := s.ProposePlan(ctx, p, in.OwnerID)
			if err != nil {
				return nil, err
			}
			r, err := s.ActiveRule(ctx, p, in.OwnerID)
			if err != nil {
				return nil, err
			}
			out := &bankPlanOut{}
			out.Body.Proposed, out.Body.Active = plan, r
			return out, nil
		}, accounts.Allow(readers...), tag)
	type bankRuleAccepted struct{ Body *SavingsRule }
	accounts.Register(api, huma.Operation{OperationID: "banking-plan-accept", Method: http.MethodPost, Path: "/plan/accept",
		Summary: "Accept the proposed plan", Description: "Every month on the chosen day the planned amount moves from current to savings, once.", DefaultStatus: 201},
		func(ctx context.Context, in *struct {
			Body struct {
				Day int `json:"day" minimum:"1" maximum:"28"`
			}
		}) (*bankRuleAccepted, error) {
			r, err := s.AcceptPlan(ctx, principal(ctx), in.Body.Day)
			if err != nil {
				return nil, err
			}
			return &bankRuleAccepted{Body: r}, nil
		}, accounts.Allow(custOnly...), tag)

	// --- reports ---
	type bankReportsOut struct {
		Body struct {
			Reports []MonthlyReport `json:"reports"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "banking-reports", Method: http.MethodGet, Path: "/reports", Summary: "Monthly reports, newest first"},
		func(ctx context.Context, in *bankOwnerQuery) (*bankReportsOut, error) {
			list, err := s.Reports(ctx, principal(ctx), in.OwnerID)
			if err != nil {
				return nil, err
			}
			out := &bankReportsOut{}
			out.Body.Reports = nonNil(list)
			return out, nil
		}, accounts.Allow(readers...), tag)
	type bankReportOut struct{ Body *ReportView }
	accounts.Register(api, huma.Operation{OperationID: "banking-report", Method: http.MethodGet, Path: "/reports/{id}", Summary: "A monthly report"},
		func(ctx context.Context, in *bankIDInput) (*bankReportOut, error) {
			r, _, err := s.StoredReport(ctx, principal(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			return &bankReportOut{Body: r}, nil
		}, accounts.Allow(readers...), tag, accounts.Matrix(s.ownedFixture(func(tx *gorm.DB, org, cust uint, _ *Account) (uint, error) {
			r := MonthlyReport{OwnerID: cust, Month: fmt.Sprintf("%04d-01", 1900+fixtureSeq.Add(1)%1000), Short: true, Data: `{"month":"2020-01-01T00:00:00Z","currency":"EUR","short":true}`}
			err := store.Org(tx, org).Create(&r).Error
			return r.ID, err
		}, nil)))
}
