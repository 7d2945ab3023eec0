package bookshop

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/live"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/store"
)

// genres are the catalogue's genres and their English names.
var genres = map[string]string{
	"crime": "Crime", "fantasy": "Fantasy", "classics": "Classics", "science": "Science", "history": "History", "children": "Children's books",
}

func (m *Module) db(ctx context.Context, org uint) *gorm.DB {
	return store.Org(m.st.DB.WithContext(ctx), org)
}

func notFound(err error, what string, id uint) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return errs.NotFoundf("no %s %d", what, id)
	}
	return err
}

// ---- Catalogue, favourites and reviews ----

// Books lists the catalogue, of one genre when genre is set.
func (m *Module) Books(ctx context.Context, org uint, genre string) ([]Book, error) {
	q := m.db(ctx, org).Order("title, id")
	if genre != "" {
		q = q.Where("genre = ?", genre)
	}
	out := []Book{}
	return out, q.Find(&out).Error
}

// AddBook adds a title to the catalogue (admins), priced in euro.
func (m *Module) AddBook(ctx context.Context, org uint, b Book) (*Book, error) {
	b.Title, b.Author = strings.TrimSpace(b.Title), strings.TrimSpace(b.Author)
	switch {
	case b.Title == "":
		return nil, errs.InvalidField("body.title", "must not be blank")
	case b.Author == "":
		return nil, errs.InvalidField("body.author", "must not be blank")
	}
	if _, ok := genres[b.Genre]; !ok {
		return nil, errs.InvalidField("body.genre", "not a genre of the catalogue")
	}
	b.ID, b.Currency = 0, "EUR"
	return &b, m.db(ctx, org).Create(&b).Error
}

// Book returns one book of the organisation.
func (m *Module) Book(ctx context.Context, org, id uint) (*Book, error) {
	var b Book
	if err := m.db(ctx, org).Take(&b, id).Error; err != nil {
		return nil, notFound(err, "book", id)
	}
	return &b, nil
}

// Reviews returns a book's reviews, newest first; the caller's own is
// marked Mine. Reviewers are not named.
func (m *Module) Reviews(ctx context.Context, p *accounts.Principal, bookID uint) ([]Review, error) {
	out := []Review{}
	if err := m.db(ctx, p.OrgID).Where("book_id = ?", bookID).Order("updated_at DESC, id DESC").Find(&out).Error; err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Mine = out[i].CustomerID == p.UserID
	}
	return out, nil
}

// reviewProblem says what is wrong with a review, naming the field.
func reviewProblem(stars int, text string) (field, msg string) {
	switch {
	case stars < 1 || stars > 5:
		return "stars", "Give from 1 to 5 stars."
	case strings.TrimSpace(text) == "":
		return "text", "Write a few words about the book."
	case utf8.RuneCountInString(text) > 2000:
		return "text", "A review is at most 2000 characters."
	}
	return "", ""
}

// SaveReview writes the caller's review of a book: one per customer and
// book, so writing again replaces the stars and text. created is false on
// an update.
func (m *Module) SaveReview(ctx context.Context, p *accounts.Principal, bookID uint, stars int, text string) (r *Review, created bool, err error) {
	if f, msg := reviewProblem(stars, text); f != "" {
		return nil, false, errs.InvalidField("body."+f, msg)
	}
	err = m.st.Tx(ctx, func(tx *gorm.DB) error {
		db := store.Org(tx, p.OrgID)
		if err := db.Take(&Book{}, bookID).Error; err != nil {
			return notFound(err, "book", bookID)
		}
		var cur Review
		err := db.Where("customer_id = ? AND book_id = ?", p.UserID, bookID).Take(&cur).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			cur = Review{CustomerID: p.UserID, BookID: bookID}
			created = true
		case err != nil:
			return err
		}
		cur.Stars, cur.Text, cur.UpdatedAt, cur.Mine = stars, strings.TrimSpace(text), m.now(), true
		r = &cur
		return db.Save(&cur).Error
	})
	return r, created, err
}

