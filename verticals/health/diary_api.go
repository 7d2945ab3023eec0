package health

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

// mealFixture: a meal of the owner (a patient).
func (s *Service) mealFixture(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
	m := Meal{PatientID: owner.UserID, At: s.now().Add(-time.Hour), Text: "Pasta with tomato"}
	err := store.Org(tx, owner.OrgID).Create(&m).Error
	return map[string]string{"id": itoa(m.ID)}, nil, err
}

// sessionFixture: an exercise session of the owner (a patient).
func (s *Service) sessionFixture(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
	e := ExerciseSession{PatientID: owner.UserID, At: s.now().Add(-time.Hour), Type: "walking", Minutes: 30, Intensity: "moderate"}
	err := store.Org(tx, owner.OrgID).Create(&e).Error
	return map[string]string{"id": itoa(e.ID)}, nil, err
}

func (s *Service) registerDiaryAPI(api huma.API, tag func(*huma.Operation)) {
	type daysIn struct {
		ID   uint `path:"id"`
		Days int  `query:"days" minimum:"0" maximum:"90" doc:"local days back, today included (7 by default)"`
	}
	type mealOut struct{ Body *Meal }
	accounts.Register(api, huma.Operation{OperationID: "health-meal-add", Method: http.MethodPost, Path: "/patients/{id}/meals",
		Summary: "Log a meal in the food diary (the patient)", Description: "Free text, optional calories and protein, carbs and fat in grams. 422 names the field of an impossible value.", DefaultStatus: 201},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id"`
			Body NewMeal
		}) (*mealOut, error) {
			m, err := s.AddMeal(ctx, principal(ctx), in.ID, in.Body)
			return &mealOut{Body: m}, err
		}, accounts.Allow(patientOf...), tag, accounts.Matrix(patientFixture(map[string]any{"text": "Salad and bread", "calories": 450})), web.Idempotent())

	type mealsOut struct{ Body []Meal }
	accounts.Register(api, huma.Operation{OperationID: "health-meals", Method: http.MethodGet, Path: "/patients/{id}/meals",
		Summary: "A patient's meals, newest first", Description: "The patient, their teams, break-glass and integrators; a read by staff or an integrator is logged."},
		func(ctx context.Context, in *daysIn) (*mealsOut, error) {
			l, err := s.Meals(ctx, principal(ctx), in.ID, in.Days)
			return &mealsOut{Body: l}, err
		}, accounts.Allow(everyone...), tag, accounts.Matrix(patientFixture(nil)))

	accounts.Register(api, huma.Operation{OperationID: "health-meal-relog", Method: http.MethodPost, Path: "/meals/{id}/again",
		Summary: "Log one of your meals again, now (the patient)", DefaultStatus: 201},
		func(ctx context.Context, in *struct {
			ID uint `path:"id"`
		}) (*mealOut, error) {
			m, err := s.RelogMeal(ctx, principal(ctx), in.ID)
			return &mealOut{Body: m}, err
		}, accounts.Allow(patientOf...), tag, accounts.Matrix(s.mealFixture), web.Idempotent())

	accounts.Register(api, huma.Operation{OperationID: "health-meal-delete", Method: http.MethodDelete, Path: "/meals/{id}",
		Summary: "Delete one of your meals (the patient)", DefaultStatus: 204},
		func(ctx context.Context, in *struct {
			ID uint `path:"id"`
		}) (*struct{}, error) {
			return nil, s.DeleteMeal(ctx, principal(ctx), in.ID)
		}, accounts.Allow(patientOf...), tag, accounts.Matrix(s.mealFixture))

	type sessionOut struct{ Body *ExerciseSession }
	accounts.Register(api, huma.Operation{OperationID: "health-exercise-add", Method: http.MethodPost, Path: "/patients/{id}/exercise",
		Summary: "Log an exercise session (the patient)", Description: "A type, the duration (1 minute to 24 hours), the intensity (low, moderate, vigorous) and optionally the steps. 422 names the field.", DefaultStatus: 201},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id"`
			Body NewSession
		}) (*sessionOut, error) {
			e, err := s.AddSession(ctx, principal(ctx), in.ID, in.Body)
			return &sessionOut{Body: e}, err
		}, accounts.Allow(patientOf...), tag, accounts.Matrix(patientFixture(map[string]any{"type": "walking", "minutes": 30, "intensity": "moderate"})), web.Idempotent())

	type sessionsOut struct{ Body []ExerciseSession }
	accounts.Register(api, huma.Operation{OperationID: "health-exercise", Method: http.MethodGet, Path: "/patients/{id}/exercise",
		Summary: "A patient's exercise sessions, newest first", Description: "The patient, their teams, break-glass and integrators; a read by staff or an integrator is logged."},
		func(ctx context.Context, in *daysIn) (*sessionsOut, error) {
			l, err := s.Sessions(ctx, principal(ctx), in.ID, in.Days)
			return &sessionsOut{Body: l}, err
		}, accounts.Allow(everyone...), tag, accounts.Matrix(patientFixture(nil)))

	accounts.Register(api, huma.Operation{OperationID: "health-exercise-delete", Method: http.MethodDelete, Path: "/exercise/{id}",
		Summary: "Delete one of your exercise sessions (the patient)", DefaultStatus: 204},
		func(ctx context.Context, in *struct {
			ID uint `path:"id"`
		}) (*struct{}, error) {
			return nil, s.DeleteSession(ctx, principal(ctx), in.ID)
		}, accounts.Allow(patientOf...), tag, accounts.Matrix(s.sessionFixture))

	type weekOut struct{ Body *WeekSummary }
	accounts.Register(api, huma.Operation{OperationID: "health-exercise-week", Method: http.MethodGet, Path: "/patients/{id}/exercise/week",
		Summary:     "The last seven days of exercise and steps against the goals",
		Description: "Minutes of exercise per day and in all against the recommended 150 a week; steps per day (the day's counter, else the sessions' steps) against the newest steps goal; as two charts. A read by staff is logged."},
		func(ctx context.Context, in *patientIn) (*weekOut, error) {
			w, err := s.WeeklySummary(ctx, principal(ctx), in.ID)
			return &weekOut{Body: w}, err
		}, accounts.Allow(everyone...), tag, accounts.Matrix(patientFixture(nil)))
}
