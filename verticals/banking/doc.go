// Package banking is the bank vertical: current and savings accounts over
// a ledger, transactions from integrators and CSV statements, automatic
// categorisation, bills and pending payments, budgets, savings goals with
// an automatic monthly plan, and the monthly report. It uses only the
// module contract (core/module) and the public types of core packages.
package banking
