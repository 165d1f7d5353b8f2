/*
 * mailaddr.h - the lengths of the addresses and names a request carries.
 *
 * RFC 5321 4.5.3.1 gives the sizes every SMTP server must accept; RFC 1035
 * 2.3.4 the sizes a DNS name can have.  The parsers of sender, recipient
 * and HELO names use these maxima (as OpenSMTPD's smtpd.h does), so that
 * what comes after never works on a longer name.  What happens to input
 * past them is decided where it is parsed (src/spf/spf.c, src/rules/addr.c)
 * and documented in the README ("Lengths of names and addresses").
 */
#ifndef MX_UTIL_MAILADDR_H
#define MX_UTIL_MAILADDR_H

#define ADDR_LOCAL_MAX	64		/* RFC 5321 4.5.3.1.1: local-part octets */
#define ADDR_DOMAIN_MAX	255		/* RFC 5321 4.5.3.1.2: domain octets */
#define ADDR_PATH_MAX	256		/* RFC 5321 4.5.3.1.3: <path>, brackets included */
#define ADDR_TEXT_MAX	(ADDR_PATH_MAX - 2)	/* local@domain without the brackets */
#define DNS_LABEL_MAX	63		/* RFC 1035 2.3.4: label octets */
#define DNS_NAME_MAX	253		/* RFC 1035's 255 octets, as text without the root dot */

#endif
