#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <sys/auxv.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "plugin.h"

#ifndef RECO_PLUGIN_DIR
#define RECO_PLUGIN_DIR "/usr/local/lib/libreco"
#endif

/* Tries to open dir/libreco-<name>.so; returns the handle or NULL. */
static void *open_in(const char *dir, const char *name, char *tried, size_t tried_size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/libreco-%s.so", dir, name);
    size_t used = strlen(tried);
    snprintf(tried + used, tried_size - used, "%s%s", used ? ", " : "", path);
    return dlopen(path, RTLD_NOW | RTLD_LOCAL);
}

/* The folder libreco's shared object was loaded from, or "" if unknown. */
static void libreco_dir(char *dir, size_t size)
{
    Dl_info info;
    dir[0] = '\0';
    if (!dladdr((void *)reco_plugin_load, &info) || !info.dli_fname)
        return;
    snprintf(dir, size, "%s", info.dli_fname);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, size, ".");
}

/* Whether the program was linked statically (it names no dynamic loader):
 * its C library cannot load a module that needs the shared one. */
static int program_is_static(void)
{
    const ElfW(Phdr) *headers = (const ElfW(Phdr) *)getauxval(AT_PHDR);
    size_t count = (size_t)getauxval(AT_PHNUM);
    if (!headers)
        return 0;
    for (size_t i = 0; i < count; i++)
        if (headers[i].p_type == PT_INTERP)
            return 0;
    return 1;
}

static const reco_module_host module_host = {
    .struct_size = sizeof(reco_module_host),
    .abi_version = RECO_BACKEND_ABI_VERSION,
    .fail = reco_backend_fail,
};

const reco_backend_ops *reco_plugin_load(const char *name)
{
    if (program_is_static()) {
        reco_fail(RECO_ERR_BACKEND_UNAVAILABLE,
                  "backend '%s': this program is linked statically, and a backend module "
                  "needs the dynamic loader (link libreco and the C library dynamically)",
                  name);
        return NULL;
    }
    char tried[8192] = "", here[4096], candidate[4096];
    void *module = NULL;
    const char *override = getenv("RECO_BACKEND_DIR");
    if (override && override[0])
        module = open_in(override, name, tried, sizeof tried);
    libreco_dir(here, sizeof here);
    if (!module && here[0]) {
        snprintf(candidate, sizeof candidate, "%s/libreco", here);
        module = open_in(candidate, name, tried, sizeof tried);
    }
    if (!module && here[0]) /* beside libreco, as in the build tree */
        module = open_in(here, name, tried, sizeof tried);
    if (!module)
        module = open_in(RECO_PLUGIN_DIR, name, tried, sizeof tried);
    if (!module) {
        reco_fail(RECO_ERR_BACKEND_UNAVAILABLE,
                  "backend '%s': no module (was libreco built with it?); tried %s", name, tried);
        return NULL;
    }
    char symbol[64];
    snprintf(symbol, sizeof symbol, "reco_backend_%s_init", name);
    reco_module_init_fn init;
    /* ISO C has no function pointer from void *; POSIX guarantees this copy */
    void *address = dlsym(module, symbol);
    memcpy(&init, &address, sizeof init);
    if (!address) {
        reco_fail(RECO_ERR_BACKEND_UNAVAILABLE, "backend '%s': the module lacks %s", name, symbol);
        dlclose(module);
        return NULL;
    }
    const reco_backend_ops *ops = NULL;
    /* the module's own detail, when it gives one, replaces this */
    reco_fail(RECO_ERR_BACKEND_UNAVAILABLE, "backend '%s': %s refused to start", name, symbol);
    if (init(&module_host, &ops) != RECO_OK || !ops) {
        dlclose(module);
        return NULL;
    }
    if (reco_backend_check_ops(ops) != RECO_OK) {
        reco_fail(RECO_ERR_BACKEND_UNAVAILABLE, "backend '%s': the module's ops: %s", name,
                  reco_last_error());
        dlclose(module);
        return NULL;
    }
    return ops;
}
