/*
 * session.c - one milter connection: Postfix's SMTP session, message by
 * message.
 *
 * A state machine over the packets in the stream's input:
 *   NEGOTIATE	until OPTNEG: what Postfix offers, what we take;
 *   SESSION	connect, HELO and macros; MAIL starts a message;
 *   MESSAGE	headers, end of headers, body chunks;
 *   EVALUATING	end of message: the checks wait for DNS and for the
 *		signature checks out on the service's pool; the stream is
 *		held and nothing more is parsed until the reply is out;
 *   CLOSING	the output drains, then the connection ends.
 * ABORT ends a message, QUIT_NC the session (the connection stays),
 * QUIT the connection.  Every state change goes through enter().
 *
 * Replies: we take every "no reply" step Postfix offers except MAIL (so
 * that a SASL-authenticated or mynetworks client is accepted before its
 * message is sent) and the body chunks (so that SKIP can stop the body
 * of a message that has nothing to verify).  The replies of the end of
 * message (header deletions, the Authentication-Results header, the
 * quarantine and the decision) are queued and written at once: one
 * write, so no delayed ACK on Postfix's side holds the second half.
 *
 * Limits: milter_packet_size_limit on every packet, and the size and
 * count of headers; a malformed packet or one past a limit closes this
 * connection only (Postfix then applies milter_default_action).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf/config.h"
#include "daemon/daemon.h"
#include "dmarc/msgauth.h"
#include "dns/lookupset.h"
#include "milter/milter.h"
#include "milter/proto.h"
#include "milter/arcseal.h"
#include "milter/sign.h"
#include "dkim/arcseal.h"
#include "dkim/signtable.h"
#include "net/stream.h"
#include "rules/policy.h"
#include "stats/stats.h"
#include "util/log.h"
#include "util/mem.h"

#define MS_READ_SIZE	65536		/* bytes per read(2): one body chunk */
#define MS_WORK		"milter client I/O and evaluation"

enum ms_state {
    MS_NEGOTIATE,
    MS_SESSION,
    MS_MESSAGE,
    MS_EVALUATING,
    MS_CLOSING,
};

static const char *const state_names[] = {
    "negotiate", "session", "message", "evaluating", "closing",
};

struct msession {
    struct msession *prev, *next;
    struct milter_service *svc;
    struct stream *st;
    int     fd;				/* the stream's, for TCP_QUICKACK */
    int     tcp;
    char    peer[128];
    enum ms_state state;
    int     shutdown;			/* close after the current reply */
    uint32_t proto;			/* negotiated SMFIP_ flags */
    uint32_t actions;			/* negotiated SMFIF_ flags */
    /* the SMTP session and the message's envelope */
    char    client_addr[64];
    char    helo[256];
    char    sender[512];
    char    queue_id[64];
    char    auth[128];			/* {auth_authen} */
    /* the message */
    struct milter_conf *conf;		/* of the message in flight */
    struct lookupset *ls;
    struct msgauth *ma;
    struct dkim_msgsign *sign;		/* our own mail: signing it */
    struct arc_seal *seal;		/* others' mail: ARC-sealing it (arc_sign) */
    int     skipping;			/* accepted at MAIL: ignore until the next */
    int     body_needed;		/* signatures to verify: no SKIP */
    size_t  nheaders;
    struct buf out;			/* a reply being built */
};

/* in_message - a message of this session is being received or checked */
static int in_message(enum ms_state st)
{
    return st == MS_MESSAGE || st == MS_EVALUATING;
}

/* enter - the one place a state changes */
static void enter(struct msession *ms, enum ms_state st)
{
    if (msg_verbose > 1)
	msg_info("milter client %s: %s -> %s", ms->peer, state_names[ms->state],
		 state_names[st]);
    if (in_message(ms->state))
	ms->svc->in_message--;
    if (in_message(st))
	ms->svc->in_message++;
    ms->state = st;
}

struct msession *session_next(struct msession *ms)
{
    return ms->next;
}

/* message_end - drop the message's state */
static void message_end(struct msession *ms)
{
    msgauth_free(ms->ma);
    ms->ma = NULL;
    dkim_msgsign_free(ms->sign);
    ms->sign = NULL;
    arc_seal_free(ms->seal);
    ms->seal = NULL;
    if (ms->ls)
	lookupset_free(ms->ls);
    ms->ls = NULL;
    if (ms->conf)
	milter_conf_unref(ms->conf);
    ms->conf = NULL;
    ms->skipping = 0;
    ms->body_needed = 0;
    ms->nheaders = 0;
    ms->sender[0] = 0;
    ms->queue_id[0] = 0;
}

