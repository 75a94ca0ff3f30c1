/*
 * t_command.c -- COMMAND and its subcommands (COUNT, DOCS, GETKEYS,
 * GETKEYSANDFLAGS, HELP, INFO, LIST): what clients read to learn the
 * commands, their flags, ACL categories, key positions and arguments.
 *
 * Two sources, one answer.  The command table (commands.c) says which
 * commands and subcommands exist and their arity, so COMMAND lists only
 * what arenakv implements; Redis 7.0's description of each (command_meta.c,
 * generated from a reference server) supplies everything else, replayed
 * token by token through the reply encoder so that RESP2 and RESP3 come
 * out as Redis writes them.  A table entry without metadata still gets a
 * reply built from the table alone (the tests insist there is none).
 *
 * COMMAND GETKEYS finds keys as Redis does: by the key specs, falling
 * back to Redis's per-command functions when a spec is incomplete, has
 * variable flags or cannot parse its key count.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "command_meta.h"
#include "server.h"
#include "util.h"

/* ------------------------------------------------------------ metadata */

static int meta_cmp(const void *key, const void *elem)
{
    const struct akv_command_meta *m = elem;

    return strcmp(key, m->cm_name);
}

static const struct akv_command_meta *meta_of(const struct akv_command *cmd)
{
    const char *name = cmd->fullname ? cmd->fullname : cmd->name;

    return bsearch(name, akv_command_metas, akv_command_meta_count,
                   sizeof(akv_command_metas[0]), meta_cmp);
}

/* The length of an aggregate token ("*3", "%2", "~0"): its elements
 * (a map's pairs count twice); 0 for a scalar. */
static long token_elements(const char *p)
{
    long n;

    if (*p != '*' && *p != '%' && *p != '~')
        return 0;
    n = strtol(p + 1, NULL, 10);
    return *p == '%' ? 2 * n : n;
}

/* Reply one token of the text form described in command_meta.h (an
 * aggregate's header only); returns what follows it.  r NULL: skip it. */
static const char *replay_token(struct akv_reply *r, const char *p)
{
    const char *nl;
    char *end;
    long n;

    if (*p == '$') {
        n = strtol(p + 1, &end, 10);
        if (r)
            akv_reply_bulk(r, end + 1, (size_t)n);
        return end + 1 + n + 1;
    }
    nl = strchr(p, '\n');
    if (!r)
        return nl + 1;
    switch (*p) {
    case '*':
        akv_reply_array(r, strtol(p + 1, NULL, 10));
        break;
    case '%':
        akv_reply_map(r, strtol(p + 1, NULL, 10));
        break;
    case '~':
        akv_reply_set(r, strtol(p + 1, NULL, 10));
        break;
    case ':':
        akv_reply_int(r, strtoll(p + 1, NULL, 10));
        break;
    case '+': {
        char buf[256];
        size_t len = AKV_MIN((size_t)(nl - p - 1), sizeof(buf) - 1);
        memcpy(buf, p + 1, len);
        buf[len] = '\0';
        akv_reply_status(r, buf);
        break;
    }
    default: /* '_' */
        akv_reply_null(r);
        break;
    }
    return nl + 1;
}

/* Reply (r NULL: skip) `count` complete elements, aggregates with their
 * contents; returns what follows them. */
static const char *replay(struct akv_reply *r, const char *p, long count)
{
    while (count-- > 0) {
        long n = token_elements(p);
        p = replay_token(r, p);
        p = replay(r, p, n);
    }
    return p;
}

static int count_subs(const struct akv_command *cmd)
{
    int n = 0;

    if (cmd->subcommands)
        while (cmd->subcommands[n].name)
            n++;
    return n;
}

/* ------------------------------------------------------------ INFO */

/* A table entry without metadata: what the table knows. */
static void reply_info_from_table(struct akv_client *c,
                                  const struct akv_command *cmd)
{
    akv_reply_set(&c->reply, 0);
    akv_reply_int(&c->reply, cmd->first_key);
    akv_reply_int(&c->reply, cmd->last_key);
    akv_reply_int(&c->reply, cmd->key_step);
    akv_reply_set(&c->reply, 0);
    akv_reply_set(&c->reply, 0);
    akv_reply_set(&c->reply, 0);
}

