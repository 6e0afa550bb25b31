// Package localblob is CloudFlix's object storage in a local directory, the
// embedded twin of s3blob for single-process mode. It passes the same
// contract suite (blobtest): objects with a content type and an ETag,
// seekable reads, prefix deletion, and multipart uploads whose parts clients
// PUT to presigned URLs, here HMAC-signed and served by PartHandler.
//
// Layout under Options.Dir:
//
//	objects/<key>             the bytes of each object, exactly as stored
//	meta/<key>                its content type, ETag, size and time (JSON)
//	multipart/<id>/upload.json   the key and content type of an open upload
//	multipart/<id>/parts/<n>     the bytes of part n; partmeta/<n> its ETag
//	tmp/                      files being written
//
// It must never let a reader see half an object: every write goes to a file
// under tmp/, is synced, and is renamed into place, so a crash leaves the
// old object or the new one. It must never let a key or an upload id name a
// path outside its directory. One directory belongs to one process: the
// locks that keep an object and its metadata in step are in memory.
package localblob

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cloudflix/cloudflix/internal/admit"
	"github.com/cloudflix/cloudflix/internal/blob"
)

// ErrInvalidKey: the key cannot name an object (empty, absolute, or with an
// empty, "." or ".." segment, a NUL or a backslash). Reads of such a key
// also match blob.ErrNotFound, since no object can be stored under it.
var ErrInvalidKey = errors.New("invalid object key")

const (
	// DefaultMaxPartSize is S3's limit on one part.
	DefaultMaxPartSize = 5 << 30
	// MinPartSize is the smallest part S3 accepts for any part but the last;
	// CompleteMultipart holds uploads to it so a client that works here
	// works against S3 too.
	MinPartSize = 5 << 20
	// MaxParts is the highest part number.
	MaxParts = 10000
	// DefaultPartsPerUpload is twice the parts CloudFlix's clients send at
	// once, so that a retry may overlap the attempt it replaces.
	DefaultPartsPerUpload = 8
	// MinSigningKey is the shortest Options.SigningKey accepted, in bytes.
	MinSigningKey = 32

	maxKeyLen          = 1024 // S3's limit, in bytes
	defaultContentType = "application/octet-stream"
	// staleTemp is how long a file under tmp/ may go unwritten before
	// EnsureBucket takes it for the leftover of a crash.
	staleTemp = time.Hour
)

// Options says where the store lives and how its part URLs look.
type Options struct {
	// Dir is the root folder; EnsureBucket creates it.
	Dir string
	// PartURL is the base URL under which PartHandler is mounted: absolute
	// ("http://localhost:8080/storage/parts"), or a path ("/storage/parts")
	// that clients resolve against the server they talk to.
	PartURL string
	// SigningKey is the HMAC-SHA256 key of presigned part URLs, at least
	// MinSigningKey bytes.
	SigningKey []byte
	// MaxPartSize bounds the bytes of one part PUT (default
	// DefaultMaxPartSize).
	MaxPartSize int64
	// PartsPerUpload bounds the part PUTs under way at once to one upload
	// (default DefaultPartsPerUpload); PartHandler answers more with 429.
	PartsPerUpload int
}

// Store is object storage in a local directory. It is safe for concurrent
// use.
type Store struct {
	objects, meta, uploads, tmp string
	partURL                     string // without a trailing slash
	signingKey                  []byte
	maxPart                     int64
	putting                     *admit.PerKey // part PUTs under way, by upload

	// files serialises writers of one object (or part) with each other and
	// with its readers, so a data file and its sidecar are seen in step.
	files stripes
	// uploadLocks lets part PUTs commit together but not while their
	// upload is being completed or aborted.
	uploadLocks stripes
}

// stripes spreads locks over names by hash: a fixed set of mutexes instead
// of one per name, at the cost of rare needless waits.
type stripes [64]sync.RWMutex

