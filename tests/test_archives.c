/* Compressed and archived inputs (lib/source.c): zip, tar, bzip2, xz and
 * zstd through libarchive, members named "archive:member" or a lone member
 * taken by itself, and other binary formats refused by name. The archives
 * are written here, with libarchive's writer, so no fixture is committed.
 * Built without libarchive, the same inputs are refused naming the format. */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "reco/dataset.h"

static const char ratings_text[] = "1::10::5::100\n2::20::3::200\n3::30::1::300\n";

/* Rows read from `path`, or -1 with the error kept. */
static long rows_of(const char *path)
{
    reco_dataset *data = NULL;
    if (reco_dataset_read(path, RECO_FORMAT_AUTO, &data) != RECO_OK)
        return -1;
    long rows = (long)reco_dataset_size(data);
    reco_dataset_free(data);
    return rows;
}

#ifdef RECO_HAVE_LIBARCHIVE
#include <archive.h>
#include <archive_entry.h>

typedef struct member {
    const char *name;
    const char *text;
} member;

/* Writes an archive of `format` (archive_write_set_format_*) through
 * `filter` (ARCHIVE_FILTER_*) holding the members. */
static const char *write_archive(const char *name, int (*format)(struct archive *), int filter,
                                 const member *members, size_t n)
{
    const char *path = temp_path(name);
    struct archive *out = archive_write_new();
    ck_assert_int_eq(format(out), ARCHIVE_OK);
    ck_assert_int_eq(archive_write_add_filter(out, filter), ARCHIVE_OK);
    ck_assert_int_eq(archive_write_open_filename(out, path), ARCHIVE_OK);
    for (size_t m = 0; m < n; m++) {
        struct archive_entry *entry = archive_entry_new();
        archive_entry_set_pathname(entry, members[m].name);
        archive_entry_set_size(entry, (la_int64_t)strlen(members[m].text));
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_perm(entry, 0644);
        ck_assert_int_eq(archive_write_header(out, entry), ARCHIVE_OK);
        ck_assert_int_eq(archive_write_data(out, members[m].text, strlen(members[m].text)),
                         (la_ssize_t)strlen(members[m].text));
        archive_entry_free(entry);
    }
    ck_assert_int_eq(archive_write_close(out), ARCHIVE_OK);
    archive_write_free(out);
    return path;
}

static char named[4096];

static const char *member_of(const char *archive, const char *name)
{
    snprintf(named, sizeof named, "%s:%s", archive, name);
    return named;
}

/* Empties the name of the tar entry whose header is at `offset` (libarchive
 * writes no nameless entry), with the header's checksum made anew. */
static void blank_tar_name(const char *path, long offset)
{
    unsigned char header[512];
    FILE *file = fopen(path, "r+b");
    ck_assert_ptr_nonnull(file);
    ck_assert_int_eq(fseek(file, offset, SEEK_SET), 0);
    ck_assert_uint_eq(fread(header, 1, sizeof header, file), sizeof header);
    memset(header, 0, 100);            /* the name field */
    memset(header + 148, ' ', 8);      /* the checksum counts itself as spaces */
    unsigned sum = 0;
    for (size_t i = 0; i < sizeof header; i++)
        sum += header[i];
    snprintf((char *)header + 148, 8, "%06o", sum);
    ck_assert_int_eq(fseek(file, offset, SEEK_SET), 0);
    ck_assert_uint_eq(fwrite(header, 1, sizeof header, file), sizeof header);
    ck_assert_int_eq(fclose(file), 0);
}

