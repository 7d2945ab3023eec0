package health_test

import (
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/verticals/health"
)

func expectPage(t *testing.T, name string, r *portaltest.Response, status int, texts ...string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d", name, r.Status, status)
	}
	for _, s := range texts {
		if !strings.Contains(r.Body, s) {
			t.Errorf("%s: %q not on the page", name, s)
		}
	}
}

// TestReadingFormOnThePortal: the patient's one-line form saves a reading
// in pounds as kilograms; an impossible value comes back on the same page
// with the field marked and the message, and nothing is saved.
func TestReadingFormOnThePortal(t *testing.T) {
	ta, _ := newApp(t)
	newClinic(t, ta)
	b := ta.Browser()
	b.SignIn(t, "clinic", "anna@clinic.example")
	expectPage(t, "home", b.Get(t, "/m/health/"), 200, "What did you measure?", "No readings yet.")
	r := b.Post(t, "/m/health/readings", url.Values{"kind": {"weight"}, "value": {"187,4"}, "unit": {"lb"}})
	if r.Status != 303 || r.Header.Get("Location") != "/m/health/?msg=saved" {
		t.Fatalf("save: %d %s", r.Status, r.Header.Get("Location"))
	}
	expectPage(t, "after save", b.Get(t, "/m/health/?msg=saved"), 200, "Your reading is saved.", "Body weight", "85.0 kg")
	bad := b.Post(t, "/m/health/readings", url.Values{"kind": {"blood_pressure"}, "value": {"400"}, "diastolic": {"80"}})
	expectPage(t, "impossible", bad, 422, `aria-invalid="true"`, "Systolic blood pressure must be between 50 and 300")
	notNum := b.Post(t, "/m/health/readings", url.Values{"kind": {"heart_rate"}, "value": {"fast"}})
	expectPage(t, "not a number", notNum, 422, "Type a number")
}

type untranslated struct {
	mu   sync.Mutex
	keys map[string]bool
}