func (s *stripes) of(name string) *sync.RWMutex {
	h := fnv.New32a()
	h.Write([]byte(name))
	return &s[h.Sum32()%uint32(len(s))]
}

// Open checks the options; it touches no file (see EnsureBucket and Ping).
func Open(o Options) (*Store, error) {
	if o.Dir == "" {
		return nil, errors.New("localblob: Dir is required")
	}
	u, err := url.Parse(o.PartURL)
	if err != nil {
		return nil, fmt.Errorf("localblob: part URL %q: %w", o.PartURL, err)
	}
	absolute := (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
	path := u.Scheme == "" && u.Host == "" && strings.HasPrefix(u.Path, "/")
	if (!absolute && !path) || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("localblob: part URL %q: want an absolute http(s) URL or a path starting with /, without a query", o.PartURL)
	}
	if len(o.SigningKey) < MinSigningKey {
		return nil, fmt.Errorf("localblob: signing key of %d bytes, want at least %d", len(o.SigningKey), MinSigningKey)
	}
	if o.MaxPartSize <= 0 {
		o.MaxPartSize = DefaultMaxPartSize
	}
	if o.PartsPerUpload <= 0 {
		o.PartsPerUpload = DefaultPartsPerUpload
	}
	dir := filepath.Clean(o.Dir)
	return &Store{
		objects:    filepath.Join(dir, "objects"),
		meta:       filepath.Join(dir, "meta"),
		uploads:    filepath.Join(dir, "multipart"),
		tmp:        filepath.Join(dir, "tmp"),
		partURL:    strings.TrimRight(o.PartURL, "/"),
		signingKey: append([]byte(nil), o.SigningKey...),
		maxPart:    o.MaxPartSize,
		putting:    admit.NewPerKey(o.PartsPerUpload),
	}, nil
}

// EnsureBucket creates the folders unless they exist, and clears what a
// crash left under tmp/.
func (s *Store) EnsureBucket(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("localblob: ensure folders: %w", err)
	}
	for _, d := range []string{s.objects, s.meta, s.uploads, s.tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("localblob: ensure folders: %w", err)
		}
	}
	entries, err := os.ReadDir(s.tmp)
	if err != nil {
		return fmt.Errorf("localblob: ensure folders: %w", err)
	}
	for _, e := range entries {
		// A file being written is touched with every write; only one
		// untouched for a long time is a crash's leftover.
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleTemp {
			_ = os.RemoveAll(filepath.Join(s.tmp, e.Name()))
		}
	}
	return nil
}

// Ping checks that the folders exist and a file can be written.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("localblob: ping: %w", err)
	}
	for _, d := range []string{s.objects, s.meta, s.uploads} {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("localblob: ping: %w", err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("localblob: ping: %s is not a folder", d)
		}
	}
	f, err := os.CreateTemp(s.tmp, "ping-*")
	if err != nil {
		return fmt.Errorf("localblob: ping: not writable: %w", err)
	}
	f.Close()
	if err := os.Remove(f.Name()); err != nil {
		return fmt.Errorf("localblob: ping: %w", err)
	}
	return nil
}

// checkKey refuses keys that would not stay a path inside objects/.
func checkKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	case len(key) > maxKeyLen:
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidKey, maxKeyLen)
	case strings.ContainsAny(key, "\x00\\"):
		return fmt.Errorf("%w %q: NUL or backslash", ErrInvalidKey, key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch seg {
		case "":
			return fmt.Errorf("%w %q: absolute, or an empty segment", ErrInvalidKey, key)
		case ".", "..":
			return fmt.Errorf("%w %q: a %q segment", ErrInvalidKey, key, seg)
		}
	}
	return nil
}

// readKeyErr is what a read of an invalid key returns: invalid, and so
// certainly not found.
func readKeyErr(err error) error { return fmt.Errorf("%w (%w)", err, blob.ErrNotFound) }

func (s *Store) objectPath(key string) string {
	return filepath.Join(s.objects, filepath.FromSlash(key))
}

