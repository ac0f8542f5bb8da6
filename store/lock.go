package store

import (
	"hash/maphash"
	"slices"
	"sync"
)

// The embedded engine runs a conditional update as a query followed by a
// write, without re-checking the condition: two concurrent compare-and-swaps
// on one document can both "succeed" there (measured on FerretDB v1.24.2
// with SQLite: 2 to 3 of 10 concurrent updates of one version landed). The
// embedded engine only ever serves one Atrium process, so serialising the
// read-check-write of one document inside the process closes the gap; on
// MongoDB the condition in the filter is atomic anyway and the lock only
// orders this process's own writers.
type docLocks struct {
	seed    maphash.Seed
	stripes [256]sync.Mutex
}

var locks = docLocks{seed: maphash.MakeSeed()}

// lock locks the document id of collection and returns its unlock.
func (l *docLocks) lock(collection, id string) func() {
	return l.lockAll(collection, []string{id})
}

// lockAll locks the documents ids of collection together and returns the
// unlock of all. Ids share stripes, so the stripes are taken once each and
// in one order, which two callers holding overlapping sets agree on.
func (l *docLocks) lockAll(collection string, ids []string) func() {
	stripes := make([]int, 0, len(ids))
	for _, id := range ids {
		var h maphash.Hash
		h.SetSeed(l.seed)
		h.WriteString(collection)
		h.WriteByte(0)
		h.WriteString(id)
		stripes = append(stripes, int(h.Sum64()%uint64(len(l.stripes))))
	}
	slices.Sort(stripes)
	stripes = slices.Compact(stripes)
	for _, i := range stripes {
		l.stripes[i].Lock()
	}
	return func() {
		for _, i := range stripes {
			l.stripes[i].Unlock()
		}
	}
}
