/*
 * hashdb_open.c - the hash file opened (created when new, its header
 * checked, a writer's rebuild of the free list and count), and closed.
 *
 * A new file is written header first and its magic last, so a file cut
 * short while being created has no magic and is created again.  The
 * whole of store_map_size is mapped read-only at once; the file grows
 * inside it (hashdb.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/hashdb_impl.h"
#include "util/log.h"
#include "util/mem.h"

static const char magic[8] = "mxshhdb\n";

/* create - a new file: header, a one-entry directory, one empty bucket;
 * the magic is written last (a file cut short before it is created again) */
static int create(struct hashdb *h, char *err, size_t errlen)
{
    struct hdb_header hd;
    struct hdb_bucket b;
    uint32_t slot = 2;
    uint64_t key[2];

    if (h->maxpages < 4 || ftruncate(h->fd, 4 * HDB_PAGE) < 0) {
	snprintf(err, errlen, "%s: cannot create: %s", h->file,
		 h->maxpages < 4 ? "map too small" : strerror(errno));
	return -1;
    }
    h->filepages = 4;
    if (getrandom(key, sizeof(key), 0) != (ssize_t) sizeof(key)) {
	snprintf(err, errlen, "%s: no random key: %s", h->file, strerror(errno));
	return -1;
    }
    memset(&hd, 0, sizeof(hd));
    hd.version = HDB_VERSION;
    hd.page_size = HDB_PAGE;
    hd.endian = HDB_ENDIAN;
    hd.sipkey[0] = key[0];
    hd.sipkey[1] = key[1];
    hd.npages = 3;
    hd.dirword = (uint64_t) 1 << 8;
    hd.generation = 1;
    hdb_init_bucket(&b, 0);
    if (hdb_write(h, PAGE(h, 1), &slot, sizeof(slot)) < 0
	|| hdb_write(h, PAGE(h, 2), &b, HDB_BHDR) < 0
	|| hdb_write(h, h->map + sizeof(magic), (char *) &hd + sizeof(magic),
		     sizeof(hd) - sizeof(magic)) < 0
	|| hdb_write(h, h->map, magic, sizeof(magic)) < 0) {
	snprintf(err, errlen, "%s: cannot create: %s", h->file, strerror(errno));
	return -1;
    }
    return 0;
}

/* header_ok - the header is one this version reads, inside the file */
static int header_ok(struct hashdb *h, char *err, size_t errlen)
{
    struct hdb_header *hd = HDR(h);
    uint32_t *dir;
    int     d;

    if (memcmp(hd->magic, magic, sizeof(magic)) != 0 || hd->endian != HDB_ENDIAN
	|| hd->page_size != HDB_PAGE) {
	snprintf(err, errlen, "%s: not a hash file of this kind of host", h->file);
	return -1;
    }
    if (hd->version != HDB_VERSION) {
	snprintf(err, errlen, "%s: hash file format version %u, this mxshield reads %u",
		 h->file, (unsigned) hd->version, HDB_VERSION);
	return -1;
    }
    if (hd->npages < 3 || hd->npages > h->filepages || hdb_dir(h, &dir, &d) < 0) {
	snprintf(err, errlen, "%s: hash file header is damaged", h->file);
	return -1;
    }
    return 0;
}

struct hashdb *hashdb_open(const char *file, size_t map_size, int readonly,
			           char *err, size_t errlen)
{
    struct hashdb *h = xcalloc(1, sizeof(*h));
    struct stat st;
    int     zero = 1;

    h->file = xstrdup(file);
    h->readonly = readonly;
    h->items = xmalloc(HDB_RECS_MAX * sizeof(*h->items));
    if (getrandom(&h->mix, sizeof(h->mix), GRND_NONBLOCK) != (ssize_t) sizeof(h->mix))
	h->mix = 0x9e3779b97f4a7c15ULL ^ (uint64_t) (uintptr_t) h;
    h->mix |= 1;
    h->map = MAP_FAILED;
    h->mapsize = map_size & ~(size_t) (HDB_PAGE - 1);
    h->maxpages = (uint32_t) (h->mapsize / HDB_PAGE > UINT32_MAX - 1
			      ? UINT32_MAX - 1 : h->mapsize / HDB_PAGE);
    if ((h->fd = open(file, (readonly ? O_RDONLY : O_RDWR | O_CREAT) | O_CLOEXEC, 0600)) < 0) {
	snprintf(err, errlen, "%s: cannot open: %s", file, strerror(errno));
	goto bad;
    }
    /* the writers' lock, taken before the map is read (hashdb_lock would
     * look at the header) */
    if (!readonly) {
	while (flock(h->fd, LOCK_EX) < 0)
	    if (errno != EINTR) {
		snprintf(err, errlen, "%s: cannot lock: %s", file, strerror(errno));
		goto bad;
	    }
	h->locks = 1;
    }
    if (fstat(h->fd, &st) < 0 || h->mapsize < HDB_PAGE) {
	snprintf(err, errlen, "%s: %s", file, h->mapsize < HDB_PAGE ? "map too small"
		 : strerror(errno));
	goto bad;
    }
    h->filepages = (uint32_t) ((size_t) st.st_size / HDB_PAGE > h->maxpages
			       ? h->maxpages : (size_t) st.st_size / HDB_PAGE);
    h->map = mmap(NULL, h->mapsize, PROT_READ, MAP_SHARED, h->fd, 0);	/* hashdb_impl.h */
    if (h->map == MAP_FAILED) {
	snprintf(err, errlen, "%s: cannot map: %s", file, strerror(errno));
	goto bad;
    }
    if (h->filepages >= 1)
	for (size_t i = 0; i < sizeof(struct hdb_header); i++)
	    zero &= h->map[i] == 0;
    if (!readonly && zero && create(h, err, errlen) < 0)
	goto bad;
    if (h->filepages < 1 || header_ok(h, err, errlen) < 0) {
	if (h->filepages < 1)
	    snprintf(err, errlen, "%s: not a hash file (empty)", file);
	goto bad;
    }
    if (!readonly) {
	hdb_apply_intent(h);
	if (hdb_walk(h, 1, err, errlen) < 0)
	    goto bad;
	hashdb_unlock(h);
    }
    return h;
bad:
    h->locks = 0;
    hashdb_close(h);
    return NULL;
}

void    hashdb_close(struct hashdb *h)
{
    if (h == NULL)
	return;
    if (h->map != MAP_FAILED)
	munmap(h->map, h->mapsize);
    if (h->fd >= 0)
	close(h->fd);			/* drops the lock */
    free(h->items);
    free(h->file);
    free(h);
}
