package localblob

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cloudflix/cloudflix/internal/blob"
)

// upload is what upload.json records about an open multipart upload.
type upload struct {
	Key         string    `json:"key"`
	ContentType string    `json:"content_type,omitempty"`
	Created     time.Time `json:"created"`
}

// checkUploadID accepts only ids CreateMultipart could have made, so an id
// from a URL or a caller never names a path elsewhere.
func checkUploadID(id string) error {
	if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
		return blob.ErrNotFound
	}
	return nil
}

func (s *Store) uploadDir(id string) string { return filepath.Join(s.uploads, id) }

func (s *Store) partPath(id string, n int) string {
	return filepath.Join(s.uploads, id, "parts", partName(n))
}

func (s *Store) partMetaPath(id string, n int) string {
	return filepath.Join(s.uploads, id, "partmeta", partName(n))
}

// partName pads part numbers so a listing of the folder reads in order.
func partName(n int) string { return fmt.Sprintf("%05d", n) }

// openUpload reads the record of upload id and checks that it is for key.
// An unknown id, or one for another key, is blob.ErrNotFound, as on S3. The
// caller holds the upload's lock.
func (s *Store) openUpload(key, id string) (upload, error) {
	if err := checkUploadID(id); err != nil {
		return upload{}, err
	}
	b, err := os.ReadFile(filepath.Join(s.uploadDir(id), "upload.json"))
	if err != nil {
		if notFound(err) {
			return upload{}, blob.ErrNotFound
		}
		return upload{}, err
	}
	var u upload
	if err := json.Unmarshal(b, &u); err != nil {
		return upload{}, fmt.Errorf("upload %s: %w", id, err)
	}
	if key != "" && u.Key != key {
		return upload{}, blob.ErrNotFound
	}
	return u, nil
}

// CreateMultipart starts a multipart upload to key and returns its id. The
// upload's folder is built under tmp/ and renamed into place whole.
func (s *Store) CreateMultipart(ctx context.Context, key, contentType string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", fmt.Errorf("localblob: create multipart: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("localblob: create multipart %s: %w", key, err)
	}
	id, err := s.createUpload(upload{Key: key, ContentType: contentType, Created: time.Now().UTC()})
	if err != nil {
		return "", fmt.Errorf("localblob: create multipart %s: %w", key, err)
	}
	return id, nil
}

func (s *Store) createUpload(u upload) (string, error) {
	b, err := json.Marshal(u)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(s.tmp, "upload-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir) // a no-op once renamed
	for _, sub := range []string{"parts", "partmeta"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			return "", err
		}
	}
	f, err := os.Create(filepath.Join(dir, "upload.json"))
	if err != nil {
		return "", err
	}
	p := &spooled{f: f}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return "", err
	}
	if err := p.seal(); err != nil {
		f.Close()
		return "", err
	}
	var raw [16]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails
	id := hex.EncodeToString(raw[:])
	if err := os.Rename(dir, s.uploadDir(id)); err != nil {
		return "", err
	}
	return id, nil
}

// ListParts returns the parts stored so far, in part-number order, so an
// interrupted upload can resume. An unknown (or aborted, or completed)
// upload id gives blob.ErrNotFound.
func (s *Store) ListParts(ctx context.Context, key, uploadID string) ([]blob.Part, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("localblob: list parts of %s: %w", key, err)
	}
	mu := s.uploadLocks.of(uploadID)
	mu.RLock()
	defer mu.RUnlock()
	if _, err := s.openUpload(key, uploadID); err != nil {
		return nil, fmt.Errorf("localblob: list parts of %s: %w", key, err)
	}
	entries, err := os.ReadDir(filepath.Join(s.uploadDir(uploadID), "parts"))
	if err != nil {
		return nil, fmt.Errorf("localblob: list parts of %s: %w", key, err)
	}
	parts := []blob.Part{}
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil || partName(n) != e.Name() {
			continue // not a part
		}
		p, err := s.statPart(uploadID, n)
		if errors.Is(err, blob.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("localblob: list parts of %s: part %d: %w", key, n, err)
		}
		parts = append(parts, p)
	}
	slices.SortFunc(parts, func(a, b blob.Part) int { return a.Number - b.Number })
	return parts, nil
}

