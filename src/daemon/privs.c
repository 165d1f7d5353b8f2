/*
 * privs.c - become the configured user after the sockets are bound.
 *
 * The state directory and its database files are handed to that user
 * first.  That directory is the user's to write, so nothing in it is
 * changed by name: each file is opened without following a symbolic link
 * (O_PATH | O_NOFOLLOW), checked to be what it should be (a directory; a
 * regular file with one link), and changed through its descriptor.  A
 * link planted there would otherwise let the user have root hand it any
 * file of the system.
 *
 * DIAGNOSTICS
 *	Everything here is fatal: it runs at start-up.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "daemon/privs.h"
#include "util/log.h"

/* hand_over - give one file of the state directory to the user */
static void hand_over(int dirfd, const char *dir, const char *name, int want_dir,
		              const struct passwd *pw)
{
    struct stat st;
    int     fd;

    fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC | (want_dir ? O_DIRECTORY : 0));
    if (fd < 0 && errno == ENOENT && !want_dir)
	return;
    if (fd < 0 || fstat(fd, &st) < 0)
	msg_fatal("data_directory %s%s%s: %s", dir, *name == '.' ? "" : "/",
		  *name == '.' ? "" : name, strerror(errno));
    if (S_ISLNK(st.st_mode))
	msg_fatal("data_directory %s/%s: is a symbolic link; refusing to hand it to user %s",
		  dir, name, pw->pw_name);
    if (!want_dir && (!S_ISREG(st.st_mode) || st.st_nlink != 1))
	msg_fatal("data_directory %s/%s: not a regular file with one link; refusing to"
		  " hand it to user %s", dir, name, pw->pw_name);
    if ((st.st_uid != pw->pw_uid || st.st_gid != pw->pw_gid)
	&& fchownat(fd, "", pw->pw_uid, pw->pw_gid, AT_EMPTY_PATH) < 0)
	msg_fatal("chown %s%s%s: %s", dir, want_dir ? "" : "/", want_dir ? "" : name,
		  strerror(errno));
    (void) close(fd);
}

/* hand_over_data_dir - the directory and its database to the user */
static void hand_over_data_dir(const char *dir, const struct passwd *pw)
{
    int     dirfd;

    /* the directory itself: not a link (its parent is root's to write) */
    dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dirfd < 0)
	msg_fatal("data_directory %s: %s%s", dir, strerror(errno),
		  errno == ELOOP || errno == ENOTDIR ? " (a symbolic link is refused)" : "");
    hand_over(dirfd, dir, ".", 1, pw);
    hand_over(dirfd, dir, "data.mdb", 0, pw);
    hand_over(dirfd, dir, "lock.mdb", 0, pw);
    (void) close(dirfd);
}

/*
 * privs_prepare - before the listeners: create data_directory (0700), so
 * that sockets can live in it (control_socket does by default) on the
 * first start too.  Root with a user to become makes it root's, and
 * privs_drop hands it over through a descriptor; anyone else makes it
 * his own, which is the run-as user's.  Only the former is fatal on
 * failure: without a user, the store says so if it needs the directory.
 */
void    privs_prepare(const struct config *conf)
{
    const char *dir = config_str(conf, P_DATA_DIR);

    if (mkdir(dir, 0700) == 0 || errno == EEXIST)
	return;
    if (*config_str(conf, P_RUN_USER) && geteuid() == 0)
	msg_fatal("data_directory %s: %s", dir, strerror(errno));
    msg_warn("data_directory %s: cannot create it: %s", dir, strerror(errno));
}

/* privs_drop - become the "user" of the configuration, if any */
int     privs_drop(const struct config *conf)
{
    const char *name = config_str(conf, P_RUN_USER);
    struct passwd *pw;

    if (*name == 0)
	return 0;
    if ((pw = getpwnam(name)) == NULL)
	msg_fatal("%s: user: unknown user \"%s\"", config_where(conf, P_RUN_USER), name);
    if (getuid() != 0 && geteuid() != 0) {
	if (geteuid() == pw->pw_uid)
	    return 0;
	msg_fatal("user = %s: only root can change to that user", name);
    }
    hand_over_data_dir(config_str(conf, P_DATA_DIR), pw);
    if (setgroups(1, &pw->pw_gid) < 0)
	msg_fatal("setgroups: %s", strerror(errno));
    if (setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0)
	msg_fatal("setresgid(%ld): %s", (long) pw->pw_gid, strerror(errno));
    if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
	msg_fatal("setresuid(%ld): %s", (long) pw->pw_uid, strerror(errno));
    if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
	msg_fatal("privilege drop to %s failed: root could be regained", name);
    msg_info("running as user %s (uid %ld)", name, (long) pw->pw_uid);
    return 1;
}