func (s *Store) metaPath(key string) string {
	return filepath.Join(s.meta, filepath.FromSlash(key))
}

// sidecar is what is kept beside a data file. Size and ModTime are the data
// file's as written, so a sidecar that does not belong to the data beside
// it (a crash between the two renames) is recognised and not trusted.
type sidecar struct {
	ContentType string `json:"content_type,omitempty"`
	ETag        string `json:"etag"`
	Size        int64  `json:"size"`
	ModTime     int64  `json:"mod_time_unix_nano"`
}

// spooled is a synced temporary file waiting to be renamed into place.
type spooled struct {
	f    *os.File
	size int64
	sum  []byte // md5 of the bytes, when hashed
	mod  time.Time
}

func (p *spooled) discard() {
	p.f.Close()
	os.Remove(p.f.Name())
}

// spool writes r to a new file under tmp/, hashing it, and syncs it. With
// size >= 0 it wants exactly that many bytes.
func (s *Store) spool(ctx context.Context, r io.Reader, size int64) (*spooled, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(s.tmp, "spool-*")
	if err != nil {
		return nil, err
	}
	p := &spooled{f: f}
	h := md5.New()
	src := io.Reader(ctxReader{ctx, r})
	if size >= 0 {
		src = io.LimitReader(src, size)
	}
	n, err := io.Copy(io.MultiWriter(f, h), src)
	if err == nil && size >= 0 && n != size {
		err = fmt.Errorf("read %d bytes, want %d: %w", n, size, io.ErrUnexpectedEOF)
	}
	if err == nil {
		err = p.seal()
	}
	if err != nil {
		p.discard()
		return nil, err
	}
	p.sum = h.Sum(nil)
	return p, nil
}

// seal syncs and closes the file, noting its size and time: a rename keeps
// both, so they identify these bytes in their final place.
func (p *spooled) seal() error {
	if err := p.f.Sync(); err != nil {
		return err
	}
	fi, err := p.f.Stat()
	if err != nil {
		return err
	}
	p.size, p.mod = fi.Size(), fi.ModTime()
	return p.f.Close()
}

// ctxReader stops a long copy once its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// commit renames p to data and writes its sidecar to meta, data first: a
// crash in between leaves a sidecar that no longer matches, which readers
// recognise. With mkdirs it creates the parent folders. The caller holds
// the write lock of the name.
func (s *Store) commit(p *spooled, data, meta string, sc sidecar, mkdirs bool) error {
	sc.Size, sc.ModTime = p.size, p.mod.UnixNano()
	if err := renameInto(p.f.Name(), data, mkdirs); err != nil {
		os.Remove(p.f.Name())
		return err
	}
	return s.writeSidecar(meta, sc, mkdirs)
}

func (s *Store) writeSidecar(path string, sc sidecar, mkdirs bool) error {
	b, err := json.Marshal(sc)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(s.tmp, "meta-*")
	if err != nil {
		return err
	}
	p := &spooled{f: f}
	if _, err := f.Write(b); err != nil {
		p.discard()
		return err
	}
	if err := p.seal(); err != nil {
		p.discard()
		return err
	}
	if err := renameInto(f.Name(), path, mkdirs); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

// renameInto renames src to dst. With mkdirs it creates dst's folder first,
// and again should a concurrent DeletePrefix prune it in between. The
// folder is not synced: a crash may lose the rename, but never shows a
// partial file.
func renameInto(src, dst string, mkdirs bool) error {
	for try := 0; ; try++ {
		if mkdirs {
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
		}
		err := os.Rename(src, dst)
		if err == nil || !mkdirs || try == 3 || !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
}

// describe tells what the open data file f holds, from its sidecar when
// the sidecar matches it and from its bytes otherwise. The caller holds at
// least the read lock of the name.
func describe(f *os.File, fi fs.FileInfo, metaPath string) (sidecar, error) {
	var sc sidecar
	b, err := os.ReadFile(metaPath)
	if err == nil {
		err = json.Unmarshal(b, &sc)
	}
	if err == nil && sc.Size == fi.Size() && sc.ModTime == fi.ModTime().UnixNano() && sc.ETag != "" {
		return sc, nil
	}
	// Only a crash between writing the data and its sidecar gets here; the
	// content type is kept from the previous sidecar, if any.
	h := md5.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, fi.Size())); err != nil {
		return sidecar{}, err
	}
	if sc.ContentType == "" {
		sc.ContentType = defaultContentType
	}
	return sidecar{
		ContentType: sc.ContentType,
		ETag:        hex.EncodeToString(h.Sum(nil)),
		Size:        fi.Size(),
		ModTime:     fi.ModTime().UnixNano(),
	}, nil
}

