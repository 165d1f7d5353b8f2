/*
 * restrictions.c - what each restriction does, with Postfix's names,
 * codes and wording.
 *
 * One table row per restriction name.  Rows with an "unsupported" reason
 * are Postfix restrictions that mxshield does not evaluate yet (DNS,
 * greylisting, SPF arrive with later parts): a configuration that names
 * one is refused at start-up with that reason, never silently ignored.
 */
#include <ctype.h>
#include <string.h>

#include "maps/access.h"
#include "rules/eval.h"
#include "util/log.h"
#include "util/mem.h"

#define NOT_YET_DNS	"not yet supported by mxshield: keep it in Postfix's main.cf"

/* r_permit - permit */
static enum rstatus r_permit(struct eval *e, const struct rule *r,
			             const char *rn, const char *rc)
{
    (void) rn;
    (void) rc;
    return eval_permit(e, r->name);
}

/* r_reject - reject */
static enum rstatus r_reject(struct eval *e, const struct rule *r,
			             const char *rn, const char *rc)
{
    (void) r;
    return eval_reject(e, e->pol->code.reject, "5.7.1",
		       "<%s>: %s rejected: Access denied", rn, rc);
}

/* r_defer - defer */
static enum rstatus r_defer(struct eval *e, const struct rule *r,
			            const char *rn, const char *rc)
{
    (void) r;
    return eval_reject(e, e->pol->code.defer, "4.3.2",
		       "<%s>: %s rejected: Try again later", rn, rc);
}

/* r_defer_if_permit - defer if the final answer would be permit */
static enum rstatus r_defer_if_permit(struct eval *e, const struct rule *r,
				              const char *rn, const char *rc)
{
    (void) r;
    return eval_defer_if(e, &e->dip, 450, "4.7.0",
			 "<%s>: %s rejected: defer_if_permit requested", rn, rc);
}

/* r_defer_if_reject - turn a later 5xx into a deferral */
static enum rstatus r_defer_if_reject(struct eval *e, const struct rule *r,
				              const char *rn, const char *rc)
{
    (void) r;
    return eval_defer_if(e, &e->dir, 450, "4.7.0",
			 "<%s>: %s rejected: defer_if_reject requested", rn, rc);
}

/* r_permit_mynetworks - client address in mynetworks */
static enum rstatus r_permit_mynetworks(struct eval *e, const struct rule *r,
					        const char *rn, const char *rc)
{
    (void) rn;
    (void) rc;
    int     m = policy_mynetworks(e->pol, e->txn->client_address);

    eval_trace_detail(e, "client %s %s mynetworks", e->txn->client_address,
		      m > 0 ? "is in" : m == 0 ? "is not in" : "lookup failed for");
    if (m < 0) {
	msg_warn("%s: mynetworks lookup error for %s", r->name, e->txn->client_address);
	return eval_server_error(e);
    }
    return m ? eval_permit(e, r->name) : RS_DUNNO;
}

/* r_permit_sasl - the client authenticated with SASL */
static enum rstatus r_permit_sasl(struct eval *e, const struct rule *r,
				          const char *rn, const char *rc)
{
    (void) rn;
    (void) rc;
    if (*e->txn->sasl_username || *e->txn->sasl_method) {
	eval_trace_detail(e, "sasl_username=%s", e->txn->sasl_username);
	return eval_permit(e, r->name);
    }
    eval_trace_detail(e, "not authenticated");
    return RS_DUNNO;
}

/* eval_auth_destination - 1 authorised, 0 not, -1 lookup error */
int     eval_auth_destination(struct eval *e, const char *rcpt)
{
    struct resolved res;
    int     rc;

    buf_init(&res.addr);
    if (addr_resolve(&e->pol->addr, rcpt, &res) < 0) {
	buf_free(&res.addr);
	return -1;
    }
    static const char *const cls[] = {"local", "virtual alias", "virtual mailbox",
    "relay_domains", "remote"};

    eval_trace_detail(e, "<%s> resolves to <%s>: %s%s", rcpt, res.addr.s,
		      cls[res.cls], res.routed ? ", sender-routed" : "");
    if (res.routed && !e->pol->untrust_route
	&& res.cls != RESOLVE_LOCAL)
	rc = 0;
    else
	rc = res.cls != RESOLVE_DEFAULT;
    buf_free(&res.addr);
    return rc;
}

/* auth_dest - permit_auth_destination (rcode 0: permit a recipient that
 * is ours or relayed for) and reject/defer_unauth_destination (refuse the
 * others with rcode); a failed lookup is a 451 either way */