// DeleteReview deletes a review: its author's, or any for an admin
// (moderation).
func (m *Module) DeleteReview(ctx context.Context, p *accounts.Principal, id uint) error {
	db := m.db(ctx, p.OrgID)
	var r Review
	if err := db.Take(&r, id).Error; err != nil {
		return notFound(err, "review", id)
	}
	if r.CustomerID != p.UserID && !p.Is(accounts.Admin) {
		return errs.NotFoundf("no review %d", id)
	}
	return db.Delete(&r).Error
}

// SetFavourite marks or unmarks a book as the caller's favourite
// (idempotently).
func (m *Module) SetFavourite(ctx context.Context, p *accounts.Principal, bookID uint, on bool) error {
	if _, err := m.Book(ctx, p.OrgID, bookID); err != nil {
		return err
	}
	db := m.db(ctx, p.OrgID)
	if !on {
		return db.Where("customer_id = ? AND book_id = ?", p.UserID, bookID).Delete(&Favourite{}).Error
	}
	return db.Clauses(clause.OnConflict{DoNothing: true}).Create(&Favourite{CustomerID: p.UserID, BookID: bookID, CreatedAt: m.now()}).Error
}

// Favourites returns the books the caller marked, by title.
func (m *Module) Favourites(ctx context.Context, p *accounts.Principal) ([]Book, error) {
	out := []Book{}
	sub := m.db(ctx, p.OrgID).Model(&Favourite{}).Select("book_id").Where("customer_id = ?", p.UserID)
	return out, m.db(ctx, p.OrgID).Where("id IN (?)", sub).Order("title, id").Find(&out).Error
}

// IsFavourite reports whether the caller marked the book.
func (m *Module) IsFavourite(ctx context.Context, p *accounts.Principal, bookID uint) (bool, error) {
	var n int64
	err := m.db(ctx, p.OrgID).Model(&Favourite{}).Where("customer_id = ? AND book_id = ?", p.UserID, bookID).Count(&n).Error
	return n > 0, err
}

// ---- Orders ----

// LineIn is one title of a new order.
type LineIn struct {
	BookID   uint `json:"book_id" minimum:"1" doc:"The book's ID"`
	Quantity int  `json:"quantity" minimum:"1" maximum:"20" doc:"How many copies"`
}

// PlaceOrder records an order of the caller at the catalogue's prices.
func (m *Module) PlaceOrder(ctx context.Context, p *accounts.Principal, lines []LineIn) (*Order, error) {
	o := &Order{CustomerID: p.UserID, PlacedAt: m.now(), Currency: "EUR"}
	err := m.st.Tx(ctx, func(tx *gorm.DB) error {
		db := store.Org(tx, p.OrgID)
		for i, l := range lines {
			var b Book
			if err := db.Take(&b, l.BookID).Error; err != nil {
				if errors.Is(err, gorm.ErrRecordNotFound) {
					return errs.InvalidField(fmt.Sprintf("body.lines[%d].book_id", i), "no such book in the catalogue")
				}
				return err
			}
			o.Lines = append(o.Lines, OrderLine{CustomerID: p.UserID, BookID: b.ID, Title: b.Title, Quantity: l.Quantity, PriceMinor: b.PriceMinor})
			o.TotalMinor += b.PriceMinor * int64(l.Quantity)
		}
		if err := db.Create(o).Error; err != nil {
			return err
		}
		for i := range o.Lines {
			o.Lines[i].OrderID = o.ID
		}
		return db.Create(&o.Lines).Error
	})
	return o, err
}

// Orders returns a customer's orders, newest first, with their lines.
func (m *Module) Orders(ctx context.Context, org, customer uint) ([]Order, error) {
	out := []Order{}
	if err := m.db(ctx, org).Where("customer_id = ?", customer).Order("placed_at DESC, id DESC").Find(&out).Error; err != nil {
		return nil, err
	}
	return out, m.fillLines(ctx, org, out)
}

