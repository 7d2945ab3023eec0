package banking

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/experience/messages"
	"github.com/portalkit/portalkit/core/live"
	"github.com/portalkit/portalkit/core/money"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/store"
)

// Events the module publishes (subject: the account's owner).
const (
	EventAccountOpened = "banking.account_opened"
	EventPlanAccepted  = "banking.plan_accepted"
	EventReportSent    = "banking.report_sent"
	// EventBooked says money moved on a customer's accounts (a batch, an
	// import, a settled payment, a transfer); it carries no timeline
	// summary, but it refreshes the customer's cached dashboard at once.
	EventBooked = "banking.transactions_booked"
)

// booked publishes EventBooked in tx for each owner of rows.
func (s *Service) booked(ctx context.Context, tx *gorm.DB, org, actor uint, rows []Entry) error {
	if len(rows) == 0 {
		return nil
	}
	accountsOf := map[uint][]uint{}
	var owners []uint
	var es []events.Event
	for _, r := range rows {
		if _, ok := accountsOf[r.OwnerID]; !ok {
			owners = append(owners, r.OwnerID)
			es = append(es, events.Event{Name: EventBooked, OrgID: org, ActorID: actor, SubjectID: r.OwnerID, Tx: tx})
		}
		if !slices.Contains(accountsOf[r.OwnerID], r.AccountID) {
			accountsOf[r.OwnerID] = append(accountsOf[r.OwnerID], r.AccountID)
		}
	}
	if s.bus != nil {
		if err := s.bus.PublishMany(ctx, es); err != nil {
			return err
		}
	}
	// Balances, budgets and goals on the open pages of everyone who may see
	// the customer's accounts refresh when this commits.
	for _, owner := range owners {
		if err := s.live.Publish(ctx, tx, live.Event{OrgID: org, Name: "balance", Owner: owner,
			Subject: fmt.Sprintf("customer:%d", owner), Data: map[string]any{"accounts": accountsOf[owner]}}); err != nil {
			return err
		}
	}
	return nil
}

// Service is the banking module's business logic. Every method that reads
// or writes a customer's object checks the caller through the accounts
// policy; objects the caller may not see are "not found".
type Service struct {
	st     *store.Store
	acc    *accounts.Service
	bus    *events.Bus
	notify *notify.Service
	msgs   *messages.Service
	// live publishes the module's live events (the zero value: none).
	live live.Publisher
	now  func() time.Time
	log  *slog.Logger
}

func (s *Service) db(ctx context.Context, org uint) *gorm.DB {
	return store.Org(s.st.DB.WithContext(ctx), org)
}

func itoa(n uint) string { return strconv.FormatUint(uint64(n), 10) }

func monthKey(t time.Time) string { return t.Format("2006-01") }

func monthStart(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

func day(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }

// bankABI and bankCAB are the demo bank's Italian codes used to build
// account numbers (IT IBANs with a valid CIN and check digits).
const (
	bankABI = "03268"
	bankCAB = "01600"
)

// TermsVersion is the version of the savings account terms shown today.
const TermsVersion = "2026-01"

func newIBAN() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000_000_000))
	if err != nil {
		return "", err
	}
	return ItalianIBAN(bankABI, bankCAB, fmt.Sprintf("%012d", n.Int64()))
}

// NewAccount is an account to open.
type NewAccount struct {
	OwnerID      uint
	Kind         string
	Name         string
	Currency     string
	TermsVersion string
	TermsAt      *time.Time
	TermsIP      string
}