/* session_free - release a connection */
static void session_free(struct msession *ms)
{
    struct milter_service *s = ms->svc;

    message_end(ms);
    s->in_message -= in_message(ms->state);
    stream_free(ms->st);
    buf_free(&ms->out);
    if (ms->prev)
	ms->prev->next = ms->next;
    else
	s->sessions = ms->next;
    if (ms->next)
	ms->next->prev = ms->prev;
    free(ms);
    milter_session_gone(s);
}

/* gone - the stream ended */
static void gone(void *ctx, enum stream_end why, int err)
{
    struct msession *ms = ctx;

    switch (why) {
    case STREAM_DONE:
	break;
    case STREAM_IDLE_TIMEOUT:
	msg_info("milter client %s: idle timeout", ms->peer);
	break;
    case STREAM_WRITE_TIMEOUT:
	msg_info("milter client %s: write timeout", ms->peer);
	break;
    case STREAM_READ_ERROR:
	msg_info("milter client %s: connection error: %s", ms->peer, strerror(err));
	break;
    case STREAM_WRITE_ERROR:
	msg_info("milter client %s: write error: %s", ms->peer, strerror(err));
	break;
    }
    session_free(ms);
}

/* close_after_write - read no more; end once the output is out */
static int close_after_write(struct msession *ms)
{
    enter(ms, MS_CLOSING);
    return stream_close_after_write(ms->st);
}

/* bad - a malformed packet or a limit: log, drop this connection */
static int bad(struct msession *ms, const char *what, const char *param)
{
    msg_warn("milter client %s: %s%s%s; closing connection", ms->peer, what,
	     param ? " > " : "", param ? param : "");
    if (param)
	stat_inc_l(STAT_LIMIT_DROPS, param);
    (void) close_after_write(ms);
    return -1;
}

/* reply - queue one packet */
static void reply(struct msession *ms, int cmd, const void *data, size_t len)
{
    buf_reset(&ms->out);
    milter_put(&ms->out, cmd, data, len);
    stream_write(ms->st, ms->out.s, ms->out.len);
}

/* reply_continue - unless the step was negotiated without a reply */
static void reply_continue(struct msession *ms, uint32_t nr_flag)
{
    if ((ms->proto & nr_flag) == 0)
	reply(ms, SMFIR_CONTINUE, NULL, 0);
}

/* copy - a bounded copy of a protocol string */
static void copy(char *dst, size_t size, const char *s, size_t len)
{
    if (len >= size)
	len = size - 1;
    memcpy(dst, s, len);
    dst[len] = 0;
}

/* do_optneg - what Postfix offers, what we take */
static int do_optneg(struct msession *ms, struct milter_rd *r)
{
    uint32_t version, actions, proto, want;
    struct buf *b = &ms->out;

    if (milter_rd_u32(r, &version) < 0 || milter_rd_u32(r, &actions) < 0
	|| milter_rd_u32(r, &proto) < 0)
	return bad(ms, "malformed OPTNEG", NULL);
    if (version < 2)
	return bad(ms, "milter protocol version below 2", NULL);
    ms->actions = actions & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST);
    want = SMFIP_NORCPT | SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_SKIP
	| SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_HDR | SMFIP_NR_EOH
	| SMFIP_NR_RCPT | SMFIP_NR_DATA | SMFIP_NR_UNKN | SMFIP_HDR_LEADSPC;
    ms->proto = proto & want;
    buf_reset(b);
    milter_put_u32(b, version < MILTER_VERSION ? version : MILTER_VERSION);
    milter_put_u32(b, ms->actions);
    milter_put_u32(b, ms->proto);
    if (ms->actions & SMFIF_SETSYMLIST) {
	/* the macros we read, whatever milter_*_macros say */
	milter_put_u32(b, SMFIM_ENVFROM);
	buf_append(b, "i {auth_authen}", 16);
	milter_put_u32(b, SMFIM_EOM);
	buf_append(b, "i", 2);
    }
    {
	struct buf pkt;

	buf_init(&pkt);
	milter_put(&pkt, SMFIC_OPTNEG, b->s, b->len);
	stream_write(ms->st, pkt.s, pkt.len);
	buf_free(&pkt);
    }
    enter(ms, MS_SESSION);
    return 0;
}