static enum rstatus auth_dest(struct eval *e, const struct rule *r, int rcode,
			              const char *dsn)
{
    if (*e->txn->recipient == 0)
	return RS_DUNNO;
    int     a = eval_auth_destination(e, e->txn->recipient);

    if (a < 0)
	return eval_reject(e, 451, "4.3.0", "<%s>: Temporary lookup failure",
			   e->txn->recipient);
    if (rcode == 0)
	return a ? eval_permit(e, r->name) : RS_DUNNO;
    if (a)
	return RS_DUNNO;
    return eval_reject(e, rcode, dsn, "<%s>: Relay access denied", e->txn->recipient);
}

/* r_permit_auth_dest - recipient is ours or relayed for */
static enum rstatus r_permit_auth_dest(struct eval *e, const struct rule *r,
				               const char *rn, const char *rc)
{
    (void) rn;
    (void) rc;
    return auth_dest(e, r, 0, NULL);
}

/* r_reject_unauth_dest - Relay access denied */
static enum rstatus r_reject_unauth_dest(struct eval *e, const struct rule *r,
				                 const char *rn, const char *rc)
{
    (void) rn;
    (void) rc;
    return auth_dest(e, r, e->pol->code.relay, "5.7.1");
}

/* r_defer_unauth_dest - Relay access denied, temporarily */
static enum rstatus r_defer_unauth_dest(struct eval *e, const struct rule *r,
				                const char *rn, const char *rc)
{
    (void) rn;
    (void) rc;
    return auth_dest(e, r, e->pol->code.defer, "4.7.1");
}

/* eval_invalid_hostaddr - "[addr]" must hold a valid address */
enum rstatus eval_invalid_hostaddr(struct eval *e, const char *name)
{
    size_t  len = strlen(name);
    struct buf a;
    int     ok;

    buf_init(&a);
    if (name[0] == '[' && len > 2 && name[len - 1] == ']')
	buf_append(&a, name + 1, len - 2);
    else
	buf_puts(&a, name);
    ok = valid_hostaddr(a.s);
    buf_free(&a);
    if (ok)
	return RS_DUNNO;
    return eval_reject(e, e->pol->code.bad_name, "5.5.2",
		       "<%s>: Helo command rejected: invalid ip address", name);
}

/* helo_syntax - reject_invalid_helo_hostname, or with fqdn
 * reject_non_fqdn_helo_hostname: no HELO name passes, "[addr]" must hold
 * a valid address, any other name is tested without one trailing dot */
static enum rstatus helo_syntax(struct eval *e, int fqdn)
{
    const char *helo = e->txn->helo_name;

    if (*helo == 0)
	return RS_DUNNO;
    if (*helo == '[')
	return eval_invalid_hostaddr(e, helo);
    const char *t = hostname_untruncate(helo, &e->tmp);

    if (!fqdn && (valid_hostname(t) || valid_hostaddr(t)))
	return RS_DUNNO;
    if (fqdn && valid_hostname(t) && strchr(t, '.'))
	return RS_DUNNO;
    if (fqdn)
	return eval_reject(e, e->pol->code.non_fqdn, "5.5.2",
			   "<%s>: Helo command rejected: need fully-qualified hostname", helo);
    return eval_reject(e, e->pol->code.bad_name, "5.5.2",
		       "<%s>: Helo command rejected: Invalid name", helo);
}

/* r_invalid_helo - HELO name syntax */
static enum rstatus r_invalid_helo(struct eval *e, const struct rule *r,
				           const char *rn, const char *rc)
{
    (void) r;
    (void) rn;
    (void) rc;
    return helo_syntax(e, 0);
}

/* r_non_fqdn_helo - HELO name must be a fully-qualified host name */
static enum rstatus r_non_fqdn_helo(struct eval *e, const struct rule *r,
				            const char *rn, const char *rc)
{
    (void) r;
    (void) rn;
    (void) rc;
    return helo_syntax(e, 1);
}

/* non_fqdn_address - the address must end in @fqdn or @[literal] */
static enum rstatus non_fqdn_address(struct eval *e, const char *addr,
				             const char *rc)
{
    const char *at = strrchr(addr, '@');
    const char *domain = at ? at + 1 : "";
    size_t  dlen = strlen(domain);

    if (*addr == 0)
	return RS_DUNNO;
    if (dlen > 0 && domain[0] == '[' && domain[dlen - 1] == ']')
	return RS_DUNNO;
    const char *t = hostname_untruncate(domain, &e->tmp);

    if (*t && valid_hostname(t) && strchr(t, '.'))
	return RS_DUNNO;
    return eval_reject(e, e->pol->code.non_fqdn, "4.5.2",
		       "<%s>: %s rejected: need fully-qualified address", addr, rc);
}

