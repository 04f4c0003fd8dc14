/* Declarative settings: defaults, config files, overrides and canonical text. */
#include "core.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct hm_setting *find(const struct hm_setting *t, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(t[i].key, key))
            return &t[i];
    return NULL;
}

static int set_row(const struct hm_setting *s, void *obj, const char *value, const char *where)
{
    char *field = (char *)obj + s->offset;
    char *end;
    switch (s->type) {
    case HM_SET_INT: {
        long v;
        if (s->allow_all && !strcmp(value, "all")) {
            *(long *)field = -1;
            return 0;
        }
        errno = 0;
        v = strtol(value, &end, 10);
        if (!*value || *end || errno)
            return hm_error(HM_EINVAL, "%s: %s: expected an integer%s, found \"%s\"", where, s->key,
                            s->allow_all ? " or \"all\"" : "", value);
        if (v < s->min || v > s->max)
            return hm_error(HM_EINVAL, "%s: %s: expected a value in [%.0f, %.0f], found %ld", where,
                            s->key, s->min, s->max, v);
        *(long *)field = v;
        return 0;
    }
    case HM_SET_DOUBLE: {
        errno = 0;
        double v = strtod(value, &end);
        if (!*value || *end || errno || !isfinite(v))
            return hm_error(HM_EINVAL, "%s: %s: expected a number, found \"%s\"", where, s->key, value);
        if (v < s->min || v > s->max)
            return hm_error(HM_EINVAL, "%s: %s: expected a value in [%g, %g], found %g", where,
                            s->key, s->min, s->max, v);
        *(double *)field = v;
        return 0;
    }
    case HM_SET_STRING:
        if (strlen(value) >= HM_SETTING_STRLEN)
            return hm_error(HM_EINVAL, "%s: %s: value longer than %d characters", where, s->key,
                            HM_SETTING_STRLEN - 1);
        strcpy(field, value);
        return 0;
    }
    HM_BUG("bad setting type %d", (int)s->type);
}

void hm_settings_defaults(const struct hm_setting *table, size_t n, void *obj)
{
    for (size_t i = 0; i < n; i++)
        if (set_row(&table[i], obj, table[i].def, "default") != 0)
            HM_BUG("bad default for %s: %s", table[i].key, hm_last_error());
}

int hm_settings_set(const struct hm_setting *table, size_t n, void *obj, const char *key,
                    const char *value, const char *where)
{
    const struct hm_setting *s = find(table, n, key);
    if (!s)
        return hm_error(HM_ENOTFOUND, "%s: unknown setting '%s'", where, key);
    return set_row(s, obj, value, where);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

int hm_settings_parse_file(const struct hm_setting *table, size_t n, void *obj, const char *path)
{
    char *text;
    int rc = hm_read_file(path, &text, NULL);
    if (rc)
        return rc;
    char section[128] = "", where[512];
    int lineno = 0;
    /* every key given, with its line: a key given twice is a mistake, not an override */
    HM_VEC(struct { char key[512]; int line; }) seen = {0};
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *l = trim(line);
        if (!*l)
            continue;
        if (*l == '[') {
            char *close = strchr(l, ']');
            if (!close || close[1] || close - l - 1 >= (long)sizeof section || close == l + 1) {
                rc = hm_error(HM_EPARSE, "%s: expected \"[section]\", found \"%s\"", where, l);
                break;
            }
            *close = '\0';
            snprintf(section, sizeof section, "%s", trim(l + 1));
            continue;
        }
        char *eq = strchr(l, '=');
        if (!eq) {
            rc = hm_error(HM_EPARSE, "%s: expected \"key = value\", found \"%s\"", where, l);
            break;
        }
        *eq = '\0';
        char *key = trim(l), *value = trim(eq + 1), full[512];
        if (*section)
            snprintf(full, sizeof full, "%s.%s", section, key);
        else
            snprintf(full, sizeof full, "%s", key);
        int twice = 0;
        for (size_t k = 0; k < seen.n && !twice; k++)
            if (!strcmp(seen.v[k].key, full)) {
                twice = 1;
                rc = hm_error(HM_EINVAL, "%s: %s is given twice in this file (first on line %d): keep one", where, full,
                              seen.v[k].line);
            }
        if (twice || (rc = hm_settings_set(table, n, obj, full, value, where)) != 0)
            break;
        seen.n++;
        HM_GROW(seen.v, seen.cap, seen.n);
        snprintf(seen.v[seen.n - 1].key, sizeof seen.v[0].key, "%s", full);
        seen.v[seen.n - 1].line = lineno;
    }
    free(seen.v);
    free(text);
    return rc;
}

int hm_settings_override(const struct hm_setting *table, size_t n, void *obj, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv)
        return hm_error(HM_EINVAL, "--set: expected key=value, found \"%s\"", kv);
    char key[256];
    snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
    return hm_settings_set(table, n, obj, key, eq + 1, "--set");
}

void hm_settings_append(struct hm_setting **table, size_t *n, const struct hm_setting *rows, size_t n_rows,
                        size_t base)
{
    *table = hm_xrealloc(*table, (*n + n_rows) * sizeof **table);
    for (size_t i = 0; i < n_rows; i++) {
        (*table)[*n] = rows[i];
        (*table)[(*n)++].offset += base;
    }
}

char *hm_settings_format(const struct hm_setting *table, size_t n, const void *obj,
                         const char *prefix)
{
    size_t plen = strlen(prefix);
    struct hm_buf b = {0};
    for (size_t i = 0; i < n; i++) {
        const struct hm_setting *s = &table[i];
        if (strncmp(s->key, prefix, plen) != 0)
            continue;
        const char *field = (const char *)obj + s->offset;
        if (s->type == HM_SET_INT && s->allow_all && *(const long *)field == -1)
            hm_buf_printf(&b, "%s = all\n", s->key);
        else if (s->type == HM_SET_INT)
            hm_buf_printf(&b, "%s = %ld\n", s->key, *(const long *)field);
        else if (s->type == HM_SET_DOUBLE) {
            /* the shortest of %.15g..%.17g that reads back as the same double */
            double v = *(const double *)field;
            char num[40];
            for (int prec = 15; prec <= 17; prec++) {
                snprintf(num, sizeof num, "%.*g", prec, v);
                if (strtod(num, NULL) == v)
                    break;
            }
            hm_buf_printf(&b, "%s = %s\n", s->key, num);
        } else {
            hm_buf_printf(&b, "%s = %s\n", s->key, field);
        }
    }
    return hm_buf_take(&b);
}
