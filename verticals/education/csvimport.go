package education

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

// What a line of an enrolment CSV will do.
const (
	ImportEnrol   = "enrol"
	ImportAlready = "already"
	ImportError   = "error"
)

// maxImportBytes bounds an uploaded roster (5 000 lines of e-mail and ID
// fit well within it).
const maxImportBytes = 1 << 20

// Reasons a line cannot be enrolled (English keys, translated on the page).
const (
	reasonColumns   = "needs an e-mail address and an external ID"
	reasonEmail     = "is not a valid e-mail address"
	reasonLongID    = "the external ID is longer than 100 characters"
	reasonDuplicate = "repeats an earlier line (same e-mail or external ID)"
	reasonUnknown   = "no student of this organisation has this e-mail"
	reasonIDTaken   = "the external ID is already used for another student of this course"
)

// ImportLine is one line of an enrolment CSV as the preview shows it.
type ImportLine struct {
	Line       int    `json:"line" doc:"Line number in the file, from 1 (the header counts)"`
	Email      string `json:"email"`
	ExternalID string `json:"external_id"`
	Name       string `json:"name,omitempty" doc:"The name in the file (optional column)"`
	Status     string `json:"status" enum:"enrol,already,error"`
	Reason     string `json:"reason,omitempty"`
	// Student is the account's name when the e-mail is known.
	Student string `json:"student,omitempty"`
}

// ImportPreview is what an enrolment CSV would do, line by line.
type ImportPreview struct {
	Lines   []ImportLine `json:"lines"`
	Enrol   int          `json:"enrol"`
	Already int          `json:"already"`
	Errors  int          `json:"errors"`
}

// parseRoster reads a roster CSV: columns email, external_id and an
// optional name, in that order or in any order under a header line naming
// them. Commas or semicolons separate fields (spreadsheets in Italian
// locales write semicolons).
func parseRoster(data []byte) ([]ImportLine, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a spreadsheet's byte-order mark
	first, _, _ := bytes.Cut(data, []byte("\n"))
	r := csv.NewReader(bytes.NewReader(data))
	if bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
		r.Comma = ';'
	}
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	cols := map[string]int{"email": 0, "external_id": 1, "name": 2}
	var out []ImportLine
	for n := 1; ; n++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, errs.InvalidField("file", fmt.Sprintf("is not a readable CSV file (line %d)", pe.Line))
			}
			return nil, err
		}
		line, _ := r.FieldPos(0)
		if n == 1 && isHeader(rec) {
			cols = map[string]int{"email": -1, "external_id": -1, "name": -1}
			for i, h := range rec {
				// "E-mail", "external id", "External_ID" all name a column.
				h = strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.ToLower(strings.TrimSpace(h)))
				if h == "externalid" {
					h = "external_id"
				}
				if _, ok := cols[h]; ok {
					cols[h] = i
				}
			}
			if cols["email"] < 0 || cols["external_id"] < 0 {
				return nil, errs.InvalidField("file", "the header must name the columns email and external_id")
			}
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		get := func(k string) string {
			if i := cols[k]; i >= 0 && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		out = append(out, ImportLine{Line: line, Email: strings.ToLower(get("email")), ExternalID: get("external_id"), Name: get("name")})
		if len(out) > 5000 {
			return nil, errs.InvalidField("file", "has more than 5000 lines")
		}
	}
	if len(out) == 0 {
		return nil, errs.InvalidField("file", "has no students")
	}
	return out, nil
}

func isHeader(rec []string) bool {
	for _, f := range rec {
		if h := strings.ToLower(strings.TrimSpace(f)); h == "email" || h == "e-mail" {
			return true
		}
	}
	return false
}