// Order returns one order: its customer's, or any for an admin.
func (m *Module) Order(ctx context.Context, p *accounts.Principal, id uint) (*Order, error) {
	var o Order
	if err := m.db(ctx, p.OrgID).Take(&o, id).Error; err != nil {
		return nil, notFound(err, "order", id)
	}
	if o.CustomerID != p.UserID && !p.Is(accounts.Admin) {
		return nil, errs.NotFoundf("no order %d", id)
	}
	os := []Order{o}
	return &os[0], m.fillLines(ctx, p.OrgID, os)
}

func (m *Module) fillLines(ctx context.Context, org uint, os []Order) error {
	if len(os) == 0 {
		return nil
	}
	idx := map[uint]int{}
	ids := make([]uint, len(os))
	for i, o := range os {
		idx[o.ID], ids[i] = i, o.ID
	}
	var lines []OrderLine
	if err := m.db(ctx, org).Where("order_id IN ?", ids).Order("id").Find(&lines).Error; err != nil {
		return err
	}
	titles, err := m.titles(ctx, org)
	if err != nil {
		return err
	}
	for _, l := range lines {
		l.Title = titles[l.BookID]
		os[idx[l.OrderID]].Lines = append(os[idx[l.OrderID]].Lines, l)
	}
	return nil
}

func (m *Module) titles(ctx context.Context, org uint) (map[uint]string, error) {
	var bs []Book
	if err := m.db(ctx, org).Select("id, title").Find(&bs).Error; err != nil {
		return nil, err
	}
	out := make(map[uint]string, len(bs))
	for _, b := range bs {
		out[b.ID] = b.Title
	}
	return out, nil
}

// ---- Recommendations ----

// Reasons a title is recommended ("bookshop.reason").
const (
	ReasonAuthor   = "same_author"
	ReasonGenre    = "same_genre"
	ReasonTogether = "bought_together"
)

// Recommendation is a title the customer has not bought, with its score
// and why.
type Recommendation struct {
	Book    Book     `json:"book"`
	Score   int      `json:"score"`
	Reasons []string `json:"reasons" enum:"same_author,same_genre,bought_together"`
}

