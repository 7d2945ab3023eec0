package health

import (
	"context"
	"math"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/chart"
)

// Trend is one measure's chart over a period, against the goal's range.
type Trend struct {
	Measure string      `json:"measure"`
	From    time.Time   `json:"from"`
	To      time.Time   `json:"to"`
	Chart   chart.Chart `json:"chart"`
	// Goal is the measure's newest goal, if any.
	Goal *Goal `json:"goal,omitempty"`
}

// Periods a trend may cover.
const (
	PeriodWeek  = "week"
	PeriodMonth = "month"
	PeriodVisit = "visit" // since the last visit
)

// TrendOf charts a patient's measure day by day over the period (a read by
// staff is logged): blood pressure as systolic and diastolic, the goal's
// range as flat lines.
func (s *Service) TrendOf(ctx context.Context, p *accounts.Principal, patientID uint, measureKey, period string) (*Trend, error) {
	if _, err := s.read(ctx, p, patientID, "vital sign trends"); err != nil {
		return nil, err
	}
	m, ok := measures[measureKey]
	if !ok {
		m, measureKey = measures["blood_pressure"], "blood_pressure"
	}
	loc := s.zoneOf(ctx, p.OrgID, patientID)
	to := dayOf(s.now().In(loc))
	from := to.AddDate(0, 0, -6)
	switch period {
	case PeriodMonth:
		from = to.AddDate(0, 0, -29)
	case PeriodVisit:
		var v Visit
		if err := s.db(ctx, p.OrgID).Where("patient_id = ?", patientID).Order("visited_on DESC").Limit(1).Find(&v).Error; err != nil {
			return nil, err
		}
		if v.ID != 0 {
			from = dayOf(v.On)
		}
		if to.Sub(from) > 180*24*time.Hour {
			from = to.AddDate(0, 0, -179)
		}
	}
	codes := []string{m.Code}
	if measureKey == "blood_pressure" {
		codes = append(codes, CodeDiastolic)
	}
	var obs []Observation
	if err := s.db(ctx, p.OrgID).Select("code, at, value").
		Where("patient_id = ? AND code IN ? AND duplicate_of = 0 AND at >= ? AND at < ?", patientID, codes, from.Add(-14*time.Hour), to.AddDate(0, 0, 1).Add(14*time.Hour)).
		Find(&obs).Error; err != nil {
		return nil, err
	}
	var labels []string
	index := map[time.Time]int{}
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		index[d] = len(labels)
		labels = append(labels, d.Format("2006-01-02"))
	}
	nan := func() []float64 {
		v := make([]float64, len(labels))
		for i := range v {
			v[i] = math.NaN()
		}
		return v
	}
	v := Vitals[m.Code]
	ch := chart.Chart{Kind: chart.Line, Title: m.Label, LabelHeader: "Day", ValueName: "Reading", Labels: labels, Decimals: v.Decimals, Unit: unitLabels[v.Unit]}
	for _, code := range codes {
		byCode := make([]Observation, 0, len(obs))
		for _, o := range obs {
			if o.Code == code {
				byCode = append(byCode, o)
			}
		}
		vals := nan()
		for _, dv := range dailyValues(byCode, loc, m.DayMax) {
			if i, ok := index[dv.Day]; ok {
				vals[i] = math.Round(dv.Value*10) / 10
			}
		}
		ch.Series = append(ch.Series, chart.Series{Name: Vitals[code].Name, Values: vals})
	}
	t := &Trend{Measure: measureKey, From: from, To: to}
	var g Goal
	if err := s.db(ctx, p.OrgID).Where("patient_id = ? AND measure = ?", patientID, measureKey).Order("start_on DESC, id DESC").Limit(1).Find(&g).Error; err != nil {
		return nil, err
	}
	if g.ID != 0 {
		t.Goal = &g
		for name, end := range map[string]*float64{"Goal: at most": g.TargetHigh, "Goal: at least": g.TargetLow} {
			if end == nil {
				continue
			}
			flat := make([]float64, len(labels))
			for i := range flat {
				flat[i] = *end
			}
			ch.Series = append(ch.Series, chart.Series{Name: name, Values: flat})
		}
	}
	t.Chart = ch
	return t, nil
}

// SinceVisit is the "since my last visit" summary.
type SinceVisit struct {
	Visit    *Visit    `json:"visit,omitempty"`
	Readings int64     `json:"readings" doc:"readings counted since the visit"`
	Goals    []Goal    `json:"goals"`
	Overall  Adherence `json:"adherence"`
}

// SinceLastVisit summarises the time since the patient's last visit: how
// many readings, each goal from its baseline to now, and adherence (a read
// by staff is logged).
func (s *Service) SinceLastVisit(ctx context.Context, p *accounts.Principal, patientID uint) (*SinceVisit, error) {
	if _, err := s.read(ctx, p, patientID, "since-last-visit summary"); err != nil {
		return nil, err
	}
	out := &SinceVisit{Goals: []Goal{}}
	var v Visit
	if err := s.db(ctx, p.OrgID).Where("patient_id = ?", patientID).Order("visited_on DESC, id DESC").Limit(1).Find(&v).Error; err != nil {
		return nil, err
	}
	if v.ID == 0 {
		return out, nil
	}
	if p.Role == accounts.Customer {
		v.PrivateNotes = ""
	}
	out.Visit = &v
	if err := s.db(ctx, p.OrgID).Model(&Observation{}).Where("patient_id = ? AND duplicate_of = 0 AND at >= ?", patientID, v.On).Count(&out.Readings).Error; err != nil {
		return nil, err
	}
	if err := s.db(ctx, p.OrgID).Where("visit_id = ?", v.ID).Order("id").Find(&out.Goals).Error; err != nil {
		return nil, err
	}
	days := int(s.now().Sub(v.On).Hours()/24) + 1
	_, overall, err := s.adherence(ctx, p.OrgID, patientID, days)
	out.Overall = overall
	return out, err
}
