/*
 * migrate.h - `mxshield migrate postgrey|policyd-spf [FILE]`: the
 * mxshield.conf lines for an existing configuration (see migrate.c).
 */
#ifndef MX_CLI_MIGRATE_H
#define MX_CLI_MIGRATE_H

/* cmd_migrate - argv[0] names the program; exit status */
int     cmd_migrate(int argc, char **argv);

#endif