// Recommend ranks the titles a customer has not bought from their order
// history: 3 points per title they bought by the same author, 1 per title
// of the same genre, 2 per other customer of the organisation who bought
// one of their titles and this one (counted, never named). Ties go by
// title, then ID, so the list is deterministic. Titles scoring nothing are
// left out.
func (m *Module) Recommend(ctx context.Context, org, customer uint, limit int) ([]Recommendation, error) {
	db := m.db(ctx, org)
	var bought []uint
	if err := db.Model(&OrderLine{}).Where("customer_id = ?", customer).Distinct().Pluck("book_id", &bought).Error; err != nil {
		return nil, err
	}
	out := []Recommendation{}
	if len(bought) == 0 {
		return out, nil
	}
	books, err := m.Books(ctx, org, "")
	if err != nil {
		return nil, err
	}
	mine := map[uint]bool{}
	for _, id := range bought {
		mine[id] = true
	}
	authors, kinds := map[string]int{}, map[string]int{}
	for _, b := range books {
		if mine[b.ID] {
			authors[b.Author]++
			kinds[b.Genre]++
		}
	}
	// Other customers who bought one of the customer's titles, and which
	// other titles each of them bought: counted per title.
	readers := db.Model(&OrderLine{}).Select("customer_id").Where("book_id IN ? AND customer_id <> ?", bought, customer)
	var co []struct {
		BookID uint
		N      int
	}
	if err := db.Model(&OrderLine{}).Select("book_id, COUNT(DISTINCT customer_id) AS n").
		Where("customer_id IN (?) AND book_id NOT IN ?", readers, bought).Group("book_id").Scan(&co).Error; err != nil {
		return nil, err
	}
	together := map[uint]int{}
	for _, c := range co {
		together[c.BookID] = c.N
	}
	for _, b := range books {
		if mine[b.ID] {
			continue
		}
		r := Recommendation{Book: b, Reasons: []string{}}
		if n := authors[b.Author]; n > 0 {
			r.Score += 3 * n
			r.Reasons = append(r.Reasons, ReasonAuthor)
		}
		if n := kinds[b.Genre]; n > 0 {
			r.Score += n
			r.Reasons = append(r.Reasons, ReasonGenre)
		}
		if n := together[b.ID]; n > 0 {
			r.Score += 2 * n
			r.Reasons = append(r.Reasons, ReasonTogether)
		}
		if r.Score > 0 {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		if out[i].Book.Title != out[j].Book.Title {
			return out[i].Book.Title < out[j].Book.Title
		}
		return out[i].Book.ID < out[j].Book.ID
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// ---- Discussion groups ----

// Groups lists the organisation's groups, marking those the caller is in.
func (m *Module) Groups(ctx context.Context, p *accounts.Principal) ([]Group, error) {
	out := []Group{}
	db := m.db(ctx, p.OrgID)
	if err := db.Order("name, id").Find(&out).Error; err != nil {
		return nil, err
	}
	var ms []Membership
	if err := db.Find(&ms).Error; err != nil {
		return nil, err
	}
	for i := range out {
		for _, x := range ms {
			if x.GroupID == out[i].ID {
				out[i].Members++
				out[i].Member = out[i].Member || x.CustomerID == p.UserID
			}
		}
	}
	return out, nil
}

// CreateGroup adds a discussion group (admins).
func (m *Module) CreateGroup(ctx context.Context, org uint, name, description string) (*Group, error) {
	if strings.TrimSpace(name) == "" {
		return nil, errs.InvalidField("body.name", "must not be blank")
	}
	g := &Group{Name: strings.TrimSpace(name), Description: strings.TrimSpace(description)}
	return g, m.db(ctx, org).Create(g).Error
}

func (m *Module) group(ctx context.Context, org, id uint) (*Group, error) {
	var g Group
	if err := m.db(ctx, org).Take(&g, id).Error; err != nil {
		return nil, notFound(err, "group", id)
	}
	return &g, nil
}

// Join puts the caller in a group; joining again changes nothing.
func (m *Module) Join(ctx context.Context, p *accounts.Principal, groupID uint) error {
	if _, err := m.group(ctx, p.OrgID, groupID); err != nil {
		return err
	}
	return m.db(ctx, p.OrgID).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&Membership{GroupID: groupID, CustomerID: p.UserID, JoinedAt: m.now()}).Error
}

// Leave takes the caller out of a group they are in.
func (m *Module) Leave(ctx context.Context, p *accounts.Principal, groupID uint) error {
	if _, err := m.member(ctx, p, groupID); err != nil {
		return err
	}
	return m.db(ctx, p.OrgID).Where("group_id = ? AND customer_id = ?", groupID, p.UserID).Delete(&Membership{}).Error
}

// member returns the group when the caller may read it: a member, or an
// admin. To anyone else the group's posts do not exist (404).
func (m *Module) member(ctx context.Context, p *accounts.Principal, groupID uint) (*Group, error) {
	g, err := m.group(ctx, p.OrgID, groupID)
	if err != nil {
		return nil, err
	}
	if p.Is(accounts.Admin) {
		return g, nil
	}
	var n int64
	if err := m.db(ctx, p.OrgID).Model(&Membership{}).Where("group_id = ? AND customer_id = ?", groupID, p.UserID).Count(&n).Error; err != nil {
		return nil, err
	}
	if n == 0 || !p.Is(accounts.Customer) {
		return nil, errs.NotFoundf("no group %d among yours", groupID)
	}
	g.Member = true
	return g, nil
}

// Posts returns a group's posts, oldest first, to its members.
func (m *Module) Posts(ctx context.Context, p *accounts.Principal, groupID uint) ([]Post, error) {
	if _, err := m.member(ctx, p, groupID); err != nil {
		return nil, err
	}
	out := []Post{}
	return out, m.db(ctx, p.OrgID).Where("group_id = ?", groupID).Order("created_at, id").Find(&out).Error
}

// AddPost writes in a group the caller is a member of.
func (m *Module) AddPost(ctx context.Context, p *accounts.Principal, groupID uint, text string) (*Post, error) {
	if _, err := m.member(ctx, p, groupID); err != nil {
		return nil, err
	}
	if strings.TrimSpace(text) == "" {
		return nil, errs.InvalidField("body.text", "must not be blank")
	}
	po := &Post{GroupID: groupID, AuthorID: p.UserID, AuthorName: p.Name, Text: strings.TrimSpace(text), CreatedAt: m.now()}
	return po, m.db(ctx, p.OrgID).Create(po).Error
}

// ---- Events ----

// Events lists the events from now on (all of them for admins), with the
// places taken and the caller's own sign-up.
func (m *Module) Events(ctx context.Context, p *accounts.Principal) ([]Event, error) {
	out := []Event{}
	db := m.db(ctx, p.OrgID)
	if err := db.Where("starts_at >= ?", m.now().AddDate(0, 0, -1)).Order("starts_at, id").Find(&out).Error; err != nil {
		return nil, err
	}
	var ss []Signup
	if err := db.Find(&ss).Error; err != nil {
		return nil, err
	}
	for i := range out {
		for _, s := range ss {
			if s.EventID == out[i].ID {
				out[i].Taken++
				if s.CustomerID == p.UserID {
					out[i].SignedUp, out[i].SignupID = true, s.ID
				}
			}
		}
		out[i].Full = out[i].Taken >= int64(out[i].Capacity)
	}
	return out, nil
}

// CreateEvent adds an event (admins).
func (m *Module) CreateEvent(ctx context.Context, org uint, e Event) (*Event, error) {
	if strings.TrimSpace(e.Title) == "" {
		return nil, errs.InvalidField("body.title", "must not be blank")
	}
	if e.Kind == EventInStore {
		if _, err := m.shop(ctx, nil, org, e.ShopID); errs.Is(err, errs.NotFound) {
			return nil, errs.InvalidField("body.shop_id", "an event in a shop names one of the organisation's shops")
		} else if err != nil {
			return nil, err
		}
	} else {
		e.ShopID = 0
	}
	e.ID = 0
	return &e, m.db(ctx, org).Create(&e).Error
}

// SignUp gives the caller a place at an event. Signing up again returns the
// place already held (created false); a full event is a conflict.
func (m *Module) SignUp(ctx context.Context, p *accounts.Principal, eventID uint) (s *Signup, created bool, err error) {
	err = m.st.Tx(ctx, func(tx *gorm.DB) error {
		db := store.Org(tx, p.OrgID)
		q := db
		if tx.Dialector.Name() == "postgres" {
			q = db.Clauses(clause.Locking{Strength: "UPDATE"}) // one sign-up at a time per event
		}
		var e Event
		if err := q.Take(&e, eventID).Error; err != nil {
			return notFound(err, "event", eventID)
		}
		var cur Signup
		err := db.Where("event_id = ? AND customer_id = ?", eventID, p.UserID).Take(&cur).Error
		if err == nil {
			s = &cur
			return nil
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		var n int64
		if err := db.Model(&Signup{}).Where("event_id = ?", eventID).Count(&n).Error; err != nil {
			return err
		}
		if int(n) >= e.Capacity {
			return errs.Conflictf("the event is full: all %d places are taken", e.Capacity)
		}
		s, created = &Signup{EventID: eventID, CustomerID: p.UserID, CreatedAt: m.now()}, true
		return db.Create(s).Error
	})
	return s, created, err
}

// CancelSignup gives a place back: its holder's, or any for an admin.
func (m *Module) CancelSignup(ctx context.Context, p *accounts.Principal, id uint) error {
	db := m.db(ctx, p.OrgID)
	var s Signup
	if err := db.Take(&s, id).Error; err != nil {
		return notFound(err, "sign-up", id)
	}
	if s.CustomerID != p.UserID && !p.Is(accounts.Admin) {
		return errs.NotFoundf("no sign-up %d", id)
	}
	return db.Delete(&s).Error
}

// ---- Shops and click and collect ----

// Shops lists the organisation's shops.
func (m *Module) Shops(ctx context.Context, org uint) ([]Shop, error) {
	out := []Shop{}
	return out, m.db(ctx, org).Order("name, id").Find(&out).Error
}

func (m *Module) shop(ctx context.Context, tx *gorm.DB, org, id uint) (*Shop, error) {
	if tx == nil {
		tx = m.st.DB.WithContext(ctx)
	}
	var s Shop
	if err := store.Org(tx, org).Take(&s, id).Error; err != nil {
		return nil, notFound(err, "shop", id)
	}
	return &s, nil
}

// CreateShop adds a shop and its policy group (admins).
func (m *Module) CreateShop(ctx context.Context, tx *gorm.DB, org uint, name, city string) (*Shop, error) {
	if strings.TrimSpace(name) == "" {
		return nil, errs.InvalidField("body.name", "must not be blank")
	}
	s := &Shop{Name: strings.TrimSpace(name), City: strings.TrimSpace(city)}
	run := func(tx *gorm.DB) error {
		if err := store.Org(tx, org).Create(s).Error; err != nil {
			return err
		}
		g, err := m.acc.SaveGroup(ctx, tx, org, KindShop, strconv.FormatUint(uint64(s.ID), 10), s.Name)
		if err != nil {
			return err
		}
		s.GroupID = g.ID
		return store.Org(tx, org).Model(s).Update("group_id", g.ID).Error
	}
	if tx != nil {
		return s, run(tx)
	}
	return s, m.st.Tx(ctx, run)
}

// AddTillStaff puts a staff member on a shop's till: they see and prepare
// the shop's reservations.
func (m *Module) AddTillStaff(ctx context.Context, tx *gorm.DB, org, shopID, staffID uint) error {
	s, err := m.shop(ctx, tx, org, shopID)
	if err != nil {
		return err
	}
	return m.acc.AddGroupMember(ctx, tx, org, s.GroupID, staffID, accounts.StaffSide, "till")
}

// Reserve puts a title aside for the caller at a shop; reserving the same
// title at the same shop while the first is open returns the first. The
// customer joins the shop's group, so its till staff reach them.
func (m *Module) Reserve(ctx context.Context, p *accounts.Principal, shopID, bookID uint) (r *Reservation, err error) {
	err = m.st.Tx(ctx, func(tx *gorm.DB) error {
		db := store.Org(tx, p.OrgID)
		s, err := m.shop(ctx, tx, p.OrgID, shopID)
		if errs.Is(err, errs.NotFound) {
			return errs.InvalidField("body.shop_id", "no such shop")
		} else if err != nil {
			return err
		}
		var b Book
		if err := db.Take(&b, bookID).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return errs.InvalidField("body.book_id", "no such book in the catalogue")
		} else if err != nil {
			return err
		}
		// Reserving again (a retry, a second tab) returns the open
		// reservation: the partial unique index keeps one per customer,
		// shop and title even when two requests race.
		r = &Reservation{CustomerID: p.UserID, ShopID: shopID, BookID: bookID, Status: StatusReserved, CreatedAt: m.now()}
		res := db.Clauses(clause.OnConflict{
			Columns:     []clause.Column{{Name: "org_id"}, {Name: "customer_id"}, {Name: "shop_id"}, {Name: "book_id"}},
			TargetWhere: clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "status IN ('reserved', 'ready')"}}},
			DoNothing:   true,
		}).Create(r)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			var cur Reservation
			if err := db.Where("customer_id = ? AND shop_id = ? AND book_id = ? AND status IN ?", p.UserID, shopID, bookID,
				[]string{StatusReserved, StatusReady}).Take(&cur).Error; err != nil {
				return err
			}
			r = &cur
		} else if err := m.acc.AddGroupMember(ctx, tx, p.OrgID, s.GroupID, p.UserID, accounts.CustomerSide, "customer"); err != nil {
			return err
		}
		r.Title, r.ShopName = b.Title, s.Name
		return nil
	})
	return r, err
}

