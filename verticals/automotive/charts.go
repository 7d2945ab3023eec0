package automotive

import (
	"github.com/portalkit/portalkit/core/chart"
	"github.com/portalkit/portalkit/core/money"
)

// vehicleCharts turns a vehicle's history into the charts of its page:
// battery voltage and tyre pressures over the period, distance per week.
func (s *Service) vehicleCharts(h *Diagnostics30) []chart.Chart {
	label := func(ps []Point) []string {
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = p.At.Format("02/01")
		}
		return out
	}
	values := func(ps []Point) []float64 {
		out := make([]float64, len(ps))
		for i, p := range ps {
			out[i] = p.Value
		}
		return out
	}
	battery := chart.Chart{Kind: chart.Line, Title: "Battery voltage", LabelHeader: "Day", ValueName: "Voltage", Unit: "V", Decimals: 1,
		Labels: label(h.Battery), Series: []chart.Series{{Name: "Battery", Values: values(h.Battery)}}}
	tyres := chart.Chart{Kind: chart.Line, Title: "Tyre pressures", LabelHeader: "Day", ValueName: "Pressure", Unit: "kPa",
		Labels: label(h.Tyres["fl"]), Series: []chart.Series{
			{Name: "Front left", Values: values(h.Tyres["fl"])}, {Name: "Front right", Values: values(h.Tyres["fr"])},
			{Name: "Rear left", Values: values(h.Tyres["rl"])}, {Name: "Rear right", Values: values(h.Tyres["rr"])},
		}}
	weeks := make([]string, len(h.WeeklyKm))
	for i, p := range h.WeeklyKm {
		weeks[i] = p.At.Format("02/01")
	}
	distance := chart.Chart{Kind: chart.Bar, Title: "Distance per week", LabelHeader: "Week of", ValueName: "Distance", Unit: "km",
		Labels: weeks, Series: []chart.Series{{Name: "Distance", Values: values(h.WeeklyKm)}}}
	return []chart.Chart{battery, tyres, distance}
}

func moneyEUR(minor int64) money.Amount { return money.New(minor, "EUR") }