// TestPagesInItalian: every page of patient, clinician and admin in
// Italian, with no English text left untranslated.
func TestPagesInItalian(t *testing.T) {
	ta, _ := newApp(t)
	ta.Demo(t)
	c := newClinic(t, ta)
	c.must(t, "GET", c.obsURL(), nil, c.rossi, 200)
	c.must(t, "POST", c.obsURL(), map[string]any{"kind": "blood_pressure", "value": 150, "diastolic": 95}, c.patient, 201)
	c.must(t, "POST", "/api/v1/health/patients/"+itoa(c.patientID)+"/visits", map[string]any{"notes": "Meno sale.", "private_notes": "Rivedere tra un mese.",
		"goals": []map[string]any{{"measure": "blood_pressure", "target_high": 130, "due_on": "2026-09-01T00:00:00Z"},
			{"measure": "steps", "target_low": 8000, "due_on": "2026-09-01T00:00:00Z"}, {"measure": "weight", "target_low": 70, "target_high": 75, "due_on": "2026-09-01T00:00:00Z"}}}, c.rossi, 201)
	c.must(t, "POST", "/api/v1/health/patients/"+itoa(c.patientID)+"/prescriptions", map[string]any{"medicine": "Ramipril", "dose": "5 mg", "times": []string{"08:00", "20:00"}, "start_on": "2026-06-10T00:00:00Z"}, c.rossi, 201)
	c.must(t, "POST", "/api/v1/health/patients/"+itoa(c.patientID)+"/break-glass", map[string]any{"reason": "Patient collapsed in the waiting room"}, c.nurse, 201)
	u := &untranslated{keys: map[string]bool{}}
	ta.Web.Catalog().OnMissing(func(_, key string) {
		u.mu.Lock()
		u.keys[key] = true
		u.mu.Unlock()
	})
	store.AllOrgs(ta.Store.DB).Model(&accounts.User{}).Where("email LIKE ?", "%@clinic.example").Update("locale", "it")
	store.AllOrgs(ta.Store.DB).Model(&accounts.User{}).Where("email LIKE ?", "%@demo.example").Update("locale", "it")
	p := ta.Browser()
	p.SignIn(t, "clinic", "anna@clinic.example")
	expectPage(t, "home", p.Get(t, "/m/health/"), 200, "La mia salute", "Pressione arteriosa", "alta", "I miei obiettivi", "al massimo 130 mmHg", "in corso", "Meno sale.")
	expectPage(t, "access", p.Get(t, "/m/health/access"), 200, "Chi ha visto i miei dati", "Accesso di emergenza", "tramite il tuo team di cura Cardiology")
	expectPage(t, "trends", p.Get(t, "/m/health/trends?period=visit"), 200, "Andamento", "Obiettivo: al massimo", "ultima visita")
	c.must(t, "POST", "/api/v1/health/patients/"+itoa(c.patientID)+"/meals", map[string]any{"text": "Pasta al pomodoro", "calories": 520, "protein": 15}, c.patient, 201)
	c.must(t, "POST", "/api/v1/health/patients/"+itoa(c.patientID)+"/exercise", map[string]any{"type": "cycling", "minutes": 40, "intensity": "vigorous", "steps": 1200}, c.patient, 201)
	expectPage(t, "diary", p.Get(t, "/m/health/diary"), 200, "Diario di alimentazione e attività", "Pasta al pomodoro", "520 kcal", "Ciclismo", "intensa", "Registra di nuovo ora")
	expectPage(t, "diary error", p.Post(t, "/m/health/diary/exercise", url.Values{"type": {"walking"}, "minutes": {"0"}, "intensity": {"low"}}), 422, "La durata")
	var today []health.Dose
	c.must(t, "GET", "/api/v1/health/patients/"+itoa(c.patientID)+"/doses/today", nil, c.patient, 200).JSON(t, &today)
	expectPage(t, "dose", p.Get(t, "/m/health/doses/"+itoa(today[0].ID)), 200, "La tua dose", "Presa", "Più tardi", "da prendere")
	expectPage(t, "form error", p.Post(t, "/m/health/readings", url.Values{"kind": {"weight"}, "value": {"900"}}), 422, "Peso corporeo: il valore deve essere tra 1 e 400 kg")
	d := ta.Browser()
	d.SignIn(t, "demo", "customer@demo.example")
	expectPage(t, "demo home", d.Get(t, "/m/health/"), 200, "Frequenza cardiaca")
	expectPage(t, "demo diary", d.Get(t, "/m/health/diary"), 200, "Porridge with a banana", "Camminata", "Registra di nuovo ora")
	s := ta.Browser()
	s.SignIn(t, "clinic", "dr.rossi@clinic.example")
	expectPage(t, "patients", s.Get(t, "/m/health/patients"), 200, "Pazienti dei miei team di cura", "Accesso di emergenza", "Pressione arteriosa alta")
	expectPage(t, "patient", s.Get(t, "/m/health/patients/"+itoa(c.patientID)), 200, "Registra una misurazione", "Rivedere tra un mese.", "tra 70,0 e 75,0 kg", "Prescrizioni e aderenza", "aderenza bassa")
	expectPage(t, "visit error", s.Post(t, "/m/health/patients/"+itoa(c.patientID)+"/visits", url.Values{"on": {"2026-06-15"}, "measure": {"steps"}, "target_low": {"8000"}, "due_on": {"2026-01-01"}}), 422, "La data di scadenza")
	expectPage(t, "patient diary", s.Get(t, "/m/health/patients/"+itoa(c.patientID)+"/diary"), 200, "Pasta al pomodoro", "Ciclismo", "Passi")
	n := ta.Browser()
	n.SignIn(t, "clinic", "nurse@clinic.example")
	expectPage(t, "break-glass patient", n.Get(t, "/m/health/patients/"+itoa(c.patientID)), 200, "Accesso di emergenza: sola lettura")
	expectPage(t, "break-glass error", n.Post(t, "/m/health/break-glass", url.Values{"email": {"nobody@clinic.example"}, "reason": {"x"}}), 422, "Nessun paziente")
	a := ta.Browser()
	a.SignIn(t, "clinic", "admin@clinic.example")
	expectPage(t, "admin", a.Get(t, "/m/health/admin"), 200, "Team di cura", "Aggiungi un clinico a un team", "nurse")
	u.mu.Lock()
	defer u.mu.Unlock()
	var keys []string
	for k := range u.keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Errorf("a page showed %q untranslated", k)
	}
}

func itoa(n uint) string { return strconvU(uint64(n)) }

// TestDashboardWidgets: the demo patient's dashboard has the goals, today's
// doses and the latest readings, in Italian; the demo clinician's has the
// panel; the JSON API carries the same.
func TestDashboardWidgets(t *testing.T) {
	ta, _ := newApp(t)
	ta.Demo(t)
	store.AllOrgs(ta.Store.DB).Model(&accounts.User{}).Where("email LIKE ?", "%@demo.example").Update("locale", "it")
	u := &untranslated{keys: map[string]bool{}}
	ta.Web.Catalog().OnMissing(func(_, key string) {
		u.mu.Lock()
		u.keys[key] = true
		u.mu.Unlock()
	})
	p := ta.Browser()
	p.SignIn(t, "demo", "customer@demo.example")
	dash := p.Get(t, "/")
	expectPage(t, "patient dashboard", dash, 200, "I miei obiettivi di salute", "Pressione arteriosa (sistolica)", "Le dosi di oggi", "Ramipril", "Frequenza cardiaca", "Le mie ultime misurazioni")
	s := ta.Browser()
	s.SignIn(t, "demo", "staff@demo.example")
	expectPage(t, "clinician dashboard", s.Get(t, "/"), 200, "Pazienti da seguire", "con aderenza bassa")
	h := ta.As(t, "demo", "customer@demo.example", accounts.Customer)
	if r := ta.Do(t, "GET", "/api/v1/dashboard", nil, h); r.Status != 200 || !strings.Contains(r.Body, `"health.doses"`) || !strings.Contains(r.Body, "Ramipril") {
		t.Fatalf("dashboard API: %d", r.Status)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for k := range u.keys {
		t.Errorf("a widget showed %q untranslated", k)
	}
}
