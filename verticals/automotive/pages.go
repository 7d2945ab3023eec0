package automotive

import (
	"context"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/experience/drafts"
	"github.com/portalkit/portalkit/core/web"
)

func (s *Service) mountPages(r fiber.Router) {
	acc := s.acc
	r.Get("/", acc.RequirePage(), s.homePage)
	r.Get("/vehicles/new", acc.RequirePage(), s.newVehiclePage)
	r.Post("/vehicles", acc.RequirePage(), s.addVehicleSubmit)
	r.Get("/vehicles/:id", acc.RequirePage(), s.vehiclePage)
	r.Get("/vehicles/:id/book", acc.RequirePage(), s.bookPage)
	r.Post("/vehicles/:id/book", acc.RequirePage(), s.bookSubmit)
	r.Post("/bookings/:id/cancel", acc.RequirePage(), s.cancelSubmit)
	r.Post("/bookings/:id/done", acc.RequirePage(accounts.Staff, accounts.Admin), s.doneSubmit)
	r.Post("/vehicles/:id/transfer", acc.RequirePage(accounts.Staff, accounts.Admin), s.transferSubmit)
	r.Post("/vehicles/:id/device", acc.RequirePage(accounts.Staff, accounts.Admin), s.linkDeviceSubmit)
	r.Post("/vehicles/:id/refresh", acc.RequirePage(accounts.Customer, accounts.Staff, accounts.Admin), s.refreshSubmit)
	r.Get("/staff", acc.RequirePage(accounts.Staff, accounts.Admin), s.staffPage)
	r.Post("/recalls", acc.RequirePage(accounts.Staff, accounts.Admin), s.publishRecallSubmit)
}

var flash = map[string]string{
	"added":       "Your vehicle is registered.",
	"booked":      "Your service is booked. We will remind you the day before.",
	"cancelled":   "The booking is cancelled.",
	"done":        "The service is recorded as done.",
	"published":   "The recall campaign is published; owners are being notified.",
	"transferred": "The vehicle now belongs to its new owner.",
	"linked":      "The telematics unit is linked: its readings now reach this vehicle.",
	"unlinked":    "The telematics unit is unlinked.",
	"refreshing":  "We asked your car for a fresh reading; it arrives when the car is online.",
}

func render(c *fiber.Ctx, name, title string, data map[string]any) error {
	// A vehicle page's title is its make and model, shown as it is; other
	// titles are English keys the layout translates.
	page := &web.Page{Title: title, Data: data, TitleIsContent: name == "vehicle"}
	if m, ok := flash[c.Query("msg")]; ok {
		page.Flash, page.FlashKind = m, "ok"
	}
	return web.RenderPage(c, "automotive/"+name, page)
}

// form carries what was typed and the errors per field.
type form struct {
	Values map[string]string
	Errors map[string]string
	Error  string
}

func formFrom(c *fiber.Ctx, keys ...string) *form {
	f := &form{Values: map[string]string{}, Errors: map[string]string{}}
	for _, k := range keys {
		f.Values[k] = c.FormValue(k)
	}
	return f
}

func (f *form) fail(err error) error {
	e, ok := errs.As(err)
	if !ok || e.Kind == errs.Internal {
		return err
	}
	for _, fe := range e.Fields {
		f.Errors[strings.TrimPrefix(fe.Field, "body.")] = fe.Message
	}
	f.Error = e.Message
	if len(e.Fields) > 0 {
		f.Error = "Please correct the fields marked below."
	}
	return nil
}

func (s *Service) homePage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	if p.Is(accounts.Staff, accounts.Admin) {
		return c.Redirect("/m/automotive/staff", fiber.StatusSeeOther)
	}
	vs, err := s.Vehicles(c.UserContext(), p, 0)
	if err != nil {
		return err
	}
	ids := make([]uint, len(vs))
	for i := range vs {
		ids[i] = vs[i].ID
	}
	cards, err := s.statuses(c.UserContext(), p.OrgID, byVehicleIDs(ids))
	if err != nil {
		return err
	}
	bills, err := s.Bills(c.UserContext(), p, "")
	if err != nil {
		return err
	}
	var upcoming []Bill
	for _, b := range bills {
		if b.Status != BillPaid && len(upcoming) < 5 {
			upcoming = append(upcoming, b)
		}
	}
	return render(c, "home", "My car", map[string]any{"Vehicles": cards, "Bills": upcoming})
}

