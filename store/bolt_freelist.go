package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
)

// After a crash the newest commit names no freelist (OpenBolt sets
// NoFreelistSync), and bbolt rebuilds it by a consistency check of the whole
// file: every key compared with its neighbours, every page in a Go map — 3 to
// 20 s for 1,000,000 incidents, and the daemon is not ready meanwhile. The
// freelist is only "every page the newest commit does not reach", so before
// bbolt opens such a file, freelistForCrash walks the tree of that commit
// (page headers and the bucket flags of leaf elements, nothing else), writes
// the free pages as a freelist page past the file's end and a meta page that
// names it, and bbolt then reads the freelist as after a clean stop.
//
// The new meta is the newest commit with a freelist added (same root, same
// data), written where the next commit would write its own: the slot of the
// older meta. A crash while writing it leaves a meta whose checksum fails,
// which bbolt skips for the other one, the commit it had before. The
// freelist pages are written and synced before the meta that names them.

// bbolt's on-disk format (version 2), as laid out by go.etcd.io/bbolt's
// internal/common: a page is a 16-byte header (id, flags, count, overflow),
// then its elements; integers are in the machine's byte order.
const (
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	pageHeaderSize   = 16
	branchElemSize   = 16 // pos, ksize uint32; child pgid uint64
	leafElemSize     = 16 // flags, pos, ksize, vsize uint32
	metaSize         = 64 // the meta struct, its checksum last
	metaSumSize      = 56 // the bytes the checksum covers
	pageBranch       = 0x01
	pageLeaf         = 0x02
	pageMeta         = 0x04
	pageFreelist     = 0x10
	leafBucket       = 0x01
	pgidNoFreelist   = ^uint64(0)
	freelistMaxCount = 0xFFFF // a count this high is stored as the first element
)

var ne = binary.NativeEndian

// boltMeta is a meta page's fields.
type boltMeta struct {
	magic, version, pageSize, flags uint32
	root, sequence                  uint64
	freelist, pgid, txid            uint64
	checksum                        uint64
}

func readMeta(page []byte) (boltMeta, bool) {
	if len(page) < pageHeaderSize+metaSize {
		return boltMeta{}, false
	}
	m := page[pageHeaderSize:]
	meta := boltMeta{magic: ne.Uint32(m[0:]), version: ne.Uint32(m[4:]), pageSize: ne.Uint32(m[8:]), flags: ne.Uint32(m[12:]),
		root: ne.Uint64(m[16:]), sequence: ne.Uint64(m[24:]), freelist: ne.Uint64(m[32:]), pgid: ne.Uint64(m[40:]),
		txid: ne.Uint64(m[48:]), checksum: ne.Uint64(m[56:])}
	h := fnv.New64a()
	h.Write(m[:metaSumSize])
	// bbolt's Validate: magic, version, then checksum.
	return meta, meta.magic == boltMagic && meta.version == boltVersion && meta.checksum == h.Sum64()
}

// encode writes m as meta page slot (txid % 2), checksum computed, into page.
func (m *boltMeta) encode(page []byte) {
	ne.PutUint64(page[0:], m.txid%2)
	ne.PutUint16(page[8:], pageMeta)
	b := page[pageHeaderSize:]
	ne.PutUint32(b[0:], m.magic)
	ne.PutUint32(b[4:], m.version)
	ne.PutUint32(b[8:], m.pageSize)
	ne.PutUint32(b[12:], m.flags)
	ne.PutUint64(b[16:], m.root)
	ne.PutUint64(b[24:], m.sequence)
	ne.PutUint64(b[32:], m.freelist)
	ne.PutUint64(b[40:], m.pgid)
	ne.PutUint64(b[48:], m.txid)
	h := fnv.New64a()
	h.Write(b[:metaSumSize])
	m.checksum = h.Sum64()
	ne.PutUint64(b[56:], m.checksum)
}

// newestMeta picks the meta bbolt will use: the higher transaction id if it
// is valid, else the other.
func newestMeta(data []byte) (boltMeta, bool) {
	m0, ok0 := readMeta(data)
	if !ok0 {
		// bbolt then guesses the page size to find meta 1; leave it to bbolt.
		return boltMeta{}, false
	}
	ps := int(m0.pageSize)
	if ps < pageHeaderSize+metaSize || len(data) < 2*ps {
		return boltMeta{}, false
	}
	m1, ok1 := readMeta(data[ps:])
	switch {
	case ok1 && m1.txid > m0.txid:
		return m1, true
	default:
		return m0, true
	}
}

var errBoltCorrupt = errors.New("the file is corrupt")

// reachable marks every page the tree rooted at root uses, overflow pages
// included, in a bitmap of meta.pgid bits. A page out of bounds, of a wrong
// type or reached twice is a corrupt file: bbolt's own rebuild would panic.
type pageWalk struct {
	data     []byte
	pageSize int
	hwm      uint64
	seen     []uint64
}