/* COMMAND INFO's row: name and arity from the table (what the dispatcher
 * enforces), flags to key specs from the metadata, then the table's
 * subcommands (an empty set when there are none, as Redis writes). */
static void reply_command_info(struct akv_client *c,
                               const struct akv_command *cmd)
{
    const struct akv_command_meta *m = meta_of(cmd);
    int nsub = count_subs(cmd);

    akv_reply_array(&c->reply, 10);
    akv_reply_bulk_cstr(&c->reply, cmd->fullname ? cmd->fullname : cmd->name);
    akv_reply_int(&c->reply, cmd->arity);
    if (m) {
        /* skip the metadata's name and arity */
        replay(&c->reply, replay(NULL, m->cm_info, 2), 7);
    } else {
        reply_info_from_table(c, cmd);
    }
    if (!nsub) {
        akv_reply_set(&c->reply, 0);
        return;
    }
    akv_reply_array(&c->reply, nsub);
    for (int i = 0; i < nsub; i++)
        reply_command_info(c, &cmd->subcommands[i]);
}

/* A command or subcommand by full name ("config|get"), case-insensitive;
 * NULL if the table has none. */
static const struct akv_command *lookup_fullname(const char *name, size_t len)
{
    const char *bar = memchr(name, '|', len);
    const struct akv_command *cmd, *sub;

    if (!bar)
        return akv_lookup_command(name, len);
    cmd = akv_lookup_command(name, (size_t)(bar - name));
    if (!cmd || !cmd->subcommands)
        return NULL;
    len -= (size_t)(bar - name) + 1;
    name = bar + 1;
    for (sub = cmd->subcommands; sub->name; sub++)
        if (akv_strcaseeq(name, len, sub->name))
            return sub;
    return NULL;
}

static void reply_all_info(struct akv_client *c)
{
    size_t n = akv_command_count();

    akv_reply_array(&c->reply, (long)n);
    for (size_t i = 0; i < n; i++)
        reply_command_info(c, &akv_commands[i]);
}

/* COMMAND: every command's row. */
void akv_command_command(struct akv_client *c)
{
    reply_all_info(c);
}

void akv_command_info_command(struct akv_client *c)
{
    if (c->argc == 2) {
        reply_all_info(c);
        return;
    }
    akv_reply_array(&c->reply, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        const struct akv_command *cmd =
            lookup_fullname(c->argv[j], c->argl[j]);
        if (cmd)
            reply_command_info(c, cmd);
        else
            akv_reply_null(&c->reply);
    }
}

void akv_command_count_command(struct akv_client *c)
{
    akv_reply_int(&c->reply, (long long)akv_command_count());
}

/* ------------------------------------------------------------ DOCS */

/* Name, then the docs map: the metadata's pairs and the table's
 * subcommands. */
static void reply_command_doc(struct akv_client *c,
                              const struct akv_command *cmd)
{
    const struct akv_command_meta *m = meta_of(cmd);
    int nsub = count_subs(cmd);

    akv_reply_bulk_cstr(&c->reply, cmd->fullname ? cmd->fullname : cmd->name);
    if (m) {
        akv_reply_map(&c->reply, m->cm_docs_pairs + (nsub > 0));
        replay(&c->reply, m->cm_docs, 2L * m->cm_docs_pairs);
    } else {
        akv_reply_map(&c->reply, 2 + (nsub > 0));
        akv_reply_bulk_cstr(&c->reply, "summary");
        akv_reply_bulk_cstr(&c->reply, cmd->summary ? cmd->summary : "");
        akv_reply_bulk_cstr(&c->reply, "group");
        akv_reply_bulk_cstr(&c->reply, cmd->group ? cmd->group : "server");
    }
    if (nsub) {
        akv_reply_bulk_cstr(&c->reply, "subcommands");
        akv_reply_map(&c->reply, nsub);
        for (int i = 0; i < nsub; i++)
            reply_command_doc(c, &cmd->subcommands[i]);
    }
}