// notFound reports whether a file-system error means there is nothing at
// the path, including when a folder along it is a file.
func notFound(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// openFile opens the data file at path and describes it, or returns
// blob.ErrNotFound. The caller holds at least the read lock of the name.
func openFile(path, metaPath string) (*os.File, sidecar, error) {
	f, err := os.Open(path)
	if err != nil {
		if notFound(err) {
			return nil, sidecar{}, blob.ErrNotFound
		}
		return nil, sidecar{}, err
	}
	fi, err := f.Stat()
	if err == nil && fi.IsDir() {
		// A folder of longer keys, not an object.
		err = blob.ErrNotFound
	}
	var sc sidecar
	if err == nil {
		sc, err = describe(f, fi, metaPath)
	}
	if err != nil {
		f.Close()
		return nil, sidecar{}, err
	}
	return f, sc, nil
}

// Put stores size bytes from r under key; a size of -1 means unknown.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("localblob: put: %w", err)
	}
	p, err := s.spool(ctx, r, size)
	if err != nil {
		return fmt.Errorf("localblob: put %s: %w", key, err)
	}
	if _, err := s.commitObject(key, p, contentType, hex.EncodeToString(p.sum)); err != nil {
		return fmt.Errorf("localblob: put %s: %w", key, err)
	}
	return nil
}

// commitObject puts p in place as the object under key and returns what
// was recorded about it.
func (s *Store) commitObject(key string, p *spooled, contentType, etag string) (sidecar, error) {
	if contentType == "" {
		contentType = defaultContentType
	}
	sc := sidecar{ContentType: contentType, ETag: etag, Size: p.size, ModTime: p.mod.UnixNano()}
	mu := s.files.of(key)
	mu.Lock()
	defer mu.Unlock()
	return sc, s.commit(p, s.objectPath(key), s.metaPath(key), sc, true)
}

// PutFile stores the local file at path under key.
func (s *Store) PutFile(ctx context.Context, key, path, contentType string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("localblob: put %s from %s: %w", key, path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("localblob: put %s from %s: %w", key, path, err)
	}
	return s.Put(ctx, key, f, fi.Size(), contentType)
}

// object is an open stored object: reads and seeks go straight to its file.
type object struct {
	*os.File
	info blob.ObjectInfo
}

func (o *object) Info() blob.ObjectInfo { return o.info }

func toInfo(key string, sc sidecar) blob.ObjectInfo {
	return blob.ObjectInfo{
		Key:          key,
		Size:         sc.Size,
		ETag:         sc.ETag,
		ContentType:  sc.ContentType,
		LastModified: time.Unix(0, sc.ModTime),
	}
}

// Open opens the object under key for reading at any offset. It returns
// blob.ErrNotFound when there is no such object. The object stays readable
// as it was even if it is replaced or deleted while open.
func (s *Store) Open(ctx context.Context, key string) (blob.Object, error) {
	o, err := s.openObject(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("localblob: open %s: %w", key, err)
	}
	return o, nil
}

