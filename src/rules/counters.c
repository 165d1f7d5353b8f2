/*
 * counters.c - what the engine counts: each definitive answer of a
 * restriction (mxshield_decisions_total, by stage, restriction and action)
 * and each finished evaluation (mxshield_requests_total, by the kind of
 * its final action).  Label values come from fixed tables and from the
 * restriction names of the compiled policy, so their number is bounded.
 */
#include <string.h>
#include <strings.h>

#include "rules/eval.h"
#include "stats/stats.h"

static const char *const stage_labels[STAGE_COUNT] = {
    "client", "helo", "sender", "relay", "recipient", "data",
};

/* eval_count_decision - a restriction gave a definitive answer in stage s */
void    eval_count_decision(const struct eval *e, int s, const struct rule *r, int st)
{
    const char *stage = s >= 0 && s < STAGE_COUNT ? stage_labels[s] : "none";
    const char *what = r == NULL ? "none" : r->def ? r->def->name : r->name;
    const char *action = st == RS_OK ? "permit"
	: e->reply.s && e->reply.s[0] == '4' ? "defer" : "reject";

    stat_inc_l(STAT_DECISIONS, stage, what, action);
}

/* action_kind - the first word of a policy action, from a fixed set */
static const char *action_kind(const char *action)
{
    static const char *const words[] = {
	"OK", "DUNNO", "PREPEND", "HOLD", "DISCARD", "FILTER", "REDIRECT",
	"BCC", "INFO", "WARN", NULL,
    };
    static const char *const kinds[] = {
	"ok", "dunno", "prepend", "hold", "discard", "filter", "redirect",
	"bcc", "info", "warn",
    };

    if (action[0] == '4' || strncasecmp(action, "DEFER", 5) == 0)
	return "defer";
    if (action[0] == '5' || strncasecmp(action, "REJECT", 6) == 0)
	return "reject";
    for (int i = 0; words[i]; i++) {
	size_t  n = strlen(words[i]);

	if (strncasecmp(action, words[i], n) == 0 && (action[n] == 0 || action[n] == ' '))
	    return kinds[i];
    }
    return "other";
}

/* eval_count_result - the evaluation finished with e->action */
void    eval_count_result(const struct eval *e)
{
    stat_inc_l(STAT_REQUESTS, action_kind(e->action.s));
}
