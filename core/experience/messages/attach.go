package messages

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"path"
	"slices"
	"strings"
	"unicode"

	"github.com/gabriel-vasile/mimetype"

	"github.com/portalkit/portalkit/core/errs"
)

// Upload is a file a person attaches to a message.
type Upload struct {
	// Name is the file name the client gave (only its last element is
	// kept).
	Name string
	// Size is the size the client declared (-1 when unknown); the bytes
	// read are what counts.
	Size   int64
	Reader io.Reader
}

// checked is an upload that passed the limits, held in memory (attachments
// are a few megabytes at most).
type checked struct {
	name        string
	contentType string
	data        []byte
	sha         string
}

// checkUploads enforces the count, size and type limits. The type is
// sniffed from the bytes; what the client declared is not trusted.
func (s *Service) checkUploads(files []Upload) ([]checked, error) {
	if len(files) > s.cfg.AttachmentsPerMessage {
		return nil, errs.InvalidField("files", fmt.Sprintf("at most %d files per message", s.cfg.AttachmentsPerMessage))
	}
	max := int64(s.cfg.AttachmentMaxBytes)
	var out []checked
	for i, f := range files {
		field := fmt.Sprintf("files[%d]", i)
		name := cleanName(f.Name)
		if f.Size > max {
			return nil, tooLarge(field, name, f.Size, max)
		}
		data, err := io.ReadAll(io.LimitReader(f.Reader, max+1))
		if err != nil {
			return nil, errs.Wrap(errs.Invalid, err, "%s: the file could not be read", field)
		}
		if int64(len(data)) > max {
			return nil, tooLarge(field, name, int64(len(data)), max)
		}
		if len(data) == 0 {
			return nil, errs.InvalidField(field, fmt.Sprintf("%q is empty", name))
		}
		mt := mimetype.Detect(data)
		base, _, _ := mime.ParseMediaType(mt.String())
		if !s.typeAllowed(mt, base) {
			return nil, errs.Validation(fmt.Sprintf("%s: files of type %s cannot be sent", field, base),
				errs.FieldError{Field: field, Message: fmt.Sprintf("%q is of type %s, which is not allowed; allowed: %s", name, base, strings.Join(s.cfg.AttachmentTypes, ", ")), Value: base})
		}
		sum := sha256.Sum256(data)
		out = append(out, checked{name: name, contentType: mt.String(), data: data, sha: hex.EncodeToString(sum[:])})
	}
	return out, nil
}

func (s *Service) typeAllowed(mt *mimetype.MIME, base string) bool {
	if slices.Contains(s.cfg.AttachmentTypes, base) {
		return true
	}
	for _, a := range s.cfg.AttachmentTypes {
		if mt.Is(a) {
			return true
		}
	}
	return false
}

func tooLarge(field, name string, size, max int64) error {
	e := errs.New(errs.TooLarge, "the file %q is %s; each file may be at most %s", name, HumanSize(size), HumanSize(max))
	e.Fields = []errs.FieldError{{Field: field, Message: fmt.Sprintf("larger than %s", HumanSize(max))}}
	return e
}

// HumanSize formats a byte count: 512 B, 1.5 KB, 5 MB.
func HumanSize(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return trimZero(fmt.Sprintf("%.1f", float64(n)/1024)) + " KB"
	default:
		return trimZero(fmt.Sprintf("%.1f", float64(n)/(1<<20))) + " MB"
	}
}

func trimZero(s string) string { return strings.TrimSuffix(s, ".0") }

// cleanName keeps the last element of a client's file name, without
// control characters, at most 200 characters.
func cleanName(name string) string {
	name = strings.ReplaceAll(name, `\`, "/")
	name = path.Base(name)
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '"' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "" || name == "." || name == "/" {
		name = "attachment"
	}
	if r := []rune(name); len(r) > 200 {
		name = string(r[len(r)-200:])
	}
	return name
}

// storeBlobs writes the checked uploads to the blob store and returns
// their keys. On error every blob written so far is removed.
func (s *Service) storeBlobs(ctx context.Context, orgID uint, files []checked) ([]string, error) {
	var keys []string
	for _, f := range files {
		key := newKey(orgID, s.now())
		if err := s.blobs.Put(ctx, key, bytes.NewReader(f.data), int64(len(f.data)), f.contentType); err != nil {
			s.removeBlobs(keys)
			return nil, fmt.Errorf("messages: storing attachment: %w", err)
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// removeBlobs deletes blobs whose message was not stored; a failure is
// logged and left to SweepOrphans.
func (s *Service) removeBlobs(keys []string) {
	for _, k := range keys {
		if err := s.blobs.Delete(context.Background(), k); err != nil {
			s.log.Warn("messages: removing an unused attachment", "key", k, "err", err)
		}
	}
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