/* r_non_fqdn_sender - reject_non_fqdn_sender */
static enum rstatus r_non_fqdn_sender(struct eval *e, const struct rule *r,
				              const char *rn, const char *rc)
{
    (void) r;
    (void) rn;
    (void) rc;
    return non_fqdn_address(e, e->txn->sender, "Sender address");
}

/* r_non_fqdn_rcpt - reject_non_fqdn_recipient */
static enum rstatus r_non_fqdn_rcpt(struct eval *e, const struct rule *r,
				            const char *rn, const char *rc)
{
    (void) r;
    (void) rn;
    (void) rc;
    return non_fqdn_address(e, e->txn->recipient, "Recipient address");
}

/* table_outcome - act on a lookup result */
static enum rstatus table_outcome(struct eval *e, const struct rule *r,
				          enum map_result res, const char *value,
				          struct buf *matched, const char *datum,
				          const char *rn, const char *rc, int def_acl)
{
    if (res == MAP_ERROR) {
	msg_warn("%s: table %s: lookup error for \"%s\"", r->name, map_spec(r->map), datum);
	eval_trace_detail(e, "%s: lookup error", map_spec(r->map));
	return eval_reject(e, 451, "4.3.5", "Server configuration error");
    }
    if (res == MAP_NOTFOUND) {
	eval_trace_detail(e, "%s: no match for \"%s\"", map_spec(r->map), datum);
	return RS_DUNNO;
    }
    /* copy: the table may be reloaded while a nested list waits */
    struct buf v;
    int     st;

    buf_init(&v);
    buf_puts(&v, value);
    st = eval_table_result(e, map_spec(r->map), v.s, matched->s, rn, rc, def_acl);
    buf_free(&v);
    return st;
}

/* client_access - a client table looked up with a client name and the
 * address; "shown" names the client in the trace and the reply */
static enum rstatus client_access(struct eval *e, const struct rule *r,
				          const char *name, const char *shown,
				          const char *rc)
{
    struct buf matched;
    const char *value = NULL;
    enum rstatus st;

    buf_init(&matched);
    enum map_result res = access_client(r->map, &e->pol->access, name,
					e->txn->client_address, &value, &matched);

    st = table_outcome(e, r, res, value, &matched, shown, shown, rc, STAGE_CLIENT);
    buf_free(&matched);
    return st;
}

/* r_check_client - check_client_access */
static enum rstatus r_check_client(struct eval *e, const struct rule *r,
				           const char *rn, const char *rc)
{
    (void) rn;
    (void) rc;
    return client_access(e, r, e->client_name, e->namaddr.s, "Client host");
}

/* r_check_service - check_server_port_access, check_policy_context_access:
 * the whole attribute is the key, so one restriction list can tell port 25
 * from submission (an empty attribute, an old Postfix: no match) */
static enum rstatus r_check_service(struct eval *e, const struct rule *r,
				            const char *rn, const char *rc)
{
    struct buf matched;
    const char *value = NULL;
    const char *key = strcmp(r->name, "check_server_port_access") == 0 ?
	e->txn->server_port : e->txn->policy_context;
    enum rstatus st;
    enum map_result res;

    (void) rn;
    (void) rc;
    if (*key == 0) {
	eval_trace_detail(e, "%s: no %s attribute", map_spec(r->map),
			  key == e->txn->server_port ? "server_port" : "policy_context");
	return RS_DUNNO;
    }
    buf_init(&matched);
    buf_puts(&matched, key);
    res = map_get(r->map, key, &value);
    st = table_outcome(e, r, res, value, &matched, key, e->namaddr.s, "Client host",
		       STAGE_CLIENT);
    buf_free(&matched);
    return st;
}

/* r_check_rev_client - check_reverse_client_hostname_access */
static enum rstatus r_check_rev_client(struct eval *e, const struct rule *r,
				               const char *rn, const char *rc)
{
    (void) rn;
    (void) rc;
    return client_access(e, r, e->reverse_name, e->reverse_name, "Unverified Client host");
}