/* do_macro - the macros Postfix sends before a command */
static int do_macro(struct msession *ms, struct milter_rd *r)
{
    int     stage;
    const char *n, *v;
    size_t  nl, vl;

    if (milter_rd_u8(r, &stage) < 0)
	return bad(ms, "malformed MACRO", NULL);
    while (r->p < r->end) {
	if (milter_rd_str(r, &n, &nl) < 0 || milter_rd_str(r, &v, &vl) < 0)
	    return bad(ms, "malformed MACRO", NULL);
	if (nl >= 2 && n[0] == '{' && n[nl - 1] == '}') {
	    n++;
	    nl -= 2;
	}
	if (nl == 1 && n[0] == 'i') {
	    copy(ms->queue_id, sizeof(ms->queue_id), v, vl);
	    for (char *cp = ms->queue_id; *cp; cp++)
		if ((unsigned char) *cp <= ' ' || *cp == 0x7f)
		    *cp = '?';
	}
	else if (nl == 11 && memcmp(n, "auth_authen", 11) == 0)
	    copy(ms->auth, sizeof(ms->auth), v, vl);
    }
    return 0;
}

/* do_connect - the client: name, family, port, address */
static int do_connect(struct msession *ms, struct milter_rd *r)
{
    const char *name, *addr = "";
    size_t  nl, al = 0;
    int     family;
    uint16_t port;

    if (milter_rd_str(r, &name, &nl) < 0 || milter_rd_u8(r, &family) < 0)
	return bad(ms, "malformed CONNECT", NULL);
    if (family != 'U' && (milter_rd_u16(r, &port) < 0 || milter_rd_str(r, &addr, &al) < 0))
	return bad(ms, "malformed CONNECT", NULL);
    if (family == '4' || family == '6')
	copy(ms->client_addr, sizeof(ms->client_addr), addr, al);
    else
	ms->client_addr[0] = 0;
    ms->helo[0] = 0;
    ms->auth[0] = 0;
    reply_continue(ms, SMFIP_NR_CONN);
    return 0;
}

/* ignored - a client whose mail is not checked */
static int ignored(struct msession *ms)
{
    if (!ms->conf->ignore_auth)
	return 0;
    if (ms->auth[0])
	return 1;
    return ms->client_addr[0]
	&& policy_mynetworks(daemon_policy(ms->svc->d), ms->client_addr) == 1;
}

static void wakeup(void *arg);

/* do_mail - a message starts */
static int do_mail(struct msession *ms, struct milter_rd *r)
{
    const char *s;
    size_t  len;

    if (milter_rd_str(r, &s, &len) < 0)
	return bad(ms, "malformed MAIL", NULL);
    message_end(ms);
    if (len >= 2 && s[0] == '<' && s[len - 1] == '>') {
	s++;
	len -= 2;
    }
    copy(ms->sender, sizeof(ms->sender), s, len);
    for (char *cp = ms->sender; *cp; cp++)
	if ((unsigned char) *cp < ' ' || *cp == 0x7f)
	    *cp = '?';			/* one log line, whatever the MTA sent */
    ms->conf = ms->svc->conf;
    ms->conf->refs++;
    enter(ms, MS_MESSAGE);
    ms->sign = milter_sign_start(ms->conf->signer, ms->auth[0] || (ms->client_addr[0]
	&& policy_mynetworks(daemon_policy(ms->svc->d), ms->client_addr) == 1));
    if (ignored(ms)) {
	ms->skipping = 1;
	stat_inc_l(STAT_MILTER_MESSAGES, "skipped");
	reply(ms, ms->sign ? SMFIR_CONTINUE : SMFIR_ACCEPT, NULL, 0);
	return 0;
    }
    ms->ls = lookupset_new(daemon_dns(ms->svc->d));
    lookupset_set_wakeup(ms->ls, wakeup, ms);
    ms->ma = msgauth_new(ms->conf->mc, ms->ls);
    msgauth_envelope(ms->ma, ms->client_addr, ms->helo, ms->sender);
    if (ms->sign == NULL)
	ms->seal = milter_arc_start(ms->conf->arc_signer, ms->conf->arc_key);
    reply(ms, SMFIR_CONTINUE, NULL, 0);
    return 0;
}

