package automotive

import "time"

// ServicePlan says how often a model needs a service: every IntervalKm
// kilometres or IntervalMonths months, whichever comes first.
type ServicePlan struct {
	IntervalKm     int
	IntervalMonths int
}

// ServiceStatus is where a vehicle stands against its plan.
type ServiceStatus struct {
	// State is "ok", "due" (within the warning window) or "overdue".
	State  string    `json:"state"`
	DueKm  int       `json:"due_km" doc:"Odometer reading at which the next service is due"`
	DueAt  time.Time `json:"due_at" doc:"Date by which the next service is due"`
	KmLeft int       `json:"km_left" doc:"Kilometres left (negative when overdue)"`
	// Reason says which limit triggered: "distance", "time" or "".
	Reason string `json:"reason,omitempty"`
}

// Warning windows: a service is "due" this far ahead of either limit.
const (
	dueWarnKm   = 1000
	dueWarnDays = 30
)

// NextService works out the status from the last service (odometer and
// date; a new car uses its delivery) and the current odometer reading.
func NextService(plan ServicePlan, lastKm int, lastAt time.Time, odometerKm int, now time.Time) ServiceStatus {
	s := ServiceStatus{DueKm: lastKm + plan.IntervalKm, DueAt: lastAt.AddDate(0, plan.IntervalMonths, 0)}
	s.KmLeft = s.DueKm - odometerKm
	switch {
	case plan.IntervalKm > 0 && odometerKm >= s.DueKm:
		s.State, s.Reason = "overdue", "distance"
	case plan.IntervalMonths > 0 && !now.Before(s.DueAt):
		s.State, s.Reason = "overdue", "time"
	case plan.IntervalKm > 0 && s.KmLeft <= dueWarnKm:
		s.State, s.Reason = "due", "distance"
	case plan.IntervalMonths > 0 && !now.Before(s.DueAt.AddDate(0, 0, -dueWarnDays)):
		s.State, s.Reason = "due", "time"
	default:
		s.State = "ok"
	}
	return s
}
