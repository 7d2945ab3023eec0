package health

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

var (
	everyone  = []accounts.Role{accounts.Customer, accounts.Staff, accounts.Admin, accounts.Integrator}
	persons   = []accounts.Role{accounts.Customer, accounts.Staff, accounts.Admin}
	clinical  = []accounts.Role{accounts.Staff, accounts.Admin}
	importers = []accounts.Role{accounts.Staff, accounts.Admin, accounts.Integrator}
	adminOnly = []accounts.Role{accounts.Admin}
	patientOf = []accounts.Role{accounts.Customer}
	logReader = []accounts.Role{accounts.Customer, accounts.Admin}
)

func principal(ctx context.Context) *accounts.Principal {
	p, _ := accounts.PrincipalFrom(ctx)
	return p
}

type patientIn struct {
	ID uint `path:"id" doc:"the patient's user ID"`
}

type teamBody struct {
	Body struct {
		TeamID uint `json:"team_id" minimum:"1"`
	}
}

// --- authorization matrix fixtures ---

var fixtureSeq atomic.Int64

func fixtureUser(tx *gorm.DB, orgID uint, role accounts.Role) (uint, error) {
	u := accounts.User{Email: fmt.Sprintf("health-%d-%d@matrix.example", time.Now().UnixNano(), fixtureSeq.Add(1)), Name: "Fixture " + string(role), Role: role}
	err := store.Org(tx, orgID).Create(&u).Error
	return u.ID, err
}

func fixtureTeam(tx *gorm.DB, orgID uint, members ...uint) (uint, error) {
	t := Team{Name: fmt.Sprintf("Team %d", fixtureSeq.Add(1))}
	if err := store.Org(tx, orgID).Create(&t).Error; err != nil {
		return 0, err
	}
	for _, m := range members {
		if err := store.Org(tx, orgID).Create(&TeamMember{TeamID: t.ID, StaffID: m}).Error; err != nil {
			return 0, err
		}
	}
	return t.ID, nil
}

// fixturePatient returns a patient owner reaches: the owner itself for a
// customer, else a new patient whose care team has the owner in it.
func fixturePatient(tx *gorm.DB, owner *accounts.Principal) (uint, error) {
	if owner.Role == accounts.Customer {
		return owner.UserID, nil
	}
	pid, err := fixtureUser(tx, owner.OrgID, accounts.Customer)
	if err != nil {
		return 0, err
	}
	team, err := fixtureTeam(tx, owner.OrgID, owner.UserID)
	if err != nil {
		return 0, err
	}
	return pid, store.Org(tx, owner.OrgID).Create(&PatientTeam{PatientID: pid, TeamID: team, Link: LinkCare}).Error
}

func patientFixture(body any) accounts.Fixture {
	return func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
		pid, err := fixturePatient(tx, owner)
		return map[string]string{"id": itoa(pid)}, body, err
	}
}

// outsiderFixture: a patient the owner (staff) does not reach.
func outsiderFixture(body any) accounts.Fixture {
	return func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
		pid, err := fixtureUser(tx, owner.OrgID, accounts.Customer)
		return map[string]string{"id": itoa(pid)}, body, err
	}
}

func teamFixture(withStaff bool) accounts.Fixture {
	return func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
		staff, err := fixtureUser(tx, owner.OrgID, accounts.Staff)
		if err != nil {
			return nil, nil, err
		}
		var members []uint
		if withStaff {
			members = append(members, staff)
		}
		team, err := fixtureTeam(tx, owner.OrgID, members...)
		return map[string]string{"id": itoa(team), "staff": itoa(staff)}, map[string]any{"staff_id": staff, "role": "nurse"}, err
	}
}