/* do_header - one header: name, value (leading space kept) */
static int do_header(struct msession *ms, struct milter_rd *r)
{
    const char *n, *v;
    size_t  nl, vl;

    if (milter_rd_str(r, &n, &nl) < 0 || milter_rd_str(r, &v, &vl) < 0)
	return bad(ms, "malformed HEADER", NULL);
    if (nl + vl > ms->conf->header_limit)
	return bad(ms, "header too large", "milter_header_size_limit");
    if (++ms->nheaders > ms->conf->header_count)
	return bad(ms, "too many headers", "milter_header_count_limit");
    if ((nl == 14 && strncasecmp(n, "DKIM-Signature", 14) == 0)
	|| (nl == 8 && strncasecmp(n, "ARC-Seal", 8) == 0))
	ms->body_needed = 1;
    msgauth_header(ms->ma, n, nl, v, vl);
    reply_continue(ms, SMFIP_NR_HDR);
    return 0;
}

/* log_decision - one line per message */
static void log_decision(struct msession *ms)
{
    struct buf ar;

    buf_init(&ar);
    msgauth_ar_value(ms->ma, &ar, " ");
    msg_info("%s: milter client %s: from=<%s> action=%s: %s; Authentication-Results:%s",
	     ms->queue_id[0] ? ms->queue_id : "NOQUEUE", ms->peer, ms->sender,
	     msgauth_action_name(msgauth_action(ms->ma)), msgauth_reason(ms->ma), ar.s);
    buf_free(&ar);
}

/* answer_eom - the end-of-message replies, in one write */
static void answer_eom(struct msession *ms)
{
    struct msgauth *m = ms->ma;
    enum msgauth_action a = msgauth_action(m);
    struct buf *b = &ms->out, pkt;
    const char *name;
    unsigned index;

    log_decision(ms);
    stat_inc_l(STAT_MILTER_MESSAGES, msgauth_action_name(a));
    stat_inc_l(STAT_MILTER_DMARC, msgauth_dmarc_result(m));
    ms->svc->messages++;
    buf_init(&pkt);
    if (a == MSGAUTH_REJECT || a == MSGAUTH_TEMPFAIL) {
	const char *text = msgauth_reply(m);

	milter_put(&pkt, SMFIR_REPLYCODE, text, strlen(text) + 1);
    } else {
	if (ms->actions & SMFIF_CHGHDRS) {
	    for (size_t i = 0; msgauth_delete(m, i, &name, &index); i++) {
		buf_reset(b);
		milter_put_u32(b, index);
		buf_append(b, name, strlen(name) + 1);
		buf_append(b, "", 1);
		milter_put(&pkt, SMFIR_CHGHEADER, b->s, b->len);
	    }
	}
	if (ms->actions & SMFIF_ADDHDRS) {
	    buf_reset(b);
	    milter_put_u32(b, 0);
	    buf_append(b, "Authentication-Results", 23);
	    msgauth_ar_value(m, b, "\n\t");
	    if ((ms->proto & SMFIP_HDR_LEADSPC) == 0) {
		/* Postfix adds the space itself */
		memmove(b->s + 27, b->s + 28, b->len - 28);
		b->len--;
	    }
	    buf_append(b, "", 1);
	    milter_put(&pkt, SMFIR_INSHEADER, b->s, b->len);
	}
	if (a == MSGAUTH_QUARANTINE && (ms->actions & SMFIF_QUARANTINE)) {
	    const char *why = msgauth_reason(m);

	    milter_put(&pkt, SMFIR_QUARANTINE, why, strlen(why) + 1);
	}
	milter_sign_eom(ms->sign, ms->queue_id[0] ? ms->queue_id : "NOQUEUE", ms->peer,
			ms->proto, ms->actions, &pkt);
	milter_arc_eom(ms->seal, m, ms->queue_id[0] ? ms->queue_id : "NOQUEUE", ms->peer,
		       ms->proto, ms->actions, &pkt);
	milter_put(&pkt, SMFIR_CONTINUE, NULL, 0);
    }
    stream_write(ms->st, pkt.s, pkt.len);
    buf_free(&pkt);
    message_end(ms);
    enter(ms, MS_SESSION);
}

static int parse(struct msession *ms);

/* wakeup - an answer the checks waited for arrived */
static void wakeup(void *arg)
{
    struct msession *ms = arg;
    struct daemon_work w;

    if (ms->state != MS_EVALUATING || !msgauth_finish(ms->ma))
	return;
    daemon_work_begin(&w, MS_WORK);
    answer_eom(ms);
    if (ms->shutdown)
	(void) close_after_write(ms);
    else if (parse(ms) >= 0 && stream_flush(ms->st) == 0
	     && (ms->state == MS_SESSION || ms->state == MS_MESSAGE))
	(void) stream_resume(ms->st);
    daemon_work_end(&w);
}