func (m *Module) fill(ctx context.Context, org uint, rs []Reservation) error {
	titles, err := m.titles(ctx, org)
	if err != nil {
		return err
	}
	shops, err := m.Shops(ctx, org)
	if err != nil {
		return err
	}
	for i := range rs {
		rs[i].Title = titles[rs[i].BookID]
		for _, s := range shops {
			if s.ID == rs[i].ShopID {
				rs[i].ShopName = s.Name
			}
		}
	}
	return nil
}

// Reservations returns a customer's reservations, newest first.
func (m *Module) Reservations(ctx context.Context, org, customer uint) ([]Reservation, error) {
	out := []Reservation{}
	if err := m.db(ctx, org).Where("customer_id = ?", customer).Order("created_at DESC, id DESC").Find(&out).Error; err != nil {
		return nil, err
	}
	return out, m.fill(ctx, org, out)
}

// CancelReservation cancels an open reservation of the caller (or, for an
// admin, any).
func (m *Module) CancelReservation(ctx context.Context, p *accounts.Principal, id uint) (*Reservation, error) {
	db := m.db(ctx, p.OrgID)
	var r Reservation
	if err := db.Take(&r, id).Error; err != nil {
		return nil, notFound(err, "reservation", id)
	}
	if r.CustomerID != p.UserID && !p.Is(accounts.Admin) {
		return nil, errs.NotFoundf("no reservation %d", id)
	}
	switch r.Status {
	case StatusCancelled:
	case StatusReserved, StatusReady:
		r.Status = StatusCancelled
		if err := db.Model(&r).Update("status", r.Status).Error; err != nil {
			return nil, err
		}
	default:
		return nil, errs.Conflictf("the reservation is already collected")
	}
	rs := []Reservation{r}
	return &rs[0], m.fill(ctx, p.OrgID, rs)
}

