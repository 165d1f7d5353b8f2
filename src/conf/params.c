/*
 * params.c - the parameter table and its Postfix aliases.
 */
#include <string.h>

#include "conf/params.h"

#define MX_PARAM_ROW(id, name, type, def, min, max, reload, doc) \
    [P_##id] = { name, PT_##type, def, min, max, reload, doc },

const struct param_def param_table[P_COUNT] = {
    MX_PARAMS(MX_PARAM_ROW)
};

/* Postfix's spellings that mean the same parameter. */
static const struct {
    const char *alias;
    enum param_id id;
} param_aliases[] = {
    {"smtpd_client_restrictions", P_CLIENT_RESTR},
    {"smtpd_helo_restrictions", P_HELO_RESTR},
    {"smtpd_sender_restrictions", P_SENDER_RESTR},
    {"smtpd_relay_restrictions", P_RELAY_RESTR},
    {"smtpd_recipient_restrictions", P_RCPT_RESTR},
    {"smtpd_data_restrictions", P_DATA_RESTR},
};

/* param_find - index of a parameter name or alias, -1 if unknown */
int     param_find(const char *name)
{
    for (int i = 0; i < P_COUNT; i++)
	if (strcmp(param_table[i].name, name) == 0)
	    return i;
    for (size_t i = 0; i < sizeof(param_aliases) / sizeof(param_aliases[0]); i++)
	if (strcmp(param_aliases[i].alias, name) == 0)
	    return (int) param_aliases[i].id;
    return -1;
}

/* param_type_name - human name of a parameter type */
const char *param_type_name(enum param_type t)
{
    switch (t) {
    case PT_STR:
	return "string";
    case PT_INT:
	return "integer";
    case PT_BOOL:
	return "boolean";
    case PT_TIME:
	return "time";
    case PT_LIST:
	return "list";
    case PT_RESTR:
	return "restrictions";
    case PT_CODE:
	return "reply code";
    case PT_RAW:
	return "template";
    }
    return "?";
}
