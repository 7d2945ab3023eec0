package banking

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/money"
	"github.com/portalkit/portalkit/core/store"
)

// MaxBatch bounds one batch of transactions.
const MaxBatch = 1000

// TxnInput is one transaction pushed by an integrator.
type TxnInput struct {
	AccountID   uint      `json:"account_id" minimum:"1"`
	ExternalID  string    `json:"external_id" minLength:"1" maxLength:"100" doc:"The bank's own ID; unique per account, so a replay adds nothing"`
	BookedOn    time.Time `json:"booked_on" doc:"Booking date (RFC 3339)"`
	Description string    `json:"description" maxLength:"300"`
	AmountMinor int64     `json:"amount_minor" minimum:"-1000000000000000" maximum:"1000000000000000" doc:"Credit positive, debit negative, in minor units"`
	Currency    string    `json:"currency"`
	MCC         int       `json:"mcc,omitempty" minimum:"0" maximum:"9999" doc:"ISO 18245 merchant category code, when known"`
}

// BatchResult says what a batch did.
type BatchResult struct {
	Created    int `json:"created"`
	Duplicates int `json:"duplicates" doc:"Items whose external ID was already booked"`
}

// rulesFor returns the rules that categorise owner's transactions: the
// shipped defaults, the organisation's and the customer's own.
func rulesFor(tx *gorm.DB, org, owner uint) ([]Rule, error) {
	var rows []MerchantRule
	if err := store.Org(tx, org).Where("owner_id IN ?", []uint{0, owner}).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := append([]Rule(nil), DefaultRules...)
	for _, r := range rows {
		src := "org"
		if r.OwnerID != 0 {
			src = "customer"
		}
		out = append(out, Rule{Match: r.Match, Category: r.Category, Source: src})
	}
	return out, nil
}

// categorise fills an entry's merchant, category and its source.
func categorise(e *Entry, rules []Rule) {
	e.Merchant = NormalizeMerchant(e.Description)
	if len(e.Merchant) > 120 {
		e.Merchant = e.Merchant[:120]
	}
	e.Category = Categorise(e.Description, e.MCC, e.Amount, rules)
	e.CategorySource = "default"
	m := " " + e.Merchant + " "
	best := 0
	for _, r := range rules {
		if r.Category == e.Category && r.Match != "" && strings.Contains(m, strings.ToUpper(r.Match)) && sourceRank[r.Source] > best {
			best = sourceRank[r.Source]
			e.CategorySource = r.Source
		}
	}
}

