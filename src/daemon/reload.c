/*
 * reload.c - the slow work of the skeleton, away from the event loop: the
 * compile of a new configuration on SIGHUP, and the tables whose files
 * changed.  The worker thread (worker.h) reads and builds; the loop only
 * swaps the result in.
 */
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "daemon/daemon.h"
#include "daemon/daemon_impl.h"
#include "daemon/worker.h"
#include "greylist/greylist.h"
#include "maps/map.h"
#include "rules/tables.h"
#include "util/log.h"
#include "util/mem.h"

/*
 * Reload.  SIGHUP has the worker thread read the configuration and
 * compile the policy (every table loaded) while the loop goes on
 * answering with the running one; then the loop swaps the new policy in.
 * Parameters that need a restart keep their running values in the new
 * configuration (with a warning), so that what is in force is what the
 * documentation says; the reloadable ones take effect at the swap.  A
 * SIGHUP while the worker is busy runs a reload after its job.  The job
 * reads only the running configuration (which the loop frees only at a
 * swap, after the job) and what it allocates.
 */
struct reload_job {
    struct daemon *d;
    const char *config_path;
    const struct config *running;
    struct policy *pol;			/* the result, or NULL */
    struct buf err;			/* why not */
};


/* reload_run - in the worker: load and compile */
static void reload_run(void *arg)
{
    struct reload_job *job = arg;
    struct config *conf;

    if ((conf = config_load(job->config_path, &job->err)) == NULL)
	return;
    for (int id = 0; id < P_COUNT; id++) {
	if (param_table[id].reloadable
	    || strcmp(config_str(conf, id), config_str(job->running, id)) == 0)
	    continue;
	msg_warn("reload: %s changed; this takes effect at the next restart",
		 param_table[id].name);
	config_keep(conf, job->running, id);
    }
    if ((job->pol = policy_compile(conf, &job->err)) == NULL)
	config_free(conf);
}

/* worker_next - after a job: a reload asked for meanwhile */
static void worker_next(struct daemon *d)
{
    if (d->reload_again && !d->stopping && !d->closing) {
	d->reload_again = 0;
	daemon_reload_start(d);
    }
}

/* reload_done - on the loop: swap the new policy in */
static void reload_done(void *arg, int discard)
{
    struct reload_job *job = arg;
    struct daemon *d = job->d;
    struct policy *pol = job->pol;

    if (discard) {
	if (pol)
	    policy_unref(pol);
    } else if (pol == NULL) {
	msg_warn("reload refused, previous configuration stays in force: %s", job->err.s);
    } else {
	pol->dns = d->dns;
	if (daemon_store_attach(d, pol, 0) < 0) {
	    msg_warn("reload refused, previous configuration stays in force");
	    policy_unref(pol);
	} else {
	    policy_unref(d->pol);
	    d->pol = pol;
	    daemon_apply_reloadable(d);
	    daemon_handlers_call(d, DAEMON_RELOAD);
	    msg_info("reloaded configuration from %s",
		     d->config_path ? d->config_path : "(embedded default)");
	}
    }
    buf_free(&job->err);
    free(job);
    if (!discard)
	worker_next(d);
}

/* daemon_reload_start - SIGHUP: compile in the worker */
void    daemon_reload_start(struct daemon *d)
{
    struct reload_job *job = xcalloc(1, sizeof(*job));
    int     rc;

    job->d = d;
    job->config_path = d->config_path;
    job->running = d->pol->conf;
    buf_init(&job->err);
    rc = worker_start(d->worker, "reload (swapping the new configuration in)",
		      reload_run, reload_done, job);
    if (rc == 0)
	return;
    if (rc > 0)
	d->reload_again = 1;		/* after the job in progress */
    else
	msg_warn("reload refused, previous configuration stays in force");
    buf_free(&job->err);
    free(job);
}

/*
 * Table reloads.  The timer stats every table on the loop (cheap); the
 * tables whose files changed are read by the worker and put in force by
 * the loop, so that a large table reloading costs the loop only the swap.
 * The job holds a reference to the policy whose tables it loads.
 */
struct table_job {
    struct daemon *d;
    struct policy *pol;
    struct map_reload *v;
    size_t  n;
};

/* table_run - in the worker: read the changed files */
static void table_run(void *arg)
{
    struct table_job *job = arg;

    for (size_t i = 0; i < job->n; i++)
	map_reload_load(&job->v[i]);
}

/* table_done - on the loop: the new contents in force */
static void table_done(void *arg, int discard)
{
    struct table_job *job = arg;
    struct daemon *d = job->d;

    for (size_t i = 0; i < job->n; i++) {
	if (discard)
	    map_reload_discard(&job->v[i]);
	else
	    (void) map_reload_install(&job->v[i]);
    }
    policy_unref(job->pol);
    free(job->v);
    free(job);
    if (!discard)
	worker_next(d);
}

/* daemon_table_check - cheap change check of every table and whitelist; the
 * changed tables are read by the worker (the whitelists, small, here) */
void    daemon_table_check(void *arg)
{
    struct daemon *d = arg;
    struct table_job *job;

    if (d->pol->greylist_wl)
	gl_whitelist_refresh(d->pol->greylist_wl);
    if (worker_busy(d->worker))
	return;				/* the next tick looks again */
    job = xcalloc(1, sizeof(*job));
    if ((job->n = tables_reload_due(d->pol->tables, &job->v)) == 0) {
	free(job);
	return;
    }
    job->d = d;
    job->pol = d->pol;
    policy_ref(job->pol);
    if (worker_start(d->worker, "table reload (swapping the new contents in)",
		     table_run, table_done, job) != 0) {
	/* no thread: read them here, as before */
	table_run(job);
	table_done(job, 0);
    }
}