// TillShops are the shops whose till the caller serves (every shop for an
// admin).
func (m *Module) TillShops(ctx context.Context, p *accounts.Principal) ([]Shop, error) {
	if p.Is(accounts.Admin) {
		return m.Shops(ctx, p.OrgID)
	}
	gs, err := m.acc.GroupsOf(ctx, nil, p.OrgID, p.UserID, KindShop, accounts.StaffSide)
	if err != nil {
		return nil, err
	}
	ids := []uint{}
	for _, g := range gs {
		ids = append(ids, g.ID)
	}
	out := []Shop{}
	if len(ids) == 0 {
		return out, nil
	}
	return out, m.db(ctx, p.OrgID).Where("group_id IN ?", ids).Order("name, id").Find(&out).Error
}

// ShopReservations returns the open reservations of the shops the caller
// serves, oldest first: for till staff only those of customers their shop's
// group gives them, so the staff of one shop never see another's.
func (m *Module) ShopReservations(ctx context.Context, p *accounts.Principal) ([]Reservation, error) {
	shops, err := m.TillShops(ctx, p)
	if err != nil {
		return nil, err
	}
	out := []Reservation{}
	open := []string{StatusReserved, StatusReady}
	for _, s := range shops {
		var rs []Reservation
		q := m.db(ctx, p.OrgID).Where("shop_id = ? AND status IN ?", s.ID, open)
		if !p.Is(accounts.Admin) {
			q = q.Where("customer_id IN (?)", m.acc.GroupCustomers(m.st.DB.WithContext(ctx), p.OrgID, s.GroupID, p.UserID))
		}
		if err := q.Order("created_at, id").Find(&rs).Error; err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, m.fill(ctx, p.OrgID, out)
}

// till loads a reservation the caller may prepare: an admin's, or till
// staff of its shop who reach its customer through the shop's group.
// Anyone else gets 404.
func (m *Module) till(ctx context.Context, tx *gorm.DB, p *accounts.Principal, id uint) (*Reservation, *Shop, error) {
	var r Reservation
	if err := store.Org(tx, p.OrgID).Take(&r, id).Error; err != nil {
		return nil, nil, notFound(err, "reservation", id)
	}
	s, err := m.shop(ctx, tx, p.OrgID, r.ShopID)
	if err != nil {
		return nil, nil, err
	}
	if !p.Is(accounts.Admin) {
		ok, err := m.acc.GroupReaches(ctx, tx, p.OrgID, s.GroupID, p.UserID, r.CustomerID)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			return nil, nil, errs.NotFoundf("no reservation %d at your shop", id)
		}
	}
	return &r, s, nil
}