/* do_eom - the end of the message: decide now, or wait for DNS */
static int do_eom(struct msession *ms)
{
    if (ms->skipping || ms->ma == NULL) {
	struct buf pkt;

	buf_init(&pkt);
	milter_sign_eom(ms->sign, ms->queue_id[0] ? ms->queue_id : "NOQUEUE", ms->peer,
			ms->proto, ms->actions, &pkt);
	milter_put(&pkt, SMFIR_CONTINUE, NULL, 0);
	stream_write(ms->st, pkt.s, pkt.len);
	buf_free(&pkt);
	message_end(ms);
	enter(ms, MS_SESSION);
	return 0;
    }
    /* the pool pays only when the loop has other messages to serve
     * meanwhile; a lone message's checks are cheaper here than the
     * hand-over to a thread and back */
    if (ms->svc->pool && ms->svc->in_message > 1)
	msgauth_set_pool(ms->ma, ms->svc->pool, wakeup, ms);
    if (!msgauth_finish(ms->ma)) {
	enter(ms, MS_EVALUATING);
	stream_hold(ms->st);
	return 0;
    }
    answer_eom(ms);
    return 0;
}

/* dispatch - one packet */
static int dispatch(struct msession *ms, int cmd, const char *data, size_t len)
{
    struct milter_rd r = {data, data + len};
    int     in_msg = ms->state == MS_MESSAGE && !ms->skipping && ms->ma;

    if (ms->state == MS_NEGOTIATE) {
	if (cmd != SMFIC_OPTNEG)
	    return bad(ms, "a command before OPTNEG", NULL);
	return do_optneg(ms, &r);
    }
    switch (cmd) {
    case SMFIC_OPTNEG:
	/* after QUIT_NC the MTA may negotiate the next session afresh */
	message_end(ms);
	return do_optneg(ms, &r);
    case SMFIC_MACRO:
	return do_macro(ms, &r);
    case SMFIC_CONNECT:
	message_end(ms);
	enter(ms, MS_SESSION);
	return do_connect(ms, &r);
    case SMFIC_HELO:{
	    const char *h;
	    size_t  hl;

	    if (milter_rd_str(&r, &h, &hl) < 0)
		return bad(ms, "malformed HELO", NULL);
	    copy(ms->helo, sizeof(ms->helo), h, hl);
	    reply_continue(ms, SMFIP_NR_HELO);
	    return 0;
	}
    case SMFIC_MAIL:
	return do_mail(ms, &r);
    case SMFIC_RCPT:
	reply_continue(ms, SMFIP_NR_RCPT);
	return 0;
    case SMFIC_DATA:
	reply_continue(ms, SMFIP_NR_DATA);
	return 0;
    case SMFIC_UNKNOWN:
	reply_continue(ms, SMFIP_NR_UNKN);
	return 0;
    case SMFIC_HEADER:
	if (ms->sign && ms->state == MS_MESSAGE)
	    milter_sign_header(ms->sign, data, len);
	if (ms->seal && ms->state == MS_MESSAGE)
	    milter_arc_header(ms->seal, data, len);
	if (!in_msg) {
	    reply_continue(ms, SMFIP_NR_HDR);
	    return 0;
	}
	return do_header(ms, &r);
    case SMFIC_EOH:
	if (in_msg)
	    msgauth_eoh(ms->ma);
	reply_continue(ms, SMFIP_NR_EOH);
	return 0;
    case SMFIC_BODY:
	if (ms->sign && ms->state == MS_MESSAGE)
	    dkim_msgsign_body(ms->sign, data, len);
	if (ms->seal && ms->state == MS_MESSAGE)
	    arc_seal_body(ms->seal, data, len);
	if (in_msg && ms->body_needed) {
	    msgauth_body(ms->ma, data, len);
	    reply(ms, SMFIR_CONTINUE, NULL, 0);
	} else {
	    /* nothing to verify in it: Postfix may skip the rest (unless we sign) */
	    reply(ms, (ms->proto & SMFIP_SKIP) && !ms->sign && !ms->seal ? SMFIR_SKIP
		  : SMFIR_CONTINUE,
		  NULL, 0);
	}
	return 0;
    case SMFIC_BODYEOB:
	if (in_msg && len > 0 && ms->body_needed)
	    msgauth_body(ms->ma, data, len);	/* libmilter's EOB with data */
	if (ms->sign && ms->state == MS_MESSAGE && len > 0)
	    dkim_msgsign_body(ms->sign, data, len);
	if (ms->seal && ms->state == MS_MESSAGE && len > 0)
	    arc_seal_body(ms->seal, data, len);
	return do_eom(ms);
    case SMFIC_ABORT:
	message_end(ms);
	enter(ms, MS_SESSION);
	return 0;
    case SMFIC_QUIT_NC:
	message_end(ms);
	ms->client_addr[0] = ms->helo[0] = ms->auth[0] = 0;
	enter(ms, MS_SESSION);
	return 0;
    case SMFIC_QUIT:
	message_end(ms);
	return close_after_write(ms) < 0 ? -1 : 1;
    default:
	return bad(ms, "unknown command", NULL);
    }
}

