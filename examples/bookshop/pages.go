package bookshop

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/web"
)

func (m *Module) mountPages(r fiber.Router) {
	cust := m.acc.RequirePage(accounts.Customer)
	till := m.acc.RequirePage(accounts.Staff, accounts.Admin)
	r.Get("/", cust, m.cataloguePage)
	r.Get("/books/:id", cust, m.bookPageView)
	r.Post("/books/:id/review", cust, m.reviewSubmit)
	r.Post("/books/:id/favourite", cust, m.favouriteSubmit)
	r.Post("/books/:id/reserve", cust, m.reserveSubmit)
	r.Get("/orders", cust, m.ordersPage)
	r.Get("/groups", cust, m.groupsPage)
	r.Post("/groups/:id/join", cust, m.joinSubmit)
	r.Get("/groups/:id", cust, m.groupPage)
	r.Post("/groups/:id/posts", cust, m.postSubmit)
	r.Get("/events", cust, m.eventsPage)
	r.Post("/events/:id/signup", cust, m.signupSubmit)
	r.Post("/signups/:id/cancel", cust, m.cancelSignupSubmit)
	r.Get("/reservations", cust, m.reservationsPage)
	r.Post("/reservations/:id/cancel", cust, m.cancelReservationSubmit)
	r.Get("/shop", till, m.shopPage)
	r.Post("/shop/reservations/:id/ready", till, m.readySubmit)
	r.Post("/shop/reservations/:id/collected", till, m.collectedSubmit)
}

// flash are the one-line confirmations after a form, by ?msg=.
var flash = map[string]string{
	"review":    "Thank you: your review is saved.",
	"fav":       "Your favourites are updated.",
	"reserved":  "The book is reserved. We will tell you when it is ready to collect.",
	"joined":    "You joined the group.",
	"posted":    "Your post is in the group.",
	"signed":    "You have a place at the event.",
	"full":      "Sorry, the event is full.",
	"cancelled": "Cancelled.",
	"ready":     "The customer is told the book is ready to collect.",
	"collected": "Marked as collected.",
}

func render(c *fiber.Ctx, name, title string, data map[string]any) error {
	return renderPage(c, name, &web.Page{Title: title, Data: data}, data)
}

// renderContent shows a page whose title is content (a book's title, a
// group's name), not an English text to translate.
func renderContent(c *fiber.Ctx, name, title string, data map[string]any) error {
	return renderPage(c, name, &web.Page{Title: title, TitleIsContent: true, Data: data}, data)
}

func renderPage(c *fiber.Ctx, name string, page *web.Page, data map[string]any) error {
	if msg, ok := flash[c.Query("msg")]; ok {
		page.Flash, page.FlashKind = msg, "ok"
		if c.Query("msg") == "full" {
			page.FlashKind = "error"
		}
	}
	if data["Errors"] == nil {
		data["Errors"] = map[string]string{}
	}
	return web.RenderPage(c, "bookshop/"+name, page)
}

func me(c *fiber.Ctx) *accounts.Principal {
	p, _ := accounts.PrincipalOf(c)
	return p
}

func back(c *fiber.Ctx, path, msg string) error {
	return c.Redirect(path+"?msg="+msg, fiber.StatusSeeOther)
}

// pageID reads :id, answering the friendly 404 for anything else.
func pageID(c *fiber.Ctx) (uint, error) { return web.PathID(c, "id") }

func (m *Module) cataloguePage(c *fiber.Ctx) error {
	p := me(c)
	genre := c.Query("genre")
	if _, ok := genres[genre]; !ok {
		genre = ""
	}
	books, err := m.Books(c.UserContext(), p.OrgID, genre)
	if err != nil {
		return err
	}
	opts := []web.Option{{Value: "", Label: "All genres"}}
	for _, g := range []string{"classics", "children", "crime", "fantasy", "history", "science"} {
		opts = append(opts, web.Option{Value: g, Label: genres[g]})
	}
	return render(c, "catalogue", "Books", map[string]any{"Books": books, "Genre": genre, "Genres": opts})
}