void akv_command_docs_command(struct akv_client *c)
{
    size_t n = akv_command_count(), at;
    long found = 0;

    if (c->argc == 2) {
        akv_reply_map(&c->reply, (long)n);
        for (size_t i = 0; i < n; i++)
            reply_command_doc(c, &akv_commands[i]);
        return;
    }
    at = akv_reply_defer(&c->reply);
    for (int j = 2; j < c->argc; j++) {
        const struct akv_command *cmd =
            lookup_fullname(c->argv[j], c->argl[j]);
        if (!cmd)
            continue;
        reply_command_doc(c, cmd);
        found++;
    }
    akv_reply_set_map_len(&c->reply, at, found);
}

/* ------------------------------------------------------------ LIST */

enum list_filter { FILTER_NONE, FILTER_MODULE, FILTER_ACLCAT, FILTER_PATTERN };

/* Whether ACL category `cat` (no '@', any case) is one of the command's. */
static bool in_acl_category(const struct akv_command *cmd, const char *cat,
                            size_t len)
{
    const struct akv_command_meta *m = meta_of(cmd);
    const char *p = m ? m->cm_acl : "";

    while (*p) {
        size_t w = strcspn(p, " ");
        if (w == len + 1 && strncasecmp(p + 1, cat, len) == 0)
            return true;
        p += w;
        p += *p == ' ';
    }
    return false;
}

static bool listed(const struct akv_command *cmd, enum list_filter f,
                   const char *arg, size_t len)
{
    const char *name = cmd->fullname ? cmd->fullname : cmd->name;

    switch (f) {
    case FILTER_NONE:
        return true;
    case FILTER_MODULE: /* arenakv loads no modules */
        return false;
    case FILTER_ACLCAT:
        return in_acl_category(cmd, arg, len);
    default:
        return akv_glob_match(arg, len, name, strlen(name), true);
    }
}

/* COMMAND LIST [FILTERBY MODULE|ACLCAT|PATTERN arg]: full names, each
 * command followed by its subcommands. */
void akv_command_list_command(struct akv_client *c)
{
    enum list_filter f = FILTER_NONE;
    const char *arg = NULL;
    size_t len = 0, at;
    long n = 0;

    for (int i = 2; i < c->argc; i += 3) {
        if (!akv_arg_is(c, i, "filterby") || c->argc - 1 - i != 2) {
            akv_reply_syntax_error(c);
            return;
        }
        if (akv_arg_is(c, i + 1, "module")) {
            f = FILTER_MODULE;
        } else if (akv_arg_is(c, i + 1, "aclcat")) {
            f = FILTER_ACLCAT;
        } else if (akv_arg_is(c, i + 1, "pattern")) {
            f = FILTER_PATTERN;
        } else {
            akv_reply_syntax_error(c);
            return;
        }
        arg = c->argv[i + 2];
        len = c->argl[i + 2];
    }
    at = akv_reply_defer(&c->reply);
    for (const struct akv_command *cmd = akv_commands; cmd->name; cmd++) {
        if (listed(cmd, f, arg, len)) {
            akv_reply_bulk_cstr(&c->reply, cmd->name);
            n++;
        }
        for (const struct akv_command *s = cmd->subcommands; s && s->name;
             s++)
            if (listed(s, f, arg, len)) {
                akv_reply_bulk_cstr(&c->reply, s->fullname);
                n++;
            }
    }
    akv_reply_set_array_len(&c->reply, at, n);
}

/* ------------------------------------------------------------ GETKEYS */

struct found_key {
    int pos;
    uint16_t flags;
};

struct found_keys {
    struct found_key *k;
    int n, cap;
    bool oom;
};

static void add_key(struct found_keys *r, int pos, uint16_t flags)
{
    if (r->n == r->cap) {
        int cap = r->cap ? r->cap * 2 : 8;
        struct found_key *k = realloc(r->k, (size_t)cap * sizeof(*k));
        if (!k) {
            r->oom = true;
            return;
        }
        r->k = k;
        r->cap = cap;
    }
    r->k[r->n].pos = pos;
    r->k[r->n++].flags = flags;
}

/* Where a spec's keys start, 0 when its keyword is absent, -1 when the
 * spec is of an unknown kind. */
