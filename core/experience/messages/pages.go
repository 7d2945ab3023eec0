package messages

import (
	"embed"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/i18n"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed i18n/*.json
var translationFS embed.FS

// Templates returns the messages pages (registered under "messages").
func Templates() fs.FS {
	sub, _ := fs.Sub(templateFS, "templates")
	return sub
}

// Translations returns the messages translations.
func Translations() fs.FS {
	sub, _ := fs.Sub(translationFS, "i18n")
	return sub
}

// Nav is the messages entry of the navigation.
func Nav() []web.NavItem {
	return []web.NavItem{{Label: "Messages", Path: "/messages", Roles: []string{string(accounts.Customer), string(accounts.Staff), string(accounts.Admin)}, Order: 700}}
}

// Lines splits a message into its lines, for display without markup.
func (m Message) Lines() []string { return strings.Split(m.Body, "\n") }

var flashes = map[string]string{
	"sent":    "Your message is sent.",
	"started": "Your conversation is started. You will be notified of the answer.",
}

type pages struct {
	s   *Service
	cat *i18n.Catalog
}

// MountPages adds the messages pages: /messages (inbox), /messages/new,
// /messages/<id> (a conversation, with the reply form) and
// /messages/attachments/<id> (downloads).
func (s *Service) MountPages(app *fiber.App, acc *accounts.Service, cat *i18n.Catalog) {
	pg := &pages{s: s, cat: cat}
	g := app.Group("/messages", acc.RequirePage(participants...))
	g.Get("/", pg.inbox)
	g.Get("/new", pg.newPage)
	g.Post("/new", pg.newSubmit)
	g.Get("/attachments/:id", pg.download)
	g.Get("/:id", pg.thread)
	g.Post("/:id", pg.reply)
}

func lang(p *accounts.Principal) string {
	if p != nil && i18n.Supported(p.Locale) {
		return p.Locale
	}
	return "en"
}

func (pg *pages) render(c *fiber.Ctx, p *accounts.Principal, name, title string, data map[string]any) error {
	page := &web.Page{Title: title, Data: data, TitleIsContent: name == "thread"} // a thread's title is its subject; others are English keys the layout translates
	if msg, ok := flashes[c.Query("msg")]; ok {
		page.Flash, page.FlashKind = msg, "ok"
	}
	return web.RenderPage(c, "messages/"+name, page)
}

// FormatWait formats a waiting or response time: "under a minute",
// "12 min", "3 h 5 min", "2 d 4 h".
func FormatWait(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "< 1 min"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%d d %d h", int(d.Hours())/24, int(d.Hours())%24)
	}
}

// Waited is how long the customer has waited for an answer, at now.
func (c Conversation) Waited(now time.Time) string {
	if c.AwaitingSince == nil {
		return ""
	}
	return FormatWait(now.Sub(*c.AwaitingSince))
}

// MedianText is the median formatted for people.
func (f StaffFigure) MedianText() string { return FormatWait(f.Median) }

func (pg *pages) inbox(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	unanswered := c.Query("filter") == "unanswered"
	items, total, err := pg.s.Inbox(c.UserContext(), p, InboxFilter{Unanswered: unanswered, Size: 200})
	if err != nil {
		return err
	}
	data := map[string]any{"Items": items, "Total": total, "Unanswered": unanswered, "IsCustomer": p.Is(accounts.Customer),
		"IsAdmin": p.Is(accounts.Admin), "Now": pg.s.now(), "Topic": pg.s.moduleName}
	if !p.Is(accounts.Customer) {
		figs, err := pg.s.ResponseTimes(c.UserContext(), p, pg.s.now().AddDate(0, 0, -30))
		if err != nil {
			return err
		}
		data["Figures"] = figs
	}
	return pg.render(c, p, "inbox", "Messages", data)
}

// newData is what the new-conversation form offers: the customer's staff
// (or the staff member's customers) and the topics.
func (pg *pages) newData(c *fiber.Ctx, p *accounts.Principal, f *form) (map[string]any, error) {
	ctx := c.UserContext()
	type option struct {
		ID    uint
		Label string
	}
	var people []option
	db := store.Org(pg.s.st.DB.WithContext(ctx), p.OrgID)
	if p.Is(accounts.Customer) {
		var list []accounts.Assignment
		if err := db.Where("customer_id = ?", p.UserID).Order("id").Find(&list).Error; err != nil {
			return nil, err
		}
		var ids []uint
		for _, a := range list {
			ids = append(ids, a.StaffID)
		}
		names, err := pg.s.people(ctx, p.OrgID, ids)
		if err != nil {
			return nil, err
		}
		for _, a := range list {
			people = append(people, option{a.StaffID, names[a.StaffID].Name + " (" + pg.cat.T(lang(p), a.Relation) + ")"})
		}
	} else {
		q, err := pg.s.acc.Reach(Area).WhereVisible(ctx, p, db.Where("role = ? AND disabled_at IS NULL", accounts.Customer).Order("name").Limit(500), "id")
		if err != nil {
			return nil, err
		}
		var users []accounts.User
		if err := q.Find(&users).Error; err != nil {
			return nil, err
		}
		for _, u := range users {
			people = append(people, option{u.ID, u.Name + " <" + u.Email + ">"})
		}
	}
	return map[string]any{"Form": f, "People": people, "Modules": p.Modules, "Topic": pg.s.moduleName,
		"IsCustomer": p.Is(accounts.Customer), "Limits": pg.s.cfg, "MaxSize": HumanSize(int64(pg.s.cfg.AttachmentMaxBytes))}, nil
}

type form struct {
	Values map[string]string
	Errors map[string]string
	Error  string
}

func newForm() *form { return &form{Values: map[string]string{}, Errors: map[string]string{}} }

