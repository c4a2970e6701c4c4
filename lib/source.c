/* Byte sources: files, pipes, FIFOs, character devices and standard input,
 * plain, gzip-compressed (zlib), or decoded by libarchive (other
 * compressions, archive members) when the build has it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#ifdef RECO_HAVE_LIBARCHIVE
#include <archive.h>
#include <archive_entry.h>
#endif

#include "error.h"
#include "reco_alloc.h"
#include "source.h"

#define CHUNK_BYTES ((size_t)1 << 16)
#define HEAD_BYTES 512 /* enough to see every magic below, tar's included */

typedef enum decoder { DECODE_PLAIN, DECODE_GZIP, DECODE_ARCHIVE } decoder;

struct reco_source {
    char *name;          /* the path, or "path:member" */
    int fd;
    int seekable;        /* a regular file: libarchive may skip and seek */
    reco_status corrupt; /* the status of decoding errors */
    size_t size_hint;
    uint8_t head[HEAD_BYTES]; /* the first bytes, sniffed, then served first */
    size_t head_size, head_used;
    decoder decoder;
    const char *format; /* the sniffed format's name */
    uint8_t *raw;       /* CHUNK_BYTES of undecoded input */
    z_stream z;
    int z_ready, z_ended, raw_done;
#ifdef RECO_HAVE_LIBARCHIVE
    struct archive *archive;
    int check_lone; /* a stream's first member, taken unnamed: no other may follow */
    reco_status read_status;
#endif
};

/* Formats told by their first bytes. `decoded`: gzip by zlib, the others by
 * libarchive; the rest are binary files that are never text. */
typedef struct known_format {
    const char *name;
    size_t offset, length;
    const char *magic;
    int decoded;
} known_format;

static const known_format known_formats[] = {
    {"gzip data", 0, 2, "\x1f\x8b", 1},
    {"bzip2 data", 0, 3, "BZh", 1},
    {"xz data", 0, 6, "\xfd" "7zXZ\0", 1},
    {"zstd data", 0, 4, "\x28\xb5\x2f\xfd", 1},
    {"lz4 data", 0, 4, "\x04\x22\x4d\x18", 1},
    {"zip archive", 0, 4, "PK\x03\x04", 1},
    {"zip archive", 0, 4, "PK\x05\x06", 1},
    {"7-Zip archive", 0, 6, "7z\xbc\xaf\x27\x1c", 1},
    {"RAR archive", 0, 6, "Rar!\x1a\x07", 1},
    {"tar archive", 257, 5, "ustar", 1},
    {"libreco model file", 0, 8, "RECOMODL", 0},
    {"PNG image", 0, 8, "\x89PNG\r\n\x1a\n", 0},
    {"JPEG image", 0, 3, "\xff\xd8\xff", 0},
    {"PDF document", 0, 5, "%PDF-", 0},
    {"ELF executable", 0, 4, "\x7f" "ELF", 0},
    {"SQLite database", 0, 16, "SQLite format 3\0", 0},
    {"Parquet file", 0, 4, "PAR1", 0},
    {"HDF5 file", 0, 8, "\x89HDF\r\n\x1a\n", 0},
    {"NumPy array", 0, 6, "\x93NUMPY", 0},
    {"Microsoft Office (OLE) file", 0, 8, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0},
};

/* Whether the bytes hold a control character that text does not. */
static int has_binary_byte(const uint8_t *bytes, size_t size)
{
    for (size_t i = 0; i < size; i++)
        if (bytes[i] < 0x20 && bytes[i] != '\t' && bytes[i] != '\n' && bytes[i] != '\r')
            return 1;
    return 0;
}

/* The format the head shows, or NULL (text, or unknown). A magic of
 * printable letters ("PAR1", "%PDF-") could begin a text file: it counts
 * only when the head also holds a byte that text does not. */