static int spec_first(const struct akv_key_spec *s, int argc,
                      const char **argv, const size_t *argl)
{
    int start, end;

    if (s->ks_bs == AKV_BS_INDEX)
        return s->ks_index;
    if (s->ks_bs != AKV_BS_KEYWORD)
        return -1;
    start = s->ks_startfrom > 0 ? s->ks_startfrom : argc + s->ks_startfrom;
    end = s->ks_startfrom > 0 ? argc - 1 : 1;
    for (int i = start; i != end; i = start <= end ? i + 1 : i - 1) {
        if (i >= argc || i < 1)
            break;
        if (akv_strcaseeq(argv[i], argl[i], s->ks_keyword))
            return i + 1;
    }
    return 0;
}

/* The keys by the key specs (argv[0] is the command's name); false when a
 * spec cannot answer. */
static bool keys_by_specs(const struct akv_command_meta *m, int arity,
                          int argc, const char **argv, const size_t *argl,
                          struct found_keys *r)
{
    for (int j = 0; j < m->cm_nspecs; j++) {
        const struct akv_key_spec *s = &m->cm_specs[j];
        int first, last, step;

        if (s->ks_flags & AKV_KS_NOT_KEY)
            continue;
        first = spec_first(s, argc, argv, argl);
        if (first == 0)
            continue;
        if (first < 0)
            return false;
        if (s->ks_fk == AKV_FK_RANGE) {
            step = s->ks_fk2;
            if (s->ks_fk1 >= 0)
                last = first + s->ks_fk1;
            else if (!s->ks_fk3)
                last = argc + s->ks_fk1;
            else
                last = first + ((argc - first) / s->ks_fk3 + s->ks_fk1);
        } else if (s->ks_fk == AKV_FK_KEYNUM) {
            long long numkeys;
            int at = first + s->ks_fk1;
            step = s->ks_fk3;
            if (at >= argc ||
                !akv_str2ll(argv[at], argl[at], &numkeys) ||
                numkeys < 0 || numkeys > argc)
                return false;
            first += s->ks_fk2;
            last = first + (int)numkeys - 1;
        } else {
            return false;
        }
        if (last >= argc || last < first || first >= argc)
            return false;
        for (int i = first; i <= last; i += step) {
            if (i >= argc || i < first) {
                if (arity < 0)
                    continue;
                return false;
            }
            add_key(r, i, s->ks_flags);
        }
        if (s->ks_flags & AKV_KS_INCOMPLETE)
            return false;
    }
    return true;
}

static bool word_is(const char *const *argv, const size_t *argl, int i,
                    const char *lit)
{
    return akv_strcaseeq(argv[i], argl[i], lit);
}

/* Redis's genericGetKeys: [store] numkeys key [key ...], the count read
 * with atoi. */
static void keys_generic(const int *gk, int argc, const char **argv,
                         struct found_keys *r)
{
    char buf[32];
    size_t len = AKV_MIN(strlen(argv[gk[1]]), sizeof(buf) - 1);
    int num;

    memcpy(buf, argv[gk[1]], len);
    buf[len] = '\0';
    num = atoi(buf);
    if (num < 1 || num > (argc - gk[2]) / gk[3])
        return;
    for (int i = 0; i < num; i++)
        add_key(r, gk[2] + i * gk[3], 0);
    if (gk[0])
        add_key(r, gk[0], 0);
}

/* SORT key ... [STORE dest]: the last STORE, skipping LIMIT/GET/BY
 * arguments as Redis's sortGetKeys does. */
static void keys_sort(int argc, const char **argv, const size_t *argl,
                      struct found_keys *r)
{
    static const struct {
        const char *name;
        int skip;
    } skips[] = {{"limit", 2}, {"get", 1}, {"by", 1}};
    int store = 0;

    add_key(r, 1, AKV_KS_RO | AKV_KS_ACCESS);
    for (int i = 2; i < argc; i++)
        for (size_t j = 0; j < akv_nelem(skips); j++) {
            if (word_is(argv, argl, i, skips[j].name)) {
                i += skips[j].skip;
                break;
            } else if (word_is(argv, argl, i, "store") && i + 1 < argc) {
                store = i + 1;
                break;
            }
        }
    if (store)
        add_key(r, store, AKV_KS_OW | AKV_KS_UPDATE);
}

