/* Files: read-only maps, whole-file reads, atomic writes (temporary name + rename),
 * directories and paths. */
#include "core.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int hm_map_file(struct hm_map *m, const char *path)
{
    m->data = NULL;
    m->size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hm_error(HM_EIO, "could not open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return hm_error(HM_EIO, "'%s' is not a regular file", path);
    }
    if (st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            return hm_error(HM_EIO, "could not map '%s': %s", path, strerror(e));
        }
        m->data = p;
        m->size = (size_t)st.st_size;
    }
    close(fd);
    return 0;
}

void hm_map_release(struct hm_map *m)
{
    if (m->data && m->size)
        munmap((void *)m->data, m->size);
    m->data = NULL;
    m->size = 0;
}

int hm_read_file(const char *path, char **out, size_t *len)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return hm_error(HM_EIO, "could not open '%s': %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = hm_xmalloc(cap);
    for (;;) {
        HM_GROW(buf, cap, n + 4096);
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return hm_error(HM_EIO, "could not read '%s'", path);
    }
    buf[n] = '\0';
    *out = buf;
    if (len)
        *len = n;
    return 0;
}

int hm_awriter_open(struct hm_awriter *w, const char *path)
{
    w->path = hm_xstrdup(path);
    w->tmp = hm_xasprintf("%s" HM_TMP_MARK "%ld", path, (long)getpid());
    w->failed = 0;
    w->f = fopen(w->tmp, "wb");
    if (!w->f) {
        int e = errno;
        free(w->path);
        free(w->tmp);
        w->path = w->tmp = NULL;
        return hm_error(HM_EIO, "could not create '%s': %s", path, strerror(e));
    }
    return 0;
}

char *hm_next_line(char **cursor)
{
    char *l = *cursor;
    if (!l || !*l)
        return NULL;
    char *nl = strchr(l, '\n');
    if (nl)
        *nl++ = '\0';
    *cursor = nl;
    return l;
}

int hm_split_fields(char *line, char sep, char **f, int max)
{
    int n = 0;
    for (char *t = line, *next; t; t = next) {
        next = strchr(t, sep);
        if (next)
            *next++ = '\0';
        if (n == max)
            return max + 1;
        f[n++] = t;
    }
    return n;
}

int hm_write_file(const char *path, const void *data, size_t len)
{
    struct hm_awriter w;
    int rc = hm_awriter_open(&w, path);
    if (rc)
        return rc;
    hm_awriter_write(&w, data, len);
    return hm_awriter_commit(&w);
}

int hm_awriter_write(struct hm_awriter *w, const void *data, size_t len)
{
    if (w->failed)
        return HM_EIO;
    if (len && fwrite(data, 1, len, w->f) != len) {
        w->failed = 1;
        return hm_error(HM_EIO, "could not write '%s': %s", w->path, strerror(errno));
    }
    return 0;
}

static void awriter_release(struct hm_awriter *w)
{
    free(w->path);
    free(w->tmp);
    w->path = w->tmp = NULL;
    w->f = NULL;
}

static const char *fault_spec; /* HMREC_FAULT, read once; "" when unset */
static _Atomic long fault_count;

/* 1 when HMREC_FAULT names this point and this call is its K-th (or a later one, with
 * from_k); sets *sig to the signal the spec asks for (SIGKILL by default). */
static int fault_due(const char *name, int from_k, int *sig)
{
    if (!fault_spec) {
        const char *e = getenv("HMREC_FAULT");
        fault_spec = e ? e : "";
    }
    size_t n = strlen(name);
    if (!fault_spec[0] || strncmp(fault_spec, name, n) || (fault_spec[n] != '\0' && fault_spec[n] != ':'))
        return 0;
    long k = fault_spec[n] == ':' ? strtol(fault_spec + n + 1, NULL, 10) : 1;
    *sig = strstr(fault_spec + n, ":INT") ? SIGINT : strstr(fault_spec + n, ":STOP") ? SIGSTOP : SIGKILL;
    long count = ++fault_count;
    return from_k ? count >= (k > 0 ? k : 1) : count == (k > 0 ? k : 1);
}

void hm_fault_point(const char *name)
{
    int sig;
    if (fault_due(name, 0, &sig)) {
        signal(sig, SIG_DFL);
        raise(sig);
    }
}

int hm_fault_fires(const char *name)
{
    int sig;
    return fault_due(name, 1, &sig);
}

int hm_awriter_commit(struct hm_awriter *w)
{
    int bad = w->failed || fflush(w->f) != 0 || ferror(w->f);
    int e = errno;
    if (!bad && hm_fault_fires("full"))
        bad = 1, e = ENOSPC; /* as a write to a full disk fails */
    if (!bad && fsync(fileno(w->f)) != 0 && errno != EINVAL)
        bad = 1, e = errno;
    if (fclose(w->f) != 0 && !bad)
        bad = 1, e = errno;
    if (!bad)
        hm_fault_point("write");
    if (!bad && rename(w->tmp, w->path) != 0)
        bad = 1, e = errno;
    int rc = 0;
    if (bad) {
        unlink(w->tmp);
        rc = hm_error(HM_EIO, "could not write '%s': %s", w->path, strerror(e));
    }
    awriter_release(w);
    return rc;
}

void hm_awriter_abort(struct hm_awriter *w)
{
    if (!w->f)
        return;
    fclose(w->f);
    unlink(w->tmp);
    awriter_release(w);
}