func (s *Store) openObject(ctx context.Context, key string) (*object, error) {
	if err := checkKey(key); err != nil {
		return nil, readKeyErr(err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	mu := s.files.of(key)
	mu.RLock()
	defer mu.RUnlock()
	f, sc, err := openFile(s.objectPath(key), s.metaPath(key))
	if err != nil {
		return nil, err
	}
	return &object{File: f, info: toInfo(key, sc)}, nil
}

// Stat describes the object under key, or returns blob.ErrNotFound.
func (s *Store) Stat(ctx context.Context, key string) (blob.ObjectInfo, error) {
	o, err := s.openObject(ctx, key)
	if err != nil {
		return blob.ObjectInfo{}, fmt.Errorf("localblob: stat %s: %w", key, err)
	}
	defer o.Close()
	return o.info, nil
}

// Download copies the object under key to the local file at path, through
// a temporary file beside it, so path never holds a partial download.
func (s *Store) Download(ctx context.Context, key, path string) error {
	o, err := s.openObject(ctx, key)
	if err != nil {
		return fmt.Errorf("localblob: download %s to %s: %w", key, path, err)
	}
	defer o.Close()
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("localblob: download %s to %s: %w", key, path, err)
	}
	// Copying file to file lets the kernel do it without a trip through
	// user space; the context is checked around it.
	_, err = io.Copy(tmp, o.File)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("localblob: download %s to %s: %w", key, path, err)
	}
	return nil
}

// DeletePrefix removes every object whose key starts with prefix, and the
// folders it empties. An empty prefix is refused: it would delete every
// object.
func (s *Store) DeletePrefix(ctx context.Context, prefix string) error {
	if prefix == "" {
		return errors.New("localblob: delete prefix: empty prefix would delete every object")
	}
	// The folder part must be a valid key; the rest is matched as text.
	dirPart := ""
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dirPart = prefix[:i]
		if err := checkKey(dirPart); err != nil {
			return fmt.Errorf("localblob: delete prefix %q: %w", prefix, err)
		}
	}
	if strings.ContainsAny(prefix, "\x00\\") {
		return fmt.Errorf("localblob: delete prefix %q: %w: NUL or backslash", prefix, ErrInvalidKey)
	}
	err := deleteTree(ctx, s.objects, dirPart, prefix, func(key string) error {
		mu := s.files.of(key)
		mu.Lock()
		defer mu.Unlock()
		if err := os.Remove(s.objectPath(key)); err != nil && !notFound(err) {
			return err
		}
		if err := os.Remove(s.metaPath(key)); err != nil && !notFound(err) {
			return err
		}
		return nil
	})
	if err == nil {
		// Sidecars left without data by a crash, and the emptied folders.
		err = deleteTree(ctx, s.meta, dirPart, prefix, func(key string) error {
			mu := s.files.of(key)
			mu.Lock()
			defer mu.Unlock()
			if _, err := os.Lstat(s.objectPath(key)); err == nil {
				return nil // written since the first pass
			}
			if err := os.Remove(s.metaPath(key)); err != nil && !notFound(err) {
				return err
			}
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("localblob: delete prefix %s: %w", prefix, err)
	}
	return nil
}

// deleteTree calls remove for every file under root/dirPart whose key
// starts with prefix, then removes the folders under it that are left
// empty and whose keys start with prefix.
func deleteTree(ctx context.Context, root, dirPart, prefix string, remove func(key string) error) error {
	start := filepath.Join(root, filepath.FromSlash(dirPart))
	var dirs []string
	err := filepath.WalkDir(start, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == start && notFound(err) {
				return fs.SkipDir
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			if path == start {
				if dirPart != "" {
					dirs = append(dirs, key)
				}
				return nil
			}
			if !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return fs.SkipDir
			}
			dirs = append(dirs, key)
			return nil
		}
		if strings.HasPrefix(key, prefix) {
			return remove(key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Deepest first; a folder still holding something stays.
	for i := len(dirs) - 1; i >= 0; i-- {
		if strings.HasPrefix(dirs[i]+"/", prefix) {
			_ = os.Remove(filepath.Join(root, filepath.FromSlash(dirs[i])))
		}
	}
	return nil
}

// Delete removes the objects under keys, and the folders that leaves
// empty. A key with no object, or that cannot name one, is no error.
func (s *Store) Delete(ctx context.Context, keys []string) error {
	folders := map[string]bool{}
	for _, key := range keys {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("localblob: delete: %w", err)
		}
		if checkKey(key) != nil {
			continue
		}
		if err := s.deleteObject(key); err != nil {
			return fmt.Errorf("localblob: delete %s: %w", key, err)
		}
		for dir := path.Dir(key); dir != "." && !folders[dir]; dir = path.Dir(dir) {
			folders[dir] = true
		}
	}
	// Each folder once, deepest first: a folder is longer than those it is
	// in. One still holding something stays, and a writer racing this makes
	// its folder again (renameInto).
	byDepth := slices.SortedFunc(maps.Keys(folders), func(a, b string) int { return len(b) - len(a) })
	for _, dir := range byDepth {
		_ = os.Remove(s.objectPath(dir))
		_ = os.Remove(s.metaPath(dir))
	}
	return nil
}

// deleteObject removes the data file and sidecar of key. A key that names
// a folder of longer keys is no object, and stays.
func (s *Store) deleteObject(key string) error {
	mu := s.files.of(key)
	mu.Lock()
	defer mu.Unlock()
	// Unlink, unlike os.Remove, never removes a folder: one syscall where
	// a stat and a remove would be two.
	err := syscall.Unlink(s.objectPath(key))
	if errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.EPERM) {
		return nil
	}
	if err != nil && !notFound(err) {
		return err
	}
	if err := syscall.Unlink(s.metaPath(key)); err != nil && !notFound(err) && !errors.Is(err, syscall.EISDIR) {
		return err
	}
	return nil
}

// List implements [blob.Store.List]. Entries carry their key, size and
// time; their ETag and content type are left out, which would cost a read
// of each object's sidecar.
func (s *Store) List(ctx context.Context, prefix string, folders bool, fn func(blob.ObjectInfo) error) error {
	if strings.ContainsAny(prefix, "\x00\\") {
		return nil // no key holds these
	}
	dirPart := ""
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dirPart = prefix[:i]
		if checkKey(dirPart) != nil {
			return nil // no key is under such a folder
		}
	}
	keyOf := func(name string) string {
		if dirPart == "" {
			return name
		}
		return dirPart + "/" + name
	}
	var err error
	if folders {
		err = s.listFolder(ctx, dirPart, prefix, keyOf, fn)
	} else {
		err = s.listTree(ctx, dirPart, prefix, fn)
	}
	if err != nil {
		return fmt.Errorf("localblob: list %s: %w", prefix, err)
	}
	return nil
}

