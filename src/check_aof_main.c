/*
 * check_aof_main.c -- arenakv-check-aof: checks an append-only file, or
 * every file of a multi-part AOF through its manifest, and with --fix
 * truncates the last file to its valid prefix.
 *
 * Output and exit status follow redis-check-aof 7.0, so scripts written
 * for it keep working: the same "AOF analyzed: ..." line, "is valid" /
 * "is not valid" verdicts, and only the last file of a multi-part AOF may
 * be truncated.  Differences: --fix does not ask for confirmation (the
 * option is the consent) but warns, with the bytes that will be lost,
 * when the problem is corruption rather than a torn tail; a truncation is
 * refused if the file changed during the check; SQLite base files are
 * skipped, as are RDB files, which this tool cannot check.
 *
 * Beyond redis-check-aof: a command arenakv does not know, or with a
 * number of arguments its table refuses, is reported with its offset as
 * a warning (the replay cannot apply it); the verdict is the file's
 * structure alone.
 */
#include "build-config.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aof_check.h"
#include "server.h"
#include "util.h"

/* Warnings printed per file; the rest are counted. */
#define MAX_WARNINGS 20

enum verdict {
    V_VALID,
    V_EMPTY,
    V_FIXED,
    V_FAILED
};

static void usage(FILE *f)
{
    fprintf(f,
"Usage: arenakv-check-aof [--fix] <file.manifest|file.aof>\n"
"       arenakv-check-aof --help | --version\n"
"\n"
"Checks that an append-only file is a sequence of whole RESP commands with\n"
"every MULTI closed by EXEC.  Given a manifest, checks its base (unless it\n"
"is an SQLite or RDB file) and every incremental file it lists.\n"
"\n"
"  --fix      truncate the (last) file to its valid prefix\n"
"  --help     show this help and exit\n"
"  --version  show the version and exit\n"
"\n"
"Exit status: 0 when valid, empty or fixed; 1 otherwise.\n");
}

static unsigned long long ull(uint64_t v)
{
    return (unsigned long long)v;
}

/* Truncates the file checked in *rep to its valid prefix, after saying
 * what is lost. */
static enum verdict fix_one(const char *name, const char *path,
                            const struct akv_aof_report *rep)
{
    uint64_t lost = rep->size - rep->valid_len;
    struct stat st;
    int ret;

    if (rep->status == AKV_AOF_CORRUPT)
        printf("WARNING: AOF %s is corrupt at offset %llu, not merely cut "
               "short.  Truncating it drops the %llu bytes after offset "
               "%llu, including any commands written after the damage.\n",
               name, ull(rep->bad_offset), ull(lost), ull(rep->valid_len));
    printf("This will shrink the AOF %s from %llu bytes, with %llu bytes, "
           "to %llu bytes\n", name, ull(rep->size), ull(lost),
           ull(rep->valid_len));
    if (stat(path, &st) < 0 || (uint64_t)st.st_size != rep->size) {
        printf("AOF %s changed while it was checked (is the server "
               "running?): not truncated\n", name);
        return V_FAILED;
    }
    ret = akv_aof_truncate(path, rep->valid_len);
    if (ret < 0) {
        printf("Failed to truncate AOF %s: %s\n", name, strerror(-ret));
        return V_FAILED;
    }
    return V_FIXED;
}

struct names {
    uint64_t warnings;
};

static void print_name(const char *name, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch > ' ' && ch < 0x7f && ch != '\\' && ch != '\'')
            putchar(ch);
        else
            printf("\\x%02x", ch);
    }
}

