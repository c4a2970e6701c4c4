/* Whole inputs read as streams: files, pipes, FIFOs, character devices and
 * standard input, plain or gzip-compressed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "error.h"
#include "input.h"
#include "reco_alloc.h"

#define CHUNK_BYTES ((size_t)1 << 16)

/* The bytes read (and decompressed) so far. */
typedef struct sink {
    uint8_t *data;
    size_t size, capacity;
} sink;

/* Makes room for `more` bytes plus the terminating NUL. */
static reco_status reserve(sink *s, size_t more)
{
    if (more <= s->capacity - s->size && s->capacity - s->size - more >= 1)
        return RECO_OK;
    if (more > SIZE_MAX / 2 - s->size - 1)
        return reco_fail(RECO_ERR_OUT_OF_MEMORY, "out of memory: an input of more than %zu bytes",
                         SIZE_MAX / 2);
    size_t capacity = s->capacity ? s->capacity : CHUNK_BYTES;
    while (capacity < s->size + more + 1)
        capacity *= 2;
    uint8_t *grown = reco_realloc(s->data, capacity);
    if (!grown)
        return reco_fail_oom();
    s->data = grown;
    s->capacity = capacity;
    return RECO_OK;
}

static const char *kind_of_file(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISBLK(mode))
        return "a block device";
    return "not a regular file, a pipe or a character device";
}

/* Waits until a FIFO opened without blocking has a writer that sends data
 * (or closes): opening one blocks until a writer comes, maybe never. */
static reco_status await_writer(int fd, const char *path)
{
    struct pollfd waiting = {.fd = fd, .events = POLLIN};
    const char *setting = getenv("RECO_FIFO_WAIT_MS");
    long wait_ms = setting && setting[0] ? strtol(setting, NULL, 10) : RECO_FIFO_WAIT_MS;
    if (wait_ms < 0 || wait_ms > INT_MAX)
        wait_ms = RECO_FIFO_WAIT_MS;
    int ready;
    do
        ready = poll(&waiting, 1, (int)wait_ms);
    while (ready < 0 && errno == EINTR);
    if (ready < 0)
        return reco_fail(RECO_ERR_IO, "%s: cannot wait for data: %s", path, strerror(errno));
    if (ready == 0)
        return reco_fail(RECO_ERR_IO,
                         "%s: no data within %ld ms (a FIFO that no program writes to?)", path,
                         wait_ms);
    return RECO_OK;
}

/* Opens the input (standard input for "-") ready for blocking reads;
 * *expected is a regular file's size (0 otherwise), a hint only. */
