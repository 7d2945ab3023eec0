package bookshop

import (
	"time"

	"github.com/portalkit/portalkit/core/store"
)

// Reservation statuses (shown through the "bookshop.reservation_status"
// label set).
const (
	StatusReserved  = "reserved"
	StatusReady     = "ready"
	StatusCollected = "collected"
	StatusCancelled = "cancelled"
)

// Event kinds ("bookshop.event_kind").
const (
	EventVirtual = "virtual"
	EventInStore = "in_store"
)

// Book is a title of the organisation's catalogue; every customer of the
// organisation sees every book.
type Book struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	Title      string `gorm:"size:200;not null" json:"title"`
	Author     string `gorm:"size:120;not null" json:"author"`
	Genre      string `gorm:"size:40;not null" json:"genre"`
	PriceMinor int64  `gorm:"not null" json:"price_minor" doc:"Price in cents"`
	Currency   string `gorm:"size:3;not null" json:"currency"`
}

// TableName implements gorm's Tabler.
func (Book) TableName() string { return "bookshop_books" }

// Order is one purchase of a customer.
type Order struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	CustomerID uint        `gorm:"not null;index" json:"-"`
	PlacedAt   time.Time   `gorm:"not null" json:"placed_at"`
	TotalMinor int64       `gorm:"not null" json:"total_minor"`
	Currency   string      `gorm:"size:3;not null" json:"currency"`
	Lines      []OrderLine `gorm:"-" json:"lines"`
}

// TableName implements gorm's Tabler.
func (Order) TableName() string { return "bookshop_orders" }

// OrderLine is one title of an order. It repeats the customer so that
// recommendations and erasure need no join.
type OrderLine struct {
	ID uint `gorm:"primaryKey" json:"-"`
	store.OrgOwned
	OrderID    uint   `gorm:"not null;index" json:"-"`
	CustomerID uint   `gorm:"not null;index" json:"-"`
	BookID     uint   `gorm:"not null;index" json:"book_id"`
	Title      string `gorm:"-" json:"title"`
	Quantity   int    `gorm:"not null" json:"quantity"`
	PriceMinor int64  `gorm:"not null" json:"price_minor"`
}

// TableName implements gorm's Tabler.
func (OrderLine) TableName() string { return "bookshop_order_lines" }

// Favourite marks a book a customer loves.
type Favourite struct {
	ID uint `gorm:"primaryKey" json:"-"`
	store.OrgOwned
	CustomerID uint      `gorm:"not null;uniqueIndex:bookshop_fav_once" json:"-"`
	BookID     uint      `gorm:"not null;uniqueIndex:bookshop_fav_once" json:"book_id"`
	CreatedAt  time.Time `gorm:"not null" json:"created_at"`
}

// TableName implements gorm's Tabler.
func (Favourite) TableName() string { return "bookshop_favourites" }

// Review is a customer's stars and words about a book: one per customer
// and book (writing again updates it). Other customers see it without the
// reviewer's name.
type Review struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	CustomerID uint      `gorm:"not null;uniqueIndex:bookshop_review_once" json:"-"`
	BookID     uint      `gorm:"not null;uniqueIndex:bookshop_review_once;index" json:"book_id"`
	Stars      int       `gorm:"not null" json:"stars"`
	Text       string    `gorm:"type:text;not null" json:"text"`
	UpdatedAt  time.Time `gorm:"not null" json:"updated_at"`
	Mine       bool      `gorm:"-" json:"mine"`
}

// TableName implements gorm's Tabler.
func (Review) TableName() string { return "bookshop_reviews" }

// Group is a discussion group (a reading club).
type Group struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	Name        string `gorm:"size:100;not null" json:"name"`
	Description string `gorm:"size:500;not null" json:"description"`
	Member      bool   `gorm:"-" json:"member"`
	Members     int64  `gorm:"-" json:"members"`
}

// TableName implements gorm's Tabler.
func (Group) TableName() string { return "bookshop_groups" }

