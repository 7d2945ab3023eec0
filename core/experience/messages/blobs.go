package messages

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// BlobStore keeps attachment bytes outside the database. Keys are chosen
// by the messages service (never from user input) and look like
// "<org>/<yyyy>/<mm>/<32 hex>".
//
// An implementation must make Put atomic (a reader never sees half a
// file), return an error wrapping fs.ErrNotExist from Open for a missing
// key, and treat Delete of a missing key as success. FSStore keeps files
// under the data directory; an S3-compatible store implements the same
// three calls with PutObject, GetObject and DeleteObject (and ListObjectsV2
// for BlobLister) and is set with Options.Blobs.
type BlobStore interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	Delete(ctx context.Context, key string) error
}

// BlobLister is implemented by stores that can list their keys, which lets
// the service remove files no message refers to (SweepOrphans).
type BlobLister interface {
	// List calls fn for every key stored before the given time.
	List(ctx context.Context, before time.Time, fn func(key string) error) error
}

var keyPattern = regexp.MustCompile(`^[0-9]{1,10}/[0-9]{4}/[0-9]{2}/[0-9a-f]{32}$`)

// newKey returns a fresh blob key for an attachment of org.
func newKey(orgID uint, now time.Time) string {
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		panic("messages: no randomness: " + err.Error())
	}
	return fmt.Sprintf("%d/%04d/%02d/%s", orgID, now.Year(), int(now.Month()), hex.EncodeToString(raw[:]))
}

// FSStore is a BlobStore in a directory of the local filesystem (by
// default <data_dir>/blobs). With several portal instances the directory
// must be shared (or use an S3-compatible store).
type FSStore struct {
	Dir string
}

var _ BlobStore = (*FSStore)(nil)
var _ BlobLister = (*FSStore)(nil)

// NewFSStore returns a store in dir, creating it.
func NewFSStore(dir string) (*FSStore, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("messages: blob dir %s: %w", dir, err)
	}
	return &FSStore{Dir: dir}, nil
}

func (f *FSStore) path(key string) (string, error) {
	if !keyPattern.MatchString(key) {
		return "", fmt.Errorf("messages: invalid blob key %q", key)
	}
	return filepath.Join(f.Dir, filepath.FromSlash(key)), nil
}

// Put writes the blob to a temporary file and renames it into place.
func (f *FSStore) Put(_ context.Context, key string, r io.Reader, _ int64, _ string) error {
	p, err := f.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".upload-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o640); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}

// Open opens the blob.
func (f *FSStore) Open(_ context.Context, key string) (io.ReadCloser, error) {
	p, err := f.path(key)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

// Delete removes the blob; a missing blob is not an error.
func (f *FSStore) Delete(_ context.Context, key string) error {
	p, err := f.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// List walks the store for keys of files last modified before before.
func (f *FSStore) List(ctx context.Context, before time.Time, fn func(key string) error) error {
	return filepath.WalkDir(f.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(f.Dir, p)
		if err != nil {
			return nil
		}
		key := filepath.ToSlash(rel)
		if !keyPattern.MatchString(key) {
			return nil // temporary files and anything not ours
		}
		info, err := d.Info()
		if err != nil || !info.ModTime().Before(before) {
			return nil
		}
		return fn(key)
	})
}
