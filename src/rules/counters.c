/*
 * counters.c - what the engine counts: each definitive answer of a
 * restriction (mxshield_decisions_total, by stage, restriction and action)
 * and each finished evaluation (mxshield_requests_total, by protocol state and the kind of
 * its final action).  Label values come from fixed tables and from the
 * restriction names of the compiled policy, so their number is bounded.
 */
#include <string.h>
#include <strings.h>

#include "rules/eval.h"
#include "stats/stats.h"
#include "stats/topn.h"

static const char *const stage_labels[STAGE_COUNT] = {
    "client", "helo", "sender", "relay", "recipient", "data",
};

/* eval_count_decision - a restriction gave a definitive answer in stage s */
void    eval_count_decision(const struct eval *e, int s, const struct rule *r, int st)
{
    static const char *const actions[3] = {"permit", "defer", "reject"};
    int     a = st == RS_OK ? 0 : e->reply.s && e->reply.s[0] == '4' ? 1 : 2;
    const char *stage = s >= 0 && s < STAGE_COUNT ? stage_labels[s] : "none";
    const char *what = r == NULL ? "none" : r->def ? r->def->name : r->name;
    const char *values[] = {stage, what, actions[a]};

    if (r == NULL || s < 0 || s >= STAGE_COUNT) {
	stat_add_l(STAT_DECISIONS, 1, values);
	return;
    }
    /* the rule's label set never changes: its series is found once */
    stat_ref_add(&((struct rule *) r)->counted[s][a], STAT_DECISIONS, 1, values);
}

/* eval_count_flag - a defer_if_permit armed earlier became the answer:
 * the decision of the restriction that armed it */
void    eval_count_flag(const struct eval *e, const struct defer_flag *f)
{
    eval_count_decision(e, f->stage, f->armed_by, RS_REJECT);
}

/* the kinds of final action, by index */
enum { KIND_DEFER, KIND_REJECT, KIND_OTHER, KIND_WORDS };
#define KIND_COUNT (KIND_WORDS + 10)

static const char *const kind_names[KIND_COUNT] = {
    "defer", "reject", "other",
    "ok", "dunno", "prepend", "hold", "discard", "filter", "redirect",
    "bcc", "info", "warn",
};

/* action_kind - the kind of a policy action's first word (its index) */
static int action_kind(const char *action)
{
    static const char *const words[KIND_COUNT - KIND_WORDS] = {
	"OK", "DUNNO", "PREPEND", "HOLD", "DISCARD", "FILTER", "REDIRECT",
	"BCC", "INFO", "WARN",
    };

    if (action[0] == '4' || strncasecmp(action, "DEFER", 5) == 0)
	return KIND_DEFER;
    if (action[0] == '5' || strncasecmp(action, "REJECT", 6) == 0)
	return KIND_REJECT;
    for (int i = 0; i < KIND_COUNT - KIND_WORDS; i++) {
	size_t  n = strlen(words[i]);

	if (strncasecmp(action, words[i], n) == 0 && (action[n] == 0 || action[n] == ' '))
	    return KIND_WORDS + i;
    }
    return KIND_OTHER;
}

/* the protocol_state values Postfix sends; anything else counts as "other" */
static const char *const state_names[] = {
    "CONNECT", "EHLO", "HELO", "MAIL", "RCPT", "DATA", "END-OF-MESSAGE", "VRFY", "ETRN",
    "BDAT", "other",
};

#define STATE_COUNT (sizeof(state_names) / sizeof(state_names[0]))

/* state_index - the index of a protocol_state value */
static size_t state_index(const char *state)
{
    for (size_t i = 0; i < STATE_COUNT - 1; i++)
	if (strcasecmp(state, state_names[i]) == 0)
	    return i;
    return STATE_COUNT - 1;
}

/* eval_count_result - the evaluation finished with e->action */
void    eval_count_result(const struct eval *e)
{
    static struct stat_ref refs[STATE_COUNT][KIND_COUNT];
    int     k = action_kind(e->action.s);
    size_t  st = state_index(e->txn->protocol_state);
    const char *values[] = {state_names[st], kind_names[k]};

    stat_ref_add(&refs[st][k], STAT_REQUESTS, 1, values);
    if (k == KIND_REJECT) {
	/* for the dashboard's top rejected clients and senders */
	const char *sender = e->txn->sender;
	const char *state = e->txn->protocol_state;

	topn_add(&top_rejected_clients, e->txn->client_address);
	/* before MAIL FROM there is no sender, not the null sender */
	if (*sender)
	    topn_add(&top_rejected_senders, sender);
	else if (strcasecmp(state, "CONNECT") != 0 && strcasecmp(state, "HELO") != 0
		 && strcasecmp(state, "EHLO") != 0)
	    topn_add(&top_rejected_senders, "<>");
    }
}