// statPart describes part n of upload id. The caller holds the upload's
// lock.
func (s *Store) statPart(id string, n int) (blob.Part, error) {
	mu := s.files.of(partLockName(id, n))
	mu.RLock()
	defer mu.RUnlock()
	f, sc, err := openFile(s.partPath(id, n), s.partMetaPath(id, n))
	if err != nil {
		return blob.Part{}, err
	}
	f.Close()
	return blob.Part{Number: n, Size: sc.Size, ETag: sc.ETag}, nil
}

// partLockName names a part among the names the files locks cover; object
// keys never start with '/'.
func partLockName(id string, n int) string { return "/" + id + "/" + strconv.Itoa(n) }

// putPart stores the size bytes of body as part n of upload id and returns
// its ETag: the hex md5 of its bytes, as S3 answers. With sum (a
// Content-MD5), bytes whose md5 differs are refused with errBadDigest. A
// body that ends early or fails stores nothing.
func (s *Store) putPart(ctx context.Context, id string, n int, body io.Reader, size int64, sum []byte) (string, error) {
	mu := s.uploadLocks.of(id)
	// Refuse early rather than read gigabytes for an upload that is gone.
	mu.RLock()
	_, err := s.openUpload("", id)
	mu.RUnlock()
	if err != nil {
		return "", err
	}
	p, err := s.spool(ctx, body, size)
	if err != nil {
		return "", err
	}
	if sum != nil && !bytes.Equal(sum, p.sum) {
		p.discard()
		return "", errBadDigest
	}
	mu.RLock()
	defer mu.RUnlock()
	if _, err := s.openUpload("", id); err != nil {
		p.discard()
		return "", err
	}
	pmu := s.files.of(partLockName(id, n))
	pmu.Lock()
	defer pmu.Unlock()
	etag := hex.EncodeToString(p.sum)
	// No folders are created: the upload's exist until it is completed or
	// aborted, which the upload's lock holds off.
	if err := s.commit(p, s.partPath(id, n), s.partMetaPath(id, n), sidecar{ETag: etag}, false); err != nil {
		return "", err
	}
	return etag, nil
}

// CompleteMultipart joins parts (in any order; ETags quoted or not) into the
// object under key and describes the result. Every part but the last must
// hold at least MinPartSize bytes, and every ETag must match the stored
// part's, as S3 requires. The object's ETag is S3's multipart one: the md5
// of the parts' md5s, a dash and the number of parts.
func (s *Store) CompleteMultipart(ctx context.Context, key, uploadID string, parts []blob.Part) (blob.ObjectInfo, error) {
	info, err := s.complete(ctx, key, uploadID, parts)
	if err != nil {
		return blob.ObjectInfo{}, fmt.Errorf("localblob: complete multipart %s: %w", key, err)
	}
	return info, nil
}

func (s *Store) complete(ctx context.Context, key, id string, parts []blob.Part) (blob.ObjectInfo, error) {
	if err := checkKey(key); err != nil {
		return blob.ObjectInfo{}, err
	}
	mu := s.uploadLocks.of(id)
	mu.Lock()
	defer mu.Unlock()
	u, err := s.openUpload(key, id)
	if err != nil {
		return blob.ObjectInfo{}, err
	}
	if len(parts) == 0 {
		return blob.ObjectInfo{}, errors.New("no parts given")
	}
	parts = slices.Clone(parts)
	slices.SortFunc(parts, func(a, b blob.Part) int { return a.Number - b.Number })
	for i := 1; i < len(parts); i++ {
		if parts[i].Number == parts[i-1].Number {
			return blob.ObjectInfo{}, fmt.Errorf("part %d given twice", parts[i].Number)
		}
	}
	sums := md5.New()
	var p *spooled
	if len(parts) == 1 {
		p, err = s.takePart(ctx, id, parts[0], sums)
	} else {
		p, err = s.joinParts(ctx, id, parts, sums)
	}
	if err != nil {
		return blob.ObjectInfo{}, err
	}
	etag := fmt.Sprintf("%s-%d", hex.EncodeToString(sums.Sum(nil)), len(parts))
	sc, err := s.commitObject(key, p, u.ContentType, etag)
	if err != nil {
		return blob.ObjectInfo{}, err
	}
	if err := s.removeUpload(id); err != nil {
		return blob.ObjectInfo{}, err
	}
	return toInfo(key, sc), nil
}