// Membership puts a customer in a discussion group.
type Membership struct {
	ID uint `gorm:"primaryKey" json:"-"`
	store.OrgOwned
	GroupID    uint      `gorm:"not null;uniqueIndex:bookshop_member_once" json:"group_id"`
	CustomerID uint      `gorm:"not null;uniqueIndex:bookshop_member_once" json:"-"`
	JoinedAt   time.Time `gorm:"not null" json:"joined_at"`
}

// TableName implements gorm's Tabler.
func (Membership) TableName() string { return "bookshop_memberships" }

// Post is a message in a discussion group, seen by its members. The
// author's name is kept as written, so that members read who said what;
// it is erased with the author.
type Post struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	GroupID    uint      `gorm:"not null;index" json:"group_id"`
	AuthorID   uint      `gorm:"not null;index" json:"-"`
	AuthorName string    `gorm:"size:200;not null" json:"author"`
	Text       string    `gorm:"type:text;not null" json:"text"`
	CreatedAt  time.Time `gorm:"not null" json:"created_at"`
}

// TableName implements gorm's Tabler.
func (Post) TableName() string { return "bookshop_posts" }

// Event is a reading, a signing or a talk, online or in a shop.
type Event struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	Title    string    `gorm:"size:200;not null" json:"title"`
	Kind     string    `gorm:"size:20;not null" json:"kind" enum:"virtual,in_store"`
	ShopID   uint      `gorm:"not null;default:0" json:"shop_id,omitempty"`
	StartsAt time.Time `gorm:"not null" json:"starts_at"`
	Capacity int       `gorm:"not null" json:"capacity"`
	Taken    int64     `gorm:"-" json:"taken"`
	SignedUp bool      `gorm:"-" json:"signed_up"`
	SignupID uint      `gorm:"-" json:"signup_id,omitempty"`
	Full     bool      `gorm:"-" json:"full"`
}

// TableName implements gorm's Tabler.
func (Event) TableName() string { return "bookshop_events" }

// Signup is a customer's place at an event.
type Signup struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	EventID    uint      `gorm:"not null;uniqueIndex:bookshop_signup_once" json:"event_id"`
	CustomerID uint      `gorm:"not null;uniqueIndex:bookshop_signup_once" json:"-"`
	CreatedAt  time.Time `gorm:"not null" json:"created_at"`
}

// TableName implements gorm's Tabler.
func (Signup) TableName() string { return "bookshop_signups" }

// Shop is a shop of the chain. Its till staff and the customers who
// reserve there form its policy group (kind bookshop.shop).
type Shop struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	Name    string `gorm:"size:100;not null" json:"name"`
	City    string `gorm:"size:100;not null" json:"city"`
	GroupID uint   `gorm:"not null" json:"-"`
}

// TableName implements gorm's Tabler.
func (Shop) TableName() string { return "bookshop_shops" }

// Reservation is a title put aside for a customer to collect at a shop.
type Reservation struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	CustomerID  uint       `gorm:"not null;index" json:"-"`
	ShopID      uint       `gorm:"not null;index" json:"shop_id"`
	BookID      uint       `gorm:"not null" json:"book_id"`
	Status      string     `gorm:"size:20;not null" json:"status"`
	CreatedAt   time.Time  `gorm:"not null" json:"created_at"`
	ReadyAt     *time.Time `json:"ready_at,omitempty"`
	CollectedAt *time.Time `json:"collected_at,omitempty"`
	Title       string     `gorm:"-" json:"title"`
	ShopName    string     `gorm:"-" json:"shop"`
}

// TableName implements gorm's Tabler.
func (Reservation) TableName() string { return "bookshop_reservations" }

var models = []any{&Book{}, &Order{}, &OrderLine{}, &Favourite{}, &Review{}, &Group{}, &Membership{}, &Post{},
	&Event{}, &Signup{}, &Shop{}, &Reservation{}}

// erasable hold rows about one customer, by the column naming them.
var erasable = []struct {
	model  any
	column string
}{
	{&OrderLine{}, "customer_id"}, {&Order{}, "customer_id"}, {&Favourite{}, "customer_id"}, {&Review{}, "customer_id"},
	{&Membership{}, "customer_id"}, {&Post{}, "author_id"}, {&Signup{}, "customer_id"}, {&Reservation{}, "customer_id"},
}
