/*
 * page.h - the dashboard page, embedded in the binary (src/http/dashboard.html).
 */
#ifndef MX_HTTP_PAGE_H
#define MX_HTTP_PAGE_H

#include <stddef.h>

/* http_page - the page's bytes and length */
const char *http_page(size_t *len);

/* http_dashboard_json - the JSON document the page polls */
struct buf;
struct history;
void    http_dashboard_json(struct history *h, struct buf *out);

#endif
