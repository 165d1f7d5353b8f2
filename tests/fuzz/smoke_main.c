/*
 * smoke_main.c - run a fuzz target once over every file of its seed
 * directories, without libFuzzer.
 *
 * SYNOPSIS
 *	build-asan/fuzz/fuzz_NAME DIR...
 *
 * DESCRIPTION
 *	`make check`'s fuzz-smoke links each tests/fuzz/fuzz_*.c with this
 *	main and the ASan+UBSan build's library (gcc), so the check needs no
 *	third build of the whole program for libFuzzer (clang with coverage
 *	instrumentation: `make fuzz` still builds that one, to fuzz).  Each
 *	input is handed over as libFuzzer hands it: a heap copy of exactly its
 *	size, so that a read one byte past it is an ASan error.
 *
 *	Each file's name goes to standard error before it runs (the log then
 *	ends with the one that failed).  An input that runs longer than
 *	SMOKE_SECONDS ends the program by SIGALRM, as libFuzzer's -timeout
 *	would: a seed that hangs fails the check instead of stalling it (the
 *	limit is generous: the check runs beside two pools of protocol tests
 *	on a small machine).
 *
 * EXIT STATUS
 *	0 when every input ran (the count on standard output); 1 when a
 *	directory or file cannot be read; a sanitizer's error or SIGALRM
 *	otherwise.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SMOKE_SECONDS	60

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* run_file - one input; -1 when it cannot be read */
static int run_file(const char *path)
{
    struct stat st;
    unsigned char *data;
    ssize_t got;
    size_t  off = 0;
    int     fd = open(path, O_RDONLY | O_NOFOLLOW);

    if (fd < 0 || fstat(fd, &st) < 0) {
	fprintf(stderr, "smoke: %s: %s\n", path, strerror(errno));
	if (fd >= 0)
	    close(fd);
	return -1;
    }
    if (!S_ISREG(st.st_mode)) {
	close(fd);
	return 0;
    }
    if ((data = malloc((size_t) st.st_size)) == NULL && st.st_size > 0) {
	fprintf(stderr, "smoke: %s: out of memory\n", path);
	close(fd);
	return -1;
    }
    while (off < (size_t) st.st_size
	   && (got = read(fd, data + off, (size_t) st.st_size - off)) > 0)
	off += (size_t) got;
    close(fd);
    if (off != (size_t) st.st_size) {
	fprintf(stderr, "smoke: %s: short read\n", path);
	free(data);
	return -1;
    }
    fprintf(stderr, "smoke: %s\n", path);
    alarm(SMOKE_SECONDS);
    LLVMFuzzerTestOneInput(data, off);
    alarm(0);
    free(data);
    return 1;
}

int     main(int argc, char **argv)
{
    long    n = 0;

    for (int i = 1; i < argc; i++) {
	DIR    *d = opendir(argv[i]);
	struct dirent *e;
	char    path[4096];
	int     rc;

	if (d == NULL) {
	    fprintf(stderr, "smoke: %s: %s\n", argv[i], strerror(errno));
	    return 1;
	}
	while ((e = readdir(d)) != NULL) {
	    if (*e->d_name == '.')
		continue;
	    if ((size_t) snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name)
		>= sizeof(path)) {
		fprintf(stderr, "smoke: %s/%s: name too long\n", argv[i], e->d_name);
		closedir(d);
		return 1;
	    }
	    if ((rc = run_file(path)) < 0) {
		closedir(d);
		return 1;
	    }
	    n += rc;
	}
	closedir(d);
    }
    printf("%ld\n", n);
    return 0;
}
