/* io/npy: 2-D float32 arrays in NumPy's .npy format (version 1.0/2.0/3.0, '<f4', C order).
 * Readers map the file and use the data in place; writers are atomic (temp + rename). */
#ifndef HM_IO_NPY_H
#define HM_IO_NPY_H

#include "core/core.h"

struct io_npy {
    struct hm_map map;
    const float *data; /* (rows, cols), row-major, points into the map */
    size_t rows, cols;
};

/* Opens and validates path: magic, version, a '<f4' C-order 1-D or 2-D shape (1-D reads as
 * (n, 1)), and a file size that matches the shape exactly. */
int io_npy_open(struct io_npy *a, const char *path);
void io_npy_release(struct io_npy *a);

/* Writes (rows, cols) float32 values atomically. */
int io_npy_write(const char *path, const float *data, size_t rows, size_t cols);

/* Streaming writer for arrays produced row block by row block. The shape is fixed up
 * front; commit fails unless exactly rows rows were appended. */
struct io_npy_writer {
    struct hm_awriter w;
    size_t rows, cols, written;
};
int io_npy_writer_open(struct io_npy_writer *nw, const char *path, size_t rows, size_t cols);
int io_npy_writer_append(struct io_npy_writer *nw, const float *data, size_t nrows);
int io_npy_writer_commit(struct io_npy_writer *nw);
void io_npy_writer_abort(struct io_npy_writer *nw);

#endif