func (s *Service) newVehiclePage(c *fiber.Ctx) error {
	f := &form{Values: map[string]string{"fuel": "petrol", "year": strconv.Itoa(s.now().Year())}, Errors: map[string]string{}}
	// A draft saved as the owner typed (on this or another device) is
	// offered back: "Continue where you left off".
	offer, err := drafts.ForPage(c, VehicleDraftKey)
	if err != nil {
		return err
	}
	return render(c, "vehicle_new", "Add your car", map[string]any{"Form": f, "Draft": offer})
}

// VehicleDraftKey is the form-draft key of "Add your car".
const VehicleDraftKey = "automotive.vehicle"

func (s *Service) addVehicleSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	f := formFrom(c, "vin", "make", "model", "year", "fuel", "nickname", "odometer_km")
	year, _ := strconv.Atoi(strings.TrimSpace(f.Values["year"]))
	odo, odoErr := strconv.Atoi(strings.TrimSpace(f.Values["odometer_km"]))
	if f.Values["odometer_km"] == "" {
		odo, odoErr = 0, nil
	}
	var err error
	var v *Vehicle
	if odoErr != nil {
		err = errs.InvalidField("odometer_km", "must be a whole number of kilometres")
	} else {
		v, err = s.AddVehicle(c.UserContext(), p, NewVehicle{VIN: f.Values["vin"], Make: f.Values["make"], Model: f.Values["model"], Year: year,
			Fuel: f.Values["fuel"], Nickname: f.Values["nickname"], OdometerKm: odo})
	}
	if err != nil {
		if ferr := f.fail(err); ferr != nil {
			return ferr
		}
		c.Status(fiber.StatusUnprocessableEntity)
		offer, _ := drafts.ForPage(c, VehicleDraftKey)
		return render(c, "vehicle_new", "Add your car", map[string]any{"Form": f, "Draft": offer})
	}
	return c.Redirect("/m/automotive/vehicles/"+itoa(v.ID)+"?msg=added", fiber.StatusSeeOther)
}

func (s *Service) vehiclePage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	st, err := s.Status(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	days := 30
	if d, err := strconv.Atoi(c.Query("days")); err == nil && d >= 7 && d <= 365 {
		days = d
	}
	hist, err := s.History(c.UserContext(), p, id, s.now().AddDate(0, 0, -days), s.now())
	if err != nil {
		return err
	}
	var loan *Loan
	var bills []Bill
	if l, _, err := s.LoanOf(c.UserContext(), p, id); err == nil {
		loan = l
	}
	all, err := s.Bills(c.UserContext(), p, "")
	if err != nil {
		return err
	}
	showAll := c.Query("bills") == "all"
	paid, more := 0, 0
	for _, b := range all {
		if b.VehicleID != id {
			continue
		}
		switch {
		case showAll:
			bills = append(bills, b)
		case b.Status == BillPaid:
			paid++
		case len(bills) < 6:
			bills = append(bills, b)
		default:
			more++
		}
	}
	return render(c, "vehicle", st.Vehicle.Make+" "+st.Vehicle.Model, map[string]any{
		"S": st, "History": hist, "Days": days, "Loan": loan, "Bills": bills, "Staff": p.Is(accounts.Staff, accounts.Admin),
		"PaidBills": paid, "MoreBills": more, "AllBills": showAll,
		"Charts": s.vehicleCharts(hist),
	})
}

// bookDay is one day of the booking page's first step.
type bookDay struct {
	Day     time.Time
	Key     string // ?day= value, YYYY-MM-DD in the viewer's zone
	Free    int
	Current bool
}

// bookTime is one free time of the chosen day, at one workshop.
type bookTime struct {
	SlotID   uint
	StartsAt time.Time
	Centre   Centre
}

