package usbvm

import (
	"compress/gzip"
	"fmt"
	"io"
	"path"
	"strings"
)

// cpioWriter writes a gzip-compressed "newc" cpio archive, the format the kernel unpacks as an
// initramfs. Parent directories are emitted before their contents; every entry is owned by root.
type cpioWriter struct {
	gz   *gzip.Writer
	ino  uint32
	dirs map[string]bool
	size int64 // uncompressed bytes
	err  error
}

func newCPIO(w io.Writer) *cpioWriter {
	gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	return &cpioWriter{gz: gz, dirs: map[string]bool{".": true, "": true}}
}

const (
	modeDir  = 0o040000
	modeFile = 0o100000
	modeLink = 0o120000
	modeChar = 0o020000
)

func (c *cpioWriter) write(b []byte) {
	if c.err != nil {
		return
	}
	n, err := c.gz.Write(b)
	c.size += int64(n)
	c.err = err
}

func (c *cpioWriter) pad() {
	if r := c.size % 4; r != 0 {
		c.write(make([]byte, 4-r))
	}
}

func (c *cpioWriter) entry(name string, mode uint32, data []byte, rmajor, rminor uint32) {
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	if name == "" {
		return
	}
	if mode&0o170000 != modeDir {
		c.Dir(path.Dir(name))
	}
	c.ino++
	nlink := 1
	if mode&0o170000 == modeDir {
		nlink = 2
	}
	// magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor,
	// namesize (with the NUL), check
	c.write(fmt.Appendf(nil, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rmajor, rminor, len(name)+1, 0))
	c.write(append([]byte(name), 0))
	c.pad()
	c.write(data)
	c.pad()
}

// Dir adds a directory (and its parents), once.
func (c *cpioWriter) Dir(name string) {
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	if c.dirs[name] {
		return
	}
	c.Dir(path.Dir(name))
	c.dirs[name] = true
	c.entry(name, modeDir|0o755, nil, 0, 0)
}

// File adds a regular file with permission bits perm.
func (c *cpioWriter) File(name string, perm uint32, data []byte) {
	c.entry(name, modeFile|perm&0o7777, data, 0, 0)
}

// Symlink adds a symbolic link to target.
func (c *cpioWriter) Symlink(name, target string) {
	c.entry(name, modeLink|0o777, []byte(target), 0, 0)
}

// CharDev adds a character device node.
func (c *cpioWriter) CharDev(name string, perm, major, minor uint32) {
	c.entry(name, modeChar|perm&0o7777, nil, major, minor)
}

// Close writes the trailer and flushes the compressor. It returns the first error of any call.
func (c *cpioWriter) Close() error {
	c.entry("TRAILER!!!", 0, nil, 0, 0)
	if c.err != nil {
		return c.err
	}
	return c.gz.Close()
}