// BookBatch validates every item first and books all of them, or none:
// a bad batch is a 422 naming each bad item. External IDs already booked
// are skipped, so the same batch twice books nothing the second time.
func (s *Service) BookBatch(ctx context.Context, p *accounts.Principal, items []TxnInput) (*BatchResult, error) {
	if len(items) == 0 {
		return nil, errs.InvalidField("body.transactions", "must hold at least one transaction")
	}
	if len(items) > MaxBatch {
		return nil, errs.InvalidField("body.transactions", fmt.Sprintf("holds %d transactions; at most %d per batch", len(items), MaxBatch))
	}
	ids := map[uint]bool{}
	for _, it := range items {
		ids[it.AccountID] = true
	}
	keys := make([]uint, 0, len(ids))
	for id := range ids {
		keys = append(keys, id)
	}
	var accts []Account
	if err := s.db(ctx, p.OrgID).Where("id IN ?", keys).Find(&accts).Error; err != nil {
		return nil, err
	}
	byID := map[uint]*Account{}
	for i := range accts {
		if s.acc.Reach(ID).CanWrite(ctx, p, p.OrgID, accts[i].OwnerID, false) == nil {
			byID[accts[i].ID] = &accts[i]
		}
	}
	var fields []errs.FieldError
	seen := map[string]int{}
	for i, it := range items {
		f := func(name, msg string) {
			fields = append(fields, errs.Field(fmt.Sprintf("body.transactions[%d].%s", i, name), msg))
		}
		a := byID[it.AccountID]
		if a == nil {
			f("account_id", "is not an account you may book on")
		} else if !strings.EqualFold(it.Currency, a.Currency) {
			f("currency", "must be the account's currency, "+a.Currency)
		}
		if strings.TrimSpace(it.ExternalID) == "" {
			f("external_id", "is required")
		} else if j, dup := seen[fmt.Sprintf("%d|%s", it.AccountID, it.ExternalID)]; dup {
			f("external_id", fmt.Sprintf("repeats item %d", j))
		}
		seen[fmt.Sprintf("%d|%s", it.AccountID, it.ExternalID)] = i
		if strings.TrimSpace(it.Description) == "" {
			f("description", "is required")
		}
		if it.AmountMinor == 0 {
			f("amount_minor", "must not be zero")
		} else if !money.InRange(it.AmountMinor) {
			f("amount_minor", fmt.Sprintf("must be within ±%d minor units", money.MaxMinor))
		}
		if it.BookedOn.IsZero() || it.BookedOn.After(s.now().AddDate(0, 0, 7)) {
			f("booked_on", "must be a date, not in the future")
		}
	}
	if len(fields) > 0 {
		return nil, errs.Validation(fmt.Sprintf("%d problem(s) in the batch; nothing was booked", len(fields)), fields...)
	}
	res := &BatchResult{}
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		rules := map[uint][]Rule{}
		rows := make([]Entry, 0, len(items))
		for _, it := range items {
			a := byID[it.AccountID]
			if rules[a.OwnerID] == nil {
				r, err := rulesFor(tx, p.OrgID, a.OwnerID)
				if err != nil {
					return err
				}
				rules[a.OwnerID] = r
			}
			e := Entry{AccountID: a.ID, OwnerID: a.OwnerID, ExternalID: strings.TrimSpace(it.ExternalID), BookedOn: day(it.BookedOn.UTC()),
				Description: strings.TrimSpace(it.Description), MCC: it.MCC, Amount: it.AmountMinor, Currency: a.Currency}
			categorise(&e, rules[a.OwnerID])
			rows = append(rows, e)
		}
		n, err := s.insertEntries(tx, p.OrgID, rows)
		res.Created, res.Duplicates = n, len(rows)-n
		if err != nil {
			return err
		}
		if n > 0 {
			if err := s.booked(ctx, tx, p.OrgID, p.UserID, rows); err != nil {
				return err
			}
		}
		return s.checkBudgets(ctx, tx, p.OrgID, rows)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// insertEntries books rows, skipping external IDs already booked; it
// returns how many were new.
func (s *Service) insertEntries(tx *gorm.DB, org uint, rows []Entry) (int, error) {
	n := 0
	for start := 0; start < len(rows); start += 500 {
		chunk := rows[start:min(start+500, len(rows))]
		res := store.Org(tx, org).Clauses(clause.OnConflict{DoNothing: true}).Create(&chunk)
		if res.Error != nil {
			return n, res.Error
		}
		n += int(res.RowsAffected)
	}
	return n, nil
}

// --- CSV statements ---

// ImportPreview is an uploaded statement with the mapping in use and every
// row parsed (with its errors).
type ImportPreview struct {
	ImportID uint           `json:"import_id"`
	Header   []string       `json:"header"`
	Mapping  ColumnMap      `json:"mapping"`
	Rows     []StatementRow `json:"rows"`
	Errors   int            `json:"errors" doc:"Rows with errors; the import is refused while there are any"`
}

// UploadStatement stores a CSV statement for an account of the caller and
// returns a preview with the guessed mapping.
func (s *Service) UploadStatement(ctx context.Context, p *accounts.Principal, accountID uint, name string, data []byte) (*ImportPreview, error) {
	a, err := s.Account(ctx, p, accountID)
	if err != nil {
		return nil, err
	}
	if err := s.acc.Reach(ID).CanWrite(ctx, p, p.OrgID, a.OwnerID, false); err != nil {
		return nil, err
	}
	st, err := ReadStatement(data)
	if err != nil {
		return nil, errs.InvalidField("file", err.Error())
	}
	im := &Import{OwnerID: a.OwnerID, AccountID: a.ID, FileName: name, Content: data}
	if err := s.db(ctx, p.OrgID).Create(im).Error; err != nil {
		return nil, err
	}
	return s.preview(im, st, st.Mapping, a.Currency)
}

func (s *Service) preview(im *Import, st *Statement, m ColumnMap, currency string) (*ImportPreview, error) {
	rows, err := st.Parse(m, currency, fmt.Sprintf("%d", im.AccountID))
	if err != nil {
		return nil, errs.InvalidField("mapping", err.Error())
	}
	pv := &ImportPreview{ImportID: im.ID, Header: st.Header, Mapping: m, Rows: rows}
	for _, r := range rows {
		if len(r.Errors) > 0 {
			pv.Errors++
		}
	}
	return pv, nil
}

func (s *Service) importOf(ctx context.Context, p *accounts.Principal, id uint) (*Import, *Account, error) {
	var im Import
	if err := s.db(ctx, p.OrgID).First(&im, id).Error; err != nil {
		return nil, nil, errs.NotFoundf("import not found")
	}
	if err := s.acc.Reach(ID).CanWrite(ctx, p, p.OrgID, im.OwnerID, false); err != nil {
		return nil, nil, errs.NotFoundf("import not found")
	}
	var a Account
	if err := s.db(ctx, p.OrgID).First(&a, im.AccountID).Error; err != nil {
		return nil, nil, err
	}
	return &im, &a, nil
}

// PreviewImport parses an uploaded statement with mapping m.
func (s *Service) PreviewImport(ctx context.Context, p *accounts.Principal, id uint, m *ColumnMap) (*ImportPreview, error) {
	im, a, err := s.importOf(ctx, p, id)
	if err != nil {
		return nil, err
	}
	st, err := ReadStatement(im.Content)
	if err != nil {
		return nil, errs.InvalidField("file", err.Error())
	}
	mapping := st.Mapping
	if m != nil {
		mapping = *m
	}
	return s.preview(im, st, mapping, a.Currency)
}

// ConfirmImport books every row of the statement, or none: any row error
// refuses the whole file with a 422 naming each line. Rows booked by an
// earlier import of the same file are skipped.
func (s *Service) ConfirmImport(ctx context.Context, p *accounts.Principal, id uint, m *ColumnMap) (*BatchResult, error) {
	pv, err := s.PreviewImport(ctx, p, id, m)
	if err != nil {
		return nil, err
	}
	im, a, err := s.importOf(ctx, p, id)
	if err != nil {
		return nil, err
	}
	var fields []errs.FieldError
	for _, r := range pv.Rows {
		for _, e := range r.Errors {
			fields = append(fields, errs.Field(fmt.Sprintf("line %d", r.Line), e))
		}
	}
	if len(fields) > 0 {
		return nil, errs.Validation(fmt.Sprintf("%d line(s) have errors; nothing was imported", pv.Errors), fields...)
	}
	res := &BatchResult{}
	err = s.st.Tx(ctx, func(tx *gorm.DB) error {
		rules, err := rulesFor(tx, p.OrgID, a.OwnerID)
		if err != nil {
			return err
		}
		rows := make([]Entry, 0, len(pv.Rows))
		for _, r := range pv.Rows {
			if r.Amount.Currency != a.Currency {
				return errs.InvalidField(fmt.Sprintf("line %d", r.Line), "is in "+r.Amount.Currency+", the account in "+a.Currency)
			}
			e := Entry{AccountID: a.ID, OwnerID: a.OwnerID, ExternalID: r.ExternalID, BookedOn: day(r.Date), Description: truncate(r.Description, 300),
				Amount: r.Amount.Minor, Currency: a.Currency}
			categorise(&e, rules)
			rows = append(rows, e)
		}
		n, err := s.insertEntries(tx, p.OrgID, rows)
		if err != nil {
			return err
		}
		res.Created, res.Duplicates = n, len(rows)-n
		if n > 0 {
			if err := s.booked(ctx, tx, p.OrgID, p.UserID, rows); err != nil {
				return err
			}
		}
		now := s.now()
		if err := store.Org(tx, p.OrgID).Model(&Import{}).Where("id = ?", im.ID).
			Updates(map[string]any{"imported": n, "duplicates": len(rows) - n, "done_at": now}).Error; err != nil {
			return err
		}
		return s.checkBudgets(ctx, tx, p.OrgID, rows)
	})
	return res, err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// --- categorisation ---

// Recategorise is a customer's correction: the transaction's merchant gets
// category from now on (a rule of the customer's own), and the customer's
// past transactions of that merchant move with it.
func (s *Service) Recategorise(ctx context.Context, p *accounts.Principal, entryID uint, cat Category) (*Entry, error) {
	if !ValidCategory(cat) {
		return nil, errs.InvalidField("category", "is not a known category")
	}
	var e Entry
	if err := s.db(ctx, p.OrgID).First(&e, entryID).Error; err != nil {
		return nil, errs.NotFoundf("transaction not found")
	}
	if err := s.acc.Reach(ID).CanWrite(ctx, p, p.OrgID, e.OwnerID, false); err != nil {
		return nil, errs.NotFoundf("transaction not found")
	}
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		match := e.Merchant
		if match == "" {
			return store.Org(tx, p.OrgID).Model(&Entry{}).Where("id = ?", e.ID).Updates(map[string]any{"category": cat, "category_source": "customer"}).Error
		}
		r := MerchantRule{OwnerID: e.OwnerID, Match: match, Category: cat}
		if err := store.Org(tx, p.OrgID).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "org_id"}, {Name: "owner_id"}, {Name: "match"}},
			DoUpdates: clause.AssignmentColumns([]string{"category"})}).Create(&r).Error; err != nil {
			return err
		}
		return store.Org(tx, p.OrgID).Model(&Entry{}).Where("owner_id = ? AND merchant = ?", e.OwnerID, match).
			Updates(map[string]any{"category": cat, "category_source": "customer"}).Error
	})
	if err != nil {
		return nil, err
	}
	e.Category, e.CategorySource = cat, "customer"
	return &e, nil
}