// OpenAccount creates an account with a fresh IBAN in tx.
func (s *Service) OpenAccount(ctx context.Context, tx *gorm.DB, org uint, in NewAccount) (*Account, error) {
	if in.Currency == "" {
		in.Currency = "EUR"
	}
	if !money.ValidCurrency(in.Currency) {
		return nil, errs.InvalidField("currency", "must be an ISO 4217 code such as EUR")
	}
	if in.Kind != KindCurrent && in.Kind != KindSavings {
		return nil, errs.InvalidField("kind", "must be current or savings")
	}
	if strings.TrimSpace(in.Name) == "" {
		in.Name = map[string]string{KindCurrent: "Current account", KindSavings: "Savings account"}[in.Kind]
	}
	for attempt := 0; ; attempt++ {
		iban, err := newIBAN()
		if err != nil {
			return nil, err
		}
		a := &Account{OwnerID: in.OwnerID, Kind: in.Kind, Name: strings.TrimSpace(in.Name), IBAN: iban, Currency: in.Currency,
			TermsVersion: in.TermsVersion, TermsAcceptedAt: in.TermsAt, TermsIP: in.TermsIP}
		err = tx.Transaction(func(sp *gorm.DB) error { return store.Org(sp, org).Create(a).Error })
		if err == nil {
			return a, s.bus.Publish(ctx, events.Event{Name: EventAccountOpened, OrgID: org, SubjectID: in.OwnerID, Data: a, Tx: tx})
		}
		if !store.IsUniqueViolation(err) || attempt > 5 {
			return nil, err
		}
	}
}

// CreateAccount opens an account for a customer (staff, admins and
// integrators; customers open savings accounts through OpenSavings).
func (s *Service) CreateAccount(ctx context.Context, p *accounts.Principal, in NewAccount) (*Account, error) {
	if u, err := s.acc.UserByID(ctx, p.OrgID, in.OwnerID); err != nil || u.Role != accounts.Customer {
		return nil, errs.InvalidField("owner_id", "is not a customer of this organisation")
	}
	if err := s.acc.Reach(ID).CanWrite(ctx, p, p.OrgID, in.OwnerID, true); err != nil {
		return nil, err
	}
	var a *Account
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		a, err = s.OpenAccount(ctx, tx, p.OrgID, in)
		return err
	})
	return a, err
}

// AccountView is an account with its balance (the sum of its ledger).
type AccountView struct {
	Account
	Balance int64 `json:"balance_minor"`
}

// Accounts lists the accounts the caller may see, with balances.
func (s *Service) Accounts(ctx context.Context, p *accounts.Principal, ownerID uint) ([]AccountView, error) {
	q := s.db(ctx, p.OrgID).Order("id")
	q, err := s.acc.Reach(ID).WhereVisible(ctx, p, q, "owner_id")
	if err != nil {
		return nil, err
	}
	if ownerID != 0 {
		q = q.Where("owner_id = ?", ownerID)
	}
	var list []Account
	if err := q.Limit(500).Find(&list).Error; err != nil {
		return nil, err
	}
	return s.withBalances(ctx, p.OrgID, list)
}

func (s *Service) withBalances(ctx context.Context, org uint, list []Account) ([]AccountView, error) {
	out := make([]AccountView, len(list))
	if len(list) == 0 {
		return out, nil
	}
	ids := make([]uint, len(list))
	for i, a := range list {
		ids[i] = a.ID
		out[i].Account = a
	}
	var rows []struct {
		AccountID uint
		Total     int64
	}
	if err := s.db(ctx, org).Model(&Entry{}).Select("account_id, COALESCE(SUM(amount), 0) AS total").Where("account_id IN ?", ids).Group("account_id").Scan(&rows).Error; err != nil {
		return nil, err
	}
	by := map[uint]int64{}
	for _, r := range rows {
		by[r.AccountID] = r.Total
	}
	for i := range out {
		out[i].Balance = by[out[i].ID]
	}
	return out, nil
}

// Account returns one account the caller may read, with its balance.
func (s *Service) Account(ctx context.Context, p *accounts.Principal, id uint) (*AccountView, error) {
	var a Account
	if err := s.db(ctx, p.OrgID).First(&a, id).Error; err != nil {
		return nil, errs.NotFoundf("account not found")
	}
	if err := s.acc.Reach(ID).CanRead(ctx, p, p.OrgID, a.OwnerID); err != nil {
		return nil, errs.NotFoundf("account not found")
	}
	v, err := s.withBalances(ctx, p.OrgID, []Account{a})
	if err != nil {
		return nil, err
	}
	return &v[0], nil
}