int hm_mkdirs(const char *path)
{
    char *p = hm_xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            int rc = hm_error(HM_EIO, "could not create directory '%s': %s", p, strerror(e));
            free(p);
            return rc;
        }
        *s = '/';
    }
    int rc = 0;
    if (mkdir(p, 0777) != 0 && errno != EEXIST)
        rc = hm_error(HM_EIO, "could not create directory '%s': %s", p, strerror(errno));
    free(p);
    return rc;
}

char *hm_path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir);
    return hm_xasprintf("%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);
}

/* The number after HM_TMP_MARK at the end of name, or -1 when name is not an hmrec temporary
 * ("<file>" HM_TMP_MARK "<digits>"); *base_len gets the length of <file>. */
static long temporary_pid(const char *name, size_t *base_len)
{
    const char *t = NULL;
    for (const char *s = strstr(name, HM_TMP_MARK); s; s = strstr(s + 1, HM_TMP_MARK))
        t = s;
    if (!t || t == name)
        return -1;
    const char *digits = t + strlen(HM_TMP_MARK);
    char *end;
    long pid = strtol(digits, &end, 10);
    if (!*digits || *end || pid <= 0 || digits[0] == '+' || digits[0] == '-' || digits[0] == ' ')
        return -1;
    *base_len = (size_t)(t - name);
    return pid;
}

int hm_remove_temporaries(const char *dir, const char *const *names, uint64_t *n, uint64_t *bytes)
{
    if (n)
        *n = 0;
    if (bytes)
        *bytes = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT || errno == ENOTDIR
                   ? 0
                   : hm_error(HM_EIO, "could not read directory '%s': %s", dir, strerror(errno));
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t base;
        long pid = temporary_pid(de->d_name, &base);
        if (pid < 0 || pid == (long)getpid())
            continue;
        int listed = !names;
        for (size_t k = 0; names && names[k] && !listed; k++)
            listed = strlen(names[k]) == base && !strncmp(names[k], de->d_name, base);
        if (!listed)
            continue;
        char *path = hm_path_join(dir, de->d_name);
        struct stat st;
        if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(path);
            continue;
        }
        if (unlink(path) == 0) {
            if (n)
                (*n)++;
            if (bytes)
                *bytes += (uint64_t)st.st_size;
            hm_info("removed %s (%.1f MiB), left by an interrupted run", path, (double)st.st_size / (1024.0 * 1024.0));
        } else if (errno != ENOENT) {
            rc = hm_error(HM_EIO, "could not remove '%s': %s", path, strerror(errno));
        }
        free(path);
        if (rc)
            break;
    }
    closedir(d);
    return rc;
}

/* ---- directory locks ------------------------------------------------------------------------ */

/* The process holding a lock on the file open as fd, from /proc/locks (an flock names the
 * process that took it), else the process id the holder wrote into the file; 0 when unknown. */
static long lock_holder(int fd)
{
    struct stat st;
    long pid = 0;
    if (fstat(fd, &st) != 0)
        return 0;
    FILE *f = fopen("/proc/locks", "r");
    if (f) {
        char line[256];
        while (!pid && fgets(line, sizeof line, f)) {
            char kind[16];
            long who;
            unsigned maj, min;
            unsigned long long ino;
            if (sscanf(line, "%*d: %15s %*s %*s %ld %x:%x:%llu", kind, &who, &maj, &min, &ino) == 5 &&
                !strcmp(kind, "FLOCK") && ino == (unsigned long long)st.st_ino && who > 0 && who != (long)getpid())
                pid = who;
        }
        fclose(f);
    }
    if (!pid) {
        char text[32];
        ssize_t got = pread(fd, text, sizeof text - 1, 0);
        if (got > 0) {
            text[got] = '\0';
            pid = strtol(text, NULL, 10);
        }
    }
    return pid > 0 ? pid : 0;
}

static int lock_busy_error(const struct hm_lock *l, const char *what)
{
    long pid = lock_holder(l->fd);
    char who[64];
    if (pid)
        snprintf(who, sizeof who, "process %ld", pid);
    else
        snprintf(who, sizeof who, "another process");
    return hm_error(HM_EBUSY, "%s is in use by %s (another hmrec run holds %s): wait for it to finish, or use "
                              "another directory", what, who, l->path);
}

int hm_lock_dir(struct hm_lock *l, const char *dir, int exclusive, const char *what)
{
    l->fd = -1;
    l->exclusive = 0;
    l->path = NULL;
    int rc = hm_mkdirs(dir);
    if (rc)
        return rc;
    l->path = hm_path_join(dir, HM_LOCK_FILE);
    l->fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (l->fd < 0) {
        rc = hm_error(HM_EIO, "could not open the lock file '%s': %s", l->path, strerror(errno));
        free(l->path);
        l->path = NULL;
        return rc;
    }
    if (flock(l->fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
        rc = errno == EWOULDBLOCK ? lock_busy_error(l, what)
                                  : hm_error(HM_EIO, "could not lock '%s': %s", l->path, strerror(errno));
        hm_lock_release(l);
        return rc;
    }
    l->exclusive = exclusive;
    if (exclusive) {
        /* the holder's process id, for the message of whoever comes next (not needed for the
         * lock itself, which the kernel drops when this process ends, however it ends) */
        char text[32];
        int len = snprintf(text, sizeof text, "%ld\n", (long)getpid());
        if (ftruncate(l->fd, 0) != 0 || pwrite(l->fd, text, (size_t)len, 0) != len)
            hm_clear_error(); /* the lock holds without it */
    }
    return 0;
}

void hm_lock_release(struct hm_lock *l)
{
    if (l->fd >= 0)
        close(l->fd); /* drops the lock */
    free(l->path);
    l->fd = -1;
    l->path = NULL;
    l->exclusive = 0;
}