static const known_format *sniff(const uint8_t *head, size_t size)
{
    int binary = has_binary_byte(head, size);
    for (size_t f = 0; f < sizeof known_formats / sizeof *known_formats; f++) {
        const known_format *known = &known_formats[f];
        if (known->offset + known->length > size ||
            memcmp(head + known->offset, known->magic, known->length) != 0)
            continue;
        if (binary || has_binary_byte((const uint8_t *)known->magic, known->length))
            return known;
    }
    return NULL;
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

/* Opens `file` (standard input for "-") ready for blocking reads. */
static reco_status open_file(reco_source *s, const char *file)
{
    int standard_input = strcmp(file, "-") == 0;
    s->fd = standard_input ? STDIN_FILENO : open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (s->fd < 0)
        return reco_fail(RECO_ERR_IO, "%s: cannot open: %s", file, strerror(errno));
    struct stat info;
    reco_status status = RECO_OK;
    if (fstat(s->fd, &info) != 0)
        status = reco_fail(RECO_ERR_IO, "%s: cannot stat: %s", file, strerror(errno));
    else if (!S_ISREG(info.st_mode) && !S_ISFIFO(info.st_mode) && !S_ISCHR(info.st_mode))
        status = reco_fail(RECO_ERR_IO, "%s: is %s; expected a file", file,
                           kind_of_file(info.st_mode));
    else if (!standard_input && S_ISFIFO(info.st_mode))
        status = await_writer(s->fd, file);
    if (status == RECO_OK && !standard_input) {
        int flags = fcntl(s->fd, F_GETFL);
        if (flags < 0 || fcntl(s->fd, F_SETFL, flags & ~O_NONBLOCK) != 0)
            status = reco_fail(RECO_ERR_IO, "%s: cannot read: %s", file, strerror(errno));
    }
    if (status == RECO_OK && S_ISREG(info.st_mode)) {
        s->seekable = lseek(s->fd, 0, SEEK_CUR) == 0;
        s->size_hint = (size_t)info.st_size;
    }
    return status;
}

/* Reads up to `capacity` bytes of the file itself, the sniffed head first. */
static reco_status raw_read(reco_source *s, uint8_t *buffer, size_t capacity, size_t *got)
{
    if (s->head_used < s->head_size) {
        size_t n = s->head_size - s->head_used < capacity ? s->head_size - s->head_used : capacity;
        memcpy(buffer, s->head + s->head_used, n);
        s->head_used += n;
        *got = n;
        return RECO_OK;
    }
    ssize_t n;
    do
        n = read(s->fd, buffer, capacity);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return reco_fail(RECO_ERR_IO, "%s: read error: %s", s->name, strerror(errno));
    *got = (size_t)n;
    return RECO_OK;
}

/* Fills the head: a regular file's whole head, a stream's first read (what
 * its writer sent: a compressor sends every magic's bytes at once), so that
 * a slow writer's first line is judged without waiting for more. */
static reco_status read_head(reco_source *s)
{
    size_t wanted = s->seekable ? HEAD_BYTES : 1;
    while (s->head_size < wanted) {
        ssize_t n;
        do
            n = read(s->fd, s->head + s->head_size, HEAD_BYTES - s->head_size);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            return reco_fail(RECO_ERR_IO, "%s: read error: %s", s->name, strerror(errno));
        if (n == 0)
            break;
        s->head_size += (size_t)n;
    }
    return RECO_OK;
}

/* A NUL-terminated copy of `length` bytes of text, or NULL. */
static char *copy_of(const char *text, size_t length)
{
    char *copy = reco_malloc(length + 1);
    if (copy) {
        memcpy(copy, text, length);
        copy[length] = '\0';
    }
    return copy;
}

/* Splits "file:member" where `file` exists (and "-:member"); a path that
 * exists whole is the file itself, member NULL. *file is allocated. */
static reco_status split_member(const char *path, char **file, const char **member)
{
    struct stat info;
    size_t length = strlen(path);
    size_t split = length;
    if (strcmp(path, "-") != 0 && stat(path, &info) != 0) {
        for (const char *colon = strchr(path, ':'); colon; colon = strchr(colon + 1, ':')) {
            size_t at = (size_t)(colon - path);
            char *prefix = copy_of(path, at);
            if (!prefix)
                return reco_fail_oom();
            int found = strcmp(prefix, "-") == 0 || (stat(prefix, &info) == 0 &&
                                                     !S_ISDIR(info.st_mode));
            reco_free(prefix);
            if (found && colon[1] != '\0') {
                split = at;
                break;
            }
        }
    }
    *file = copy_of(path, split);
    if (!*file)
        return reco_fail_oom();
    *member = split < length ? path + split + 1 : NULL;
    return RECO_OK;
}

#ifdef RECO_HAVE_LIBARCHIVE

static la_ssize_t source_read_callback(struct archive *archive, void *data, const void **buffer)
{
    reco_source *s = data;
    size_t got;
    s->read_status = raw_read(s, s->raw, CHUNK_BYTES, &got);
    if (s->read_status != RECO_OK) {
        archive_set_error(archive, EIO, "read error");
        return -1;
    }
    *buffer = s->raw;
    return (la_ssize_t)got;
}

static la_int64_t source_seek_callback(struct archive *archive, void *data, la_int64_t offset,
                                        int whence)
{
    (void)archive;
    const reco_source *s = data;
    return lseek(s->fd, (off_t)offset, whence);
}

static la_int64_t source_skip_callback(struct archive *archive, void *data, la_int64_t request)
{
    (void)archive;
    const reco_source *s = data;
    return lseek(s->fd, (off_t)request, SEEK_CUR) < 0 ? 0 : request;
}

static reco_status archive_failure(reco_source *s, const char *what)
{
    if (s->read_status != RECO_OK)
        return s->read_status;
    return reco_fail(s->corrupt, "%s: %s %s: %s", s->name, what, s->format,
                     archive_error_string(s->archive) ? archive_error_string(s->archive)
                                                      : "libarchive failed");
}

/* Opens the archive reader on the file, from its first byte. */
static reco_status archive_open(reco_source *s)
{
    if (s->archive)
        archive_read_free(s->archive);
    if (s->seekable) {
        if (lseek(s->fd, 0, SEEK_SET) != 0)
            return reco_fail(RECO_ERR_IO, "%s: cannot seek: %s", s->name, strerror(errno));
        s->head_used = s->head_size = 0;
    }
    s->archive = archive_read_new();
    if (!s->archive)
        return reco_fail_oom();
    archive_read_support_filter_all(s->archive);
    archive_read_support_format_zip(s->archive);
    archive_read_support_format_tar(s->archive);
    archive_read_support_format_gnutar(s->archive);
    archive_read_support_format_7zip(s->archive);
    archive_read_support_format_rar(s->archive);
    archive_read_support_format_rar5(s->archive);
    archive_read_support_format_raw(s->archive); /* a compressed file: one "member" */
    archive_read_set_callback_data(s->archive, s);
    archive_read_set_read_callback(s->archive, source_read_callback);
    if (s->seekable) {
        archive_read_set_seek_callback(s->archive, source_seek_callback);
        archive_read_set_skip_callback(s->archive, source_skip_callback);
    }
    if (archive_read_open1(s->archive) != ARCHIVE_OK)
        return archive_failure(s, "corrupt or truncated");
    return RECO_OK;
}

static const char *without_dot_slash(const char *name)
{
    while (name[0] == '.' && name[1] == '/')
        name += 2;
    return name;
}

/* The names seen while looking for a member, for the message that lists
 * them when it is not found, or when several could be meant. */
typedef struct member_list {
    size_t count;
    char text[512];
} member_list;

static void list_member(member_list *list, const char *name)
{
    size_t used = strlen(list->text);
    if (list->count < 8 && used + strlen(name) + 5 < sizeof list->text)
        snprintf(list->text + used, sizeof list->text - used, "%s'%s'", used ? ", " : "", name);
    else if (list->count == 8)
        snprintf(list->text + used, sizeof list->text - used, ", ...");
    list->count++;
}

/* Moves to the next regular file's header; *name is NULL at the end, and
 * "" for the whole of a compressed file (no archive around it). */
static reco_status next_member(reco_source *s, const char **name)
{
    for (;;) {
        struct archive_entry *entry;
        int result = archive_read_next_header(s->archive, &entry);
        *name = NULL;
        if (result == ARCHIVE_EOF)
            return RECO_OK;
        if (result < ARCHIVE_WARN)
            return archive_failure(s, "corrupt or truncated");
        if ((archive_format(s->archive) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_TAR)
            s->format = "tar archive"; /* a compressed tar was sniffed as its compression */
        if (archive_format(s->archive) == ARCHIVE_FORMAT_RAW) {
            *name = "";
            return RECO_OK;
        }
        const char *pathname = archive_entry_pathname(entry);
        /* a nameless entry cannot be named as MEMBER, and "" means no archive */
        if (archive_entry_filetype(entry) == AE_IFREG && pathname && pathname[0]) {
            *name = pathname;
            return RECO_OK;
        }
    }
}

/* Names the source "path:member". */
static reco_status name_member(reco_source *s, const char *file, const char *member)
{
    char *name = reco_malloc(strlen(file) + strlen(member) + 2);
    if (!name)
        return reco_fail_oom();
    sprintf(name, "%s:%s", file, member);
    reco_free(s->name);
    s->name = name;
    return RECO_OK;
}

/* Positions the reader at `member`'s data (NULL: the archive's one file). */
static reco_status archive_pick(reco_source *s, const char *file, const char *member)
{
    member_list seen = {0};
    char *lone = NULL;
    const char *name;
    reco_status status;
    while ((status = next_member(s, &name)) == RECO_OK && name) {
        if (name[0] == '\0') { /* a compressed file, not an archive */
            if (member)
                status = reco_fail(s->corrupt, "%s: %s, not an archive: it has no member '%s'",
                                   s->name, s->format, member);
            goto done;
        }
        if (member ? strcmp(without_dot_slash(name), without_dot_slash(member)) == 0
                   : !s->seekable) {
            s->check_lone = !member;
            status = name_member(s, file, name);
            goto done;
        }
        list_member(&seen, name);
        if (!member && !lone && !(lone = copy_of(name, strlen(name)))) {
            status = reco_fail_oom();
            goto done;
        }
    }
    if (status == RECO_OK && !member && seen.count == 1) {
        status = archive_open(s); /* back to the start, for the one file */
        if (status == RECO_OK)
            status = archive_pick(s, file, lone);
    } else if (status == RECO_OK && member) {
        status = reco_fail(s->corrupt, "%s: the %s has no file '%s'%s%s", s->name, s->format,
                           member, seen.count ? "; it holds " : " (it holds no file)", seen.text);
    } else if (status == RECO_OK && seen.count == 0) {
        status = reco_fail(s->corrupt, "%s: the %s holds no file", s->name, s->format);
    } else if (status == RECO_OK) {
        status = reco_fail(s->corrupt, "%s: the %s holds %zu files (%s); name one as %s:MEMBER",
                           s->name, s->format, seen.count, seen.text, file);
    }
done:
    reco_free(lone);
    return status;
}

static reco_status archive_start(reco_source *s, const char *file, const char *member)
{
    reco_status status = archive_open(s);
    if (status == RECO_OK)
        status = archive_pick(s, file, member);
    s->decoder = DECODE_ARCHIVE;
    return status;
}

/* At the end of a member taken unnamed from a stream, no other file may
 * follow: which one was meant would be a guess. */
static reco_status check_lone_member(reco_source *s)
{
    const char *name;
    reco_status status = next_member(s, &name);
    if (status == RECO_OK && name)
        status = reco_fail(s->corrupt, "%s: the %s holds more than one file ('%s' follows); "
                           "name one as PATH:MEMBER", s->name, s->format, name);
    return status;
}

static reco_status archive_read_member(reco_source *s, uint8_t *buffer, size_t capacity,
                                       size_t *got)
{
    la_ssize_t n = archive_read_data(s->archive, buffer, capacity);
    if (n < 0)
        return archive_failure(s, "corrupt or truncated");
    *got = (size_t)n;
    if (n == 0 && s->check_lone) {
        s->check_lone = 0;
        return check_lone_member(s);
    }
    return RECO_OK;
}

#else

/* gzip by zlib: members follow one another; the last must end. */
static reco_status gzip_read(reco_source *s, uint8_t *buffer, size_t capacity, size_t *got)
{
    z_stream *z = &s->z;
    if (capacity > UINT_MAX)
        capacity = UINT_MAX;
    z->next_out = buffer;
    z->avail_out = (uInt)capacity;
    while (z->avail_out == capacity) {
        if (z->avail_in == 0 && !s->raw_done) {
            size_t n;
            reco_status status = raw_read(s, s->raw, CHUNK_BYTES, &n);
            if (status != RECO_OK)
                return status;
            s->raw_done = n == 0;
            z->next_in = s->raw;
            z->avail_in = (uInt)n;
        }
        if (z->avail_in == 0) {
            if (!s->z_ended)
                return reco_fail(s->corrupt, "%s: truncated gzip data", s->name);
            break;
        }
        if (s->z_ended && inflateReset(z) != Z_OK)
            return reco_fail(s->corrupt, "%s: corrupt gzip data", s->name);
        s->z_ended = 0;
        int result = inflate(z, Z_NO_FLUSH);
        if (result == Z_STREAM_END)
            s->z_ended = 1;
        else if (result != Z_OK && result != Z_BUF_ERROR)
            return reco_fail(s->corrupt, "%s: corrupt gzip data: %s", s->name,
                             z->msg ? z->msg : "inflate failed");
    }
    *got = capacity - z->avail_out;
    return RECO_OK;
}

static reco_status gzip_start(reco_source *s)
{
    if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK)
        return reco_fail_oom();
    s->z_ready = 1;
    s->decoder = DECODE_GZIP;
    return RECO_OK;
}

#endif

/* Sets up what decodes the file's bytes, from its head. */
static reco_status choose_decoder(reco_source *s, reco_input_kind kind, const char *file,
                                  const char *member)
{
    const known_format *known = sniff(s->head, s->head_size);
    s->format = known ? known->name : "plain text";
    if (known && !known->decoded && kind == RECO_INPUT_TEXT)
        return reco_fail(s->corrupt, "%s: %s, not a text file", s->name, known->name);
    if (known && known->decoded) {
        s->size_hint = 0; /* the file's size is not the data's */
#ifdef RECO_HAVE_LIBARCHIVE
        return archive_start(s, file, member);
#else
        int gzip = known->magic[0] == '\x1f';
        if (!gzip)
            return reco_fail(s->corrupt,
                             "%s: %s; this libreco reads gzip but no other compressed or "
                             "archived input (it was built without libarchive): unpack it first",
                             s->name, known->name);
        if (!member)
            return gzip_start(s);
#endif
    }
    (void)file;
    if (!member)
        return RECO_OK;
    return reco_fail(s->corrupt, "%s: %s, not an archive: it has no member '%s'", s->name,
                     s->format, member);
}

reco_status reco_source_open(const char *path, reco_input_kind kind, reco_source **out)
{
    *out = NULL;
    reco_source *s = reco_calloc(1, sizeof *s);
    char *file = NULL;
    const char *member = NULL;
    if (!s)
        return reco_fail_oom();
    s->fd = -1;
    s->corrupt = kind == RECO_INPUT_TEXT ? RECO_ERR_PARSE : RECO_ERR_FORMAT;
    reco_status status = split_member(path, &file, &member);
    if (status == RECO_OK && !(s->name = copy_of(file, strlen(file))))
        status = reco_fail_oom();
    if (status == RECO_OK && !(s->raw = reco_malloc(CHUNK_BYTES)))
        status = reco_fail_oom();
    if (status == RECO_OK)
        status = open_file(s, file);
    if (status == RECO_OK)
        status = read_head(s);
    if (status == RECO_OK)
        status = choose_decoder(s, kind, file, member);
    reco_free(file);
    if (status != RECO_OK) {
        reco_source_close(s);
        return status;
    }
    *out = s;
    return RECO_OK;
}

reco_status reco_source_read(reco_source *source, uint8_t *buffer, size_t capacity, size_t *got)
{
    *got = 0;
    switch (source->decoder) {
#ifdef RECO_HAVE_LIBARCHIVE
    case DECODE_ARCHIVE:
        return archive_read_member(source, buffer, capacity, got);
#else
    case DECODE_GZIP:
        return gzip_read(source, buffer, capacity, got);
#endif
    default:
        return raw_read(source, buffer, capacity, got);
    }
}

const char *reco_source_name(const reco_source *source)
{
    return source->name;
}

size_t reco_source_size_hint(const reco_source *source)
{
    return source->size_hint;
}

void reco_source_close(reco_source *source)
{
    if (!source)
        return;
    if (source->z_ready)
        inflateEnd(&source->z);
#ifdef RECO_HAVE_LIBARCHIVE
    if (source->archive)
        archive_read_free(source->archive);
#endif
    if (source->fd > STDIN_FILENO)
        close(source->fd);
    reco_free(source->raw);
    reco_free(source->name);
    reco_free(source);
}
