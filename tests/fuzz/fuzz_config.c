/*
 * fuzz_config.c -- libFuzzer harness for the configuration parser
 * (src/config.c): config file text, the "--name value" command line and
 * CONFIG SET name/value pairs.
 *
 * Input: parts separated by "\n%%\n" (FUZZ_SEPARATOR):
 *   0. a config file, written to a private directory;
 *   1. command line words, one per line: the argument vector is
 *      { "arenakv-server", <the file>, words... }, parsed by
 *      akv_config_load_argv() as the supervisor parses its own;
 *   2. CONFIG SET pairs, one per line: "name value" (split at the first
 *      space), applied with akv_config_set(live) as CONFIG SET does.
 * Then every option must survive a round trip: its value as CONFIG GET
 * renders it, set again, is accepted and renders the same.
 *
 * Inputs that could make the parser read something other than the
 * harness's file are skipped: "include" together with a '/' (an absolute
 * include could name /dev/zero) and a word "-" (reads stdin).
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

#define MAX_WORDS 64

static bool unsafe(const uint8_t *data, size_t size)
{
    static const char inc[] = "include";
    bool slash = memchr(data, '/', size) != NULL;

    for (size_t i = 0; slash && i + sizeof(inc) - 1 <= size; i++)
        if (strncasecmp((const char *)data + i, inc, sizeof(inc) - 1) == 0)
            return true;
    return false;
}

/* A NUL-terminated copy of a part, so lines can be cut in place. */
static char *part_str(const struct fuzz_part *p)
{
    char *s = malloc(p->len + 1);

    if (!s)
        abort();
    if (p->len)
        memcpy(s, p->p, p->len);
    s[p->len] = '\0';
    return s;
}

static void load_argv(struct akv_config *cfg, const char *file,
                      const struct fuzz_part *words)
{
    char *text = part_str(words), *save = NULL, err[1024];
    char *argv[MAX_WORDS + 2] = {"arenakv-server", (char *)file};
    int argc = 2;

    for (char *w = strtok_r(text, "\n", &save); w && argc < MAX_WORDS + 2;
         w = strtok_r(NULL, "\n", &save)) {
        if (strcmp(w, "-") == 0)
            goto out;
        argv[argc++] = w;
    }
    akv_config_load_argv(cfg, argc, argv, err, sizeof(err));
out:
    free(text);
}

static void config_set(struct akv_config *cfg, const struct fuzz_part *pairs)
{
    char *text = part_str(pairs), *save = NULL, err[256];

    for (char *l = strtok_r(text, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save)) {
        char *sp = strchr(l, ' ');
        const char *value = sp ? sp + 1 : "";
        if (sp)
            *sp = '\0';
        akv_config_set(cfg, l, 1, &value, 1, err, sizeof(err));
    }
    free(text);
}

/* CONFIG GET's rendering of each option, set again, must be accepted
 * and render the same. */
static void round_trip(const struct akv_config *cfg)
{
    static struct akv_config copy;
    char v1[4096], v2[4096], err[256];
    const char *name;

    for (size_t i = 0; (name = akv_config_name(i)) != NULL; i++) {
        const char *argv1[1] = {v1};
        int opt = akv_config_find(name);
        if (opt < 0)
            abort();
        copy = *cfg;
        akv_config_render(cfg, (size_t)opt, v1, sizeof(v1));
        if (akv_config_set(&copy, name, 1, argv1, 0, err, sizeof(err)) < 0) {
            fprintf(stderr, "%s: rendered as '%s', refused: %s\n", name, v1,
                    err);
            abort();
        }
        akv_config_render(&copy, (size_t)opt, v2, sizeof(v2));
        if (strcmp(v1, v2) != 0) {
            fprintf(stderr, "%s: '%s' set again renders '%s'\n", name, v1,
                    v2);
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char file[512];
    struct fuzz_part parts[3] = {{0}};
    struct akv_config cfg;
    int n;

    if (unsafe(data, size))
        return 0;
    if (!file[0])
        snprintf(file, sizeof(file), "%s/arenakv.conf", fuzz_tmpdir());
    n = fuzz_split(data, size, parts, 3);
    fuzz_write_file(fuzz_tmpdir(), "arenakv.conf", parts[0].p, parts[0].len);
    akv_config_defaults(&cfg);
    load_argv(&cfg, file, n > 1 ? &parts[1] : &(struct fuzz_part){0});
    if (n > 2)
        config_set(&cfg, &parts[2]);
    round_trip(&cfg);
    return 0;
}