/* The scanner's on_command: warn about what the replay would refuse. */
static void check_name(void *ctx, uint64_t off, const char *name, size_t len,
                       uint64_t argc)
{
    struct names *nm = ctx;
    const struct akv_command *cmd = NULL;
    bool arity_ok;

    if (name && (akv_strcaseeq(name, len, "multi") ||
                 akv_strcaseeq(name, len, "exec")))
        return;
    if (name)
        cmd = akv_lookup_command(name, len);
    arity_ok = cmd && (cmd->arity > 0 ? argc == (uint64_t)cmd->arity
                                      : argc >= (uint64_t)-cmd->arity);
    if (arity_ok)
        return;
    if (++nm->warnings > MAX_WARNINGS)
        return;
    printf("0x%16llx: Warning: ", ull(off));
    if (!name) {
        printf("a command name longer than %d bytes", AKV_AOF_NAME_MAX);
    } else {
        printf("%s '", cmd ? "wrong number of arguments for" :
                             "unknown command");
        print_name(name, len);
        printf("'");
        if (cmd)
            printf(" (%llu)", ull(argc));
    }
    printf(": arenakv cannot replay it\n");
}

/* Checks one AOF file (name as shown, path as opened); last: it is the
 * file that --fix may truncate. */
static enum verdict check_one(const char *name, const char *path, bool last,
                              bool fix)
{
    struct akv_aof_report rep;
    struct names nm = {0};
    struct akv_aof_check_opts opts = {.on_command = check_name,
                                      .cb_ctx = &nm};
    int ret = akv_aof_check_path(path, &opts, &rep);

    if (ret < 0) {
        printf("Cannot open file %s: %s, aborting...\n", path,
               strerror(-ret));
        return V_FAILED;
    }
    if (rep.size == 0)
        return V_EMPTY;
    if (nm.warnings > MAX_WARNINGS)
        printf("... and %llu more commands arenakv cannot replay\n",
               ull(nm.warnings - MAX_WARNINGS));
    if (nm.warnings)
        printf("Warnings: %llu commands arenakv cannot replay in %s\n",
               ull(nm.warnings), name);
    if (rep.status != AKV_AOF_VALID)
        printf("0x%16llx: %s\n", ull(rep.bad_offset), rep.reason);
    printf("AOF analyzed: filename=%s, size=%llu, ok_up_to=%llu, "
           "ok_up_to_line=%llu, diff=%llu\n", name, ull(rep.size),
           ull(rep.valid_len), ull(rep.line),
           ull(rep.size - rep.valid_len));
    printf("Commands up to ok_up_to: %llu\n", ull(rep.commands));
    if (rep.status == AKV_AOF_VALID)
        return V_VALID;
    if (!fix) {
        printf("AOF %s is not valid. Use the --fix option to try fixing "
               "it.\n", name);
        return V_FAILED;
    }
    if (!last) {
        printf("Failed to truncate AOF %s because it is not the last "
               "file\n", name);
        return V_FAILED;
    }
    return fix_one(name, path, &rep);
}

/* Prints the outcome of one file with prefix ("AOF", "BASE AOF", ...). */
static bool report(const char *prefix, const char *name, enum verdict v)
{
    if (v == V_VALID)
        printf("%s %s is valid\n", prefix, name);
    else if (v == V_EMPTY)
        printf("%s %s is empty\n", prefix, name);
    else if (v == V_FIXED)
        printf("Successfully truncated AOF %s\n", name);
    return v != V_FAILED;
}

static bool check_single(const char *path, bool fix)
{
    printf("Start checking AOF file\n");
    return report("AOF", path, check_one(path, path, true, fix));
}

/* The base of a multi-part AOF: checked when it is an AOF. */
static bool check_base(const char *name, const char *path, bool last,
                       bool fix)
{
    int kind = akv_aof_check_sniff(path);

    if (kind < 0) {
        printf("Cannot open file %s: %s, aborting...\n", path,
               strerror(-kind));
        return false;
    }
    if (kind == AKV_AOF_KIND_SQLITE || kind == AKV_AOF_KIND_RDB) {
        printf("BASE %s is %s, not an AOF: skipped\n", name,
               kind == AKV_AOF_KIND_SQLITE ? "an SQLite database"
                                           : "an RDB file");
        return true;
    }
    printf("Start to check BASE AOF (RESP format).\n");
    return report("BASE AOF", name, check_one(name, path, last, fix));
}

