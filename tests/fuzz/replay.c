/* Replays a harness's corpus without libFuzzer (any compiler): every file
 * named, and every file in every folder named, goes through
 * LLVMFuzzerTestOneInput once. The regression corpus is replayed so by the
 * normal test suite. Usage: replay_NAME PATH... */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_input.h"

static int replay_file(const char *path)
{
    FILE *file = fopen(path, "rb");
    if (!file) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return 1;
    }
    static uint8_t bytes[1 << 20];
    size_t size = fread(bytes, 1, sizeof bytes, file);
    fclose(file);
    LLVMFuzzerTestOneInput(bytes, size);
    return 0;
}

int main(int argc, char **argv)
{
    int failed = 0, replayed = 0;
    for (int i = 1; i < argc; i++) {
        struct stat info;
        if (stat(argv[i], &info) != 0) {
            fprintf(stderr, "replay: no %s\n", argv[i]);
            return 1;
        }
        if (!S_ISDIR(info.st_mode)) {
            failed |= replay_file(argv[i]);
            replayed++;
            continue;
        }
        DIR *folder = opendir(argv[i]);
        for (struct dirent *entry; folder && (entry = readdir(folder));) {
            if (entry->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], entry->d_name);
            failed |= replay_file(path);
            replayed++;
        }
        if (folder)
            closedir(folder);
    }
    remove(fuzz_write_input(NULL, 0));
    printf("%d passed, %d failed\n", replayed - failed, failed);
    return failed;
}