static void keys_migrate(int argc, const char **argv, const size_t *argl,
                         struct found_keys *r)
{
    static const struct {
        const char *name;
        int skip;
    } skips[] = {{"copy", 0}, {"replace", 0}, {"auth", 1}, {"auth2", 2}};
    int first = 3, num = 1;

    for (int i = 6; i < argc; i++) {
        if (word_is(argv, argl, i, "keys")) {
            if (argl[3] > 0) {
                num = 0;
            } else {
                first = i + 1;
                num = argc - first;
            }
            break;
        }
        for (size_t j = 0; j < akv_nelem(skips); j++)
            if (word_is(argv, argl, i, skips[j].name)) {
                i += skips[j].skip;
                break;
            }
    }
    for (int i = 0; i < num; i++)
        add_key(r, first + i, AKV_KS_RW | AKV_KS_ACCESS | AKV_KS_DELETE);
}

static void keys_xread(int argc, const char **argv, const size_t *argl,
                       struct found_keys *r)
{
    int streams = -1, num;

    for (int i = 1; i < argc; i++) {
        if (word_is(argv, argl, i, "block") ||
            word_is(argv, argl, i, "count")) {
            i++;
        } else if (word_is(argv, argl, i, "group")) {
            i += 2;
        } else if (word_is(argv, argl, i, "noack")) {
            continue;
        } else {
            if (word_is(argv, argl, i, "streams"))
                streams = i;
            break;
        }
    }
    num = streams < 0 ? 0 : argc - streams - 1;
    if (num == 0 || num % 2)
        return;
    for (int i = streams + 1; i < argc - num / 2; i++)
        add_key(r, i, 0);
}

/* SET key value [... GET ...]: read and written with GET. */
static void keys_set(int argc, const char **argv, const size_t *argl,
                     struct found_keys *r)
{
    for (int i = 3; i < argc; i++)
        if (argl[i] == 3 && strncasecmp(argv[i], "get", 3) == 0) {
            add_key(r, 1, AKV_KS_RW | AKV_KS_ACCESS | AKV_KS_UPDATE);
            return;
        }
    add_key(r, 1, AKV_KS_OW | AKV_KS_UPDATE);
}

/* BITFIELD key [GET ...]...: read-only while it only GETs. */
static void keys_bitfield(int argc, const char **argv, const size_t *argl,
                          struct found_keys *r)
{
    bool ro = true;

    for (int i = 2; i < argc; i++) {
        int more = argc - i - 1;
        if (word_is(argv, argl, i, "get") && more >= 2) {
            i += 2;
        } else if ((word_is(argv, argl, i, "set") ||
                    word_is(argv, argl, i, "incrby")) && more >= 3) {
            ro = false;
            break;
        } else if (word_is(argv, argl, i, "overflow") && more >= 1) {
            i++;
        } else {
            ro = false;
            break;
        }
    }
    add_key(r, 1, ro ? AKV_KS_RO | AKV_KS_ACCESS
                     : AKV_KS_RW | AKV_KS_ACCESS | AKV_KS_UPDATE);
}

static uint16_t all_spec_flags(const struct akv_command_meta *m, bool inv)
{
    uint16_t f = 0;

    for (int j = 0; j < m->cm_nspecs; j++)
        f |= inv ? (uint16_t)~m->cm_specs[j].ks_flags
                 : m->cm_specs[j].ks_flags;
    return f;
}

/* The keys of command argv[0..argc-1] as Redis finds them: by the specs
 * when they are reliable, else by the command's own function. */
