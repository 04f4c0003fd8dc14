/* Files: read-only maps, whole-file reads, atomic writes (temporary name + rename),
 * directories and paths. */
#include "core.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
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
    w->tmp = hm_xasprintf("%s.tmp.%ld", path, (long)getpid());
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

void hm_fault_point(const char *name)
{
    if (!fault_spec) {
        const char *e = getenv("HMREC_FAULT");
        fault_spec = e ? e : "";
    }
    size_t n = strlen(name);
    if (!fault_spec[0] || strncmp(fault_spec, name, n) || (fault_spec[n] != '\0' && fault_spec[n] != ':'))
        return;
    long k = fault_spec[n] == ':' ? strtol(fault_spec + n + 1, NULL, 10) : 1;
    int sig = strstr(fault_spec + n, ":INT") ? SIGINT : SIGKILL;
    if (++fault_count == (k > 0 ? k : 1)) {
        signal(sig, SIG_DFL);
        raise(sig);
    }
}

int hm_awriter_commit(struct hm_awriter *w)
{
    int bad = w->failed || fflush(w->f) != 0 || ferror(w->f);
    int e = errno;
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

int hm_remove_stale_temporaries(const char *dir, uint64_t *n, uint64_t *bytes)
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
        const char *t = strstr(de->d_name, ".tmp.");
        if (!t)
            continue;
        while (strstr(t + 1, ".tmp."))
            t = strstr(t + 1, ".tmp.");
        const char *digits = t + 5;
        char *end;
        long pid = strtol(digits, &end, 10);
        if (!*digits || *end || pid <= 0 || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* its writer may still be running */
        char *path = hm_path_join(dir, de->d_name);
        struct stat st;
        uint64_t size = stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
        if (unlink(path) == 0) {
            if (n)
                (*n)++;
            if (bytes)
                *bytes += size;
            hm_info("removed %s (%.1f MiB), left by an interrupted run (process %ld)", path,
                    (double)size / (1024.0 * 1024.0), pid);
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
