package bookshop

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

func principal(ctx context.Context) *accounts.Principal {
	p, _ := accounts.PrincipalFrom(ctx)
	return p
}

type idIn struct {
	ID uint `path:"id" minimum:"1"`
}

type body[T any] struct{ Body T }

type list[T any] struct {
	Body struct {
		Items []T `json:"items"`
	}
}

func items[T any](xs []T, err error) (*list[T], error) {
	if err != nil {
		return nil, err
	}
	out := &list[T]{}
	out.Body.Items = xs
	return out, nil
}

// Who calls what.
var (
	everyone  = []accounts.Role{accounts.Customer, accounts.Staff, accounts.Admin}
	customers = []accounts.Role{accounts.Customer, accounts.Admin}
	onlyCust  = []accounts.Role{accounts.Customer}
	tills     = []accounts.Role{accounts.Staff, accounts.Admin}
	admins    = []accounts.Role{accounts.Admin}
)

// Skip reasons of routes whose {id} is a shared object, not a customer's.
const (
	sharedBook  = "the catalogue is the organisation's: every customer may read, review and favourite every book; what is written is the caller's own"
	sharedGroup = "any customer of the organisation may join any discussion group; the membership created is the caller's own"
	sharedEvent = "events are open to every customer of the organisation; the sign-up created is the caller's own and is checked by DELETE /signups/{id}"
)

var fixtureSeq atomic.Int64

func idParam(id uint) map[string]string {
	return map[string]string{"id": strconv.FormatUint(uint64(id), 10)}
}

// fixtureBook adds a book for the matrix.
func fixtureBook(tx *gorm.DB, org uint) (*Book, error) {
	b := &Book{Title: fmt.Sprintf("Matrix %d", fixtureSeq.Add(1)), Author: "A. Uthor", Genre: "crime", PriceMinor: 1000, Currency: "EUR"}
	return b, store.Org(tx, org).Create(b).Error
}

// tillFixture makes a shop with owner on its till and a reservation of a
// new customer there in status; the route's {id} is the reservation.
func (m *Module) tillFixture(status string) accounts.Fixture {
	return func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
		s, err := m.CreateShop(ctx, tx, owner.OrgID, fmt.Sprintf("Matrix shop %d", fixtureSeq.Add(1)), "Milano")
		if err != nil {
			return nil, nil, err
		}
		if err := m.AddTillStaff(ctx, tx, owner.OrgID, s.ID, owner.UserID); err != nil {
			return nil, nil, err
		}
		u := accounts.User{Email: fmt.Sprintf("reader-%d@matrix.example", fixtureSeq.Add(1)), Name: "Reader", Role: accounts.Customer}
		if err := store.Org(tx, owner.OrgID).Create(&u).Error; err != nil {
			return nil, nil, err
		}
		if err := m.acc.AddGroupMember(ctx, tx, owner.OrgID, s.GroupID, u.ID, accounts.CustomerSide, "customer"); err != nil {
			return nil, nil, err
		}
		b, err := fixtureBook(tx, owner.OrgID)
		if err != nil {
			return nil, nil, err
		}
		r := Reservation{CustomerID: u.ID, ShopID: s.ID, BookID: b.ID, Status: status, CreatedAt: time.Now().UTC()}
		if err := store.Org(tx, owner.OrgID).Create(&r).Error; err != nil {
			return nil, nil, err
		}
		return idParam(r.ID), nil, nil
	}
}

func (m *Module) registerAPI(api huma.API) {
	m.catalogueAPI(api)
	m.groupsAPI(api)
	m.eventsAPI(api)
	m.collectAPI(api)
}

type reviewIn struct {
	ID   uint `path:"id" minimum:"1"`
	Body struct {
		Stars int    `json:"stars" minimum:"1" maximum:"5" doc:"1 to 5 stars"`
		Text  string `json:"text" minLength:"1" maxLength:"2000" doc:"What you think of the book"`
	}
}