static void find_keys(const struct akv_command_meta *m, int arity, int argc,
                      const char **argv, const size_t *argl,
                      struct found_keys *r)
{
    if ((all_spec_flags(m, true) & AKV_KS_NOT_KEY) &&
        !(all_spec_flags(m, false) & AKV_KS_VARIABLE_FLAGS)) {
        if (keys_by_specs(m, arity, argc, argv, argl, r))
            return;
        r->n = 0;
    }
    switch (m->cm_getkeys) {
    case AKV_GK_GENERIC:
        keys_generic(m->cm_gk, argc, argv, r);
        break;
    case AKV_GK_SORT:
        keys_sort(argc, argv, argl, r);
        break;
    case AKV_GK_SORT_RO:
        add_key(r, 1, AKV_KS_RO | AKV_KS_ACCESS);
        break;
    case AKV_GK_MIGRATE:
        keys_migrate(argc, argv, argl, r);
        break;
    case AKV_GK_XREAD:
        keys_xread(argc, argv, argl, r);
        break;
    case AKV_GK_SET:
        keys_set(argc, argv, argl, r);
        break;
    case AKV_GK_BITFIELD:
        keys_bitfield(argc, argv, argl, r);
        break;
    default:
        break;
    }
}

static void reply_key_flags(struct akv_client *c, uint16_t flags)
{
    static const char *const names[] = {
        "RO",     "RW",      "OW",         "RM",
        "access", "update",  "insert",     "delete",
        "not_key", "incomplete", "variable_flags",
    };
    int n = 0;

    for (size_t i = 0; i < akv_nelem(names); i++)
        n += (flags >> i) & 1;
    akv_reply_set(&c->reply, n);
    for (size_t i = 0; i < akv_nelem(names); i++)
        if ((flags >> i) & 1)
            akv_reply_status(&c->reply, names[i]);
}

/* The command named by argv[2..] as Redis's lookupCommand finds it: a
 * container's subcommand when one more argument follows. */
static const struct akv_command *getkeys_target(struct akv_client *c)
{
    const struct akv_command *cmd =
        akv_lookup_command(c->argv[2], c->argl[2]);

    if (!cmd || !cmd->subcommands || c->argc == 3)
        return cmd;
    for (const struct akv_command *s = cmd->subcommands; s->name; s++)
        if (akv_arg_is(c, 3, s->name))
            return s;
    return NULL;
}

static void getkeys(struct akv_client *c, bool with_flags)
{
    const struct akv_command *cmd = getkeys_target(c);
    const struct akv_command_meta *m = cmd ? meta_of(cmd) : NULL;
    struct found_keys r = {0};
    int argc = c->argc - 2;

    if (!cmd) {
        akv_reply_error(&c->reply, "ERR Invalid command specified");
        return;
    }
    if (!m || (m->cm_getkeys == AKV_GK_NONE &&
               !(all_spec_flags(m, true) & AKV_KS_NOT_KEY))) {
        akv_reply_error(&c->reply, "ERR The command has no key arguments");
        return;
    }
    if ((cmd->arity > 0 && cmd->arity != argc) || argc < -cmd->arity) {
        akv_reply_error(&c->reply,
                        "ERR Invalid number of arguments specified for "
                        "command");
        return;
    }
    find_keys(m, cmd->arity, argc, c->argv + 2, c->argl + 2, &r);
    if (r.oom) {
        akv_reply_error(&c->reply, "ERR out of memory");
    } else if (r.n == 0 && !m->cm_no_mandatory_keys) {
        akv_reply_error(&c->reply,
                        "ERR Invalid arguments specified for command");
    } else {
        akv_reply_array(&c->reply, r.n);
        for (int j = 0; j < r.n; j++) {
            int i = r.k[j].pos + 2;
            if (with_flags)
                akv_reply_array(&c->reply, 2);
            akv_reply_bulk(&c->reply, c->argv[i], c->argl[i]);
            if (with_flags)
                reply_key_flags(c, r.k[j].flags);
        }
    }
    free(r.k);
}

void akv_command_getkeys_command(struct akv_client *c)
{
    getkeys(c, false);
}

void akv_command_getkeysandflags_command(struct akv_client *c)
{
    getkeys(c, true);
}

/* ------------------------------------------------------------ HELP */

void akv_command_help_command(struct akv_client *c)
{
    static const char *const lines[] = {
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
        "HELP",
        "    Prints this help.",
    };

    akv_reply_array(&c->reply, (long)akv_nelem(lines));
    for (size_t i = 0; i < akv_nelem(lines); i++)
        akv_reply_status(&c->reply, lines[i]);
}