// AddOrgRule adds an organisation rule (staff and admins): future
// transactions whose merchant contains match get the category, and so do
// past ones no customer corrected.
func (s *Service) AddOrgRule(ctx context.Context, p *accounts.Principal, match string, cat Category) (*MerchantRule, error) {
	match = NormalizeMerchant(match)
	var fields []errs.FieldError
	if len(match) < 2 {
		fields = append(fields, errs.Field("match", "needs at least two letters or digits"))
	}
	if !ValidCategory(cat) {
		fields = append(fields, errs.Field("category", "is not a known category"))
	}
	if len(fields) > 0 {
		return nil, errs.Validation("the rule is not valid", fields...)
	}
	r := &MerchantRule{Match: match, Category: cat}
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		if err := store.Org(tx, p.OrgID).Create(r).Error; err != nil {
			if store.IsUniqueViolation(err) {
				return errs.InvalidField("match", "the organisation already has a rule for this")
			}
			return err
		}
		return store.Org(tx, p.OrgID).Model(&Entry{}).Where("category_source <> ? AND (' ' || merchant || ' ') LIKE ?"+store.LikeEscape, "customer", store.ContainsLike(match)).
			Updates(map[string]any{"category": cat, "category_source": "org"}).Error
	})
	return r, err
}

// OrgRules lists the organisation's rules.
func (s *Service) OrgRules(ctx context.Context, p *accounts.Principal) ([]MerchantRule, error) {
	var out []MerchantRule
	return out, s.db(ctx, p.OrgID).Where("owner_id = 0").Order("match").Find(&out).Error
}

