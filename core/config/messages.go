package config

import (
	"errors"
	"fmt"
	"mime"
	"time"
)

// Messages configures secure messages between customers and staff
// (core/experience/messages): attachment limits and where attachments are
// stored.
type Messages struct {
	// AttachmentMaxBytes is the largest attachment accepted; a larger one is
	// refused with 413. Keep it below http.body_limit, which bounds a whole
	// request (all attachments of one message together).
	AttachmentMaxBytes int `yaml:"attachment_max_bytes"`
	// AttachmentTypes is the allow-list of content types, checked against
	// the type sniffed from the file's bytes (not the type the client
	// declares). Never add scriptable types (text/html, image/svg+xml).
	AttachmentTypes []string `yaml:"attachment_types"`
	// AttachmentsPerMessage bounds how many files one message carries.
	AttachmentsPerMessage int `yaml:"attachments_per_message"`
	// BlobDir is where the filesystem blob store keeps attachments; empty
	// means <data_dir>/blobs.
	BlobDir string `yaml:"blob_dir"`
	// SweepInterval is how often attachments that no message refers to (a
	// crash between storing a file and committing its message) are removed.
	SweepInterval time.Duration `yaml:"sweep_interval"`
}

// DefaultMessages returns the messages defaults: 5 MiB per file, up to 5
// files, images, PDF and plain text.
func DefaultMessages() Messages {
	return Messages{
		AttachmentMaxBytes:    5 << 20,
		AttachmentTypes:       []string{"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"},
		AttachmentsPerMessage: 5,
		SweepInterval:         time.Hour,
	}
}

// ValidateMessages checks the messages section against the rest of the
// configuration, naming the key.
func (c Config) ValidateMessages() error {
	m := c.Messages
	if m.AttachmentMaxBytes <= 0 {
		return errors.New("config: messages.attachment_max_bytes: must be positive")
	}
	if m.AttachmentMaxBytes > c.HTTP.BodyLimit {
		return fmt.Errorf("config: messages.attachment_max_bytes: %d is above http.body_limit (%d); such a file could never arrive", m.AttachmentMaxBytes, c.HTTP.BodyLimit)
	}
	if m.AttachmentsPerMessage < 1 || m.AttachmentsPerMessage > 20 {
		return errors.New("config: messages.attachments_per_message: must be between 1 and 20")
	}
	if m.SweepInterval < time.Minute {
		return errors.New("config: messages.sweep_interval: must be at least 1m")
	}
	for _, t := range m.AttachmentTypes {
		mt, _, err := mime.ParseMediaType(t)
		if err != nil || mt != t {
			return fmt.Errorf("config: messages.attachment_types: %q is not a plain media type such as image/png", t)
		}
		switch t {
		case "text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/xml", "application/javascript", "text/javascript":
			return fmt.Errorf("config: messages.attachment_types: %q can carry script and is never allowed", t)
		}
	}
	return nil
}