// joinParts appends the parts, in order, to a new file under tmp/, and
// their md5s to sums. The caller holds the upload's write lock, so no part
// changes meanwhile.
func (s *Store) joinParts(ctx context.Context, id string, parts []blob.Part, sums io.Writer) (*spooled, error) {
	tmp, err := os.CreateTemp(s.tmp, "complete-*")
	if err != nil {
		return nil, err
	}
	p := &spooled{f: tmp}
	for i, part := range parts {
		f, err := s.checkPart(ctx, id, part, i == len(parts)-1, sums)
		if err != nil {
			p.discard()
			return nil, err
		}
		// File to file: copy_file_range(2), the kernel copies without a
		// trip through user space (and shares the blocks where the file
		// system can).
		_, err = io.Copy(tmp, f)
		f.Close()
		if err != nil {
			p.discard()
			return nil, fmt.Errorf("part %d: %w", part.Number, err)
		}
	}
	if err := p.seal(); err != nil {
		p.discard()
		return nil, err
	}
	return p, nil
}

// takePart makes the one part of an upload its object without copying a
// byte: the part's file, already synced, is linked under tmp/ to be
// committed as the object, and stays a part until the upload is removed,
// so that a failure on the way loses nothing. The caller holds the
// upload's write lock.
func (s *Store) takePart(ctx context.Context, id string, part blob.Part, sums io.Writer) (*spooled, error) {
	f, err := s.checkPart(ctx, id, part, true, sums)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(s.tmp, "complete-*")
	if err != nil {
		return nil, err
	}
	p := &spooled{f: tmp, size: fi.Size(), mod: fi.ModTime()}
	tmp.Close()
	// Its name, for the link: CreateTemp chose one nobody else uses.
	os.Remove(tmp.Name())
	if err := os.Link(s.partPath(id, part.Number), tmp.Name()); err != nil {
		return nil, fmt.Errorf("part %d: %w", part.Number, err)
	}
	return p, nil
}

// checkPart checks one part given to complete against the stored one,
// writes its md5 to sums and returns its file, open. The caller holds the
// upload's write lock.
func (s *Store) checkPart(ctx context.Context, id string, part blob.Part, last bool, sums io.Writer) (*os.File, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if part.Number < 1 || part.Number > MaxParts {
		return nil, fmt.Errorf("part number %d out of 1..%d", part.Number, MaxParts)
	}
	f, sc, err := openFile(s.partPath(id, part.Number), s.partMetaPath(id, part.Number))
	if errors.Is(err, blob.ErrNotFound) {
		return nil, fmt.Errorf("part %d was not uploaded", part.Number)
	}
	if err != nil {
		return nil, fmt.Errorf("part %d: %w", part.Number, err)
	}
	fail := func(err error) (*os.File, error) {
		f.Close()
		return nil, err
	}
	if want := strings.Trim(part.ETag, `"`); want != sc.ETag {
		return fail(fmt.Errorf("part %d: ETag %q does not match the stored part's %q", part.Number, want, sc.ETag))
	}
	if !last && sc.Size < MinPartSize {
		return fail(fmt.Errorf("part %d: %d bytes; every part but the last needs at least %d", part.Number, sc.Size, MinPartSize))
	}
	sum, err := hex.DecodeString(sc.ETag)
	if err != nil {
		return fail(fmt.Errorf("part %d: ETag %q: %w", part.Number, sc.ETag, err))
	}
	sums.Write(sum)
	return f, nil
}

// AbortMultipart discards an upload and its stored parts.
func (s *Store) AbortMultipart(ctx context.Context, key, uploadID string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("localblob: abort multipart %s: %w", key, err)
	}
	mu := s.uploadLocks.of(uploadID)
	mu.Lock()
	defer mu.Unlock()
	if _, err := s.openUpload(key, uploadID); err != nil {
		return fmt.Errorf("localblob: abort multipart %s: %w", key, err)
	}
	if err := s.removeUpload(uploadID); err != nil {
		return fmt.Errorf("localblob: abort multipart %s: %w", key, err)
	}
	return nil
}

// removeUpload moves the upload's folder out of multipart/ in one rename,
// so it is gone at once even if deleting its parts is cut short, then
// deletes it. The caller holds the upload's write lock.
func (s *Store) removeUpload(id string) error {
	trash, err := os.MkdirTemp(s.tmp, "trash-*")
	if err != nil {
		return err
	}
	if err := os.Rename(s.uploadDir(id), filepath.Join(trash, id)); err != nil {
		os.Remove(trash)
		return err
	}
	return os.RemoveAll(trash)
}
