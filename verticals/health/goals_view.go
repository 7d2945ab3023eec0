package health

import "time"

// achievementLabels are the FHIR achievement codes as people read them.
var achievementLabels = map[string]string{
	AchInProgress: "in progress", AchImproving: "improving", AchWorsening: "worsening", AchNoChange: "no change",
	AchAchieved: "achieved", AchSustaining: "sustaining", AchNotAchieved: "not achieved",
}

// GoalRow is a goal as a page shows it; Label and Status are English
// (translated by the page); Target is "range", "max" or "min" with Low and
// High formatted.
type GoalRow struct {
	ID                uint
	Label             string
	Target, Low, High string
	Status, StatusKey string
	Due, Since        time.Time
	Latest, Baseline  string
	Unit              string
	Stalled           bool
}

func goalRows(num func(float64, int) string, goals []Goal, today time.Time) []GoalRow {
	out := make([]GoalRow, 0, len(goals))
	for _, g := range goals {
		m := measures[g.Measure]
		v := Vitals[m.Code]
		unit := unitLabels[v.Unit]
		r := GoalRow{ID: g.ID, Label: m.Label, Status: achievementLabels[g.Achievement], StatusKey: g.Achievement, Due: g.DueOn, Since: g.AchievementSince, Unit: unit,
			Stalled: (g.Achievement == AchNoChange || g.Achievement == AchWorsening) && !g.AchievementSince.After(dayOf(today).AddDate(0, 0, -StallDays))}
		if g.TargetLow != nil {
			r.Low = num(*g.TargetLow, v.Decimals)
		}
		if g.TargetHigh != nil {
			r.High = num(*g.TargetHigh, v.Decimals)
		}
		switch {
		case r.Low != "" && r.High != "":
			r.Target = "range"
		case r.High != "":
			r.Target = "max"
		default:
			r.Target = "min"
		}
		if g.Latest != nil {
			r.Latest = num(*g.Latest, 1)
		}
		if g.Baseline != nil {
			r.Baseline = num(*g.Baseline, 1)
		}
		out = append(out, r)
	}
	return out
}