static reco_status open_input(const char *path, int *fd, size_t *expected)
{
    int standard_input = strcmp(path, "-") == 0;
    *expected = 0;
    *fd = standard_input ? STDIN_FILENO : open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (*fd < 0)
        return reco_fail(RECO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat info;
    reco_status status = RECO_OK;
    if (fstat(*fd, &info) != 0)
        status = reco_fail(RECO_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    else if (!S_ISREG(info.st_mode) && !S_ISFIFO(info.st_mode) && !S_ISCHR(info.st_mode))
        status = reco_fail(RECO_ERR_IO, "%s: is %s; expected a file", path,
                           kind_of_file(info.st_mode));
    else if (!standard_input && S_ISFIFO(info.st_mode))
        status = await_writer(*fd, path);
    *expected = status == RECO_OK && S_ISREG(info.st_mode) ? (size_t)info.st_size : 0;
    if (status == RECO_OK && !standard_input) {
        int flags = fcntl(*fd, F_GETFL);
        if (flags < 0 || fcntl(*fd, F_SETFL, flags & ~O_NONBLOCK) != 0)
            status = reco_fail(RECO_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    }
    if (status != RECO_OK && !standard_input)
        close(*fd);
    return status;
}

/* Reads up to `capacity` bytes; *got is 0 at the end of the input. */
static reco_status read_chunk(int fd, const char *path, uint8_t *buffer, size_t capacity,
                              size_t *got)
{
    ssize_t n;
    do
        n = read(fd, buffer, capacity);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return reco_fail(RECO_ERR_IO, "%s: read error: %s", path, strerror(errno));
    *got = (size_t)n;
    return RECO_OK;
}

/* Text inputs hold no NUL byte: stop at the first, naming its line. */
static reco_status check_text(const sink *s, size_t from, const char *path)
{
    const uint8_t *nul = memchr(s->data + from, '\0', s->size - from);
    if (!nul)
        return RECO_OK;
    size_t line = 1;
    for (const uint8_t *p = s->data; p < nul; p++)
        line += *p == '\n';
    return reco_fail_line(RECO_ERR_PARSE, path, line,
                          "binary data (a NUL byte); expected a text file");
}

/* Whether the bytes so far already differ from the expected magic. */
static int wrong_magic(const sink *s, const char *magic)
{
    size_t length = magic ? strlen(magic) : 0;
    size_t compared = s->size < length ? s->size : length;
    return magic && memcmp(s->data, magic, compared) != 0;
}

/* Inflates `raw` into the sink, across gzip members, draining what zlib
 * holds back; *ended says whether the last member ended with `raw`. */
static reco_status inflate_into(z_stream *z, const uint8_t *raw, size_t n_raw, sink *s,
                                int *ended, const char *path, reco_status corrupt)
{
    z->next_in = (Bytef *)raw;
    z->avail_in = (uInt)n_raw;
    for (;;) {
        reco_status status = reserve(s, CHUNK_BYTES);
        if (status != RECO_OK)
            return status;
        z->next_out = s->data + s->size;
        z->avail_out = (uInt)CHUNK_BYTES;
        int result = inflate(z, Z_NO_FLUSH);
        s->size += CHUNK_BYTES - z->avail_out;
        if (result == Z_STREAM_END) {
            *ended = 1;
            if (z->avail_in == 0)
                return RECO_OK;
            if (inflateReset(z) != Z_OK)
                return reco_fail(corrupt, "%s: corrupt gzip data", path);
            continue;
        }
        if (result != Z_OK && result != Z_BUF_ERROR)
            return reco_fail(corrupt, "%s: corrupt gzip data: %s", path,
                             z->msg ? z->msg : "inflate failed");
        *ended = 0;
        if (z->avail_in == 0 && z->avail_out > 0)
            return RECO_OK; /* all taken, nothing held back */
    }
}

reco_status reco_input_read(const char *path, reco_input_kind kind, const char *magic,
                            uint8_t **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    int fd;
    size_t expected;
    reco_status status = open_input(path, &fd, &expected);
    if (status != RECO_OK)
        return status;
    reco_status corrupt = kind == RECO_INPUT_TEXT ? RECO_ERR_PARSE : RECO_ERR_FORMAT;
    sink s = {0};
    uint8_t *raw = reco_malloc(CHUNK_BYTES);
    z_stream z = {0};
    int gzip = -1, z_ready = 0, ended = 1;
    size_t n_raw = 0;
    if (!raw)
        status = reco_fail_oom();
    else if (expected > 0 && expected < SIZE_MAX / 4)
        status = reserve(&s, expected); /* read in place, no regrowth */
    while (status == RECO_OK) {
        size_t got = 0;
        status = read_chunk(fd, path, raw + n_raw, CHUNK_BYTES - n_raw, &got);
        if (status != RECO_OK || (got == 0 && n_raw == 0))
            break;
        n_raw += got;
        if (gzip < 0 && n_raw < 2 && got > 0)
            continue; /* two bytes tell gzip from plain */
        if (gzip < 0) {
            gzip = n_raw >= 2 && raw[0] == 0x1f && raw[1] == 0x8b;
            if (gzip && inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
                status = reco_fail_oom();
                break;
            }
            z_ready = gzip;
        }
        size_t before = s.size;
        if (gzip) {
            status = inflate_into(&z, raw, n_raw, &s, &ended, path, corrupt);
        } else if ((status = reserve(&s, n_raw)) == RECO_OK) {
            memcpy(s.data + s.size, raw, n_raw);
            s.size += n_raw;
        }
        n_raw = 0;
        if (status == RECO_OK && kind == RECO_INPUT_TEXT)
            status = check_text(&s, before, path);
        if (status != RECO_OK || wrong_magic(&s, magic) || got == 0)
            break;
    }
    if (status == RECO_OK && gzip == 1 && !ended)
        status = reco_fail(corrupt, "%s: truncated gzip data", path);
    if (status == RECO_OK)
        status = reserve(&s, 0);
    if (z_ready)
        inflateEnd(&z);
    reco_free(raw);
    if (fd != STDIN_FILENO)
        close(fd);
    if (status != RECO_OK) {
        reco_free(s.data);
        return status;
    }
    s.data[s.size] = '\0';
    *data = s.data;
    *size = s.size;
    return RECO_OK;
}