/* r_check_helo - check_helo_access */
static enum rstatus r_check_helo(struct eval *e, const struct rule *r,
				         const char *rn, const char *rc)
{
    struct buf matched;
    const char *value = NULL;
    enum rstatus st;
    const char *helo = e->txn->helo_name;

    (void) rn;
    (void) rc;
    if (*helo == 0)
	return RS_DUNNO;
    buf_init(&matched);
    enum map_result res = access_domain(r->map, &e->pol->access, helo, &value, &matched);

    st = table_outcome(e, r, res, value, &matched, helo, helo, "Helo command", STAGE_HELO);
    buf_free(&matched);
    return st;
}

/* mail_access - check_sender_access / check_recipient_access */
static enum rstatus mail_access(struct eval *e, const struct rule *r,
				        const char *addr, const char *rc, int def_acl)
{
    struct buf matched;
    struct resolved res;
    const char *value = NULL;
    enum rstatus st;
    enum map_result mr;

    buf_init(&matched);
    buf_init(&res.addr);
    res.routed = 0;
    if (*addr == 0) {
	/* the null sender: its own key */
	mr = access_address(r->map, &e->pol->access, "", &value, &matched);
    } else {
	if (addr_resolve(&e->pol->addr, addr, &res) < 0) {
	    buf_free(&matched);
	    buf_free(&res.addr);
	    return eval_reject(e, 451, "4.3.0", "<%s>: Temporary lookup failure", addr);
	}
	if (strcmp(res.addr.s, addr) != 0)
	    eval_trace_detail(e, "<%s> canonicalised to <%s>", addr, res.addr.s);
	mr = access_address(r->map, &e->pol->access, res.addr.s, &value, &matched);
    }
    st = table_outcome(e, r, mr, value, &matched, *addr ? res.addr.s : "<>", addr, rc, def_acl);
    /* Sender-routed recipients are too suspicious for an OK. */
    if (st == RS_OK && res.routed && def_acl == STAGE_RCPT
	&& !e->pol->untrust_route) {
	eval_trace_detail(e, "OK ignored: sender-specified routing in <%s>", addr);
	st = RS_DUNNO;
    }
    buf_free(&matched);
    buf_free(&res.addr);
    return st;
}

/* r_check_sender - check_sender_access */
static enum rstatus r_check_sender(struct eval *e, const struct rule *r,
				           const char *rn, const char *rc)
{
    (void) rn;
    (void) rc;
    return mail_access(e, r, e->txn->sender, "Sender address", STAGE_SENDER);
}

/* r_check_recipient - check_recipient_access */
static enum rstatus r_check_recipient(struct eval *e, const struct rule *r,
				              const char *rn, const char *rc)
{
    (void) rn;
    (void) rc;
    if (*e->txn->recipient == 0)
	return RS_DUNNO;
    return mail_access(e, r, e->txn->recipient, "Recipient address", STAGE_RCPT);
}

/* r_postfix_only - enforced by Postfix itself; no opinion here */
static enum rstatus r_postfix_only(struct eval *e, const struct rule *r,
				           const char *rn, const char *rc)
{
    (void) rn;
    (void) rc;
    eval_trace_detail(e, "%s is enforced by Postfix itself; keep it in main.cf", r->name);
    return RS_DUNNO;
}