func (m *Module) bookData(c *fiber.Ctx, id uint) (map[string]any, error) {
	p := me(c)
	bp, err := m.bookPage(c.UserContext(), p, id)
	if err != nil {
		return nil, err
	}
	shops, err := m.Shops(c.UserContext(), p.OrgID)
	if err != nil {
		return nil, err
	}
	opts := []web.Option{}
	for _, s := range shops {
		opts = append(opts, web.Option{Value: strconv.FormatUint(uint64(s.ID), 10), Label: s.Name, Hint: s.City})
	}
	form := map[string]string{"stars": "", "text": ""}
	for _, r := range bp.Reviews {
		if r.Mine {
			form["stars"], form["text"] = strconv.Itoa(r.Stars), r.Text
		}
	}
	stars := []web.Option{}
	for i := 5; i >= 1; i-- {
		stars = append(stars, web.Option{Value: strconv.Itoa(i), Label: starLabels[i]})
	}
	return map[string]any{"Book": bp.Book, "Average": bp.Average, "Reviews": bp.Reviews, "Favourite": bp.Favourite,
		"Shops": opts, "Form": form, "Stars": stars}, nil
}

var starLabels = map[int]string{5: "5 stars: loved it", 4: "4 stars", 3: "3 stars", 2: "2 stars", 1: "1 star: not for me"}

func (m *Module) bookPageView(c *fiber.Ctx) error {
	id, err := pageID(c)
	if err != nil {
		return err
	}
	data, err := m.bookData(c, id)
	if err != nil {
		return err
	}
	return renderContent(c, "book", data["Book"].(Book).Title, data)
}

func (m *Module) reviewSubmit(c *fiber.Ctx) error {
	id, err := pageID(c)
	if err != nil {
		return err
	}
	stars, _ := strconv.Atoi(c.FormValue("stars"))
	text := c.FormValue("text")
	if field, msg := reviewProblem(stars, text); field != "" {
		data, err := m.bookData(c, id)
		if err != nil {
			return err
		}
		data["Form"] = map[string]string{"stars": c.FormValue("stars"), "text": text}
		data["Errors"] = map[string]string{field: msg}
		c.Status(fiber.StatusUnprocessableEntity)
		return renderContent(c, "book", data["Book"].(Book).Title, data)
	}
	if _, _, err := m.SaveReview(c.UserContext(), me(c), id, stars, text); err != nil {
		return err
	}
	return back(c, "/m/bookshop/books/"+strconv.FormatUint(uint64(id), 10), "review")
}

func (m *Module) favouriteSubmit(c *fiber.Ctx) error {
	id, err := pageID(c)
	if err != nil {
		return err
	}
	if err := m.SetFavourite(c.UserContext(), me(c), id, c.FormValue("on") == "1"); err != nil {
		return err
	}
	return back(c, "/m/bookshop/books/"+strconv.FormatUint(uint64(id), 10), "fav")
}

func (m *Module) reserveSubmit(c *fiber.Ctx) error {
	id, err := pageID(c)
	if err != nil {
		return err
	}
	shop, _ := strconv.ParseUint(c.FormValue("shop"), 10, 32)
	if _, err := m.Reserve(c.UserContext(), me(c), uint(shop), id); err != nil {
		if errs.Is(err, errs.Invalid) {
			data, derr := m.bookData(c, id)
			if derr != nil {
				return derr
			}
			data["Errors"] = map[string]string{"shop": "Choose the shop where you will collect the book."}
			c.Status(fiber.StatusUnprocessableEntity)
			return renderContent(c, "book", data["Book"].(Book).Title, data)
		}
		return err
	}
	return back(c, "/m/bookshop/reservations", "reserved")
}

func (m *Module) ordersPage(c *fiber.Ctx) error {
	p := me(c)
	orders, err := m.Orders(c.UserContext(), p.OrgID, p.UserID)
	if err != nil {
		return err
	}
	recs, err := m.Recommend(c.UserContext(), p.OrgID, p.UserID, 5)
	if err != nil {
		return err
	}
	favs, err := m.Favourites(c.UserContext(), p)
	if err != nil {
		return err
	}
	return render(c, "orders", "My orders", map[string]any{"Orders": orders, "Recommendations": recs, "Favourites": favs})
}

func (m *Module) groupsPage(c *fiber.Ctx) error {
	gs, err := m.Groups(c.UserContext(), me(c))
	if err != nil {
		return err
	}
	return render(c, "groups", "Reading groups", map[string]any{"Groups": gs})
}

func (m *Module) joinSubmit(c *fiber.Ctx) error {
	id, err := pageID(c)
	if err != nil {
		return err
	}
	if err := m.Join(c.UserContext(), me(c), id); err != nil {
		return err
	}
	return back(c, "/m/bookshop/groups/"+strconv.FormatUint(uint64(id), 10), "joined")
}