// bookPage is the booking journey in two choices: a day (the first with
// free times is chosen already), then a time of that day, each time naming
// its workshop. The days are links, so it works without script.
func (s *Service) bookPage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.Vehicle(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	centres, err := s.Centres(c.UserContext(), p)
	if err != nil {
		return err
	}
	loc := viewerLocation(p)
	var all []bookTime
	for _, ce := range centres {
		sl, err := s.FreeSlots(c.UserContext(), p, ce.ID, s.now(), s.now().Add(14*24*time.Hour))
		if err != nil {
			return err
		}
		for _, x := range sl {
			all = append(all, bookTime{SlotID: x.ID, StartsAt: x.StartsAt, Centre: ce})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].StartsAt.Before(all[j].StartsAt) })
	var days []bookDay
	byDay := map[string][]bookTime{}
	for _, t := range all {
		key := t.StartsAt.In(loc).Format(time.DateOnly)
		if len(byDay[key]) == 0 {
			days = append(days, bookDay{Day: t.StartsAt, Key: key})
		}
		byDay[key] = append(byDay[key], t)
		days[len(days)-1].Free++
	}
	chosen := c.Query("day")
	if _, ok := byDay[chosen]; !ok && len(days) > 0 {
		chosen = days[0].Key
	}
	for i := range days {
		days[i].Current = days[i].Key == chosen
	}
	return render(c, "book", "Book a service", map[string]any{"Vehicle": v, "Days": days, "Times": byDay[chosen],
		"Centres": len(centres), "Error": c.Query("error")})
}

func (s *Service) bookSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	slot, _ := strconv.ParseUint(c.FormValue("slot_id"), 10, 64)
	if slot == 0 {
		return c.Redirect("/m/automotive/vehicles/"+itoa(id)+"/book?day="+url.QueryEscape(c.FormValue("day"))+"&error="+url.QueryEscape("Choose a time."), fiber.StatusSeeOther)
	}
	if _, err := s.Book(c.UserContext(), p, id, uint(slot), c.FormValue("notes")); err != nil {
		if errs.Is(err, errs.Conflict) || errs.Is(err, errs.Invalid) {
			e, _ := errs.As(err)
			return c.Redirect("/m/automotive/vehicles/"+itoa(id)+"/book?error="+url.QueryEscape(e.Message), fiber.StatusSeeOther)
		}
		return err
	}
	return c.Redirect("/m/automotive/vehicles/"+itoa(id)+"?msg=booked", fiber.StatusSeeOther)
}

func (s *Service) cancelSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	b, err := s.booking(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	if err := s.Cancel(c.UserContext(), p, id); err != nil {
		return err
	}
	return c.Redirect("/m/automotive/vehicles/"+itoa(b.VehicleID)+"?msg=cancelled", fiber.StatusSeeOther)
}

func (s *Service) doneSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	odo, err := strconv.Atoi(strings.TrimSpace(c.FormValue("odometer_km")))
	if err != nil {
		return errs.InvalidField("odometer_km", "must be a whole number of kilometres")
	}
	if _, err := s.MarkDone(c.UserContext(), p, id, odo); err != nil {
		return err
	}
	return c.Redirect("/m/automotive/staff?msg=done", fiber.StatusSeeOther)
}

// transferSubmit gives a vehicle to another customer, named by e-mail
// (staff and admins).
func (s *Service) transferSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	email := strings.TrimSpace(c.FormValue("email"))
	u, err := s.acc.UserByEmail(c.UserContext(), p.OrgID, email)
	if err != nil {
		return errs.InvalidField("email", "is not the e-mail of a customer of this organisation")
	}
	if _, err := s.TransferVehicle(c.UserContext(), p, id, u.ID); err != nil {
		return err
	}
	return c.Redirect("/m/automotive/vehicles/"+itoa(id)+"?msg=transferred", fiber.StatusSeeOther)
}

// linkDeviceSubmit links a registered telematics unit to a vehicle, or
// unlinks it with an empty ID (staff and admins).
func (s *Service) linkDeviceSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	dev := strings.TrimSpace(c.FormValue("device_id"))
	if _, err := s.LinkDevice(c.UserContext(), p, id, dev); err != nil {
		return err
	}
	msg := "linked"
	if dev == "" {
		msg = "unlinked"
	}
	return c.Redirect("/m/automotive/vehicles/"+itoa(id)+"?msg="+msg, fiber.StatusSeeOther)
}

// refreshSubmit asks the car for a fresh diagnostics reading.
func (s *Service) refreshSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.RefreshDiagnostics(c.UserContext(), p, id); err != nil {
		return err
	}
	return c.Redirect("/m/automotive/vehicles/"+itoa(id)+"?msg=refreshing", fiber.StatusSeeOther)
}

func (s *Service) staffPage(c *fiber.Ctx) error {
	return s.renderStaff(c, nil)
}