// listFolder lists one folder: its objects, and its sub-folders as
// entries whose key ends in "/".
func (s *Store) listFolder(ctx context.Context, dirPart, prefix string, keyOf func(string) string, fn func(blob.ObjectInfo) error) error {
	entries, err := os.ReadDir(s.objectPath(dirPart))
	if notFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		key := keyOf(e.Name())
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		if e.IsDir() {
			err = fn(blob.ObjectInfo{Key: key + "/"})
		} else {
			err = s.listed(e, key, fn)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// listTree lists every object under the folder dirPart whose key starts
// with prefix.
func (s *Store) listTree(ctx context.Context, dirPart, prefix string, fn func(blob.ObjectInfo) error) error {
	start := s.objectPath(dirPart)
	return filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == start && notFound(err) {
				return fs.SkipDir
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == start {
			return nil
		}
		rel, err := filepath.Rel(s.objects, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			if !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		return s.listed(d, key, fn)
	})
}

// listed hands fn the entry of the object file d; a file gone meanwhile
// is skipped.
func (s *Store) listed(d fs.DirEntry, key string, fn func(blob.ObjectInfo) error) error {
	fi, err := d.Info()
	if notFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return fn(blob.ObjectInfo{Key: key, Size: fi.Size(), LastModified: fi.ModTime()})
}