// PreviewImport says what enrolling the roster in data would do, line by
// line, without changing anything: will enrol, already enrolled, or an
// error with its reason.
func (s *Service) PreviewImport(ctx context.Context, tx *gorm.DB, orgID, courseID uint, data []byte) (*ImportPreview, error) {
	lines, err := parseRoster(data)
	if err != nil {
		return nil, err
	}
	seenEmail, seenID := map[string]bool{}, map[string]bool{}
	out := &ImportPreview{Lines: lines}
	for i := range out.Lines {
		l := &out.Lines[i]
		l.Status, l.Reason = ImportError, ""
		switch a, err := mail.ParseAddress(l.Email); {
		case l.Email == "" || l.ExternalID == "":
			l.Reason = reasonColumns
		case err != nil || a.Address != l.Email:
			l.Reason = reasonEmail
		case len(l.ExternalID) > 100:
			l.Reason = reasonLongID
		case seenEmail[l.Email] || seenID[l.ExternalID]:
			l.Reason = reasonDuplicate
		}
		seenEmail[l.Email], seenID[l.ExternalID] = true, true
		if l.Reason != "" {
			out.Errors++
			continue
		}
		var u accounts.User
		if r := store.Org(tx, orgID).Where("email = ?", l.Email).Limit(1).Find(&u); r.Error != nil {
			return nil, r.Error
		} else if r.RowsAffected == 0 || u.Role != accounts.Customer {
			l.Reason = reasonUnknown
			out.Errors++
			continue
		}
		l.Student = u.Name
		var other Enrolment
		if r := store.Org(tx, orgID).Where("course_id = ? AND external_id = ?", courseID, l.ExternalID).Limit(1).Find(&other); r.Error != nil {
			return nil, r.Error
		} else if r.RowsAffected > 0 && other.StudentID != u.ID {
			l.Reason = reasonIDTaken
			out.Errors++
			continue
		}
		var n int64
		if err := store.Org(tx, orgID).Model(&Enrolment{}).Where("course_id = ? AND student_id = ?", courseID, u.ID).Count(&n).Error; err != nil {
			return nil, err
		}
		if n > 0 {
			l.Status = ImportAlready
			out.Already++
		} else {
			l.Status = ImportEnrol
			out.Enrol++
		}
	}
	return out, nil
}

// ImportRoster enrols the roster in data, all or nothing: with any line in
// error nothing is enrolled and the preview says why. It goes through Enrol,
// so importing the same file again enrols nobody twice.
func (s *Service) ImportRoster(ctx context.Context, orgID, courseID uint, data []byte) (*ImportPreview, *EnrolResult, error) {
	var pv *ImportPreview
	var res *EnrolResult
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		if pv, err = s.PreviewImport(ctx, tx, orgID, courseID, data); err != nil || pv.Errors > 0 {
			return err
		}
		batch := make([]EnrolLine, len(pv.Lines))
		for i, l := range pv.Lines {
			batch[i] = EnrolLine{Email: l.Email, ExternalID: l.ExternalID}
		}
		r, err := s.Enrol(ctx, tx, orgID, courseID, batch)
		res = &r
		return err
	})
	return pv, res, err
}

// --- pages ---

// importData reads the roster of an import form: an uploaded file, else
// the text pasted (or carried over from the preview).
func importData(c *fiber.Ctx) ([]byte, error) {
	if fh, err := c.FormFile("file"); err == nil && fh.Size > 0 {
		if fh.Size > maxImportBytes {
			return nil, errs.InvalidField("file", "is larger than 1 MB")
		}
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return io.ReadAll(io.LimitReader(f, maxImportBytes))
	}
	text := c.FormValue("csv")
	if strings.TrimSpace(text) == "" {
		return nil, errs.InvalidField("file", "choose a CSV file or paste its lines")
	}
	if len(text) > maxImportBytes {
		return nil, errs.InvalidField("file", "is larger than 1 MB")
	}
	return []byte(text), nil
}

func (s *Service) importPage(c *fiber.Ctx) error {
	ctx, p := c.UserContext(), me(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	course, err := s.teaching(ctx, p, id)
	if err != nil {
		return err
	}
	return render(c, "enrol_import", "Import students", map[string]any{"Course": course})
}

// importSubmit previews (action "preview") or enrols (action "import") an
// uploaded roster; an import with any line in error shows the preview
// again and enrols nobody.
func (s *Service) importSubmit(c *fiber.Ctx) error {
	ctx, p := c.UserContext(), me(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	course, err := s.teaching(ctx, p, id)
	if err != nil {
		return err
	}
	data, err := importData(c)
	if err == nil {
		var pv *ImportPreview
		if c.FormValue("action") == "import" {
			var res *EnrolResult
			pv, res, err = s.ImportRoster(ctx, p.OrgID, course.ID, data)
			if err == nil && res != nil {
				return c.Redirect("/m/education/courses/"+strconv.FormatUint(uint64(course.ID), 10)+"?msg=imported", fiber.StatusSeeOther)
			}
		} else {
			pv, err = s.PreviewImport(ctx, s.st.DB.WithContext(ctx), p.OrgID, course.ID, data)
		}
		if err == nil {
			return render(c, "enrol_import", "Check the students to enrol", map[string]any{"Course": course, "Preview": pv, "CSV": string(data),
				"Refused": c.FormValue("action") == "import"})
		}
	}
	if e, ok := errs.As(err); ok && len(e.Fields) > 0 {
		c.Status(fiber.StatusUnprocessableEntity)
		return render(c, "enrol_import", "Import students", map[string]any{"Course": course, "Error": e.Fields[0].Message})
	}
	return err
}