// BookPage is a book with its reviews.
type BookPage struct {
	Book      Book     `json:"book"`
	Average   float64  `json:"average_stars"`
	Reviews   []Review `json:"reviews"`
	Favourite bool     `json:"favourite"`
}

func (m *Module) bookPage(ctx context.Context, p *accounts.Principal, id uint) (*BookPage, error) {
	b, err := m.Book(ctx, p.OrgID, id)
	if err != nil {
		return nil, err
	}
	rs, err := m.Reviews(ctx, p, id)
	if err != nil {
		return nil, err
	}
	fav, err := m.IsFavourite(ctx, p, id)
	out := &BookPage{Book: *b, Reviews: rs, Favourite: fav}
	for _, r := range rs {
		out.Average += float64(r.Stars) / float64(len(rs))
	}
	return out, err
}

func (m *Module) catalogueAPI(api huma.API) {
	accounts.Register(api, huma.Operation{OperationID: "bookshop-books", Method: http.MethodGet, Path: "/books", Summary: "The catalogue"},
		func(ctx context.Context, in *struct {
			Genre string `query:"genre" enum:"crime,fantasy,classics,science,history,children," doc:"Only this genre"`
		}) (*list[Book], error) {
			return items(m.Books(ctx, principal(ctx).OrgID, in.Genre))
		}, accounts.Allow(everyone...))
	accounts.Register(api, huma.Operation{OperationID: "bookshop-book-create", Method: http.MethodPost, Path: "/books",
		Summary: "Add a book to the catalogue", DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *struct {
			Body struct {
				Title      string `json:"title" minLength:"1" maxLength:"200"`
				Author     string `json:"author" minLength:"1" maxLength:"120"`
				Genre      string `json:"genre" enum:"crime,fantasy,classics,science,history,children"`
				PriceMinor int64  `json:"price_minor" minimum:"0" maximum:"1000000" doc:"Price in cents"`
			}
		}) (*body[Book], error) {
			b := in.Body
			out, err := m.AddBook(ctx, principal(ctx).OrgID, Book{Title: b.Title, Author: b.Author, Genre: b.Genre, PriceMinor: b.PriceMinor})
			if err != nil {
				return nil, err
			}
			return &body[Book]{*out}, nil
		}, accounts.Allow(admins...))
	accounts.Register(api, huma.Operation{OperationID: "bookshop-book", Method: http.MethodGet, Path: "/books/{id}", Summary: "A book with its reviews"},
		func(ctx context.Context, in *idIn) (*body[BookPage], error) {
			bp, err := m.bookPage(ctx, principal(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			return &body[BookPage]{*bp}, nil
		}, accounts.Allow(everyone...), accounts.MatrixSkip(sharedBook))
	accounts.Register(api, huma.Operation{OperationID: "bookshop-review", Method: http.MethodPut, Path: "/books/{id}/review",
		Summary:     "Write or update your review of a book",
		Description: "One review per customer and book: the first answers 201, writing again replaces the stars and text and answers 200."},
		func(ctx context.Context, in *reviewIn) (*struct {
			Status int
			Body   Review
		}, error) {
			r, created, err := m.SaveReview(ctx, principal(ctx), in.ID, in.Body.Stars, in.Body.Text)
			if err != nil {
				return nil, err
			}
			st := http.StatusOK
			if created {
				st = http.StatusCreated
			}
			return &struct {
				Status int
				Body   Review
			}{st, *r}, nil
		}, accounts.Allow(onlyCust...), accounts.MatrixSkip(sharedBook))
	accounts.Register(api, huma.Operation{OperationID: "bookshop-review-delete", Method: http.MethodDelete, Path: "/reviews/{id}",
		Summary: "Delete a review (its author, or an admin)", DefaultStatus: http.StatusNoContent},
		func(ctx context.Context, in *idIn) (*struct{}, error) {
			return nil, m.DeleteReview(ctx, principal(ctx), in.ID)
		}, accounts.Allow(customers...), accounts.MatrixObject(func(o *accounts.Principal) *Review {
			return &Review{CustomerID: o.UserID, BookID: uint(fixtureSeq.Add(1)), Stars: 4, Text: "Good", UpdatedAt: time.Now().UTC()}
		}))
	fav := func(on bool) func(ctx context.Context, in *idIn) (*struct{}, error) {
		return func(ctx context.Context, in *idIn) (*struct{}, error) {
			return nil, m.SetFavourite(ctx, principal(ctx), in.ID, on)
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "bookshop-favourite", Method: http.MethodPut, Path: "/books/{id}/favourite",
		Summary: "Mark a book as a favourite", DefaultStatus: http.StatusNoContent}, fav(true), accounts.Allow(onlyCust...), accounts.MatrixSkip(sharedBook))
	accounts.Register(api, huma.Operation{OperationID: "bookshop-unfavourite", Method: http.MethodDelete, Path: "/books/{id}/favourite",
		Summary: "Unmark a favourite book", DefaultStatus: http.StatusNoContent}, fav(false), accounts.Allow(onlyCust...), accounts.MatrixSkip(sharedBook))
	accounts.Register(api, huma.Operation{OperationID: "bookshop-favourites", Method: http.MethodGet, Path: "/favourites", Summary: "Your favourite books"},
		func(ctx context.Context, _ *struct{}) (*list[Book], error) {
			return items(m.Favourites(ctx, principal(ctx)))
		}, accounts.Allow(onlyCust...))

	accounts.Register(api, huma.Operation{OperationID: "bookshop-orders", Method: http.MethodGet, Path: "/orders", Summary: "Your orders, newest first"},
		func(ctx context.Context, _ *struct{}) (*list[Order], error) {
			p := principal(ctx)
			return items(m.Orders(ctx, p.OrgID, p.UserID))
		}, accounts.Allow(onlyCust...))
	accounts.Register(api, huma.Operation{OperationID: "bookshop-order-create", Method: http.MethodPost, Path: "/orders",
		Summary: "Place an order at the catalogue's prices", DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *struct {
			Body struct {
				Lines []LineIn `json:"lines" minItems:"1" maxItems:"50"`
			}
		}) (*body[Order], error) {
			o, err := m.PlaceOrder(ctx, principal(ctx), in.Body.Lines)
			if err != nil {
				return nil, err
			}
			return &body[Order]{*o}, nil
		}, accounts.Allow(onlyCust...), web.Idempotent())
	accounts.Register(api, huma.Operation{OperationID: "bookshop-order", Method: http.MethodGet, Path: "/orders/{id}", Summary: "One of your orders"},
		func(ctx context.Context, in *idIn) (*body[Order], error) {
			o, err := m.Order(ctx, principal(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			return &body[Order]{*o}, nil
		}, accounts.Allow(customers...), accounts.MatrixObject(func(o *accounts.Principal) *Order {
			return &Order{CustomerID: o.UserID, PlacedAt: time.Now().UTC(), Currency: "EUR"}
		}))
	accounts.Register(api, huma.Operation{OperationID: "bookshop-recommendations", Method: http.MethodGet, Path: "/recommendations",
		Summary: "Titles you have not bought, ranked from your orders"},
		func(ctx context.Context, _ *struct{}) (*list[Recommendation], error) {
			p := principal(ctx)
			return items(m.Recommend(ctx, p.OrgID, p.UserID, 10))
		}, accounts.Allow(onlyCust...))
}

func (m *Module) groupsAPI(api huma.API) {
	accounts.Register(api, huma.Operation{OperationID: "bookshop-groups", Method: http.MethodGet, Path: "/groups", Summary: "Discussion groups"},
		func(ctx context.Context, _ *struct{}) (*list[Group], error) {
			return items(m.Groups(ctx, principal(ctx)))
		}, accounts.Allow(customers...))
	accounts.Register(api, huma.Operation{OperationID: "bookshop-group-create", Method: http.MethodPost, Path: "/groups",
		Summary: "Add a discussion group", DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *struct {
			Body struct {
				Name        string `json:"name" minLength:"1" maxLength:"100"`
				Description string `json:"description,omitempty" maxLength:"500"`
			}
		}) (*body[Group], error) {
			g, err := m.CreateGroup(ctx, principal(ctx).OrgID, in.Body.Name, in.Body.Description)
			if err != nil {
				return nil, err
			}
			return &body[Group]{*g}, nil
		}, accounts.Allow(admins...))
	accounts.Register(api, huma.Operation{OperationID: "bookshop-group-join", Method: http.MethodPost, Path: "/groups/{id}/members",
		Summary: "Join a group (joining again changes nothing)", DefaultStatus: http.StatusNoContent},
		func(ctx context.Context, in *idIn) (*struct{}, error) {
			return nil, m.Join(ctx, principal(ctx), in.ID)
		}, accounts.Allow(onlyCust...), accounts.MatrixSkip(sharedGroup))
	memberFixture := func(body any) accounts.Fixture {
		return func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
			g := Group{Name: fmt.Sprintf("Matrix club %d", fixtureSeq.Add(1))}
			if err := store.Org(tx, owner.OrgID).Create(&g).Error; err != nil {
				return nil, nil, err
			}
			return idParam(g.ID), body, store.Org(tx, owner.OrgID).Create(&Membership{GroupID: g.ID, CustomerID: owner.UserID, JoinedAt: time.Now().UTC()}).Error
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "bookshop-group-leave", Method: http.MethodDelete, Path: "/groups/{id}/members/me",
		Summary: "Leave a group you are in", DefaultStatus: http.StatusNoContent},
		func(ctx context.Context, in *idIn) (*struct{}, error) {
			return nil, m.Leave(ctx, principal(ctx), in.ID)
		}, accounts.Allow(onlyCust...), accounts.Matrix(memberFixture(nil)))
	accounts.Register(api, huma.Operation{OperationID: "bookshop-posts", Method: http.MethodGet, Path: "/groups/{id}/posts",
		Summary: "A group's posts (its members and admins)"},
		func(ctx context.Context, in *idIn) (*list[Post], error) {
			return items(m.Posts(ctx, principal(ctx), in.ID))
		}, accounts.Allow(customers...), accounts.Matrix(memberFixture(nil)))
	accounts.Register(api, huma.Operation{OperationID: "bookshop-post-create", Method: http.MethodPost, Path: "/groups/{id}/posts",
		Summary: "Write in a group you are in", DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id" minimum:"1"`
			Body struct {
				Text string `json:"text" minLength:"1" maxLength:"4000"`
			}
		}) (*body[Post], error) {
			po, err := m.AddPost(ctx, principal(ctx), in.ID, in.Body.Text)
			if err != nil {
				return nil, err
			}
			return &body[Post]{*po}, nil
		}, accounts.Allow(onlyCust...), accounts.Matrix(memberFixture(map[string]any{"text": "Who did it?"})), web.Idempotent())
}

func (m *Module) eventsAPI(api huma.API) {
	accounts.Register(api, huma.Operation{OperationID: "bookshop-events", Method: http.MethodGet, Path: "/events", Summary: "Coming events"},
		func(ctx context.Context, _ *struct{}) (*list[Event], error) {
			return items(m.Events(ctx, principal(ctx)))
		}, accounts.Allow(customers...))
	accounts.Register(api, huma.Operation{OperationID: "bookshop-event-create", Method: http.MethodPost, Path: "/events",
		Summary: "Add an event", DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *struct {
			Body struct {
				Title    string    `json:"title" minLength:"1" maxLength:"200"`
				Kind     string    `json:"kind" enum:"virtual,in_store"`
				ShopID   uint      `json:"shop_id,omitempty" doc:"The shop of an in-store event"`
				StartsAt time.Time `json:"starts_at"`
				Capacity int       `json:"capacity" minimum:"1" maximum:"10000"`
			}
		}) (*body[Event], error) {
			b := in.Body
			e, err := m.CreateEvent(ctx, principal(ctx).OrgID, Event{Title: b.Title, Kind: b.Kind, ShopID: b.ShopID, StartsAt: b.StartsAt, Capacity: b.Capacity})
			if err != nil {
				return nil, err
			}
			return &body[Event]{*e}, nil
		}, accounts.Allow(admins...))
	accounts.Register(api, huma.Operation{OperationID: "bookshop-signup", Method: http.MethodPost, Path: "/events/{id}/signups",
		Summary:     "Sign up to an event",
		Description: "201 with the new place; 200 with the place already held when signing up again; 409 when every place is taken."},
		func(ctx context.Context, in *idIn) (*struct {
			Status int
			Body   Signup
		}, error) {
			s, created, err := m.SignUp(ctx, principal(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			st := http.StatusOK
			if created {
				st = http.StatusCreated
			}
			return &struct {
				Status int
				Body   Signup
			}{st, *s}, nil
		}, accounts.Allow(onlyCust...), accounts.MatrixSkip(sharedEvent), web.Problems(http.StatusConflict))
	accounts.Register(api, huma.Operation{OperationID: "bookshop-signup-cancel", Method: http.MethodDelete, Path: "/signups/{id}",
		Summary: "Give your place at an event back", DefaultStatus: http.StatusNoContent},
		func(ctx context.Context, in *idIn) (*struct{}, error) {
			return nil, m.CancelSignup(ctx, principal(ctx), in.ID)
		}, accounts.Allow(customers...), accounts.Matrix(func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
			e := Event{Title: "Matrix reading", Kind: EventVirtual, StartsAt: time.Now().Add(48 * time.Hour).UTC(), Capacity: 10}
			if err := store.Org(tx, owner.OrgID).Create(&e).Error; err != nil {
				return nil, nil, err
			}
			s := Signup{EventID: e.ID, CustomerID: owner.UserID, CreatedAt: time.Now().UTC()}
			if err := store.Org(tx, owner.OrgID).Create(&s).Error; err != nil {
				return nil, nil, err
			}
			return idParam(s.ID), nil, nil
		}))
}

func (m *Module) collectAPI(api huma.API) {
	accounts.Register(api, huma.Operation{OperationID: "bookshop-shops", Method: http.MethodGet, Path: "/shops", Summary: "The chain's shops"},
		func(ctx context.Context, _ *struct{}) (*list[Shop], error) {
			return items(m.Shops(ctx, principal(ctx).OrgID))
		}, accounts.Allow(everyone...))
	accounts.Register(api, huma.Operation{OperationID: "bookshop-shop-create", Method: http.MethodPost, Path: "/shops",
		Summary: "Add a shop", DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *struct {
			Body struct {
				Name string `json:"name" minLength:"1" maxLength:"100"`
				City string `json:"city" maxLength:"100"`
			}
		}) (*body[Shop], error) {
			s, err := m.CreateShop(ctx, nil, principal(ctx).OrgID, in.Body.Name, in.Body.City)
			if err != nil {
				return nil, err
			}
			return &body[Shop]{*s}, nil
		}, accounts.Allow(admins...))
	accounts.Register(api, huma.Operation{OperationID: "bookshop-till-staff", Method: http.MethodPost, Path: "/shops/{id}/staff",
		Summary: "Put a staff member on a shop's till", DefaultStatus: http.StatusNoContent},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id" minimum:"1"`
			Body struct {
				UserID uint `json:"user_id" minimum:"1"`
			}
		}) (*struct{}, error) {
			return nil, m.AddTillStaff(ctx, nil, principal(ctx).OrgID, in.ID, in.Body.UserID)
		}, accounts.Allow(admins...), accounts.Matrix(func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
			s, err := m.CreateShop(ctx, tx, owner.OrgID, fmt.Sprintf("Matrix shop %d", fixtureSeq.Add(1)), "Roma")
			if err != nil {
				return nil, nil, err
			}
			u := accounts.User{Email: fmt.Sprintf("till-%d@matrix.example", fixtureSeq.Add(1)), Name: "Till", Role: accounts.Staff}
			if err := store.Org(tx, owner.OrgID).Create(&u).Error; err != nil {
				return nil, nil, err
			}
			return idParam(s.ID), map[string]any{"user_id": u.ID}, nil
		}))

	accounts.Register(api, huma.Operation{OperationID: "bookshop-reserve", Method: http.MethodPost, Path: "/reservations",
		Summary:     "Reserve a title to collect at a shop",
		Description: "Reserving the same title at the same shop again while the first is open returns the first.", DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *struct {
			Body struct {
				ShopID uint `json:"shop_id" minimum:"1"`
				BookID uint `json:"book_id" minimum:"1"`
			}
		}) (*body[Reservation], error) {
			r, err := m.Reserve(ctx, principal(ctx), in.Body.ShopID, in.Body.BookID)
			if err != nil {
				return nil, err
			}
			return &body[Reservation]{*r}, nil
		}, accounts.Allow(onlyCust...), web.Idempotent())
	accounts.Register(api, huma.Operation{OperationID: "bookshop-reservations", Method: http.MethodGet, Path: "/reservations", Summary: "Your reservations"},
		func(ctx context.Context, _ *struct{}) (*list[Reservation], error) {
			p := principal(ctx)
			return items(m.Reservations(ctx, p.OrgID, p.UserID))
		}, accounts.Allow(onlyCust...))
	accounts.Register(api, huma.Operation{OperationID: "bookshop-reservation-cancel", Method: http.MethodDelete, Path: "/reservations/{id}",
		Summary: "Cancel a reservation"},
		func(ctx context.Context, in *idIn) (*body[Reservation], error) {
			r, err := m.CancelReservation(ctx, principal(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			return &body[Reservation]{*r}, nil
		}, accounts.Allow(customers...), web.Problems(http.StatusConflict), accounts.Matrix(func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
			s, err := m.CreateShop(ctx, tx, owner.OrgID, fmt.Sprintf("Matrix shop %d", fixtureSeq.Add(1)), "Torino")
			if err != nil {
				return nil, nil, err
			}
			b, err := fixtureBook(tx, owner.OrgID)
			if err != nil {
				return nil, nil, err
			}
			r := Reservation{CustomerID: owner.UserID, ShopID: s.ID, BookID: b.ID, Status: StatusReserved, CreatedAt: time.Now().UTC()}
			if err := store.Org(tx, owner.OrgID).Create(&r).Error; err != nil {
				return nil, nil, err
			}
			return idParam(r.ID), nil, nil
		}))
	accounts.Register(api, huma.Operation{OperationID: "bookshop-shop-reservations", Method: http.MethodGet, Path: "/shop/reservations",
		Summary: "Open reservations of the shops whose till you serve"},
		func(ctx context.Context, _ *struct{}) (*list[Reservation], error) {
			return items(m.ShopReservations(ctx, principal(ctx)))
		}, accounts.Allow(tills...))
	accounts.Register(api, huma.Operation{OperationID: "bookshop-ready", Method: http.MethodPost, Path: "/shop/reservations/{id}/ready",
		Summary:     "Mark a reservation ready to collect",
		Description: "Sends the customer a bookshop.ready notification (in-app and e-mail) and a live event; marking it ready again sends nothing more."},
		func(ctx context.Context, in *idIn) (*body[Reservation], error) {
			r, err := m.MarkReady(ctx, principal(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			return &body[Reservation]{*r}, nil
		}, accounts.Allow(tills...), web.Problems(http.StatusConflict), accounts.Matrix(m.tillFixture(StatusReserved)))
	accounts.Register(api, huma.Operation{OperationID: "bookshop-collected", Method: http.MethodPost, Path: "/shop/reservations/{id}/collected",
		Summary: "Mark a ready reservation collected"},
		func(ctx context.Context, in *idIn) (*body[Reservation], error) {
			r, err := m.MarkCollected(ctx, principal(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			return &body[Reservation]{*r}, nil
		}, accounts.Allow(tills...), web.Problems(http.StatusConflict), accounts.Matrix(m.tillFixture(StatusReady)))
}