// MarkReady says a reservation waits at the till: the customer gets a
// bookshop.ready notification (in-app and e-mail) and a live event. Marking
// it ready again changes nothing and sends nothing more.
func (m *Module) MarkReady(ctx context.Context, p *accounts.Principal, id uint) (r *Reservation, err error) {
	err = m.st.Tx(ctx, func(tx *gorm.DB) error {
		var s *Shop
		r, s, err = m.till(ctx, tx, p, id)
		if err != nil {
			return err
		}
		switch r.Status {
		case StatusReady:
			return nil
		case StatusReserved:
		default:
			return errs.Conflictf("only a reservation being prepared can become ready to collect")
		}
		now := m.now()
		r.Status, r.ReadyAt = StatusReady, &now
		if err := store.Org(tx, p.OrgID).Model(r).Updates(map[string]any{"status": r.Status, "ready_at": now}).Error; err != nil {
			return err
		}
		var b Book
		if err := store.Org(tx, p.OrgID).Take(&b, r.BookID).Error; err != nil {
			return err
		}
		if _, err := m.notify.Send(ctx, tx, notify.Notification{OrgID: p.OrgID, UserID: r.CustomerID, Kind: KindReady,
			Data:      map[string]any{"title": b.Title, "shop": s.Name, "link": "/m/bookshop/reservations"},
			DedupeKey: fmt.Sprintf("ready:%d", r.ID)}); err != nil {
			return err
		}
		return m.live.Publish(ctx, tx, live.Event{OrgID: p.OrgID, Name: "reservation", To: []uint{r.CustomerID},
			Subject: fmt.Sprintf("reservation:%d", r.ID), Data: map[string]any{"reservation": r.ID, "status": r.Status}})
	})
	if err != nil {
		return nil, err
	}
	rs := []Reservation{*r}
	return &rs[0], m.fill(ctx, p.OrgID, rs)
}

// MarkCollected closes a ready reservation the customer picked up.
func (m *Module) MarkCollected(ctx context.Context, p *accounts.Principal, id uint) (r *Reservation, err error) {
	err = m.st.Tx(ctx, func(tx *gorm.DB) error {
		r, _, err = m.till(ctx, tx, p, id)
		if err != nil {
			return err
		}
		switch r.Status {
		case StatusCollected:
			return nil
		case StatusReady:
		default:
			return errs.Conflictf("only a reservation ready to collect can be collected")
		}
		now := m.now()
		r.Status, r.CollectedAt = StatusCollected, &now
		if err := store.Org(tx, p.OrgID).Model(r).Updates(map[string]any{"status": r.Status, "collected_at": now}).Error; err != nil {
			return err
		}
		return m.live.Publish(ctx, tx, live.Event{OrgID: p.OrgID, Name: "reservation", To: []uint{r.CustomerID},
			Subject: fmt.Sprintf("reservation:%d", r.ID), Data: map[string]any{"reservation": r.ID, "status": r.Status}})
	})
	if err != nil {
		return nil, err
	}
	rs := []Reservation{*r}
	return &rs[0], m.fill(ctx, p.OrgID, rs)
}