func (s *Service) renderStaff(c *fiber.Ctx, f *form) error {
	p, _ := accounts.PrincipalOf(c)
	query := strings.TrimSpace(c.Query("q"))
	after, _ := strconv.ParseUint(c.Query("after"), 10, 64)
	vs, next, err := s.FindVehicles(c.UserContext(), p, VehicleFilter{Query: query, After: uint(after), Limit: 50})
	if err != nil {
		return err
	}
	bookings, err := s.Bookings(c.UserContext(), p)
	if err != nil {
		return err
	}
	active, err := s.bookedRows(c.UserContext(), p.OrgID, bookings)
	if err != nil {
		return err
	}
	recalls, err := s.Recalls(c.UserContext(), p)
	if err != nil {
		return err
	}
	if f == nil {
		f = &form{Values: map[string]string{}, Errors: map[string]string{}}
	}
	return render(c, "staff", "Workshop", map[string]any{"Vehicles": vs, "Query": query, "Next": next, "Paged": after > 0, "Bookings": active, "Recalls": recalls, "Form": f})
}

// bookedRow is one active booking as the workshop sees it.
type bookedRow struct {
	Booking
	At                     time.Time
	Centre, Vehicle, Owner string
	OdometerKm             int
}

// bookedRows are the open bookings with their slot, centre, owner and
// vehicle (read by ID: the workshop's vehicle list is paged).
func (s *Service) bookedRows(ctx context.Context, org uint, bookings []Booking) ([]bookedRow, error) {
	var rows []bookedRow
	var slotIDs, ownerIDs, vehicleIDs []uint
	for _, b := range bookings {
		if b.Status == BookingBooked {
			rows = append(rows, bookedRow{Booking: b})
			slotIDs = append(slotIDs, b.SlotID)
			ownerIDs = append(ownerIDs, b.OwnerID)
			vehicleIDs = append(vehicleIDs, b.VehicleID)
		}
	}
	if len(rows) == 0 {
		return nil, nil
	}
	var slots []Slot
	if err := s.db(ctx, org).Where("id IN ?", slotIDs).Find(&slots).Error; err != nil {
		return nil, err
	}
	var centres []Centre
	if err := s.db(ctx, org).Find(&centres).Error; err != nil {
		return nil, err
	}
	var owners []accounts.User
	if err := s.db(ctx, org).Select("id", "name").Where("id IN ?", ownerIDs).Find(&owners).Error; err != nil {
		return nil, err
	}
	slotByID := map[uint]Slot{}
	for _, sl := range slots {
		slotByID[sl.ID] = sl
	}
	centreName := map[uint]string{}
	for _, ce := range centres {
		centreName[ce.ID] = ce.Name
	}
	ownerName := map[uint]string{}
	for _, u := range owners {
		ownerName[u.ID] = u.Name
	}
	var vs []Vehicle
	if err := s.db(ctx, org).Where("id IN ?", vehicleIDs).Find(&vs).Error; err != nil {
		return nil, err
	}
	vehicle := map[uint]*Vehicle{}
	for i := range vs {
		vehicle[vs[i].ID] = &vs[i]
	}
	for i := range rows {
		r := &rows[i]
		sl := slotByID[r.SlotID]
		r.At, r.Centre, r.Owner = sl.StartsAt, centreName[sl.CentreID], ownerName[r.OwnerID]
		if v := vehicle[r.VehicleID]; v != nil {
			r.Vehicle, r.OdometerKm = vehicleName(v), v.OdometerKm
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].At.Before(rows[j].At) })
	return rows, nil
}

func (s *Service) publishRecallSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	f := formFrom(c, "code", "title", "description", "remedy", "make", "model", "year_from", "year_to", "vins")
	yf, _ := strconv.Atoi(strings.TrimSpace(f.Values["year_from"]))
	yt, _ := strconv.Atoi(strings.TrimSpace(f.Values["year_to"]))
	_, err := s.PublishRecall(c.UserContext(), p, NewRecall{Code: f.Values["code"], Title: f.Values["title"], Description: f.Values["description"],
		Remedy: f.Values["remedy"], Make: f.Values["make"], Model: f.Values["model"], YearFrom: yf, YearTo: yt, VINs: strings.Fields(strings.ReplaceAll(f.Values["vins"], ",", " "))})
	if err != nil {
		if ferr := f.fail(err); ferr != nil {
			return ferr
		}
		c.Status(fiber.StatusUnprocessableEntity)
		return s.renderStaff(c, f)
	}
	return c.Redirect("/m/automotive/staff?msg=published", fiber.StatusSeeOther)
}