START_TEST(zip_members_are_named_or_alone)
{
    const member two[] = {{"ml/README", "README\n"}, {"ml/u.data", ratings_text}};
    const char *zip = write_archive("two.zip", archive_write_set_format_zip, ARCHIVE_FILTER_NONE,
                                    two, 2);
    ck_assert_int_eq(rows_of(member_of(zip, "ml/u.data")), 3);
    ck_assert_int_eq(rows_of(member_of(zip, "./ml/u.data")), 3);
    ck_assert_int_eq(rows_of(zip), -1);
    ck_assert_ptr_nonnull(strstr(reco_last_error(), "two.zip: the zip archive holds 2 files "
                                                    "('ml/README', 'ml/u.data'); name one as "));
    ck_assert_int_eq(rows_of(member_of(zip, "ml/u.dat")), -1);
    ck_assert_ptr_nonnull(strstr(reco_last_error(), "the zip archive has no file 'ml/u.dat'; it "
                                                    "holds 'ml/README', 'ml/u.data'"));
    /* an error inside a member names the member and its line */
    ck_assert_int_eq(rows_of(member_of(zip, "ml/README")), -1);
    ck_assert_ptr_nonnull(strstr(reco_last_error(), "two.zip:ml/README:1: cannot tell the format"));
    const member one[] = {{"u.data", ratings_text}};
    zip = write_archive("one.zip", archive_write_set_format_zip, ARCHIVE_FILTER_NONE, one, 1);
    ck_assert_int_eq(rows_of(zip), 3);
    zip = write_archive("none.zip", archive_write_set_format_zip, ARCHIVE_FILTER_NONE, one, 0);
    ck_assert_int_eq(rows_of(zip), -1);
    ck_assert_ptr_nonnull(strstr(reco_last_error(), "none.zip: the zip archive holds no file"));
}
END_TEST

START_TEST(tar_and_compressed_streams)
{
    const member one[] = {{"ratings.dat", ratings_text}};
    const member two[] = {{"a.dat", ratings_text}, {"b.dat", "4::40::2::400\n"}};
    ck_assert_int_eq(rows_of(write_archive("r.tar", archive_write_set_format_ustar,
                                           ARCHIVE_FILTER_NONE, one, 1)),
                     3);
    const char *tgz =
        write_archive("r.tar.gz", archive_write_set_format_ustar, ARCHIVE_FILTER_GZIP, two, 2);
    ck_assert_int_eq(rows_of(member_of(tgz, "b.dat")), 1);
    ck_assert_int_eq(rows_of(member_of(tgz, "a.dat")), 3);
    static const struct {
        const char *name;
        int filter;
    } streams[] = {{"r.dat.gz", ARCHIVE_FILTER_GZIP},
                   {"r.dat.bz2", ARCHIVE_FILTER_BZIP2},
                   {"r.dat.xz", ARCHIVE_FILTER_XZ},
                   {"r.dat.zst", ARCHIVE_FILTER_ZSTD}};
    for (size_t s = 0; s < sizeof streams / sizeof *streams; s++) {
        const char *path =
            write_archive(streams[s].name, archive_write_set_format_raw, streams[s].filter, one, 1);
        ck_assert_int_eq(rows_of(path), 3);
        /* a compressed file is no archive: it has no member to name */
        ck_assert_int_eq(rows_of(member_of(path, "x")), -1);
        ck_assert_ptr_nonnull(strstr(reco_last_error(), ", not an archive: it has no member 'x'"));
    }
    /* cut short: the format named */
    const char *xz =
        write_archive("cut.xz", archive_write_set_format_raw, ARCHIVE_FILTER_XZ, one, 1);
    FILE *in = fopen(xz, "rb");
    char bytes[512];
    size_t size = fread(bytes, 1, sizeof bytes, in);
    fclose(in);
    ck_assert_int_eq(rows_of(write_temp_file("cut2.xz", bytes, size - 12)), -1);
    ck_assert_ptr_nonnull(strstr(reco_last_error(), "cut2.xz: corrupt or truncated xz data"));
    /* a nameless entry cannot be named: it is passed over, not taken for a
     * compressed file (which once leaked the first member's name) */
    const char *nameless =
        write_archive("nameless.tar", archive_write_set_format_ustar, ARCHIVE_FILTER_NONE, two, 2);
    blank_tar_name(nameless, 1024); /* a.dat's header and its one block come first */
    ck_assert_int_eq(rows_of(nameless), 3);
}
END_TEST

/* Copies a file into a pipe's write end, then closes it. */
typedef struct pipe_writer {
    const char *path;
    int fd;
} pipe_writer;

static void *write_pipe(void *data)
{
    const pipe_writer *writer = data;
    FILE *in = fopen(writer->path, "rb");
    char chunk[4096];
    size_t n;
    while (in && (n = fread(chunk, 1, sizeof chunk, in)) > 0)
        if (write(writer->fd, chunk, n) != (ssize_t)n)
            break;
    if (in)
        fclose(in);
    close(writer->fd);
    return NULL;
}