// DeleteOrgRule removes an organisation rule (future transactions only).
func (s *Service) DeleteOrgRule(ctx context.Context, p *accounts.Principal, id uint) error {
	res := s.db(ctx, p.OrgID).Where("id = ? AND owner_id = 0", id).Delete(&MerchantRule{})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errs.NotFoundf("rule not found")
	}
	return nil
}

// TxnFilter narrows a transaction search.
type TxnFilter struct {
	OwnerID   uint
	AccountID uint
	Category  string
	Query     string
	From, To  time.Time
	Limit     int
	Offset    int
}

// Transactions searches the transactions the caller may see, newest first.
func (s *Service) Transactions(ctx context.Context, p *accounts.Principal, f TxnFilter) ([]Entry, int64, error) {
	q := s.db(ctx, p.OrgID).Model(&Entry{})
	q, err := s.acc.Reach(ID).WhereVisible(ctx, p, q, "owner_id")
	if err != nil {
		return nil, 0, err
	}
	if f.OwnerID != 0 {
		q = q.Where("owner_id = ?", f.OwnerID)
	}
	if f.AccountID != 0 {
		q = q.Where("account_id = ?", f.AccountID)
	}
	if f.Category != "" {
		q = q.Where("category = ?", f.Category)
	}
	if qs := strings.TrimSpace(f.Query); qs != "" {
		// Merchants are stored normalised (capitals, digits, . & and
		// spaces), so the term is normalised alike; one that normalises to
		// nothing (only symbols such as % or _) matches no merchant.
		if term := NormalizeMerchant(qs); term != "" {
			q = q.Where("merchant LIKE ?"+store.LikeEscape, store.ContainsLike(term))
		} else {
			q = q.Where("1 = 0")
		}
	}
	if !f.From.IsZero() {
		q = q.Where("booked_on >= ?", day(f.From))
	}
	if !f.To.IsZero() {
		q = q.Where("booked_on <= ?", day(f.To))
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, err
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	var out []Entry
	err = q.Order("booked_on DESC, id DESC").Limit(f.Limit).Offset(f.Offset).Find(&out).Error
	return out, total, err
}

func moneyOf(e Entry) money.Amount { return money.New(e.Amount, e.Currency) }
