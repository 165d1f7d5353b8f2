/*
 * check.c - `mxshield check`: the same engine and configuration as the
 * daemon, evaluated once, with a trace of every restriction.
 */
#include <string.h>

#include "cli/check.h"
#include "util/str.h"

/* check_print - print action and trace */
void    check_print(FILE *fp, const char *action, const struct trace *t, int json)
{
    if (json) {
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "{\"action\":");
	buf_json_str(&b, action);
	buf_puts(&b, ",\"trace\":[");
	for (size_t i = 0; i < t->n; i++) {
	    if (i)
		buf_putc(&b, ',');
	    buf_printf(&b, "{\"depth\":%d,\"restriction\":", t->v[i].depth);
	    buf_json_str(&b, t->v[i].what);
	    buf_puts(&b, ",\"detail\":");
	    buf_json_str(&b, t->v[i].detail);
	    buf_puts(&b, ",\"result\":");
	    buf_json_str(&b, t->v[i].result);
	    buf_putc(&b, '}');
	}
	buf_puts(&b, "]}\n");
	fputs(b.s, fp);
	buf_free(&b);
	return;
    }
    for (size_t i = 0; i < t->n; i++) {
	const struct trace_entry *te = &t->v[i];

	fprintf(fp, "%*s%s", te->depth * 2, "", te->what);
	if (*te->detail)
	    fprintf(fp, ": %s", te->detail);
	if (*te->result)
	    fprintf(fp, " => %s", te->result);
	fputc('\n', fp);
    }
    fprintf(fp, "action=%s\n", action);
}

/* check_read_request - name=value lines up to an empty line or EOF */
int     check_read_request(FILE *fp, struct request *req, char *err, size_t errlen)
{
    char    line[65536];
    int     lineno = 0;

    while (fgets(line, sizeof(line), fp) != NULL) {
	size_t  len = strlen(line);

	lineno++;
	if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
	    snprintf(err, errlen, "stdin:%d: line too long", lineno);
	    return -1;
	}
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
	    line[--len] = 0;
	if (len == 0)
	    break;
	if (request_add_line(req, line, len) < 0) {
	    snprintf(err, errlen, "stdin:%d: expected name=value, got \"%s\"", lineno, line);
	    return -1;
	}
    }
    return 0;
}
