/*
 * bancache.c - the active bans this daemon has seen (see bancache.h).
 */
#include <string.h>

#include "ban/bancache.h"

struct slot {
    char    net[BAN_NET_MAX];		/* "" : free */
    struct ban_record r;
};

static struct slot cache[BAN_CACHE_SLOTS];

/* hash - FNV-1a of the network text */
static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u;

    for (; *s; s++)
	h = (h ^ (unsigned char) *s) * 16777619u;
    return h;
}

/* find - the slot holding net, or NULL */
static struct slot *find(const char *net)
{
    uint32_t h = hash(net);

    for (int i = 0; i < BAN_CACHE_PROBE; i++) {
	struct slot *sl = &cache[(h + (uint32_t) i) & (BAN_CACHE_SLOTS - 1)];

	if (strcmp(sl->net, net) == 0)
	    return sl;
    }
    return NULL;
}

void    ban_cache_put(const char *net, const struct ban_record *r)
{
    struct slot *sl = find(net), *victim = NULL;
    uint32_t h = hash(net);

    if (strlen(net) >= BAN_NET_MAX || *net == 0)
	return;
    if (sl == NULL) {
	/* a free slot, else the entry that expires first */
	for (int i = 0; i < BAN_CACHE_PROBE; i++) {
	    struct slot *c = &cache[(h + (uint32_t) i) & (BAN_CACHE_SLOTS - 1)];

	    if (c->net[0] == 0) {
		victim = c;
		break;
	    }
	    if (victim == NULL || c->r.expires < victim->r.expires)
		victim = c;
	}
	sl = victim;
	strcpy(sl->net, net);
    }
    sl->r = *r;
}

void    ban_cache_del(const char *net)
{
    struct slot *sl = find(net);

    if (sl)
	sl->net[0] = 0;
}

int     ban_cache_get(const char *net, int64_t now, struct ban_record *r)
{
    struct slot *sl = find(net);

    if (sl == NULL)
	return 0;
    if (!ban_active(&sl->r, now)) {
	sl->net[0] = 0;
	return 0;
    }
    *r = sl->r;
    return 1;
}

void    ban_cache_clear(void)
{
    memset(cache, 0, sizeof(cache));
}