// careTeamFixture: a patient and a team (the body names it).
func careTeamFixture(shared bool) accounts.Fixture {
	return func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
		pid := owner.UserID
		var err error
		if owner.Role != accounts.Customer {
			if pid, err = fixtureUser(tx, owner.OrgID, accounts.Customer); err != nil {
				return nil, nil, err
			}
		}
		team, err := fixtureTeam(tx, owner.OrgID)
		if err != nil {
			return nil, nil, err
		}
		if shared {
			err = store.Org(tx, owner.OrgID).Create(&PatientTeam{PatientID: pid, TeamID: team, Link: LinkShared}).Error
		}
		return map[string]string{"id": itoa(pid), "team": itoa(team)}, map[string]any{"team_id": team}, err
	}
}

func (s *Service) registerAPI(api huma.API) {
	tag := func(o *huma.Operation) { o.Tags = []string{"Health"} }

	type teamsOut struct{ Body []TeamView }
	accounts.Register(api, huma.Operation{OperationID: "health-teams", Method: http.MethodGet, Path: "/teams",
		Summary: "List care teams", Description: "Patients see the names (to choose whom to share with); staff and admins see the members."},
		func(ctx context.Context, _ *struct{}) (*teamsOut, error) {
			ts, err := s.Teams(ctx, principal(ctx))
			return &teamsOut{Body: ts}, err
		}, accounts.Allow(persons...), tag)

	type teamOut struct{ Body *Team }
	accounts.Register(api, huma.Operation{OperationID: "health-team-create", Method: http.MethodPost, Path: "/teams",
		Summary: "Create a care team (admins)", DefaultStatus: 201},
		func(ctx context.Context, in *struct {
			Body struct {
				Name string `json:"name" maxLength:"120"`
			}
		}) (*teamOut, error) {
			t, err := s.CreateTeam(ctx, principal(ctx), in.Body.Name)
			return &teamOut{Body: t}, err
		}, accounts.Allow(adminOnly...), tag, web.Idempotent())

	accounts.Register(api, huma.Operation{OperationID: "health-team-member-add", Method: http.MethodPost, Path: "/teams/{id}/members",
		Summary: "Add a clinician to a care team (admins)", DefaultStatus: 204},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id"`
			Body struct {
				StaffID uint   `json:"staff_id" minimum:"1"`
				Role    string `json:"role,omitempty" maxLength:"40" doc:"e.g. GP, nurse, dietitian"`
			}
		}) (*struct{}, error) {
			return nil, s.AddMember(ctx, principal(ctx), in.ID, in.Body.StaffID, in.Body.Role)
		}, accounts.Allow(adminOnly...), tag, accounts.Matrix(teamFixture(false)))

	accounts.Register(api, huma.Operation{OperationID: "health-team-member-remove", Method: http.MethodDelete, Path: "/teams/{id}/members/{staff}",
		Summary: "Take a clinician out of a care team (admins)", DefaultStatus: 204},
		func(ctx context.Context, in *struct {
			ID    uint `path:"id"`
			Staff uint `path:"staff"`
		}) (*struct{}, error) {
			return nil, s.RemoveMember(ctx, principal(ctx), in.ID, in.Staff)
		}, accounts.Allow(adminOnly...), tag, accounts.Matrix(teamFixture(true)))

	type patientsOut struct{ Body []PatientView }
	accounts.Register(api, huma.Operation{OperationID: "health-patients", Method: http.MethodGet, Path: "/patients",
		Summary: "The patients your care teams look after (staff)"},
		func(ctx context.Context, _ *struct{}) (*patientsOut, error) {
			ps, err := s.Patients(ctx, principal(ctx))
			return &patientsOut{Body: ps}, err
		}, accounts.Allow(clinical...), tag)

	accounts.Register(api, huma.Operation{OperationID: "health-care-team-set", Method: http.MethodPut, Path: "/patients/{id}/care-team",
		Summary: "Set a patient's care team (admins)", DefaultStatus: 204},
		func(ctx context.Context, in *struct {
			ID uint `path:"id"`
			teamBody
		}) (*struct{}, error) {
			return nil, s.SetCareTeam(ctx, principal(ctx), in.ID, in.Body.TeamID)
		}, accounts.Allow(adminOnly...), tag, accounts.Matrix(careTeamFixture(false)))

	type patientTeamsOut struct{ Body []PatientTeamView }
	accounts.Register(api, huma.Operation{OperationID: "health-patient-teams", Method: http.MethodGet, Path: "/patients/{id}/teams",
		Summary: "The teams that reach a patient's data", Description: "The care team and the teams the patient shares with."},
		func(ctx context.Context, in *patientIn) (*patientTeamsOut, error) {
			ts, err := s.TeamsOfPatient(ctx, principal(ctx), in.ID)
			return &patientTeamsOut{Body: ts}, err
		}, accounts.Allow(persons...), tag, accounts.Matrix(patientFixture(nil)))

	accounts.Register(api, huma.Operation{OperationID: "health-share", Method: http.MethodPost, Path: "/patients/{id}/shares",
		Summary: "Share your health data with an additional team (the patient)", DefaultStatus: 204},
		func(ctx context.Context, in *struct {
			ID uint `path:"id"`
			teamBody
		}) (*struct{}, error) {
			return nil, s.Share(ctx, principal(ctx), in.ID, in.Body.TeamID)
		}, accounts.Allow(patientOf...), tag, accounts.Matrix(careTeamFixture(false)))

	accounts.Register(api, huma.Operation{OperationID: "health-share-withdraw", Method: http.MethodDelete, Path: "/patients/{id}/shares/{team}",
		Summary: "Withdraw your data from a team you shared it with (the patient)", DefaultStatus: 204},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id"`
			Team uint `path:"team"`
		}) (*struct{}, error) {
			return nil, s.Withdraw(ctx, principal(ctx), in.ID, in.Team)
		}, accounts.Allow(patientOf...), tag, accounts.Matrix(careTeamFixture(true)))

	type accessOut struct{ Body []AccessEntry }
	accounts.Register(api, huma.Operation{OperationID: "health-access-log", Method: http.MethodGet, Path: "/patients/{id}/access-log",
		Summary:     "Who read a patient's health data, when and why (the patient; admins)",
		Description: "Every read by staff or an integrator, newest first; break-glass reads are flagged."},
		func(ctx context.Context, in *struct {
			ID    uint `path:"id"`
			Limit int  `query:"limit" minimum:"0" maximum:"500"`
		}) (*accessOut, error) {
			l, err := s.AccessLog(ctx, principal(ctx), in.ID, in.Limit)
			return &accessOut{Body: l}, err
		}, accounts.Allow(logReader...), tag, accounts.Matrix(patientFixture(nil)))

	type breakGlassOut struct{ Body *BreakGlass }
	accounts.Register(api, huma.Operation{OperationID: "health-break-glass", Method: http.MethodPost, Path: "/patients/{id}/break-glass",
		Summary: "Open emergency (break-glass) access to a patient outside your teams",
		Description: "Read-only for one hour, with a stated reason (10–500 characters). The patient sees it in their access log; " +
			"every admin is notified. 409 when your team already reaches the patient.", DefaultStatus: 201},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id"`
			Body struct {
				Reason string `json:"reason" maxLength:"500"`
			}
		}) (*breakGlassOut, error) {
			bg, err := s.OpenBreakGlass(ctx, principal(ctx), in.ID, in.Body.Reason)
			return &breakGlassOut{Body: bg}, err
		}, accounts.Allow(clinical...), tag, accounts.Matrix(outsiderFixture(map[string]any{"reason": "Patient unconscious in the emergency room"})), web.Idempotent())

	type bgListOut struct{ Body []BreakGlassView }
	accounts.Register(api, huma.Operation{OperationID: "health-break-glass-list", Method: http.MethodGet, Path: "/break-glass",
		Summary: "Break-glass accesses to review (admins)"},
		func(ctx context.Context, _ *struct{}) (*bgListOut, error) {
			l, err := s.BreakGlasses(ctx, principal(ctx), 200)
			return &bgListOut{Body: l}, err
		}, accounts.Allow(adminOnly...), tag)

	type obsOut struct{ Body []Observation }
	accounts.Register(api, huma.Operation{OperationID: "health-observations", Method: http.MethodGet, Path: "/patients/{id}/observations",
		Summary:     "A patient's vital signs, newest first",
		Description: "LOINC codes and UCUM units. A reading two sources reported is returned once unless with_duplicates. A read by staff or an integrator is logged for the patient."},
		func(ctx context.Context, in *struct {
			ID             uint      `path:"id"`
			Code           string    `query:"code" doc:"a LOINC code"`
			From           time.Time `query:"from"`
			To             time.Time `query:"to"`
			WithDuplicates bool      `query:"with_duplicates"`
			Limit          int       `query:"limit" minimum:"0" maximum:"5000"`
		}) (*obsOut, error) {
			l, err := s.Observations(ctx, principal(ctx), in.ID, ObservationFilter{Code: in.Code, From: in.From, To: in.To, WithDuplicates: in.WithDuplicates, Limit: in.Limit})
			return &obsOut{Body: l}, err
		}, accounts.Allow(everyone...), tag, accounts.Matrix(patientFixture(nil)))

	accounts.Register(api, huma.Operation{OperationID: "health-observation-add", Method: http.MethodPost, Path: "/patients/{id}/observations",
		Summary: "Record a reading", Description: "From the patient (source patient), a clinician of their team or an integrator (source clinician). " +
			"Impossible values are refused (422 naming the field); values outside the normal range are flagged; the same reading already reported by another source is kept but counted once.",
		DefaultStatus: 201},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id"`
			Body NewReading
		}) (*obsOut, error) {
			l, err := s.RecordFor(ctx, principal(ctx), in.ID, in.Body)
			return &obsOut{Body: l}, err
		}, accounts.Allow(everyone...), tag, accounts.Matrix(patientFixture(map[string]any{"kind": "heart_rate", "value": 72})), web.Idempotent())

	type visitOut struct {
		Body struct {
			Visit *Visit `json:"visit"`
			Goals []Goal `json:"goals"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "health-visit-add", Method: http.MethodPost, Path: "/patients/{id}/visits",
		Summary:       "Record a visit and the goals set in it (the patient's care team)",
		Description:   "Each goal: a measure, a target range (target_low, target_high or both) and a due date. Its achievement (FHIR Goal vocabulary) is assessed daily.",
		DefaultStatus: 201},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id"`
			Body NewVisit
		}) (*visitOut, error) {
			v, gs, err := s.RecordVisit(ctx, principal(ctx), in.ID, in.Body)
			out := &visitOut{}
			out.Body.Visit, out.Body.Goals = v, nonNil(gs)
			return out, err
		}, accounts.Allow(clinical...), tag, accounts.Matrix(patientFixture(map[string]any{"notes": "Walk every day.",
			"goals": []map[string]any{{"measure": "steps", "target_low": 8000, "due_on": "2099-01-01T00:00:00Z"}}})), web.Idempotent())

	type visitsOut struct{ Body []Visit }
	accounts.Register(api, huma.Operation{OperationID: "health-visits", Method: http.MethodGet, Path: "/patients/{id}/visits",
		Summary: "A patient's visits, newest first", Description: "The patient does not see private notes. A read by staff or an integrator is logged."},
		func(ctx context.Context, in *patientIn) (*visitsOut, error) {
			l, err := s.Visits(ctx, principal(ctx), in.ID)
			return &visitsOut{Body: l}, err
		}, accounts.Allow(everyone...), tag, accounts.Matrix(patientFixture(nil)))

	type goalsOut struct{ Body []Goal }
	accounts.Register(api, huma.Operation{OperationID: "health-goals", Method: http.MethodGet, Path: "/patients/{id}/goals",
		Summary: "A patient's goals with their achievement status", Description: "achievement is FHIR Goal.achievementStatus (in-progress, improving, worsening, no-change, achieved, sustaining, not-achieved). A read by staff or an integrator is logged."},
		func(ctx context.Context, in *patientIn) (*goalsOut, error) {
			l, err := s.Goals(ctx, principal(ctx), in.ID)
			return &goalsOut{Body: l}, err
		}, accounts.Allow(everyone...), tag, accounts.Matrix(patientFixture(nil)))

	type rxOut struct{ Body *Prescription }
	accounts.Register(api, huma.Operation{OperationID: "health-prescribe", Method: http.MethodPost, Path: "/patients/{id}/prescriptions",
		Summary: "Prescribe a medicine (the patient's care team)", Description: "Doses are due at the given local times of day (the patient's time zone) from start_on to end_on.", DefaultStatus: 201},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id"`
			Body NewPrescription
		}) (*rxOut, error) {
			rx, err := s.Prescribe(ctx, principal(ctx), in.ID, in.Body)
			return &rxOut{Body: rx}, err
		}, accounts.Allow(clinical...), tag, accounts.Matrix(patientFixture(map[string]any{"medicine": "Ramipril", "dose": "5 mg", "times": []string{"08:00"}})), web.Idempotent())

	accounts.Register(api, huma.Operation{OperationID: "health-prescription-stop", Method: http.MethodPost, Path: "/prescriptions/{id}/stop",
		Summary: "Stop a prescription from today (the patient's care team)"},
		func(ctx context.Context, in *struct {
			ID uint `path:"id"`
		}) (*rxOut, error) {
			rx, err := s.StopPrescription(ctx, principal(ctx), in.ID)
			return &rxOut{Body: rx}, err
		}, accounts.Allow(clinical...), tag, accounts.Matrix(s.prescriptionFixture))

	type rxsOut struct{ Body []Prescription }
	accounts.Register(api, huma.Operation{OperationID: "health-prescriptions", Method: http.MethodGet, Path: "/patients/{id}/prescriptions",
		Summary: "A patient's prescriptions", Description: "A read by staff or an integrator is logged."},
		func(ctx context.Context, in *patientIn) (*rxsOut, error) {
			l, err := s.Prescriptions(ctx, principal(ctx), in.ID)
			return &rxsOut{Body: l}, err
		}, accounts.Allow(everyone...), tag, accounts.Matrix(patientFixture(nil)))

	type dosesOut struct{ Body []Dose }
	accounts.Register(api, huma.Operation{OperationID: "health-doses-today", Method: http.MethodGet, Path: "/patients/{id}/doses/today",
		Summary: "Today's doses (the patient's local day)"},
		func(ctx context.Context, in *patientIn) (*dosesOut, error) {
			l, err := s.TodaysDoses(ctx, principal(ctx), in.ID)
			return &dosesOut{Body: nonNil(l)}, err
		}, accounts.Allow(everyone...), tag, accounts.Matrix(patientFixture(nil)))

	type doseOut struct{ Body *Dose }
	accounts.Register(api, huma.Operation{OperationID: "health-dose-answer", Method: http.MethodPost, Path: "/doses/{id}",
		Summary: "Mark a dose taken, skipped or later (the patient)", Description: "later reminds again in 30 minutes."},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id"`
			Body struct {
				Action string `json:"action" enum:"taken,skipped,later"`
			}
		}) (*doseOut, error) {
			d, err := s.AnswerDose(ctx, principal(ctx), in.ID, in.Body.Action)
			return &doseOut{Body: d}, err
		}, accounts.Allow(patientOf...), tag, accounts.Matrix(s.doseFixture))

	type adherenceOut struct {
		Body struct {
			Medicines []Adherence `json:"medicines"`
			Overall   Adherence   `json:"overall"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "health-adherence", Method: http.MethodGet, Path: "/patients/{id}/adherence",
		Summary: "Adherence as proportion of days covered (PDC)", Description: "Over the last `days` local days up to yesterday (30 by default): per medicine and overall; adherent at PDC ≥ 0.8. A read by staff is logged."},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id"`
			Days int  `query:"days" minimum:"0" maximum:"365"`
		}) (*adherenceOut, error) {
			per, all, err := s.AdherenceOf(ctx, principal(ctx), in.ID, in.Days)
			out := &adherenceOut{}
			out.Body.Medicines, out.Body.Overall = nonNil(per), all
			return out, err
		}, accounts.Allow(everyone...), tag, accounts.Matrix(patientFixture(nil)))

	type trendOut struct{ Body *Trend }
	accounts.Register(api, huma.Operation{OperationID: "health-trend", Method: http.MethodGet, Path: "/patients/{id}/trends",
		Summary: "A measure day by day over a period, with the goal's range", Description: "The chart data (core/chart) apps draw; a read by staff is logged."},
		func(ctx context.Context, in *struct {
			ID      uint   `path:"id"`
			Measure string `query:"measure" enum:"weight,blood_pressure,heart_rate,steps,glucose" default:"blood_pressure"`
			Period  string `query:"period" enum:"week,month,visit" default:"month"`
		}) (*trendOut, error) {
			tr, err := s.TrendOf(ctx, principal(ctx), in.ID, in.Measure, in.Period)
			return &trendOut{Body: tr}, err
		}, accounts.Allow(everyone...), tag, accounts.Matrix(patientFixture(nil)))

	type sinceOut struct{ Body *SinceVisit }
	accounts.Register(api, huma.Operation{OperationID: "health-since-visit", Method: http.MethodGet, Path: "/patients/{id}/since-last-visit",
		Summary: "Since the last visit: readings, each goal from its baseline, adherence", Description: "A read by staff is logged."},
		func(ctx context.Context, in *patientIn) (*sinceOut, error) {
			sv, err := s.SinceLastVisit(ctx, principal(ctx), in.ID)
			return &sinceOut{Body: sv}, err
		}, accounts.Allow(everyone...), tag, accounts.Matrix(patientFixture(nil)))

	type panelOut struct{ Body *Panel }
	accounts.Register(api, huma.Operation{OperationID: "health-panel", Method: http.MethodGet, Path: "/panel",
		Summary: "What needs your teams' attention (staff)", Description: "Open out-of-range alerts, worsening or stalled goals, and patients with low adherence, of the patients your care teams reach."},
		func(ctx context.Context, _ *struct{}) (*panelOut, error) {
			pn, err := s.PanelOf(ctx, principal(ctx))
			return &panelOut{Body: pn}, err
		}, accounts.Allow(clinical...), tag)

	type fhirOut struct {
		ContentType        string `header:"Content-Type"`
		ContentDisposition string `header:"Content-Disposition"`
		Body               []byte
	}
	accounts.Register(api, huma.Operation{OperationID: "health-fhir-export", Method: http.MethodGet, Path: "/patients/{id}/fhir",
		Summary: "Everything about a patient as a FHIR R4 JSON Bundle",
		Description: "A collection Bundle: Patient, Observations (LOINC, UCUM; blood pressure as the 85354-9 panel), Goals with achievementStatus, MedicationRequest and MedicationStatement. " +
			"The patient downloads their own; a read by staff or an integrator is logged."},
		func(ctx context.Context, in *patientIn) (*fhirOut, error) {
			b, err := s.ExportFHIR(ctx, principal(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			return &fhirOut{ContentType: "application/fhir+json", ContentDisposition: `attachment; filename="health-data.fhir.json"`, Body: b}, nil
		}, accounts.Allow(everyone...), tag, accounts.Matrix(patientFixture(nil)))

	s.registerDiaryAPI(api, tag)

	type importOut struct{ Body *ImportResult }
	accounts.Register(api, huma.Operation{OperationID: "health-fhir-import", Method: http.MethodPost, Path: "/patients/{id}/fhir",
		Summary: "Import a FHIR R4 Bundle's observations and goals (the patient's care team, integrators)",
		Description: "A collection or transaction Bundle (application/fhir+json or application/json). Its Observations with the module's LOINC codes and UCUM units " +
			"(GET /vitals; blood pressure as the 85354-9 panel with the 8480-6 and 8462-4 components) are stored as readings with source import. " +
			"All or nothing: an unsupported code or unit or an invalid resource refuses the bundle with a 422 naming the entry (entry[i].resource...). " +
			"Importing the same readings again stores nothing (same code and time); a reading another source already reported is counted once. " +
			"Goals (a LOINC measure the goals assess, a range or a <= / >= quantity in its unit, a due date) are added unless the patient has the same one. " +
			"Patient, medication and BMI entries are counted as skipped.", DefaultStatus: 200},
		func(ctx context.Context, in *struct {
			ID   uint           `path:"id"`
			Body map[string]any `doc:"a FHIR R4 Bundle"`
		}) (*importOut, error) {
			raw, err := json.Marshal(in.Body)
			if err != nil {
				return nil, err
			}
			r, err := s.ImportFHIR(ctx, principal(ctx), in.ID, raw)
			return &importOut{Body: r}, err
		}, accounts.Allow(importers...), tag, accounts.Matrix(s.importFixture), web.Idempotent())

	type vitalsOut struct{ Body []Vital }
	accounts.Register(api, huma.Operation{OperationID: "health-vitals", Method: http.MethodGet, Path: "/vitals",
		Summary: "The vital signs recorded, with LOINC code, UCUM unit, possible and normal ranges"},
		func(ctx context.Context, _ *struct{}) (*vitalsOut, error) {
			return &vitalsOut{Body: vitalList()}, nil
		}, accounts.Allow(everyone...), tag)
}

func vitalList() []Vital {
	out := make([]Vital, 0, len(Vitals))
	for _, c := range []string{CodeSystolic, CodeDiastolic, CodeHeartRate, CodeWeight, CodeHeight, CodeBMI, CodeTemperature, CodeSpO2, CodeGlucose, CodeSteps} {
		out = append(out, Vitals[c])
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// importFixture: a patient the owner reaches and a bundle with one heart
// rate from an hour ago.
func (s *Service) importFixture(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
	pid, err := fixturePatient(tx, owner)
	obs := map[string]any{"resourceType": "Observation", "status": "final", "effectiveDateTime": fhirTime(s.now().Add(-time.Hour)),
		"code":          map[string]any{"coding": []map[string]any{{"system": systemLOINC, "code": CodeHeartRate}}},
		"valueQuantity": map[string]any{"value": 72, "system": systemUCUM, "code": "/min"}}
	return map[string]string{"id": itoa(pid)}, map[string]any{"resourceType": "Bundle", "type": "collection", "entry": []map[string]any{{"resource": obs}}}, err
}

func (s *Service) fixtureRx(tx *gorm.DB, owner *accounts.Principal) (*Prescription, error) {
	pid, err := fixturePatient(tx, owner)
	if err != nil {
		return nil, err
	}
	rx := Prescription{PatientID: pid, PrescriberID: owner.UserID, Medicine: "Ramipril", Dose: "5 mg", Times: "08:00", StartOn: dayOf(s.now())}
	return &rx, store.Org(tx, owner.OrgID).Create(&rx).Error
}

func (s *Service) prescriptionFixture(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
	rx, err := s.fixtureRx(tx, owner)
	if err != nil {
		return nil, nil, err
	}
	return map[string]string{"id": itoa(rx.ID)}, nil, nil
}

func (s *Service) doseFixture(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
	rx, err := s.fixtureRx(tx, owner)
	if err != nil {
		return nil, nil, err
	}
	d := Dose{PrescriptionID: rx.ID, PatientID: rx.PatientID, DueAt: s.now().Add(time.Duration(fixtureSeq.Add(1)) * time.Second), Day: dayOf(s.now()), Status: DoseDue}
	if err := store.Org(tx, owner.OrgID).Create(&d).Error; err != nil {
		return nil, nil, err
	}
	return map[string]string{"id": itoa(d.ID)}, map[string]any{"action": "taken"}, nil
}