/*
 * parse - handle the complete packets in the input.  0, 1 (stop: closing
 * or waiting), or -1 when the session was freed.
 */
static int parse(struct msession *ms)
{
    size_t  len;
    char   *in;

    while (ms->state != MS_EVALUATING && ms->state != MS_CLOSING) {
	int     cmd, rc;
	const char *data;
	size_t  dlen;
	long    n;

	in = stream_in(ms->st, &len);
	n = milter_packet(in, len, ms->svc->conf->packet_limit, &cmd, &data, &dlen);
	if (n == 0)
	    return 0;
	if (n < 0) {
	    if (len >= 4 && in[0] == 0 && in[1] == 0 && in[2] == 0 && in[3] == 0)
		return bad(ms, "a packet of length 0", NULL);
	    return bad(ms, "packet too large", "milter_packet_size_limit");
	}
	/* consumed first: data stays valid until the next read, and the
	 * session may be gone when dispatch returns */
	stream_consume(ms->st, (size_t) n);
	rc = dispatch(ms, cmd, data, dlen);
	if (rc != 0)
	    return rc;
    }
    return 1;
}

/* input - new bytes */
static int input(void *ctx)
{
    struct msession *ms = ctx;
    struct daemon_work w;
    int     rc;

    /*
     * Postfix writes through a 4096-byte buffer without TCP_NODELAY: the
     * part of a command that follows a full buffer waits (Nagle) for our
     * ACK of the first part, and a delayed ACK costs 40 ms when we have
     * no reply to carry it (headers, macros).  Quick ACKs end that;
     * Linux leaves quick-ACK mode by itself, so it is set after each read.
     */
    if (ms->tcp) {
	int     one = 1;

	(void) setsockopt(ms->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
    }
    daemon_work_begin(&w, MS_WORK);
    rc = parse(ms);
    daemon_work_end(&w);
    return rc < 0 ? -1 : 0;
}

static int drained(void *ctx)
{
    struct msession *ms = ctx;

    (void) ms;
    return 0;
}

/* eof - Postfix closed: a message in the middle is abandoned */
static int eof(void *ctx)
{
    struct msession *ms = ctx;

    if (ms->state == MS_MESSAGE && !ms->skipping)
	msg_info("milter client %s: disconnected in the middle of a message", ms->peer);
    return close_after_write(ms);
}

static const struct stream_ops ms_ops = {input, drained, eof, gone};

/* session_new - serve a connection */
struct msession *session_new(struct milter_service *s, int fd, const char *peer)
{
    struct msession *ms = xcalloc(1, sizeof(*ms));
    struct stream_limits lim;

    lim.idle = milter_idle_timeout(s);
    lim.write = lim.idle;
    lim.read_size = MS_READ_SIZE;
    copy(ms->peer, sizeof(ms->peer), peer, strlen(peer));
    ms->svc = s;
    ms->fd = fd;
    {
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	ms->tcp = getsockname(fd, (struct sockaddr *) &ss, &sl) == 0
	    && (ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
    }
    buf_init(&ms->out);
    if ((ms->st = stream_new(s->base, fd, &lim, &ms_ops, ms)) == NULL) {
	msg_warn("milter client %s: cannot create its events", peer);
	close(fd);
	buf_free(&ms->out);
	free(ms);
	return NULL;
    }
    ms->next = s->sessions;
    if (s->sessions)
	s->sessions->prev = ms;
    s->sessions = ms;
    s->nsessions++;
    if (s->stopping)
	session_shutdown(ms);
    return ms;
}

/* session_shutdown - stopping */
void    session_shutdown(struct msession *ms)
{
    ms->shutdown = 1;
    if (ms->state != MS_EVALUATING && ms->state != MS_CLOSING)
	(void) close_after_write(ms);
}

/* session_abort - drop at once */
void    session_abort(struct msession *ms)
{
    session_free(ms);
}