/* Rows read from "-" (or "-:member") while `archive` streams into stdin. */
static long rows_from_stdin(const char *archive, const char *path)
{
    int ends[2];
    ck_assert_int_eq(pipe(ends), 0);
    int saved = dup(STDIN_FILENO);
    ck_assert_int_eq(dup2(ends[0], STDIN_FILENO), STDIN_FILENO);
    close(ends[0]);
    pipe_writer writer = {archive, ends[1]};
    pthread_t thread;
    ck_assert_int_eq(pthread_create(&thread, NULL, write_pipe, &writer), 0);
    long rows = rows_of(path);
    close(STDIN_FILENO); /* a writer blocked on a full pipe then ends */
    pthread_join(thread, NULL);
    dup2(saved, STDIN_FILENO);
    close(saved);
    return rows;
}

START_TEST(archives_stream_through_standard_input)
{
    const member two[] = {{"a.dat", ratings_text}, {"b.dat", "4::40::2::400\n"}};
    const char *tgz =
        write_archive("s.tar.gz", archive_write_set_format_ustar, ARCHIVE_FILTER_GZIP, two, 2);
    ck_assert_int_eq(rows_from_stdin(tgz, "-:b.dat"), 1);
    /* unnamed, a stream's first file is read; one that follows makes it a guess */
    ck_assert_int_eq(rows_from_stdin(tgz, "-"), -1);
    ck_assert_ptr_nonnull(strstr(reco_last_error(), "-:a.dat: the tar archive holds more than "
                                                    "one file ('b.dat' follows)"));
    const char *zip = write_archive("s.zip", archive_write_set_format_zip, ARCHIVE_FILTER_NONE,
                                    two, 1);
    ck_assert_int_eq(rows_from_stdin(zip, "-"), 3);
}
END_TEST

#else

START_TEST(formats_without_libarchive_are_named)
{
    static const char xz[] = "\xfd" "7zXZ\0\0\x04\xe6\xd6\xb4\x46";
    ck_assert_int_eq(rows_of(write_temp_file("r.dat.xz", xz, sizeof xz - 1)), -1);
    ck_assert_ptr_nonnull(strstr(reco_last_error(),
                                 "r.dat.xz: xz data; this libreco reads gzip but no other "
                                 "compressed or archived input"));
    static const char zip[] = "PK\x03\x04\x14\0\0\0\0\0";
    ck_assert_int_eq(rows_of(write_temp_file("r.zip", zip, sizeof zip - 1)), -1);
    ck_assert_ptr_nonnull(strstr(reco_last_error(), "r.zip: zip archive; this libreco reads"));
}
END_TEST

#endif

START_TEST(other_binary_formats_are_named)
{
    static const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    ck_assert_int_eq(rows_of(write_temp_file("r.png", png, sizeof png - 1)), -1);
    ck_assert_ptr_nonnull(strstr(reco_last_error(), "r.png: PNG image, not a text file"));
    static const char sqlite[] = "SQLite format 3\0\x10\0";
    ck_assert_int_eq(rows_of(write_temp_file("r.db", sqlite, sizeof sqlite - 1)), -1);
    ck_assert_ptr_nonnull(strstr(reco_last_error(), "r.db: SQLite database, not a text file"));
    /* a magic of letters at the start of text is text: "PAR1" is a user id */
    ck_assert_int_eq(rows_of(write_temp_text("par.dat", "PAR1::10::5::100\n")), 1);
    /* a member named in a plain file: no archive to take it from */
    const char *plain = write_temp_text("plain.dat", ratings_text);
    char path[4096];
    snprintf(path, sizeof path, "%s:u.data", plain);
    ck_assert_int_eq(rows_of(path), -1);
    ck_assert_ptr_nonnull(strstr(reco_last_error(), "plain.dat: plain text, not an archive: it "
                                                    "has no member 'u.data'"));
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("archives");
    TCase *formats = test_case(suite, "formats");
#ifdef RECO_HAVE_LIBARCHIVE
    tcase_add_test(formats, zip_members_are_named_or_alone);
    tcase_add_test(formats, tar_and_compressed_streams);
    tcase_add_test(formats, archives_stream_through_standard_input);
#else
    tcase_add_test(formats, formats_without_libarchive_are_named);
#endif
    tcase_add_test(formats, other_binary_formats_are_named);
    return run_suite(suite);
}