func (m *Module) groupData(c *fiber.Ctx, id uint) (map[string]any, error) {
	g, err := m.member(c.UserContext(), me(c), id)
	if err != nil {
		return nil, err
	}
	posts, err := m.Posts(c.UserContext(), me(c), id)
	return map[string]any{"Group": g, "Posts": posts, "Text": ""}, err
}

func (m *Module) groupPage(c *fiber.Ctx) error {
	id, err := pageID(c)
	if err != nil {
		return err
	}
	data, err := m.groupData(c, id)
	if err != nil {
		return err
	}
	return renderContent(c, "group", data["Group"].(*Group).Name, data)
}

func (m *Module) postSubmit(c *fiber.Ctx) error {
	id, err := pageID(c)
	if err != nil {
		return err
	}
	if _, err := m.AddPost(c.UserContext(), me(c), id, c.FormValue("text")); err != nil {
		if !errs.Is(err, errs.Invalid) {
			return err
		}
		data, derr := m.groupData(c, id)
		if derr != nil {
			return derr
		}
		data["Errors"] = map[string]string{"text": "Write something to post."}
		c.Status(fiber.StatusUnprocessableEntity)
		return renderContent(c, "group", data["Group"].(*Group).Name, data)
	}
	return back(c, "/m/bookshop/groups/"+strconv.FormatUint(uint64(id), 10), "posted")
}

func (m *Module) eventsPage(c *fiber.Ctx) error {
	p := me(c)
	es, err := m.Events(c.UserContext(), p)
	if err != nil {
		return err
	}
	shops, err := m.Shops(c.UserContext(), p.OrgID)
	if err != nil {
		return err
	}
	names := map[uint]string{}
	for _, s := range shops {
		names[s.ID] = s.Name
	}
	return render(c, "events", "Book events", map[string]any{"Events": es, "Shops": names})
}

func (m *Module) signupSubmit(c *fiber.Ctx) error {
	id, err := pageID(c)
	if err != nil {
		return err
	}
	if _, _, err := m.SignUp(c.UserContext(), me(c), id); err != nil {
		if errs.Is(err, errs.Conflict) {
			return back(c, "/m/bookshop/events", "full")
		}
		return err
	}
	return back(c, "/m/bookshop/events", "signed")
}

func (m *Module) cancelSignupSubmit(c *fiber.Ctx) error {
	id, err := pageID(c)
	if err != nil {
		return err
	}
	if err := m.CancelSignup(c.UserContext(), me(c), id); err != nil {
		return err
	}
	return back(c, "/m/bookshop/events", "cancelled")
}

func (m *Module) reservationsPage(c *fiber.Ctx) error {
	p := me(c)
	rs, err := m.Reservations(c.UserContext(), p.OrgID, p.UserID)
	if err != nil {
		return err
	}
	return render(c, "reservations", "My reservations", map[string]any{"Reservations": rs})
}

func (m *Module) cancelReservationSubmit(c *fiber.Ctx) error {
	id, err := pageID(c)
	if err != nil {
		return err
	}
	if _, err := m.CancelReservation(c.UserContext(), me(c), id); err != nil {
		return err
	}
	return back(c, "/m/bookshop/reservations", "cancelled")
}

func (m *Module) shopPage(c *fiber.Ctx) error {
	p := me(c)
	shops, err := m.TillShops(c.UserContext(), p)
	if err != nil {
		return err
	}
	rs, err := m.ShopReservations(c.UserContext(), p)
	if err != nil {
		return err
	}
	return render(c, "shop", "Shop reservations", map[string]any{"Shops": shops, "Reservations": rs})
}

func (m *Module) readySubmit(c *fiber.Ctx) error {
	id, err := pageID(c)
	if err != nil {
		return err
	}
	if _, err := m.MarkReady(c.UserContext(), me(c), id); err != nil {
		return err
	}
	return back(c, "/m/bookshop/shop", "ready")
}

func (m *Module) collectedSubmit(c *fiber.Ctx) error {
	id, err := pageID(c)
	if err != nil {
		return err
	}
	if _, err := m.MarkCollected(c.UserContext(), me(c), id); err != nil {
		return err
	}
	return back(c, "/m/bookshop/shop", "collected")
}