// fail puts a classified error on the form (translated) and sets the
// status; internal errors are returned as they are.
func (pg *pages) fail(c *fiber.Ctx, p *accounts.Principal, f *form, err error) error {
	e, ok := errs.As(err)
	if !ok || e.Kind == errs.Internal {
		return err
	}
	c.Status(e.Kind.Status())
	l := lang(p)
	for _, fe := range e.Fields {
		name := strings.TrimPrefix(fe.Field, "body.")
		if strings.HasPrefix(name, "files") {
			name = "files"
		}
		if _, exists := f.Errors[name]; !exists {
			f.Errors[name] = pg.cat.T(l, fe.Message)
		}
	}
	switch {
	case e.Kind == errs.TooLarge:
		f.Error = pg.cat.T(l, "A file is too large: each file may be at most %s.", HumanSize(int64(pg.s.cfg.AttachmentMaxBytes)))
	case e.Kind == errs.Invalid && len(e.Fields) > 0:
		f.Error = pg.cat.T(l, "Please correct the fields marked below.")
	default:
		f.Error = pg.cat.T(l, e.Message)
	}
	return nil
}

// uploads reads the files of a multipart form ("files"), skipping the
// empty part a browser sends when no file is chosen.
func uploads(c *fiber.Ctx) ([]Upload, func(), error) {
	mf, err := c.MultipartForm()
	if err != nil || mf == nil {
		return nil, func() {}, nil
	}
	var out []Upload
	var open []multipart.File
	closeAll := func() {
		for _, f := range open {
			f.Close()
		}
	}
	for _, fh := range mf.File["files"] {
		if fh.Filename == "" && fh.Size == 0 {
			continue
		}
		f, err := fh.Open()
		if err != nil {
			closeAll()
			return nil, func() {}, errs.Wrap(errs.Invalid, err, "files: the file could not be read")
		}
		open = append(open, f)
		out = append(out, Upload{Name: fh.Filename, Size: fh.Size, Reader: f})
	}
	return out, closeAll, nil
}

func (pg *pages) newPage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	f := newForm()
	f.Values["module"] = c.Query("topic")
	// The help centre's "ask a person" passes what was searched for.
	if subj := []rune(strings.TrimSpace(c.Query("subject"))); len(subj) > 0 {
		f.Values["subject"] = string(subj[:min(len(subj), 200)])
	}
	data, err := pg.newData(c, p, f)
	if err != nil {
		return err
	}
	return pg.render(c, p, "new", "New conversation", data)
}

func (pg *pages) newSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	f := newForm()
	for _, k := range []string{"person", "module", "subject", "body"} {
		f.Values[k] = c.FormValue(k)
	}
	person, _ := strconv.ParseUint(f.Values["person"], 10, 32)
	in := NewConversation{Module: f.Values["module"], Subject: f.Values["subject"], Body: f.Values["body"]}
	if p.Is(accounts.Customer) {
		in.StaffID = uint(person)
	} else {
		in.CustomerID = uint(person)
	}
	files, closeFiles, err := uploads(c)
	defer closeFiles()
	var conv *Conversation
	if err == nil {
		in.Files = files
		conv, err = pg.s.Start(c.UserContext(), p, in)
	}
	if err != nil {
		if ferr := pg.fail(c, p, f, err); ferr != nil {
			return ferr
		}
		if v, ok := f.Errors["staff_id"]; ok {
			f.Errors["person"] = v
		}
		if v, ok := f.Errors["customer_id"]; ok {
			f.Errors["person"] = v
		}
		data, derr := pg.newData(c, p, f)
		if derr != nil {
			return derr
		}
		return pg.render(c, p, "new", "New conversation", data)
	}
	return c.Redirect(fmt.Sprintf("/messages/%d?msg=started", conv.ID), fiber.StatusSeeOther)
}

func (pg *pages) threadData(c *fiber.Ctx, p *accounts.Principal, id uint, f *form) (map[string]any, *Thread, error) {
	t, err := pg.s.Thread(c.UserContext(), p, id)
	if err != nil {
		return nil, nil, err
	}
	return map[string]any{"Thread": t, "Form": f, "Topic": pg.s.moduleName, "MaxSize": HumanSize(int64(pg.s.cfg.AttachmentMaxBytes)),
		"Limits": pg.s.cfg, "IsCustomer": p.Is(accounts.Customer), "SizeOf": HumanSize}, t, nil
}

func (pg *pages) thread(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	// Seeing the page is reading it: the receipt moves first, so the other
	// side sees "read" as soon as the page is shown.
	if err := pg.s.MarkRead(c.UserContext(), p, id); err != nil {
		return err
	}
	data, t, err := pg.threadData(c, p, id, newForm())
	if err != nil {
		return err
	}
	return pg.render(c, p, "thread", t.Conversation.Subject, data)
}

func (pg *pages) reply(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	f := newForm()
	f.Values["body"] = c.FormValue("body")
	files, closeFiles, err := uploads(c)
	defer closeFiles()
	if err == nil {
		_, err = pg.s.Send(c.UserContext(), p, id, f.Values["body"], files)
	}
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return err
		}
		if ferr := pg.fail(c, p, f, err); ferr != nil {
			return ferr
		}
		status := c.Response().StatusCode()
		data, t, derr := pg.threadData(c, p, id, f)
		if derr != nil {
			return derr
		}
		c.Status(status)
		return pg.render(c, p, "thread", t.Conversation.Subject, data)
	}
	return c.Redirect(fmt.Sprintf("/messages/%d?msg=sent#latest", id), fiber.StatusSeeOther)
}

func (pg *pages) download(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	a, rc, err := pg.s.Attachment(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	for k, v := range DownloadHeaders(a) {
		c.Set(k, v)
	}
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	return c.Send(b)
}
