/* Atomic file replacement: temporary file, fsync, rename, fsync of the
 * folder. */
#define _GNU_SOURCE /* O_CLOEXEC, readlink */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "error.h"
#include "reco_alloc.h"

/* Links followed before giving up, as the kernel's own limit. */
#define MAX_LINKS 40
#define PATH_BYTES 4096

/* The file a chain of symbolic links ends at (the path itself when it is
 * not a link); it need not exist yet. */
static reco_status final_target(const char *path, char *target)
{
    if (strlen(path) >= PATH_BYTES)
        return reco_fail(RECO_ERR_IO, "%s: path too long", path);
    strcpy(target, path);
    for (int links = 0;; links++) {
        struct stat info;
        if (lstat(target, &info) != 0 || !S_ISLNK(info.st_mode))
            return RECO_OK;
        if (links == MAX_LINKS)
            return reco_fail(RECO_ERR_IO, "%s: too many levels of symbolic links", path);
        char link[PATH_BYTES];
        ssize_t length = readlink(target, link, sizeof link - 1);
        if (length < 0)
            return reco_fail(RECO_ERR_IO, "%s: cannot read the link: %s", target,
                             strerror(errno));
        link[length] = '\0';
        char *slash = strrchr(target, '/');
        size_t folder = link[0] == '/' || !slash ? 0 : (size_t)(slash - target) + 1;
        if (folder + (size_t)length >= PATH_BYTES)
            return reco_fail(RECO_ERR_IO, "%s: path too long", path);
        memcpy(target + folder, link, (size_t)length + 1);
    }
}

/* Splits a path into its folder ("." when none) and its last component. */
static void split_path(const char *path, char *folder, const char **name)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        strcpy(folder, ".");
        *name = path;
        return;
    }
    size_t length = slash == path ? 1 : (size_t)(slash - path);
    memcpy(folder, path, length);
    folder[length] = '\0';
    *name = slash + 1;
}

/* Removes NAME.tmp-PID-* files of processes that no longer run. */
static void remove_stale_temporaries(const char *folder, const char *name)
{
    DIR *dir = opendir(folder);
    if (!dir)
        return;
    size_t name_length = strlen(name);
    for (struct dirent *entry; (entry = readdir(dir));) {
        const char *rest = entry->d_name;
        if (strncmp(rest, name, name_length) != 0 || strncmp(rest + name_length, ".tmp-", 5))
            continue;
        char *end;
        long pid = strtol(rest + name_length + 5, &end, 10);
        if (pid <= 0 || *end != '-' || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* alive, or not ours to judge */
        char stale[PATH_BYTES + 256];
        snprintf(stale, sizeof stale, "%s/%s", folder, rest);
        unlink(stale);
    }
    closedir(dir);
}

/* Creates a new temporary file beside `target` with mode 0666 less the
 * umask (the kernel applies it); writes its name to `temporary`. */
static int create_temporary(const char *target, char *temporary, size_t size)
{
    static unsigned counter;
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned salt = (unsigned)time(NULL) ^ (unsigned)clock() ^
                        __atomic_add_fetch(&counter, 0x9e3779b9u, __ATOMIC_RELAXED);
        snprintf(temporary, size, "%s.tmp-%ld-%08x", target, (long)getpid(), salt);
        int fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

static reco_status write_all(int fd, const char *temporary, const uint8_t *data, size_t size)
{
    for (size_t written = 0; written < size;) {
        ssize_t n = write(fd, data + written, size - written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return reco_fail(RECO_ERR_IO, "%s: write failed: %s", temporary,
                             n < 0 ? strerror(errno) : "no space written");
        written += (size_t)n;
    }
    return RECO_OK;
}

reco_status reco_write_atomically(const char *path, const uint8_t *data, size_t size)
{
    char target[PATH_BYTES], folder[PATH_BYTES], temporary[PATH_BYTES + 64];
    const char *name;
    reco_status status = final_target(path, target);
    if (status != RECO_OK)
        return status;
    split_path(target, folder, &name);
    remove_stale_temporaries(folder, name);
    int fd = create_temporary(target, temporary, sizeof temporary);
    if (fd < 0)
        return reco_fail(RECO_ERR_IO, "%s: cannot create a temporary file: %s", path,
                         strerror(errno));
    struct stat old;
    if (stat(target, &old) == 0 && fchmod(fd, old.st_mode & 07777) != 0)
        status = reco_fail(RECO_ERR_IO, "%s: cannot keep the file's mode: %s", temporary,
                           strerror(errno));
    if (status == RECO_OK)
        status = write_all(fd, temporary, data, size);
    if (status == RECO_OK && fsync(fd) != 0)
        status = reco_fail(RECO_ERR_IO, "%s: fsync failed: %s", temporary, strerror(errno));
    if (close(fd) != 0 && status == RECO_OK)
        status = reco_fail(RECO_ERR_IO, "%s: close failed: %s", temporary, strerror(errno));
    if (status == RECO_OK && rename(temporary, target) != 0)
        status = reco_fail(RECO_ERR_IO, "%s: cannot rename into place: %s", target,
                           strerror(errno));
    if (status != RECO_OK) {
        unlink(temporary);
        return status;
    }
    int dir = open(folder, O_RDONLY | O_CLOEXEC); /* makes the rename itself durable */
    if (dir >= 0) {
        fsync(dir);
        close(dir);
    }
    return RECO_OK;
}