// balance is an account's balance inside tx.
func balance(tx *gorm.DB, org, account uint) (int64, error) {
	var b int64
	err := store.Org(tx, org).Model(&Entry{}).Select("COALESCE(SUM(amount), 0)").Where("account_id = ?", account).Row().Scan(&b)
	return b, err
}

// lockAccount serialises writers of one account: PostgreSQL locks its row;
// SQLite's immediate transaction already holds the database's write lock.
func (s *Service) lockAccount(tx *gorm.DB, org, id uint) (*Account, error) {
	q := store.Org(tx, org)
	if s.st.Dialect == store.Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var a Account
	if err := q.First(&a, id).Error; err != nil {
		return nil, errs.NotFoundf("account not found")
	}
	return &a, nil
}

// ErrInsufficientFunds is returned when a debit would overdraw an account.
var ErrInsufficientFunds = errs.Conflictf("the account does not have enough money for this")

// Move moves amount from one account to another of the same owner in tx,
// refusing to overdraw the source. The external IDs make it idempotent.
func (s *Service) Move(ctx context.Context, tx *gorm.DB, org uint, from, to *Account, amount int64, key, description string, on time.Time) (bool, error) {
	if msg := money.CheckPositive(amount); msg != "" {
		return false, errs.InvalidField("amount_minor", msg)
	}
	if from.Currency != to.Currency {
		return false, errs.InvalidField("to_account_id", "is in another currency")
	}
	// Lock both in ID order so two opposite moves cannot deadlock.
	first, second := from.ID, to.ID
	if first > second {
		first, second = second, first
	}
	if _, err := s.lockAccount(tx, org, first); err != nil {
		return false, err
	}
	if _, err := s.lockAccount(tx, org, second); err != nil {
		return false, err
	}
	var n int64
	if err := store.Org(tx, org).Model(&Entry{}).Where("account_id = ? AND external_id = ?", from.ID, key+":out").Count(&n).Error; err != nil || n > 0 {
		return false, err
	}
	bal, err := balance(tx, org, from.ID)
	if err != nil {
		return false, err
	}
	if bal < amount {
		return false, ErrInsufficientFunds
	}
	rows := []Entry{
		{AccountID: from.ID, OwnerID: from.OwnerID, ExternalID: key + ":out", BookedOn: day(on), Description: description, Merchant: "",
			Amount: -amount, Currency: from.Currency, Category: CatSavings, CategorySource: "default"},
		{AccountID: to.ID, OwnerID: to.OwnerID, ExternalID: key + ":in", BookedOn: day(on), Description: description, Merchant: "",
			Amount: amount, Currency: to.Currency, Category: CatSavings, CategorySource: "default"},
	}
	if err := store.Org(tx, org).Create(&rows).Error; err != nil {
		return false, err
	}
	return true, s.booked(ctx, tx, org, 0, rows)
}

// TransferBetween moves money between two of the caller's accounts.
func (s *Service) TransferBetween(ctx context.Context, p *accounts.Principal, fromID, toID uint, amount int64, reference string) error {
	from, err := s.Account(ctx, p, fromID)
	if err != nil {
		return err
	}
	to, err := s.Account(ctx, p, toID)
	if err != nil {
		return errs.InvalidField("to_account_id", "is not one of your accounts")
	}
	if err := s.acc.Reach(ID).CanWrite(ctx, p, p.OrgID, from.OwnerID, false); err != nil {
		return err
	}
	if from.OwnerID != to.OwnerID || from.ID == to.ID {
		return errs.InvalidField("to_account_id", "must be another account of the same customer")
	}
	if reference == "" {
		reference = fmt.Sprintf("%d", s.now().UnixNano())
	}
	return s.st.Tx(ctx, func(tx *gorm.DB) error {
		_, err := s.Move(ctx, tx, p.OrgID, &from.Account, &to.Account, amount, "xfer:"+reference, "Transfer between your accounts", s.now())
		return err
	})
}