func (w *pageWalk) mark(id uint64) error {
	if id < 2 || id >= w.hwm {
		return fmt.Errorf("%w: page %d outside 2..%d", errBoltCorrupt, id, w.hwm)
	}
	if w.seen[id/64]&(1<<(id%64)) != 0 {
		return fmt.Errorf("%w: page %d reached twice", errBoltCorrupt, id)
	}
	w.seen[id/64] |= 1 << (id % 64)
	return nil
}

func (w *pageWalk) page(id uint64) error {
	if err := w.mark(id); err != nil {
		return err
	}
	off := int(id) * w.pageSize
	p := w.data[off:]
	flags, count, overflow := ne.Uint16(p[8:]), int(ne.Uint16(p[10:])), uint64(ne.Uint32(p[12:]))
	if ne.Uint64(p) != id {
		return fmt.Errorf("%w: page %d has id %d", errBoltCorrupt, id, ne.Uint64(p))
	}
	for i := uint64(1); i <= overflow; i++ {
		if err := w.mark(id + i); err != nil {
			return err
		}
	}
	end := int(id+overflow+1) * w.pageSize
	if pageHeaderSize+count*leafElemSize > end-off {
		return fmt.Errorf("%w: page %d holds %d elements, more than fit", errBoltCorrupt, id, count)
	}
	switch flags {
	case pageBranch:
		for i := range count {
			e := p[pageHeaderSize+i*branchElemSize:]
			if err := w.page(ne.Uint64(e[8:])); err != nil {
				return err
			}
		}
	case pageLeaf:
		for i := range count {
			eoff := pageHeaderSize + i*leafElemSize
			e := p[eoff:]
			if ne.Uint32(e)&leafBucket == 0 {
				continue
			}
			// A sub-bucket's value starts with its root page; 0 is an
			// inline bucket, held in the value, which has no sub-buckets.
			v := eoff + int(ne.Uint32(e[4:])) + int(ne.Uint32(e[8:]))
			if v+8 > end-off {
				return fmt.Errorf("%w: page %d element %d past the page", errBoltCorrupt, id, i)
			}
			if root := ne.Uint64(p[v:]); root != 0 {
				if err := w.page(root); err != nil {
					return err
				}
			}
		}
	default:
		return fmt.Errorf("%w: page %d has type %#x where a branch or leaf page belongs", errBoltCorrupt, id, flags)
	}
	return nil
}

// crashFreelist computes, for a bbolt file image whose newest commit names
// no freelist, the freelist pages to append and the meta page naming them.
// ok is false when there is nothing to do (a freelist is there) or the file
// is not one this code knows how to read (then bbolt's open decides).
func crashFreelist(data []byte) (freelist []byte, at int64, meta []byte, ok bool, err error) {
	m, valid := newestMeta(data)
	if !valid || m.freelist != pgidNoFreelist {
		return nil, 0, nil, false, nil
	}
	ps := int(m.pageSize)
	if m.pgid < 2 || m.pgid > uint64(len(data)/ps) {
		return nil, 0, nil, false, fmt.Errorf("%w: its high-water mark, page %d, lies past its end (%d bytes)", errBoltCorrupt, m.pgid, len(data))
	}
	w := &pageWalk{data: data, pageSize: ps, hwm: m.pgid, seen: make([]uint64, (m.pgid+63)/64)}
	if err := w.page(m.root); err != nil {
		return nil, 0, nil, false, err
	}
	var free []uint64
	for id := uint64(2); id < m.pgid; id++ {
		if w.seen[id/64]&(1<<(id%64)) == 0 {
			free = append(free, id)
		}
	}
	n := len(free)
	size := pageHeaderSize + 8*n
	if n >= freelistMaxCount {
		size += 8
	}
	pages := (size + ps - 1) / ps
	freelist = make([]byte, pages*ps)
	ne.PutUint64(freelist[0:], m.pgid)
	ne.PutUint16(freelist[8:], pageFreelist)
	ne.PutUint32(freelist[12:], uint32(pages-1))
	ids := freelist[pageHeaderSize:]
	if n >= freelistMaxCount {
		ne.PutUint16(freelist[10:], freelistMaxCount)
		ne.PutUint64(ids, uint64(n))
		ids = ids[8:]
	} else {
		ne.PutUint16(freelist[10:], uint16(n))
	}
	for i, id := range free {
		ne.PutUint64(ids[8*i:], id)
	}
	at = int64(m.pgid) * int64(ps)
	m.freelist, m.pgid, m.txid = m.pgid, m.pgid+uint64(pages), m.txid+1
	meta = make([]byte, ps)
	m.encode(meta)
	return freelist, at, meta, true, nil
}
