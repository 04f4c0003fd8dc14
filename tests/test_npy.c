/* Tests for io/npy: round trip, NumPy compatibility, rejection of bad files. */
#include "io/npy.h"
#include "test.h"

#include <unistd.h>

static char path[64];

static void write_bytes(const char *p, const void *data, size_t n)
{
    FILE *f = fopen(p, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
}

TEST(test_round_trip)
{
    float m[6] = {1, 2, 3, 4.5f, -5, 6e-7f};
    CHECK_EQ_INT(io_npy_write(path, m, 2, 3), 0);
    struct io_npy a;
    CHECK_EQ_INT(io_npy_open(&a, path), 0);
    CHECK_EQ_INT(a.rows, 2);
    CHECK_EQ_INT(a.cols, 3);
    CHECK(memcmp(a.data, m, sizeof m) == 0);
    CHECK_EQ_INT((size_t)((const uint8_t *)a.data - a.map.data) % 64, 0);
    io_npy_release(&a);
}

TEST(test_numpy_reads_it)
{
    /* Debian's python3-numpy (scripts/install-deps.sh) is the independent reader */
    CHECK_EQ_INT(system("/usr/bin/python3 -c 'import numpy'"), 0);
    float m[4] = {0.25f, -1, 3, 7};
    CHECK_EQ_INT(io_npy_write(path, m, 4, 1), 0);
    char cmd[256];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import numpy as n,sys; a=n.load('%s'); sys.exit(0 if a.shape==(4,1) and "
             "a.dtype==n.float32 and a[3,0]==7 else 1)\"", path);
    CHECK_EQ_INT(system(cmd), 0);
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import numpy as n; n.save('%s', n.arange(10, dtype=n.float32))\"", path);
    CHECK_EQ_INT(system(cmd), 0);
    struct io_npy a;
    CHECK_EQ_INT(io_npy_open(&a, path), 0);
    CHECK_EQ_INT(a.rows, 10);
    CHECK_EQ_INT(a.cols, 1);
    CHECK(a.data[9] == 9.0f);
    io_npy_release(&a);
}

TEST(test_rejects_bad_files)
{
    struct io_npy a;
    write_bytes(path, "hello world, not numpy", 22);
    CHECK_EQ_INT(io_npy_open(&a, path), HM_EFORMAT);
    CHECK(strstr(hm_last_error(), "bad magic"));
    float m[6] = {0};
    CHECK_EQ_INT(io_npy_write(path, m, 2, 3), 0);
    CHECK_EQ_INT(io_npy_open(&a, path), 0);
    off_t full = (off_t)a.map.size;
    io_npy_release(&a);
    CHECK_EQ_INT(truncate(path, full - 4), 0);
    CHECK_EQ_INT(io_npy_open(&a, path), HM_EFORMAT);
    CHECK(strstr(hm_last_error(), "expected 24 data bytes for shape (2, 3), found 20"));
    char hdr[128] = "\x93NUMPY\x01\x00\x76\x00{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }";
    memset(hdr + 10 + 58, ' ', 128 - 10 - 58);
    hdr[127] = '\n';
    write_bytes(path, hdr, 128);
    CHECK_EQ_INT(io_npy_open(&a, path), HM_EFORMAT);
    CHECK(strstr(hm_last_error(), "float32"));
    CHECK_EQ_INT(io_npy_open(&a, "/nonexistent.npy"), HM_EIO);
}

TEST(test_streaming_writer)
{
    struct io_npy_writer w;
    float row[3] = {1, 2, 3};
    CHECK_EQ_INT(io_npy_writer_open(&w, path, 2, 3), 0);
    CHECK_EQ_INT(io_npy_writer_append(&w, row, 1), 0);
    CHECK_EQ_INT(io_npy_writer_commit(&w), HM_EINVAL); /* one row short */
    CHECK(access(w.w.tmp ? w.w.tmp : "/nonexistent", F_OK) != 0);
}

int main(void)
{
    snprintf(path, sizeof path, "/tmp/hm_test_npy_%d.npy", (int)getpid());
    RUN(test_round_trip);
    RUN(test_numpy_reads_it);
    RUN(test_rejects_bad_files);
    RUN(test_streaming_writer);
    unlink(path);
    TEST_EXIT();
}
