/*
 * params.h - every configuration parameter, one row each.
 *
 * X(id, "name", TYPE, "default", min, max, reloadable, "documentation")
 *
 * TYPE is STR, INT, BOOL, TIME (seconds; Postfix suffixes s m h d w),
 * LIST (comma/space separated), RESTR (a restriction list) or CODE (an SMTP
 * reply code, 400..599) or RAW (a template whose $names are expanded per
 * request, not from other parameters).  Names and defaults follow Postfix's where the
 * meaning is the same.  A unit test fails if a row has no documentation.
 */
#ifndef MX_CONF_PARAMS_H
#define MX_CONF_PARAMS_H

#define MX_PARAMS(X) \
    /* Listening, limits and process */ \
    X(LISTEN, "listen", LIST, "inet:127.0.0.1:10023", 0, 0, 0, \
      "Policy service sockets: inet:HOST:PORT ([IPv6]:PORT too) or unix:/path, several allowed") \
    X(UNIX_MODE, "unix_socket_mode", STR, "0666", 0, 0, 0, \
      "Permission bits (octal) of unix listening sockets") \
    X(UNIX_OWNER, "unix_socket_owner", STR, "", 0, 0, 0, \
      "Owner user of unix listening sockets (empty: the daemon's user)") \
    X(UNIX_GROUP, "unix_socket_group", STR, "", 0, 0, 0, \
      "Group of unix listening sockets (empty: the daemon's group)") \
    X(RUN_USER, "user", STR, "", 0, 0, 0, \
      "Run as this user after binding the sockets (started as root); empty: stay as started") \
    X(LINE_LIMIT, "policy_line_length_limit", INT, "2048", 64, 1048576, 1, \
      "Longest attribute line accepted from a policy client, in bytes") \
    X(ATTR_LIMIT, "policy_attribute_limit", INT, "100", 1, 10000, 1, \
      "Most attributes accepted in one policy request") \
    X(REQ_LIMIT, "policy_request_size_limit", INT, "32768", 256, 16777216, 1, \
      "Largest policy request accepted, in bytes") \
    X(CONN_LIMIT, "policy_connection_limit", INT, "4096", 1, 1000000, 0, \
      "Most simultaneous policy client connections; more are refused") \
    X(IDLE_TIMEOUT, "policy_idle_timeout", TIME, "1200s", 1, 86400, 1, \
      "Close a policy connection idle this long; one waiting for its answer is not idle (Postfix itself closes idle ones after 300s)") \
    X(LOG_DEST, "log_destination", STR, "stderr", 0, 0, 0, \
      "Where log lines go: stderr (written in batches, at most 10 ms late) or syslog (facility mail)") \
    X(SYSLOG_NAME, "syslog_name", STR, "mxshield", 0, 0, 0, \
      "Program name at the start of each log line") \
    X(TABLE_CHECK, "table_check_interval", TIME, "1s", 1, 3600, 1, \
      "How often table files are checked for changes (one stat per table)") \
    X(STOP_GRACE, "stop_grace_time", TIME, "10s", 0, 3600, 1, \
      "On SIGTERM, how long requests in flight may take to be answered before the daemon exits anyway") \
    X(LOOP_STALL_LIMIT, "event_loop_stall_limit", INT, "200", 1, 3600000, 1, \
      "Log a warning naming the cause when one pass of the event loop works longer than this many milliseconds") \
    X(CONTROL_SOCKET, "control_socket", STR, "$data_directory/control", 0, 0, 0, \
      "Local control socket (owner-only) that mxshield status asks; empty: none") \
    /* Metrics and dashboard (src/http) */ \
    X(METRICS_LISTEN, "metrics_listen", LIST, "", 0, 0, 0, \
      "HTTP sockets serving /metrics (Prometheus) and the dashboard at /: inet:HOST:PORT or unix:/path; empty: none") \
    X(METRICS_CONN_LIMIT, "metrics_connection_limit", INT, "16", 1, 10000, 1, \
      "Most simultaneous metrics_listen connections; more are answered 503 and closed") \
    X(METRICS_REQ_LIMIT, "metrics_request_size_limit", INT, "8192", 256, 1048576, 1, \
      "Largest HTTP request head (request line and headers) accepted on metrics_listen, in bytes; more is answered 431") \
    X(METRICS_HEADER_LIMIT, "metrics_header_limit", INT, "50", 1, 10000, 1, \
      "Most header lines accepted in one HTTP request on metrics_listen; more is answered 431") \
    X(METRICS_TIMEOUT, "metrics_timeout", TIME, "10s", 1, 3600, 1, \
      "A metrics_listen connection is closed this long after it was accepted, however slowly its client keeps sending") \
    /* DNS */ \
    X(DNS_RESOLVER, "dns_resolver", LIST, "resolv.conf", 0, 0, 0, \
      "Where lookups go: resolv.conf (the system's servers), recursive (built-in full resolver), or servers HOST[:PORT], [IPv6]:PORT") \
    X(DNS_TIMEOUT, "dns_timeout", TIME, "10s", 1, 300, 0, \
      "A lookup without an answer after this long is a temporary failure") \
    X(DNS_CACHE, "dns_cache_size", INT, "33554432", 0, 17179869184L, 0, \
      "Bytes of memory the daemon's answer cache may use, least recently used answer evicted first (TTLs honoured; an answer over 1/16 of it is not kept; 0: no cache of our own)") \
    X(DNS_POSTFIX_NAMES, "dns_use_postfix_names", BOOL, "yes", 0, 0, 1, \
      "Use the client_name and reverse_client_name that Postfix sends instead of looking them up again") \
    X(DNS_TRANSPORT, "dns_transport", STR, "udp", 0, 0, 0, \
      "How queries reach dns_resolver: udp (a new socket and random source port per query, TCP for truncated answers) or tcp (queries pipelined over persistent TCP connections: cheaper per query, meant for a forwarder on loopback)") \
    /* Postfix address parameters */ \
    X(MYHOSTNAME, "myhostname", STR, "", 0, 0, 1, \
      "This mail system's fully-qualified host name (default: from gethostname)") \
    X(MYDOMAIN, "mydomain", STR, "", 0, 0, 1, \
      "This mail system's domain (default: $myhostname minus its first label)") \
    X(MYORIGIN, "myorigin", STR, "$myhostname", 0, 0, 1, \
      "Domain appended to unqualified sender and recipient addresses") \
    X(MYDEST, "mydestination", LIST, "$myhostname, localhost.$mydomain, localhost", 0, 0, 1, \
      "Domains delivered locally: final destination for reject_unauth_destination") \
    X(RELAY_DOMAINS, "relay_domains", LIST, "", 0, 0, 1, \
      "Domains this system relays mail to (permit_auth_destination)") \
    X(VIRT_ALIAS_DOMAINS, "virtual_alias_domains", LIST, "", 0, 0, 1, \
      "Virtual alias domains: final destination for relay checks") \
    X(VIRT_MBOX_DOMAINS, "virtual_mailbox_domains", LIST, "", 0, 0, 1, \
      "Virtual mailbox domains: final destination for relay checks") \
    X(MYNETWORKS, "mynetworks", LIST, "127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128", 0, 0, 1, \
      "Trusted client networks for permit_mynetworks (CIDR, IPv4 and IPv6)") \
    X(RCPT_DELIM, "recipient_delimiter", STR, "", 0, 0, 1, \
      "Characters that separate a user name from an address extension") \
    X(PERCENT_HACK, "allow_percent_hack", BOOL, "yes", 0, 0, 1, \
      "Rewrite user%domain@ourdomain to user@domain, as Postfix does") \
    X(SWAP_BANGPATH, "swap_bangpath", BOOL, "yes", 0, 0, 1, \
      "Rewrite site!user to user@site, as Postfix does") \
    X(UNTRUST_ROUTE, "allow_untrusted_routing", BOOL, "no", 0, 0, 1, \
      "Let relay_domains recipients carry sender-specified routing (user%host, user!host)") \
    X(PARENT_MATCH, "parent_domain_matches_subdomains", LIST, \
      "debug_peer_list, fast_flush_domains, mynetworks, permit_mx_backup_networks, qmqpd_authorized_clients, relay_domains, smtpd_access_maps", 0, 0, 1, \
      "Features where domain also matches its subdomains (else only .domain does)") \
    X(NULL_KEY, "smtpd_null_access_lookup_key", STR, "<>", 0, 0, 1, \
      "Access table key used for the null sender address") \
    /* Restrictions */ \
    X(CLIENT_RESTR, "client_restrictions", RESTR, "", 0, 0, 1, \
      "Restrictions on the client (smtpd_client_restrictions)") \
    X(HELO_RESTR, "helo_restrictions", RESTR, "", 0, 0, 1, \
      "Restrictions on the HELO/EHLO name (smtpd_helo_restrictions)") \
    X(SENDER_RESTR, "sender_restrictions", RESTR, "", 0, 0, 1, \
      "Restrictions on the MAIL FROM address (smtpd_sender_restrictions)") \
    X(RELAY_RESTR, "relay_restrictions", RESTR, "", 0, 0, 1, \
      "Relay control at RCPT TO (smtpd_relay_restrictions; empty: left to Postfix)") \
    X(RCPT_RESTR, "recipient_restrictions", RESTR, "", 0, 0, 1, \
      "Restrictions at RCPT TO (smtpd_recipient_restrictions)") \
    X(DATA_RESTR, "data_restrictions", RESTR, "", 0, 0, 1, \
      "Restrictions at DATA (smtpd_data_restrictions)") \
    X(CLASSES, "smtpd_restriction_classes", LIST, "", 0, 0, 1, \
      "Names of restriction classes defined as parameters and usable as restrictions") \
    X(HELO_REQUIRED, "smtpd_helo_required", BOOL, "no", 0, 0, 1, \
      "Reject mail from a client that sent no HELO/EHLO") \
    X(DRY_RUN, "dry_run", BOOL, "no", 0, 0, 1, \
      "Log reject_warning instead of rejecting, for every restriction (warn_if_reject everywhere)") \
    X(SOFT_BOUNCE, "soft_bounce", BOOL, "no", 0, 0, 1, \
      "Turn every 5xx reply into the matching 4xx reply") \
    X(PERMIT_ACTION, "policy_permit_action", STR, "DUNNO", 0, 0, 1, \
      "Answer for an explicit permit: DUNNO (Postfix's own later restrictions still apply) or OK") \
    X(MAX_RECURSION, "smtpd_restriction_recursion_limit", INT, "20", 1, 1000, 1, \
      "How deep restriction classes and table results may nest") \
    /* DNS-based restrictions (Postfix's names and defaults) */ \
    X(UNK_CLIENT_CODE, "unknown_client_reject_code", CODE, "450", 400, 599, 1, \
      "Reply code of reject_unknown_client_hostname and reject_unknown_reverse_client_hostname (a temporary DNS failure always gives 450)") \
    X(UNK_NAME_CODE, "unknown_hostname_reject_code", CODE, "450", 400, 599, 1, \
      "Reply code of reject_unknown_helo_hostname") \
    X(UNK_ADDR_CODE, "unknown_address_reject_code", CODE, "450", 400, 599, 1, \
      "Reply code of reject_unknown_sender_domain and reject_unknown_recipient_domain") \
    X(REJECT_TF_ACT, "reject_tempfail_action", STR, "defer_if_permit", 0, 0, 1, \
      "After a temporary DNS failure: defer_if_permit (450 unless a later restriction rejects) or defer (450 at once)") \
    X(UNK_HELO_TF_ACT, "unknown_helo_hostname_tempfail_action", STR, "$reject_tempfail_action", 0, 0, 1, \
      "Temporary failure action of reject_unknown_helo_hostname") \
    X(UNK_ADDR_TF_ACT, "unknown_address_tempfail_action", STR, "$reject_tempfail_action", 0, 0, 1, \
      "Temporary failure action of reject_unknown_sender_domain and reject_unknown_recipient_domain") \
    X(RBL_TF_ACT, "rbl_tempfail_action", STR, "dunno", 0, 0, 1, \
      "When a DNS blocklist (reject_rbl_client, reject_rhsbl_sender, ...) cannot be queried (SERVFAIL, timeout): dunno (skip it and log it, as Postfix), defer_if_permit or defer") \
    X(RBL_CODE, "maps_rbl_reject_code", CODE, "554", 400, 599, 1, \
      "Reply code ($rbl_code) when a DNSBL or RHSBL lists the client, name or address") \
    X(DEF_RBL_REPLY, "default_rbl_reply", RAW, \
      "$rbl_code Service unavailable; $rbl_class [$rbl_what] blocked using $rbl_domain${rbl_reason?; $rbl_reason}", 0, 0, 1, \
      "Reply template for a DNSBL/RHSBL hit: $rbl_code $rbl_class $rbl_what $rbl_domain $rbl_reason $client_address $client_name $helo_name $sender $recipient, ${name?text} ${name:text}") \
    X(RBL_REPLY_MAPS, "rbl_reply_maps", LIST, "", 0, 0, 1, \
      "Tables of reply templates keyed by DNSBL domain (domain=filter first, then domain)") \
    X(DNSXL_ERROR_INTERVAL, "dnsxl_error_log_interval", TIME, "300s", 1, 86400, 1, \
      "A list that answers with an error code (127.255.255.x: query refused) is logged at most once per this interval") \
    /* Weighted scoring */ \
    X(SCORE_REJECT, "score_reject_threshold", INT, "5", 1, 100000, 1, \
      "Reject when the weights of the scored restrictions that hit add up to this or more") \
    X(SCORE_DEFER, "score_defer_threshold", INT, "0", 0, 100000, 1, \
      "Defer (450) when the score reaches this but not score_reject_threshold (0: never)") \
    X(SCORE_REJECT_CODE, "score_reject_code", CODE, "554", 400, 599, 1, \
      "Reply code when the score reaches score_reject_threshold") \
    X(SCORE_DEFER_CODE, "score_defer_code", CODE, "450", 400, 599, 1, \
      "Reply code when the score reaches score_defer_threshold") \
    /* SPF (postfix-policyd-spf-python's options) */ \
    X(SPF_HELO_REJECT, "spf_helo_reject", STR, "fail", 0, 0, 1, \
      "HELO check: fail, softfail, spf_not_pass, null (only for the null sender), false (never reject), no_check (HELO_reject)") \
    X(SPF_MAIL_REJECT, "spf_mail_from_reject", STR, "fail", 0, 0, 1, \
      "MAIL FROM check: fail, softfail, spf_not_pass, false (never reject), no_check (Mail_From_reject)") \
    X(SPF_PERMERROR_REJECT, "spf_permerror_reject", BOOL, "no", 0, 0, 1, \
      "Reject (550 5.7.24) when the sender's SPF record is broken (PermError_reject)") \
    X(SPF_TEMPERROR_DEFER, "spf_temperror_defer", BOOL, "yes", 0, 0, 1, \
      "Defer (451 4.7.24, unless a later restriction rejects) when SPF could not be checked (TempError_Defer)") \
    X(SPF_NOT_PASS_DOMAINS, "spf_reject_not_pass_domains", LIST, "", 0, 0, 1, \
      "Sender domains whose mail is rejected unless SPF passes (Reject_Not_Pass_Domains)") \
    X(SPF_SKIP, "spf_skip_addresses", LIST, "127.0.0.0/8 ::ffff:127.0.0.0/104 ::1", 0, 0, 1, \
      "Clients not checked at all, CIDR (skip_addresses)") \
    X(SPF_WHITELIST, "spf_whitelist", LIST, "", 0, 0, 1, \
      "Clients whose mail is not checked, CIDR (Whitelist)") \
    X(SPF_HELO_WHITELIST, "spf_helo_whitelist", LIST, "", 0, 0, 1, \
      "HELO names whose mail is not checked (HELO_Whitelist)") \
    X(SPF_DOMAIN_WHITELIST, "spf_domain_whitelist", LIST, "", 0, 0, 1, \
      "Sender domains whose mail is not checked (Domain_Whitelist)") \
    X(SPF_ENHANCED, "spf_enhanced_status_codes", BOOL, "yes", 0, 0, 1, \
      "Reply with RFC 7372's codes 5.7.23, 5.7.24, 4.7.24; no: 5.7.1 and 4.7.1 (SPF_Enhanced_Status_Codes)") \
    X(SPF_MAIL_PASS_RESTR, "spf_mail_from_pass_restriction", STR, "", 0, 0, 1, \
      "Restriction class (or restriction list) applied when MAIL FROM passes SPF (Mail_From_pass_restriction)") \
    X(SPF_HELO_PASS_RESTR, "spf_helo_pass_restriction", STR, "", 0, 0, 1, \
      "Restriction class applied when the HELO name passes SPF and no MAIL FROM pass restriction applies (HELO_pass_restriction)") \
    X(SPF_DOMAIN_WL_PTR, "spf_domain_whitelist_ptr", LIST, "", 0, 0, 1, \
      "Clients whose verified name (client_name) is in one of these domains or their subdomains are not checked (Domain_Whitelist_PTR)") \
    X(SPF_HEADER, "spf_header_type", STR, "spf", 0, 0, 1, \
      "Header prepended: spf (Received-SPF, RFC 7208 9.1), ar (Authentication-Results, RFC 8601) or none") \
    /* Greylisting (postgrey's options and defaults) */ \
    X(DATA_DIR, "data_directory", STR, "/var/lib/mxshield", 0, 0, 0, \
      "Directory of the state database (greylisting)") \
    X(STORE_SYNC_INTERVAL, "store_sync_interval", TIME, "1s", 1, 3600, 0, \
      "How often the database is flushed to disk (writes survive kill -9 at once, power loss after this)") \
    X(STORE_SYNC_COMMITS, "store_sync_commits", BOOL, "no", 0, 0, 0, \
      "Flush to disk before every answer that wrote (power-loss safe, slower); the writes of one pass of the event loop share one commit and one flush") \
    X(STORE_MAP_SIZE, "store_map_size", INT, "1024", 16, 1048576, 0, \
      "Largest database size in MB") \
    X(STORE_ON_CORRUPT, "store_on_corrupt", STR, "move", 0, 0, 0, \
      "An unreadable database: move (aside, start empty) or refuse (to start)") \
    X(STORE, "store", STR, "lmdb", 0, 0, 0, \
      "Where the state (greylisting, auto-whitelist) is kept: lmdb (in data_directory, this host only) or redis (shared by several MX hosts)") \
    X(REDIS_SERVERS, "redis_servers", LIST, "127.0.0.1:6379", 0, 0, 0, \
      "With store = redis: servers HOST:PORT ([IPv6]:PORT), tried in turn; with several, the one that is master (names resolved at start)") \
    X(REDIS_SENTINELS, "redis_sentinels", LIST, "", 0, 0, 0, \
      "Redis Sentinels HOST:PORT to ask for the master of redis_master_name (failover followed); set: redis_servers is ignored") \
    X(REDIS_MASTER_NAME, "redis_master_name", STR, "mymaster", 0, 0, 0, \
      "The master's name known to the Sentinels") \
    X(REDIS_DATABASE, "redis_database", INT, "0", 0, 1000000, 0, \
      "Redis database number (SELECT)") \
    X(REDIS_USER, "redis_user", STR, "", 0, 0, 0, \
      "Redis ACL user (AUTH user password); empty: the default user") \
    X(REDIS_PASSWORD, "redis_password", STR, "", 0, 0, 0, \
      "Redis password; empty: no AUTH (keep the configuration file private when set)") \
    X(REDIS_PREFIX, "redis_key_prefix", STR, "mxshield:", 0, 0, 0, \
      "Prefix of every Redis key (several installations can share one server)") \
    X(REDIS_CONNECT_TIMEOUT, "redis_connect_timeout", INT, "1000", 10, 600000, 0, \
      "Milliseconds a connection to Redis (Sentinel question, AUTH and SELECT included) may take") \
    X(REDIS_COMMAND_TIMEOUT, "redis_command_timeout", INT, "500", 10, 600000, 0, \
      "Milliseconds a Redis command may wait for its reply; later, the connection is dropped and the operation fails (keep it well under the client's policy timeout)") \
    X(GL_DELAY, "greylist_delay", TIME, "300s", 0, 86400, 1, \
      "How long a new triplet is deferred (postgrey --delay)") \
    X(GL_MAX_AGE, "greylist_max_age", TIME, "35d", 3600, 3650 * 86400L, 1, \
      "Forget triplets and auto-whitelisted clients not seen for this long (postgrey --max-age)") \
    X(GL_RETRY_WINDOW, "greylist_retry_window", TIME, "2d", 60, 3650 * 86400L, 1, \
      "A first retry later than this starts over (postgrey --retry-window)") \
    X(GL_AWL, "greylist_auto_whitelist_clients", INT, "5", 0, 1000000, 1, \
      "Whitelist a client after this many successful deliveries, one counted per hour; 0: never") \
    X(GL_IPV4_PREFIX, "greylist_ipv4_prefix", INT, "24", 0, 32, 1, \
      "IPv4 client network of the key (postgrey --ipv4cidr)") \
    X(GL_IPV6_PREFIX, "greylist_ipv6_prefix", INT, "64", 0, 128, 1, \
      "IPv6 client network of the key (postgrey --ipv6cidr)") \
    X(GL_BY_HOST, "greylist_lookup_by_host", BOOL, "no", 0, 0, 1, \
      "Key on the exact client address instead of its network (postgrey --lookup-by-host)") \
    X(GL_PRIVACY, "greylist_privacy", BOOL, "no", 0, 0, 0, \
      "Store keys as SHA-1 hashes (postgrey --privacy)") \
    X(GL_TEXT, "greylist_text", RAW, "Greylisted, see http://postgrey.schweikert.ch/help/%r.html", 0, 0, 1, \
      "Deferral text: %s seconds left, %r recipient domain (postgrey --greylist-text)") \
    X(GL_ACTION, "greylist_action", STR, "defer_if_permit", 0, 0, 1, \
      "defer_if_permit (a later reject still wins) or defer (postgrey --greylist-action)") \
    X(GL_HEADER, "greylist_header", RAW, "X-Greylist: delayed %t seconds by mxshield-%v at %h; %d", 0, 0, 1, \
      "Header prepended when a delayed triplet passes (%t delay %v version %h host %d date); empty: none") \
    X(GL_WL_CLIENTS, "greylist_whitelist_clients", LIST, "", 0, 0, 1, \
      "Client whitelist files in postgrey's format, e.g. /etc/postgrey/whitelist_clients, /etc/postgrey/whitelist_clients.local") \
    X(GL_WL_RCPTS, "greylist_whitelist_recipients", LIST, "", 0, 0, 1, \
      "Recipient whitelist files in postgrey's format") \
    X(GL_SELECTIVE, "greylist_selective", BOOL, "no", 0, 0, 1, \
      "Greylist only clients whose score (see score) has reached greylist_min_score") \
    X(GL_MIN_SCORE, "greylist_min_score", INT, "1", -100000, 100000, 1, \
      "With greylist_selective: the score from which a client is greylisted") \
    X(GL_SPF_KEY, "greylist_spf_key", BOOL, "yes", 0, 0, 1, \
      "When SPF passes for the sender's domain, key on that domain instead of the client network") \
    X(GL_ERROR_ACTION, "greylist_error_action", STR, "defer", 0, 0, 1, \
      "When the database cannot be read or written: defer (451 4.3.0) or dunno") \
    X(GL_EXPIRE_BATCH, "greylist_expire_batch", INT, "1000", 10, 1000000, 1, \
      "Records examined per expiry step (one step per second: never a long pause)") \
    X(GL_TEST_TIME, "greylist_allow_test_time", BOOL, "no", 0, 0, 1, \
      "For tests only: take the time from the policy_test_time attribute, as postgrey does") \
    /* Auto-ban (src/ban): fail2ban's Postfix jails */ \
    X(BAN_LOG, "ban_log", STR, "none", 0, 0, 0, \
      "Where the daemon reads Postfix's log for auto-ban: a file (/var/log/mail.log, Postfix's maillog_file), journal, or none") \
    X(BAN_EVENTS, "ban_events", LIST, "auth-failed lost-after-auth lost-connection too-many-errors improper-pipelining reject pregreet dnsbl command-pipelining hangup non-smtp-command rate-limit command-limit", 0, 0, 1, \
      "Log events that count towards a ban (mxshield ban scan names them); others are ignored") \
    X(BAN_MAXRETRY, "ban_maxretry", INT, "5", 1, 1000000, 1, \
      "Events from one client network within ban_findtime that ban it (fail2ban maxretry)") \
    X(BAN_FINDTIME, "ban_findtime", TIME, "10m", 1, 31536000, 1, \
      "The sliding window in which events are counted (fail2ban findtime)") \
    X(BAN_BANTIME, "ban_bantime", TIME, "10m", 1, 31536000, 1, \
      "How long a first ban lasts (fail2ban bantime)") \
    X(BAN_LIMITS, "ban_event_limits", LIST, "", 0, 0, 1, \
      "Events counted on their own, as EVENT=MAXRETRY[/FINDTIME[/BANTIME]], e.g. dnsbl=1/10m/1h (one fail2ban jail each)") \
    X(BAN_INCREMENT, "ban_increment", BOOL, "yes", 0, 0, 1, \
      "Ban repeat offenders longer each time (fail2ban bantime.increment and recidive)") \
    X(BAN_FACTOR, "ban_increment_factor", INT, "2", 1, 1000, 1, \
      "Each further ban lasts this many times the previous one") \
    X(BAN_MAXTIME, "ban_maxtime", TIME, "1w", 1, 315360000, 1, \
      "The longest ban an increment reaches (fail2ban bantime.maxtime)") \
    X(BAN_HISTORY, "ban_history", TIME, "1d", 0, 315360000, 1, \
      "How long after a ban ends the network is still a repeat offender") \
    X(BAN_V4_PREFIX, "ban_ipv4_prefix", INT, "32", 8, 32, 1, \
      "IPv4 clients are counted and banned by this prefix") \
    X(BAN_V6_PREFIX, "ban_ipv6_prefix", INT, "64", 16, 128, 1, \
      "IPv6 clients are counted and banned by this prefix (one host owns a /64)") \
    X(BAN_ESC_COUNT, "ban_escalate_count", INT, "3", 0, 1000000, 1, \
      "Banned networks within one wider prefix that ban the wider prefix (0: never)") \
    X(BAN_ESC_V4, "ban_escalate_ipv4_prefix", INT, "24", 8, 32, 1, \
      "The wider IPv4 prefix of an escalation") \
    X(BAN_ESC_V6, "ban_escalate_ipv6_prefix", INT, "48", 16, 128, 1, \
      "The wider IPv6 prefix of an escalation") \
    X(BAN_ESC_WINDOW, "ban_escalate_window", TIME, "1h", 1, 31536000, 1, \
      "The window in which bans within one wider prefix are counted") \
    X(BAN_IGNORE, "ban_ignore", LIST, "$mynetworks", 0, 0, 1, \
      "Clients never counted or banned: networks and type:table lookups of the address (fail2ban ignoreip)") \
    X(BAN_REJECT_CODE, "ban_reject_code", CODE, "554", 400, 599, 1, \
      "Reply code of reject_banned_client") \
    X(BAN_NFT, "ban_nftables", BOOL, "no", 0, 0, 0, \
      "Also drop banned clients' packets in nftables (table inet mxshield, through nft -f -)") \
    X(BAN_NFT_CMD, "ban_nftables_command", STR, "nft", 0, 0, 0, \
      "The nft command and its first arguments (e.g. sudo -n nft when the daemon does not run as root)") \
    X(BAN_NFT_PORTS, "ban_nftables_ports", LIST, "25 465 587", 0, 0, 0, \
      "TCP ports whose packets from banned clients are dropped (empty: every packet)") \
    X(RATE_ERROR_ACTION, "rate_limit_error_action", STR, "defer", 0, 0, 1, \
      "When check_rate cannot read or write its counter: defer (451 4.3.0) or dunno (not counted)") \
    X(RATE_CODE, "rate_limit_reject_code", CODE, "450", 400, 599, 1, \
      "Reply code of check_rate over its limit (with action defer, the default)") \
    /* Milter: DKIM, DMARC, ARC (src/milter, src/dmarc) */ \
    X(MILTER_LISTEN, "milter_listen", LIST, "", 0, 0, 0, \
      "Milter sockets for Postfix's smtpd_milters: inet:HOST:PORT or unix:/path; empty: no milter") \
    X(MILTER_CONN_LIMIT, "milter_connection_limit", INT, "1024", 1, 1000000, 0, \
      "Most simultaneous milter connections; more are refused") \
    X(MILTER_PACKET_LIMIT, "milter_packet_size_limit", INT, "262144", 65536, 16777216, 1, \
      "Largest milter packet accepted, in bytes (Postfix sends body chunks of 65535 bytes); past it the connection is closed") \
    X(MILTER_HEADER_LIMIT, "milter_header_size_limit", INT, "102400", 1024, 16777216, 1, \
      "Largest message header (name and value) accepted, in bytes (Postfix's header_size_limit); past it the connection is closed") \
    X(MILTER_HEADER_COUNT, "milter_header_count_limit", INT, "1000", 10, 1000000, 1, \
      "Most message headers accepted in one message; past it the connection is closed") \
    X(MILTER_IDLE_TIMEOUT, "milter_idle_timeout", TIME, "1200s", 1, 86400, 1, \
      "Close a milter connection idle this long (Postfix keeps one per SMTP session)") \
    X(MILTER_VERIFY_THREADS, "milter_verify_threads", INT, "0", -1, 256, 0, \
      "Threads that check DKIM and ARC signatures (header hash and public-key verify) beside the event loop while it serves other milter connections; 0: none, all on the loop (best on two cores); -1: one per online CPU") \
    X(AUTHSERV_ID, "authserv_id", STR, "", 0, 0, 1, \
      "The authserv-id of the Authentication-Results header we add (OpenDMARC AuthservID); empty: myhostname") \
    X(TRUSTED_AUTHSERV_IDS, "trusted_authserv_ids", LIST, "", 0, 0, 1, \
      "Other authserv-ids whose Authentication-Results and Received-SPF headers are kept (OpenDMARC TrustedAuthservIDs); others are removed") \
    X(DMARC_MODE, "dmarc_mode", STR, "dmarcbis", 0, 0, 1, \
      "dmarcbis (RFC 9989 DNS tree walk, np=, psd=) or rfc7489 (Organizational Domain from the Public Suffix List)") \
    X(DMARC_PSL_FILE, "dmarc_public_suffix_list", STR, "/usr/share/publicsuffix/public_suffix_list.dat", 0, 0, 0, \
      "Public Suffix List file for dmarc_mode = rfc7489 (Debian's publicsuffix package)") \
    X(DMARC_IGNORE_AUTH, "dmarc_ignore_authenticated_clients", BOOL, "yes", 0, 0, 1, \
      "Accept mail from SASL-authenticated clients and from mynetworks without checks or header (OpenDMARC IgnoreAuthenticatedClients, IgnoreHosts)") \
    X(DMARC_REJECT_FAILURES, "dmarc_reject_failures", BOOL, "yes", 0, 0, 1, \
      "Reject (550 5.7.1) a message that fails DMARC where the domain's policy is reject (OpenDMARC RejectFailures); no: add the header only") \
    X(DMARC_HOLD_QUARANTINE, "dmarc_hold_quarantined", BOOL, "yes", 0, 0, 1, \
      "Put a message that fails DMARC where the policy is quarantine into Postfix's hold queue") \
    X(DMARC_REQUIRED_HEADERS, "dmarc_required_headers", BOOL, "no", 0, 0, 1, \
      "Reject a message without exactly one From and Date, or with repeated single-instance headers (OpenDMARC RequiredHeaders)") \
    X(DMARC_TEMPERROR_ACTION, "dmarc_temperror_action", STR, "tempfail", 0, 0, 1, \
      "What a DNS temporary error on the way to a DMARC result does: tempfail (451 4.7.5) or accept") \
    X(DMARC_PERMERROR_ACTION, "dmarc_permerror_action", STR, "reject", 0, 0, 1, \
      "What a missing, repeated or unparsable From header, or one with addresses in different domains, does: reject, quarantine or accept") \
    X(ARC_TRUSTED_SEALERS, "arc_trusted_sealers", LIST, "", 0, 0, 1, \
      "Signing domains of ARC sealers (mailing lists, forwarders) whose passing chain overrides a DMARC failure") \
    /* DKIM signing of our own mail (src/dkim/sign.c, signtable.c) */ \
    X(DKIM_SIGNING_TABLE, "dkim_signing_table", LIST, "", 0, 0, 0, \
      "Tables (OpenDKIM's SigningTable) from the From: address, then its domain, then .parent domains, to the names of the keys that sign (several: one signature each); empty: no signing") \
    X(DKIM_KEY_TABLE, "dkim_key_table", LIST, "", 0, 0, 0, \
      "Tables (OpenDKIM's KeyTable) from a key name to domain:selector:/path/to/key.pem; a key file readable by group or others is refused") \
    X(DKIM_SIGN_HEADERS, "dkim_sign_headers", LIST, "from reply-to subject date to cc resent-date resent-from resent-sender resent-to resent-cc in-reply-to references list-id list-help list-unsubscribe list-subscribe list-post list-owner list-archive message-id mime-version content-type content-transfer-encoding content-id content-description sender", 0, 0, 0, \
      "Header fields signed, every instance the message has (OpenDKIM's default set, RFC 6376 section 5.4.1)") \
    X(DKIM_OVERSIGN_HEADERS, "dkim_oversign_headers", LIST, "from", 0, 0, 0, \
      "Header fields signed once more than the message has them, so that one added later breaks the signature") \
    X(DKIM_CANON, "dkim_canonicalization", STR, "relaxed/relaxed", 0, 0, 0, \
      "Header/body canonicalisation of the signatures made: simple or relaxed each") \
    X(ARC_SIGN, "arc_sign", STR, "", 0, 0, 0, \
      "A key name of dkim_key_table: the milter ARC-seals (RFC 8617) the mail of non-local clients with it after verifying; empty: no sealing") \
    /* Reply codes */ \
    X(ACCESS_REJECT_CODE, "access_map_reject_code", CODE, "554", 400, 599, 1, \
      "Reply code for REJECT from an access table") \
    X(ACCESS_DEFER_CODE, "access_map_defer_code", CODE, "450", 400, 599, 1, \
      "Reply code for DEFER, DEFER_IF_REJECT and DEFER_IF_PERMIT from an access table") \
    X(REJECT_CODE, "reject_code", CODE, "554", 400, 599, 1, \
      "Reply code of the reject restriction") \
    X(DEFER_CODE, "defer_code", CODE, "450", 400, 599, 1, \
      "Reply code of the defer, defer_if_permit and defer_if_reject restrictions") \
    X(RELAY_CODE, "relay_domains_reject_code", CODE, "554", 400, 599, 1, \
      "Reply code of reject_unauth_destination") \
    X(NON_FQDN_CODE, "non_fqdn_reject_code", CODE, "504", 400, 599, 1, \
      "Reply code of the reject_non_fqdn_* restrictions") \
    X(BAD_NAME_CODE, "invalid_hostname_reject_code", CODE, "501", 400, 599, 1, \
      "Reply code of reject_invalid_helo_hostname")


enum param_type {
    PT_STR, PT_INT, PT_BOOL, PT_TIME, PT_LIST, PT_RESTR, PT_CODE, PT_RAW,
};

#define MX_PARAM_ENUM(id, name, type, def, min, max, reload, doc) P_##id,
enum param_id {
    MX_PARAMS(MX_PARAM_ENUM)
    P_COUNT
};

struct param_def {
    const char *name;
    enum param_type type;
    const char *def;
    long    min;
    long    max;
    int     reloadable;
    const char *doc;
};

extern const struct param_def param_table[P_COUNT];

/* param_find - look up a name or a Postfix alias (smtpd_*); -1 if unknown */
int     param_find(const char *name);

/* param_type_name - "string", "integer", ... */
const char *param_type_name(enum param_type t);

#endif
