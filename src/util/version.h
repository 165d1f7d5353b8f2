/* version.h - the program's version, in logs, headers and --version */
#ifndef MX_UTIL_VERSION_H
#define MX_UTIL_VERSION_H

#define MXSHIELD_VERSION "0.3.0"

#endif