static const struct rdef rdefs[] = {
    {"permit", 0, r_permit, NULL, NULL},
    {"reject", 0, r_reject, NULL, NULL},
    {"defer", 0, r_defer, NULL, NULL},
    {"defer_if_permit", 0, r_defer_if_permit, NULL, NULL},
    {"defer_if_reject", 0, r_defer_if_reject, NULL, NULL},
    {"permit_mynetworks", 0, r_permit_mynetworks, NULL, NULL},
    {"permit_sasl_authenticated", 0, r_permit_sasl, NULL, NULL},
    {"permit_auth_destination", 0, r_permit_auth_dest, NULL, NULL},
    {"reject_unauth_destination", 0, r_reject_unauth_dest, NULL, NULL},
    {"defer_unauth_destination", 0, r_defer_unauth_dest, NULL, NULL},
    {"reject_invalid_helo_hostname", 0, r_invalid_helo, NULL, NULL},
    {"reject_invalid_hostname", 0, r_invalid_helo, NULL, NULL},
    {"reject_non_fqdn_helo_hostname", 0, r_non_fqdn_helo, NULL, NULL},
    {"reject_non_fqdn_hostname", 0, r_non_fqdn_helo, NULL, NULL},
    {"reject_non_fqdn_sender", 0, r_non_fqdn_sender, NULL, NULL},
    {"reject_non_fqdn_recipient", 0, r_non_fqdn_rcpt, NULL, NULL},
    {"check_client_access", 1, r_check_client, NULL, NULL},
    {"check_reverse_client_hostname_access", 1, r_check_rev_client, NULL, NULL},
    {"check_helo_access", 1, r_check_helo, NULL, NULL},
    {"check_sender_access", 1, r_check_sender, NULL, NULL},
    {"check_recipient_access", 1, r_check_recipient, NULL, NULL},
    {"check_server_port_access", 1, r_check_service, NULL, NULL},
    {"check_policy_context_access", 1, r_check_service, NULL, NULL},
    {"reject_unauth_pipelining", 0, r_postfix_only, NULL, NULL},
    /* Postfix restrictions that later parts of mxshield provide. */
    {"reject_unknown_address", 0, NULL, NOT_YET_DNS, NULL},
    {"reject_maps_rbl", 0, NULL, NOT_YET_DNS, NULL},
    {"check_client_mx_access", 0, NULL, NOT_YET_DNS, NULL},
    {"check_client_ns_access", 0, NULL, NOT_YET_DNS, NULL},
    {"check_client_a_access", 0, NULL, NOT_YET_DNS, NULL},
    {"check_helo_mx_access", 0, NULL, NOT_YET_DNS, NULL},
    {"check_helo_ns_access", 0, NULL, NOT_YET_DNS, NULL},
    {"check_helo_a_access", 0, NULL, NOT_YET_DNS, NULL},
    {"check_sender_mx_access", 0, NULL, NOT_YET_DNS, NULL},
    {"check_sender_ns_access", 0, NULL, NOT_YET_DNS, NULL},
    {"check_sender_a_access", 0, NULL, NOT_YET_DNS, NULL},
    {"check_recipient_mx_access", 0, NULL, NOT_YET_DNS, NULL},
    {"check_recipient_ns_access", 0, NULL, NOT_YET_DNS, NULL},
    {"check_recipient_a_access", 0, NULL, NOT_YET_DNS, NULL},
    {"permit_mx_backup", 0, NULL, NOT_YET_DNS, NULL},
    {"greylist", 0, r_greylist, NULL, NULL},
    {"reject_banned_client", 0, r_reject_banned_client, NULL, NULL},
    {"check_rate", RDEF_ARG_RATE, r_check_rate, NULL, NULL},
    {"check_spf", 0, r_check_spf, NULL, prefetch_spf},
    {"check_policy_service", 0, NULL,
    "not supported: mxshield is the policy service; list the other service in Postfix's main.cf", NULL},
    {"reject_unverified_sender", 0, NULL, "not supported: address verification is Postfix's (keep it in main.cf)", NULL},
    {"reject_unverified_recipient", 0, NULL, "not supported: address verification is Postfix's (keep it in main.cf)", NULL},
    {"reject_unlisted_sender", 0, NULL, "not supported: needs Postfix's recipient maps (keep it in main.cf)", NULL},
    {"reject_unlisted_recipient", 0, NULL, "not supported: needs Postfix's recipient maps (keep it in main.cf)", NULL},
    {"reject_multi_recipient_bounce", 0, NULL, "not supported yet: keep it in main.cf", NULL},
    {"reject_sender_login_mismatch", 0, NULL, "not supported yet: keep it in main.cf", NULL},
    {"reject_plaintext_session", 0, NULL, "not supported yet: keep it in main.cf", NULL},
    {"permit_tls_clientcerts", 0, NULL, "not supported yet: keep it in main.cf", NULL},
    {"permit_tls_all_clientcerts", 0, NULL, "not supported yet: keep it in main.cf", NULL},
};

/* rdef_find - the row for a restriction name (case-insensitive) */
const struct rdef *rdef_find(const char *name)
{
    const struct rdef *d;

    if ((d = dns_rdef_find(name)) != NULL)
	return d;
    for (size_t i = 0; i < sizeof(rdefs) / sizeof(rdefs[0]); i++)
	if (strcasecmp(rdefs[i].name, name) == 0)
	    return &rdefs[i];
    return NULL;
}

/* rdef_default_acl - what a bare type:table means in a stage's list */
const struct rdef *rdef_default_acl(int stage)
{
    switch (stage) {
    case STAGE_CLIENT:
	return rdef_find("check_client_access");
    case STAGE_HELO:
	return rdef_find("check_helo_access");
    case STAGE_SENDER:
	return rdef_find("check_sender_access");
    case STAGE_RELAY:
    case STAGE_RCPT:
	return rdef_find("check_recipient_access");
    default:
	return NULL;
    }
}