/* Joins the manifest's directory (dirlen bytes of mpath, or "." when 0)
 * and a file name. */
static bool join(char *out, size_t outlen, const char *mpath, size_t dirlen,
                 const char *name)
{
    int n;

    if (dirlen)
        n = snprintf(out, outlen, "%.*s/%s", (int)dirlen, mpath, name);
    else
        n = snprintf(out, outlen, "./%s", name);
    if (n < 0 || (size_t)n >= outlen) {
        printf("Path too long: %s, aborting...\n", name);
        return false;
    }
    return true;
}

static bool check_files(const struct akv_aof_manifest *m, const char *mpath,
                        bool fix)
{
    const char *slash = strrchr(mpath, '/');
    size_t dirlen = slash ? (size_t)(slash - mpath) : 0;
    size_t total = 0, done = 0;
    bool said = false, ok = true;
    char path[PATH_MAX];

    if (slash && dirlen == 0)
        dirlen = 1; /* the manifest is in / */
    for (size_t i = 0; i < m->nfiles; i++)
        total += m->files[i].type != 'h';
    for (size_t i = 0; ok && i < m->nfiles; i++) {
        const struct akv_aof_manifest_file *f = &m->files[i];
        if (f->type != 'b')
            continue;
        ok = join(path, sizeof(path), mpath, dirlen, f->name) &&
             check_base(f->name, path, ++done == total, fix);
    }
    for (size_t i = 0; ok && i < m->nfiles; i++) {
        const struct akv_aof_manifest_file *f = &m->files[i];
        if (f->type != 'i')
            continue;
        if (!said)
            printf("Start to check INCR files.\n");
        said = true;
        ok = join(path, sizeof(path), mpath, dirlen, f->name) &&
             report("INCR AOF", f->name,
                    check_one(f->name, path, ++done == total, fix));
    }
    return ok;
}

static bool check_multi_part(const char *mpath, bool fix)
{
    struct akv_aof_manifest m;
    char err[400];
    bool ok = false;
    int ret;

    printf("Start checking Multi Part AOF\n");
    ret = akv_aof_manifest_load(mpath, &m, err, sizeof(err));
    if (ret < 0 && err[0])
        printf("Invalid AOF manifest %s: %s\n", mpath, err);
    else if (ret < 0)
        printf("Cannot read manifest %s: %s, aborting...\n", mpath,
               strerror(-ret));
    else
        ok = check_files(&m, mpath, fix);
    if (ok)
        printf("All AOF files and manifest are valid\n");
    akv_aof_manifest_free(&m);
    return ok;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    bool fix = false, opts = true, ok = false;
    int kind;

    for (int i = 1; i < argc; i++) {
        if (opts && !strcmp(argv[i], "--fix")) {
            fix = true;
        } else if (opts && (!strcmp(argv[i], "--help") ||
                            !strcmp(argv[i], "-h"))) {
            usage(stdout);
            return 0;
        } else if (opts && !strcmp(argv[i], "--version")) {
            printf("arenakv-check-aof %s\n", PACKAGE_VERSION);
            return 0;
        } else if (opts && !strcmp(argv[i], "--")) {
            opts = false;
        } else if (opts && argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "arenakv-check-aof: unknown option %s\n",
                    argv[i]);
            usage(stderr);
            return 1;
        } else if (path) {
            usage(stderr);
            return 1;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        usage(stderr);
        return 1;
    }
    kind = akv_aof_check_sniff(path);
    if (kind < 0)
        printf("Cannot open file %s: %s, aborting...\n", path,
               strerror(-kind));
    else if (kind == AKV_AOF_KIND_MANIFEST)
        ok = check_multi_part(path, fix);
    else if (kind == AKV_AOF_KIND_AOF)
        ok = check_single(path, fix);
    else
        printf("%s is %s, not an AOF\n", path,
               kind == AKV_AOF_KIND_SQLITE ? "an SQLite database"
                                           : "an RDB file");
    return ok ? 0 : 1;
}
