/*
 * command_meta.h -- Redis 7.0's description of its commands (COMMAND INFO
 * and COMMAND DOCS), kept as data in command_meta.c, which
 * tools/gen-command-meta.py generates from a reference redis-server.
 *
 * An entry is keyed by full name ("get", "config|get").  `info` holds
 * COMMAND INFO's first nine elements (name, arity, flags, first/last key,
 * step, ACL categories, tips, key specs) and `docs` COMMAND DOCS's map
 * pairs without "subcommands", both in a text form of RESP3 replayed
 * through the reply encoder, one token a line:
 *
 *     *N array   %N map (N pairs)   ~N set   +s status   :N integer
 *     $N s       bulk string of N bytes (s may hold any byte but none
 *                is a newline delimiter: the length decides)
 *     _          null
 *
 * Subcommand lists are not in the data: COMMAND builds them from the
 * command table, so only what arenakv implements is listed.  The other
 * fields are what COMMAND GETKEYS and COMMAND LIST FILTERBY need.
 */
#ifndef AKV_COMMAND_META_H
#define AKV_COMMAND_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Key spec flags, in the order COMMAND GETKEYSANDFLAGS names them. */
#define AKV_KS_RO 0x001
#define AKV_KS_RW 0x002
#define AKV_KS_OW 0x004
#define AKV_KS_RM 0x008
#define AKV_KS_ACCESS 0x010
#define AKV_KS_UPDATE 0x020
#define AKV_KS_INSERT 0x040
#define AKV_KS_DELETE 0x080
#define AKV_KS_NOT_KEY 0x100
#define AKV_KS_INCOMPLETE 0x200
#define AKV_KS_VARIABLE_FLAGS 0x400

enum akv_begin_search { AKV_BS_UNKNOWN, AKV_BS_INDEX, AKV_BS_KEYWORD };
enum akv_find_keys { AKV_FK_UNKNOWN, AKV_FK_RANGE, AKV_FK_KEYNUM };

/* Redis's key-finding functions for commands whose key specs cannot
 * always answer (incomplete or variable flags, or a bad key count). */
enum akv_getkeys {
    AKV_GK_NONE,
    AKV_GK_GENERIC, /* ks_gk: store key, key count, first key, step */
    AKV_GK_SORT,
    AKV_GK_SORT_RO,
    AKV_GK_MIGRATE,
    AKV_GK_XREAD,
    AKV_GK_SET,
    AKV_GK_BITFIELD,
};

struct akv_key_spec {
    uint16_t ks_flags;      /* AKV_KS_* */
    uint8_t ks_bs;          /* enum akv_begin_search */
    int ks_index;           /* INDEX: the argument */
    const char *ks_keyword; /* KEYWORD: the word, searched from */
    int ks_startfrom;       /*   startfrom (< 0: backwards from the end) */
    uint8_t ks_fk;          /* enum akv_find_keys */
    int ks_fk1, ks_fk2, ks_fk3; /* RANGE: lastkey, keystep, limit;
                                 * KEYNUM: keynumidx, firstkey, keystep */
};

struct akv_command_meta {
    const char *cm_name;       /* full name, lower case */
    int cm_arity;
    bool cm_no_mandatory_keys;
    const char *cm_acl;        /* "@read @string @fast" */
    uint8_t cm_getkeys;        /* enum akv_getkeys */
    int cm_gk[4];
    int cm_nspecs;
    const struct akv_key_spec *cm_specs;
    const char *cm_info;
    int cm_docs_pairs;
    const char *cm_docs;
};

extern const struct akv_command_meta akv_command_metas[];
extern const size_t akv_command_meta_count;

#endif
