/* Tests for text: tokenizer, vocabulary, TF-IDF (hand-computed and NumPy golden values),
 * randomized SVD (NumPy singular values, reconstruction, determinism), semantics on a small
 * catalogue, top-N search against brute force, user embeddings, and the model artifact. */
#include "text/text.h"
#include "io/npy.h"
#include "test.h"

#include <cblas.h>
#include <lapacke.h>
#include <stdint.h>
#include <unistd.h>

static const char *fixture(const char *name)
{
    static char buf[4][512];
    static int i;
    const char *dir = getenv("HMREC_TESTS");
    char *b = buf[i++ & 3];
    snprintf(b, sizeof buf[0], "%s/text/%s", dir ? dir : ".", name);
    return b;
}

/* ---- tokenizer ---------------------------------------------------------------- */

struct toks {
    char s[1024];   /* tokens joined by '|' */
};

static int collect(const char *tok, size_t len, void *ud)
{
    struct toks *t = ud;
    size_t n = strlen(t->s);
    if (n)
        t->s[n++] = '|';
    memcpy(t->s + n, tok, len);
    t->s[n + len] = 0;
    return 0;
}

static const char *tokenize(const char *s, int min_len, int stop)
{
    static struct toks t;
    t.s[0] = 0;
    struct text_tok_opts o = {min_len, stop};
    text_tokenize(s, strlen(s), &o, collect, &t);
    return t.s;
}

static int stop_after_two(const char *tok, size_t len, void *ud)
{
    (void)tok;
    (void)len;
    return ++*(int *)ud == 2 ? 7 : 0;
}

TEST(test_tokenizer)
{
    CHECK_STR(tokenize("Hello, World!", 1, 0), "hello|world");
    CHECK_STR(tokenize("  --a-b--  ", 1, 0), "a|b");
    CHECK_STR(tokenize("T-shirt 2-pack 100% COTTON", 1, 0), "t|shirt|2|pack|100|cotton");
    CHECK_STR(tokenize("T-shirt 2-pack 100% COTTON", 2, 0), "shirt|pack|100|cotton");
    CHECK_STR(tokenize("Café crème, naïve ÉTÉ", 1, 0), "café|crème|naïve|\xc3\x89t\xc3\x89");
    CHECK_STR(tokenize("", 1, 0), "");
    CHECK_STR(tokenize("!!! ... ,,,", 1, 0), "");
    CHECK_STR(tokenize("The dress is perfect for the beach", 1, 1), "dress|perfect|beach");
    CHECK_STR(tokenize("The dress is perfect for the beach", 1, 0),
              "the|dress|is|perfect|for|the|beach");
    CHECK_STR(tokenize("a b cc ddd", 3, 0), "ddd");
    CHECK_STR(tokenize("tab\there\nnewline\r\n", 1, 0), "tab|here|newline");
    char longtok[200];
    memset(longtok, 'x', sizeof longtok - 1);
    longtok[sizeof longtok - 1] = 0;
    CHECK_EQ_INT(strlen(tokenize(longtok, 1, 0)), TEXT_MAX_TOKEN);
    int n = 0;
    struct text_tok_opts o = {1, 0};
    CHECK_EQ_INT(text_tokenize("a b c d", 7, &o, stop_after_two, &n), 7);
    CHECK_EQ_INT(n, 2);
    CHECK(text_is_stop_word("the", 3));
    CHECK(text_is_stop_word("yourselves", 10));
    CHECK(text_is_stop_word("a", 1));
    CHECK(!text_is_stop_word("dress", 5));
    CHECK(!text_is_stop_word("th", 2));
    CHECK(!text_is_stop_word("", 0));
}

TEST(test_vocab)
{
    struct text_vocab v;
    text_vocab_init(&v);
    char buf[32];
    int added;
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(buf, sizeof buf, "term%d", i);
        CHECK_EQ_INT(text_vocab_add(&v, buf, (size_t)n, &added), i);
        CHECK_EQ_INT(added, 1);
    }
    CHECK_EQ_INT(text_vocab_add(&v, "term17", 6, &added), 17);
    CHECK_EQ_INT(added, 0);
    CHECK_EQ_INT(text_vocab_find(&v, "term4999", 8), 4999);
    CHECK_EQ_INT(text_vocab_find(&v, "term5000", 8), -1);
    CHECK_EQ_INT(text_vocab_find(&v, "term1", 4), -1); /* a prefix is another term */
    CHECK_EQ_INT(text_vocab_add(&v, "", 0, &added), 5000); /* the empty term is allowed */
    size_t len;
    const char *s = text_vocab_term(&v, 123, &len);
    CHECK(len == 7 && memcmp(s, "term123", 7) == 0);
    CHECK_EQ_INT(v.n_terms, 5001);
    CHECK(v.n_slots >= 2 * (uint64_t)v.n_terms);
    text_vocab_release(&v);
}

/* ---- TF-IDF -------------------------------------------------------------------- */

static float dense_at(const struct text_csr *a, uint64_t r, uint32_t c)
{
    for (uint64_t e = a->rowptr[r]; e < a->rowptr[r + 1]; e++)
        if (a->col[e] == c)
            return a->val[e];
    return 0;
}

static int64_t term_id(const struct text_tfidf *t, const char *s)
{
    return text_vocab_find(&t->vocab, s, strlen(s));
}

TEST(test_tfidf_hand)
{
    /* 4 docs, one word field, no stop words, min_len 1, min_df 1, raw tf, smooth idf:
     *   idf(blue) = idf(shirt) = ln(5/2) + 1 = 1.916290731874155   (df 1)
     *   idf(dress) = idf(red)  = ln(5/3) + 1 = 1.5108256237659907  (df 2)
     * d0 "Red dress":      red, dress equal -> 1/sqrt(2) each
     * d1 "blue DRESS":     (1.91629, 1.51083) / 2.44024 = (0.785288, 0.619130)
     * d2 "red red, shirt": red tf 2: (3.02165, 1.91629) / 3.57808 = (0.844493, 0.535566)
     *                      sublinear tf 1+ln 2: (0.800337, 0.599550)
     * d3 "":               empty row */
    const char *cells[4] = {"Red dress", "blue DRESS", "red red, shirt", ""};
    struct text_field f = {.name = "w", .weight = 1};
    struct text_tfidf_opts o;
    text_tfidf_opts_default(&o);
    o.tok.min_len = 1;
    o.tok.stop_words = 0;
    o.min_df = 1;
    o.sublinear_tf = 0;
    struct text_tfidf t;
    struct text_csr a;
    CHECK_EQ_INT(text_tfidf_fit(&t, &f, 1, cells, 4, &o, &a), 0);
    CHECK_EQ_INT(t.vocab.n_terms, 4);
    CHECK_EQ_INT(term_id(&t, "blue"), 0); /* ids in byte order */
    CHECK_EQ_INT(term_id(&t, "dress"), 1);
    CHECK_EQ_INT(term_id(&t, "red"), 2);
    CHECK_EQ_INT(term_id(&t, "shirt"), 3);
    CHECK_NEAR(t.idf[0], 1.916290731874155, 1e-6);
    CHECK_NEAR(t.idf[1], 1.5108256237659907, 1e-6);
    CHECK_EQ_INT(t.df[1], 2);
    CHECK_EQ_INT(a.rowptr[4], 6);
    CHECK_NEAR(dense_at(&a, 0, 1), 0.70710678, 1e-6);
    CHECK_NEAR(dense_at(&a, 0, 2), 0.70710678, 1e-6);
    CHECK_NEAR(dense_at(&a, 1, 0), 0.7852882757103967, 1e-6);
    CHECK_NEAR(dense_at(&a, 1, 1), 0.6191302964899972, 1e-6);
    CHECK_NEAR(dense_at(&a, 2, 2), 0.8444932017012523, 1e-6);
    CHECK_NEAR(dense_at(&a, 2, 3), 0.5355662725381126, 1e-6);
    CHECK_EQ_INT(a.rowptr[3], a.rowptr[4]);
    struct text_csr at;
    text_csr_transpose(&a, &at);
    CHECK(at.n_rows == 4 && at.n_cols == 4 && at.rowptr[4] == 6);
    for (uint32_t r = 0; r < 4; r++)
        for (uint32_t c = 0; c < 4; c++)
            CHECK(dense_at(&at, c, r) == dense_at(&a, r, c));
    text_csr_release(&at);
    text_csr_release(&a);
    text_tfidf_release(&t);

    o.sublinear_tf = 1;
    CHECK_EQ_INT(text_tfidf_fit(&t, &f, 1, cells, 4, &o, &a), 0);
    CHECK_NEAR(dense_at(&a, 2, 2), 0.8003373041538421, 1e-6);
    CHECK_NEAR(dense_at(&a, 2, 3), 0.5995499975646404, 1e-6);
    /* transform: a new document with an unknown word */
    const char *newdoc[1] = {"RED jumper"};
    struct text_csr b;
    CHECK_EQ_INT(text_tfidf_transform(&t, newdoc, 1, &b), 0);
    CHECK_EQ_INT(b.rowptr[1], 1);
    CHECK_EQ_INT(b.col[0], 2);
    CHECK_NEAR(b.val[0], 1.0, 1e-7);
    text_csr_release(&b);
    text_csr_release(&a);
    text_tfidf_release(&t);

    /* min_df 2 keeps dress and red only; max_terms 1 keeps one of them (tie: bytes) */
    o.min_df = 2;
    o.max_terms = 1;
    CHECK_EQ_INT(text_tfidf_fit(&t, &f, 1, cells, 4, &o, &a), 0);
    CHECK_EQ_INT(t.vocab.n_terms, 1);
    CHECK_EQ_INT(term_id(&t, "dress"), 0);
    text_csr_release(&a);
    text_tfidf_release(&t);

    o.max_df = 0;
    CHECK_EQ_INT(text_tfidf_fit(&t, &f, 1, cells, 4, &o, &a), HM_EINVAL);
}

/* Reads tests/text/corpus.tsv: lines of 3 tab-separated cells. Returns the doc count. */
static size_t read_corpus(char **buf, const char **cells, size_t max_docs)
{
    size_t len;
    if (hm_read_file(fixture("corpus.tsv"), buf, &len) != 0)
        return 0;
    size_t n = 0;
    char *p = *buf;
    while (*p && n < max_docs) {
        char *eol = strchr(p, '\n');
        if (eol)
            *eol = 0;
        for (int f = 0; f < 3; f++) {
            cells[n * 3 + f] = p;
            char *tab = strchr(p, '\t');
            if (tab && f < 2) {
                *tab = 0;
                p = tab + 1;
            } else {
                p += strlen(p);
            }
        }
        n++;
        p = eol ? eol + 1 : p;
    }
    return n;
}

/* Compares a fit on corpus.tsv with a golden file from scripts/make_text_golden.py. */
static void check_golden(const char *golden, const struct text_field *fields,
                         const struct text_tfidf_opts *o)
{
    char *buf = NULL;
    const char *cells[64 * 3];
    size_t n = read_corpus(&buf, cells, 64);
    CHECK_EQ_INT(n, 12);
    struct text_tfidf t;
    struct text_csr a;
    CHECK_EQ_INT(text_tfidf_fit(&t, fields, 3, cells, n, o, &a), 0);
    FILE *f = fopen(fixture(golden), "r");
    CHECK(f);
    size_t gd, gt;
    CHECK(fscanf(f, "%zu %zu\n", &gd, &gt) == 2);
    CHECK_EQ_INT(gd, n);
    CHECK_EQ_INT(gt, t.vocab.n_terms);
    char line[256];
    for (uint32_t i = 0; i < gt; i++) {
        CHECK(fgets(line, sizeof line, f));
        line[strcspn(line, "\n")] = 0;
        size_t len;
        const char *s = text_vocab_term(&t.vocab, i, &len);
        if (!(len == strlen(line) && memcmp(s, line, len) == 0))
            fprintf(stderr, "  term %u: '%.*s' vs golden '%s'\n", i, (int)len, s, line);
        CHECK(len == strlen(line) && memcmp(s, line, len) == 0);
    }
    double maxdiff = 0;
    for (size_t d = 0; d < n; d++)
        for (uint32_t c = 0; c < gt; c++) {
            double g;
            CHECK(fscanf(f, "%lf", &g) == 1);
            double diff = fabs(g - dense_at(&a, d, c));
            maxdiff = diff > maxdiff ? diff : maxdiff;
        }
    fclose(f);
    CHECK(maxdiff <= 1e-5);
    text_csr_release(&a);
    text_tfidf_release(&t);
    free(buf);
}

TEST(test_tfidf_golden)
{
    /* configuration A of scripts/make_text_golden.py */
    struct text_field fa[3] = {{"type", 1, 1, 0}, {"colour", 0.5f, 1, 0}, {"desc", 1, 0, 0}};
    struct text_tfidf_opts o;
    text_tfidf_opts_default(&o); /* min_len 2, stop words, min_df 2, sublinear, smooth */
    check_golden("golden_A.txt", fa, &o);
    /* configuration B */
    struct text_field fb[3] = {{"type", 2, 0, 1}, {"colour", 1, 1, 0}, {"desc", 1, 0, 1}};
    o.tok.min_len = 1;
    o.tok.stop_words = 0;
    o.min_df = 1;
    o.max_df = 0.5;
    o.max_terms = 20;
    o.sublinear_tf = 0;
    o.smooth_idf = 0;
    check_golden("golden_B.txt", fb, &o);
}

TEST(test_tfidf_threads)
{
    char *buf = NULL;
    const char *cells[64 * 3];
    size_t n = read_corpus(&buf, cells, 64);
    struct text_field fa[3] = {{"type", 1, 1, 0}, {"colour", 0.5f, 1, 0}, {"desc", 1, 0, 0}};
    struct text_tfidf_opts o;
    text_tfidf_opts_default(&o);
    o.min_df = 1;
    struct text_tfidf t1, t2;
    struct text_csr a1, a2;
    hm_threads_set(1);
    CHECK_EQ_INT(text_tfidf_fit(&t1, fa, 3, cells, n, &o, &a1), 0);
    hm_threads_set(3);
    CHECK_EQ_INT(text_tfidf_fit(&t2, fa, 3, cells, n, &o, &a2), 0);
    hm_threads_set(0);
    uint64_t nnz = a1.rowptr[n];
    CHECK_EQ_INT(nnz, a2.rowptr[n]);
    CHECK(memcmp(a1.rowptr, a2.rowptr, (n + 1) * 8) == 0);
    CHECK(memcmp(a1.col, a2.col, nnz * 4) == 0);
    CHECK(memcmp(a1.val, a2.val, nnz * 4) == 0);
    text_csr_release(&a1);
    text_csr_release(&a2);
    text_tfidf_release(&t1);
    text_tfidf_release(&t2);
    free(buf);
}

/* ---- randomized SVD -------------------------------------------------------------- */

/* A dense matrix as CSR (zeros dropped). */
static void dense_to_csr(const float *x, size_t n, size_t m, struct text_csr *a)
{
    a->n_rows = n;
    a->n_cols = m;
    a->rowptr = hm_xcalloc(n + 1, sizeof *a->rowptr);
    a->col = hm_xmalloc_array(n * m, sizeof *a->col);
    a->val = hm_xmalloc_array(n * m, sizeof *a->val);
    uint64_t e = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < m; j++)
            if (x[i * m + j] != 0) {
                a->col[e] = (uint32_t)j;
                a->val[e++] = x[i * m + j];
            }
        a->rowptr[i + 1] = e;
    }
}

TEST(test_svd_numpy)
{
    struct io_npy x;
    CHECK_EQ_INT(io_npy_open(&x, fixture("svd_matrix.npy")), 0);
    size_t n = x.rows, m = x.cols;
    CHECK(n == 200 && m == 80);
    double gold[80];
    FILE *f = fopen(fixture("svd_golden.txt"), "r");
    CHECK(f);
    for (size_t i = 0; i < m; i++)
        CHECK(fscanf(f, "%lf", &gold[i]) == 1);
    fclose(f);
    struct text_csr a;
    dense_to_csr(x.data, n, m, &a);
    struct text_svd_opts o;
    text_svd_opts_default(&o);
    o.k = 10;
    struct text_svd s;
    CHECK_EQ_INT(text_svd_fit(&a, &o, &s), 0);
    CHECK_EQ_INT(s.k, 10);
    /* singular values: relative error 1e-5 against numpy.linalg.svd (float64) */
    for (int i = 0; i < 10; i++)
        CHECK_NEAR(s.s[i] / gold[i], 1.0, 1e-5);
    /* components orthonormal within 1e-5 */
    for (int p = 0; p < 10; p++)
        for (int q = 0; q < 10; q++) {
            double dot = 0;
            for (size_t j = 0; j < m; j++)
                dot += (double)s.vt[p * m + j] * s.vt[q * m + j];
            CHECK_NEAR(dot, p == q ? 1.0 : 0.0, 1e-5);
        }
    /* reconstruction: ||A - (A V) V^T||_F^2 within 0.1% of the optimum sum_{i>k} s_i^2 */
    double err = 0, opt = 0;
    for (size_t i = 10; i < m; i++)
        opt += gold[i] * gold[i];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < m; j++) {
            double r = x.data[i * m + j];
            for (int c = 0; c < 10; c++)
                r -= (double)s.us[i * 10 + c] * s.vt[c * m + j];
            err += r * r;
        }
    CHECK(err >= opt * (1 - 1e-4));
    CHECK(err <= opt * 1.001);

    /* determinism: same seed, 1 and 2 threads -> identical bytes; another seed differs
     * only in rounding */
    struct text_svd s1, s2;
    hm_threads_set(1);
    CHECK_EQ_INT(text_svd_fit(&a, &o, &s1), 0);
    hm_threads_set(2);
    CHECK_EQ_INT(text_svd_fit(&a, &o, &s2), 0);
    hm_threads_set(0);
    CHECK(memcmp(s1.s, s.s, 10 * 4) == 0 && memcmp(s2.s, s.s, 10 * 4) == 0);
    CHECK(memcmp(s1.vt, s.vt, 10 * m * 4) == 0 && memcmp(s2.vt, s.vt, 10 * m * 4) == 0);
    CHECK(memcmp(s1.us, s.us, 10 * n * 4) == 0 && memcmp(s2.us, s.us, 10 * n * 4) == 0);
    text_svd_release(&s1);
    o.seed = 43;
    CHECK_EQ_INT(text_svd_fit(&a, &o, &s1), 0);
    for (int i = 0; i < 10; i++)
        CHECK_NEAR(s1.s[i] / gold[i], 1.0, 1e-5);
    text_svd_release(&s1);
    text_svd_release(&s2);

    /* k larger than the matrix allows is capped; k = 0 is an error */
    o.k = 500;
    CHECK_EQ_INT(text_svd_fit(&a, &o, &s1), 0);
    CHECK_EQ_INT(s1.k, 80);
    for (int i = 0; i < 80; i++) /* the full spectrum (numerical zeros at the end) */
        CHECK_NEAR(s1.s[i], gold[i], 1e-5 * gold[0]);
    text_svd_release(&s1);
    o.k = 0;
    CHECK_EQ_INT(text_svd_fit(&a, &o, &s1), HM_EINVAL);

    text_svd_release(&s);
    text_csr_release(&a);
    io_npy_release(&x);
}

/* A taller matrix: its QR goes through the blocked tall-skinny path (rows >= 4 * 4096). The
 * reference singular values are square roots of the eigenvalues of A^T A (LAPACK dsyev in
 * double), accurate to ~1e-12 relative for the leading ones here. */
TEST(test_svd_tall)
{
    enum { N = 5 * 4096 + 123, M = 120, R = 8 };
    float *x = hm_xcalloc((size_t)N * M, sizeof *x);
    struct hm_rng r;
    hm_rng_seed(&r, 5);
    double u[R], v[R][M];
    for (int c = 0; c < R; c++)
        for (int j = 0; j < M; j++)
            v[c][j] = hm_rng_uniform(&r) < 0.4 ? hm_rng_normal(&r) : 0;
    for (size_t i = 0; i < N; i++) {
        for (int c = 0; c < R; c++)
            u[c] = hm_rng_uniform(&r) < 0.5 ? hm_rng_normal(&r) * (R - c) : 0;
        for (int j = 0; j < M; j++) {
            double a = 0;
            for (int c = 0; c < R; c++)
                a += u[c] * v[c][j];
            if (a != 0)
                x[i * M + j] = (float)(a + 0.01 * hm_rng_normal(&r));
        }
    }
    double *xd = hm_xmalloc_array((size_t)N * M, sizeof *xd), g[M * M], ev[M];
    for (size_t i = 0; i < (size_t)N * M; i++)
        xd[i] = x[i];
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, M, N, 1.0, xd, M, 0.0, g, M);
    CHECK_EQ_INT(LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', M, g, M, ev), 0);
    struct text_csr a;
    dense_to_csr(x, N, M, &a);
    struct text_svd_opts o;
    text_svd_opts_default(&o);
    o.k = R;
    struct text_svd s1, s2;
    hm_threads_set(1);
    CHECK_EQ_INT(text_svd_fit(&a, &o, &s1), 0);
    hm_threads_set(2);
    CHECK_EQ_INT(text_svd_fit(&a, &o, &s2), 0);
    hm_threads_set(0);
    for (int i = 0; i < R; i++)
        CHECK_NEAR(s1.s[i] / sqrt(ev[M - 1 - i]), 1.0, 1e-5);
    for (int p = 0; p < R; p++)
        for (int q = 0; q < R; q++) {
            double dot = 0;
            for (size_t j = 0; j < M; j++)
                dot += (double)s1.vt[p * M + j] * s1.vt[q * M + j];
            CHECK_NEAR(dot, p == q ? 1.0 : 0.0, 1e-5);
        }
    CHECK(memcmp(s1.s, s2.s, R * 4) == 0);
    CHECK(memcmp(s1.vt, s2.vt, (size_t)R * M * 4) == 0);
    CHECK(memcmp(s1.us, s2.us, (size_t)R * N * 4) == 0);
    text_svd_release(&s1);
    text_svd_release(&s2);
    text_csr_release(&a);
    free(xd);
    free(x);
}

/* ---- semantics on a small catalogue ----------------------------------------------- */

/* type, colour, department, section, garment group, prod_name, detail_desc */
static const char *catalogue[][7] = {
    /* 0-9: summer and beach */
    {"Dress", "Yellow", "Dresses", "Womens Casual", "Dresses Ladies", "Summer dress",
     "Sleeveless summer dress in airy linen, lightweight for hot beach days."},
    {"Dress", "White", "Dresses", "Womens Casual", "Dresses Ladies", "Beach maxi dress",
     "Long lightweight dress in airy cotton voile, for summer holidays at the beach."},
    {"Bikini top", "Turquoise", "Swimwear", "Womens Swimwear, beachwear", "Swimwear",
     "Beachwear bikini top", "Padded bikini top for the beach and pool, quick-drying summer swimwear."},
    {"Swimwear bottom", "Turquoise", "Swimwear", "Womens Swimwear, beachwear", "Swimwear",
     "Bikini bottoms", "Bikini bottoms with ties at the sides, beachwear for summer."},
    {"Swimsuit", "Black", "Swimwear", "Womens Swimwear, beachwear", "Swimwear", "Beach swimsuit",
     "Swimsuit for the beach and pool in quick-drying fabric, summer swimwear."},
    {"Shorts", "White", "Shorts", "Womens Casual", "Shorts", "Linen summer shorts",
     "Lightweight linen shorts for hot summer days, elasticated waist."},
    {"Sandals", "Beige", "Shoes", "Womens Shoes", "Shoes", "Beach sandals",
     "Flat sandals for the beach, lightweight straps for summer."},
    {"Kaftan", "White", "Swimwear", "Womens Swimwear, beachwear", "Swimwear", "Beach kaftan",
     "Airy beachwear kaftan in lightweight cotton to wear over swimwear at the beach."},
    {"Dress", "Red", "Dresses", "Womens Casual", "Dresses Ladies", "Sundress",
     "Short sleeveless sundress with thin straps, airy and lightweight for summer."},
    {"Hat/beanie", "Beige", "Accessories", "Womens Accessories", "Accessories", "Straw sun hat",
     "Wide-brim straw hat for sunny summer days at the beach."},
    /* 10-17: knitwear */
    {"Sweater", "Grey", "Knitwear", "Womens Knitwear", "Knitwear", "Wool jumper",
     "Warm knitted jumper in soft wool with ribbed cuffs, cosy for winter."},
    {"Cardigan", "Beige", "Knitwear", "Womens Knitwear", "Knitwear", "Chunky cardigan",
     "Chunky knit cardigan in a wool blend with buttons, warm for cold winter days."},
    {"Sweater", "Dark Green", "Knitwear", "Womens Knitwear", "Knitwear", "Cable-knit sweater",
     "Cable-knit sweater in warm wool, ribbed hem and cuffs, for winter."},
    {"Sweater", "Black", "Knitwear", "Mens Knitwear", "Knitwear", "Merino jumper",
     "Fine-knit jumper in merino wool, warm and soft, ribbed trims."},
    {"Scarf", "Grey", "Accessories", "Womens Accessories", "Accessories", "Knitted scarf",
     "Long knitted scarf in soft wool, warm for winter."},
    {"Hat/beanie", "Red", "Accessories", "Womens Accessories", "Accessories", "Knitted beanie",
     "Rib-knit beanie in a warm wool blend for cold winter days."},
    {"Dress", "Grey", "Knitwear", "Womens Knitwear", "Knitwear", "Knitted dress",
     "Knitted dress in a soft wool blend, long sleeves, warm for winter."},
    {"Cardigan", "Black", "Knitwear", "Mens Knitwear", "Knitwear", "Wool cardigan",
     "Cardigan in knitted wool with pockets, warm winter layer."},
    /* 18-24: jeans */
    {"Trousers", "Blue", "Denim", "Womens Denim", "Trousers Denim", "Slim jeans",
     "Slim jeans in washed stretch denim with five pockets and a zip fly."},
    {"Trousers", "Dark Blue", "Denim", "Womens Denim", "Trousers Denim", "Wide jeans",
     "Wide jeans in rigid denim, high waist, five pockets."},
    {"Trousers", "Black", "Denim", "Mens Denim", "Trousers Denim", "Skinny jeans",
     "Skinny jeans in stretch denim, five-pocket styling, zip fly."},
    {"Shorts", "Blue", "Denim", "Womens Denim", "Trousers Denim", "Denim shorts",
     "Denim shorts in washed cotton denim with frayed hems and five pockets."},
    {"Jacket", "Blue", "Denim", "Mens Denim", "Jacket", "Denim jacket",
     "Jacket in washed denim with buttons and chest pockets."},
    {"Skirt", "Blue", "Denim", "Womens Denim", "Skirts", "Denim skirt",
     "Short skirt in stretch denim with pockets and a zip fly."},
    {"Trousers", "Light Blue", "Denim", "Womens Denim", "Trousers Denim", "Mom jeans",
     "Mom jeans in washed denim, high waist, tapered legs, five pockets."},
    /* 25-29: tailoring */
    {"Blazer", "Black", "Tailoring", "Womens Tailoring", "Jacket", "Fitted blazer",
     "Fitted blazer in woven fabric with notch lapels and a single button."},
    {"Trousers", "Black", "Tailoring", "Womens Tailoring", "Trousers", "Tailored trousers",
     "Tailored trousers in woven fabric with pressed creases and a hook-and-eye."},
    {"Blazer", "Grey", "Tailoring", "Mens Tailoring", "Jacket", "Suit jacket",
     "Suit jacket in a wool blend, notch lapels, two buttons."},
    {"Trousers", "Grey", "Tailoring", "Mens Tailoring", "Trousers", "Suit trousers",
     "Suit trousers in a woven wool blend, pressed creases."},
    {"Shirt", "White", "Tailoring", "Womens Tailoring", "Blouses", "Poplin shirt",
     "Fitted shirt in cotton poplin with a collar and buttons."},
};
#define N_CAT 30

static int group_of(uint32_t i) { return i < 10 ? 0 : i < 18 ? 1 : i < 25 ? 2 : 3; }

static void fit_catalogue(struct text_model *m)
{
    struct text_field f[TEXT_HM_NFIELDS];
    text_hm_fields(f);
    struct text_model_opts o;
    text_model_opts_default(&o);
    o.tfidf.min_df = 1;
    o.svd.k = 6;
    HM_ASSERT(text_model_fit(m, f, TEXT_HM_NFIELDS, &catalogue[0][0], N_CAT, &o) == 0);
}

TEST(test_semantics)
{
    struct text_model m;
    fit_catalogue(&m);
    uint32_t k = m.svd.k;
    CHECK_EQ_INT(k, 6);
    /* neighbours of every item, itself excluded */
    uint64_t eptr[N_CAT + 1];
    uint32_t excl[N_CAT];
    for (uint32_t i = 0; i <= N_CAT; i++)
        eptr[i] = i;
    for (uint32_t i = 0; i < N_CAT; i++)
        excl[i] = i;
    uint32_t ids[N_CAT * 5];
    float sc[N_CAT * 5];
    CHECK_EQ_INT(text_topn(m.svd.us, N_CAT, m.svd.us, N_CAT, k, 5, eptr, excl, ids, sc), 0);
    /* the summer dress (0) and the sundress (8): top 5 are all summer/beach items */
    for (int r = 0; r < 5; r++) {
        if (group_of(ids[0 * 5 + r]) != 0 || group_of(ids[8 * 5 + r]) != 0)
            fprintf(stderr, "  rank %d: %u, %u\n", r, ids[0 * 5 + r], ids[8 * 5 + r]);
        CHECK_EQ_INT(group_of(ids[0 * 5 + r]), 0);
        CHECK_EQ_INT(group_of(ids[8 * 5 + r]), 0);
    }
    /* the bikini top's nearest is the other bikini piece or beachwear */
    CHECK(ids[2 * 5] == 3 || ids[2 * 5] == 4 || ids[2 * 5] == 7);
    /* every item's single nearest neighbour is in its own group */
    int same = 0;
    for (uint32_t i = 0; i < N_CAT; i++)
        same += group_of(ids[i * 5]) == group_of(i);
    CHECK(same >= 28);
    /* a new query "summer dress for the beach" embeds near the beach group */
    const char *q[TEXT_HM_NFIELDS] = {"Dress", NULL, NULL, NULL, NULL, "summer dress",
                                      "light dress for the beach"};
    float qe[16];
    CHECK_EQ_INT(text_model_embed(&m, q, 1, qe), 0);
    CHECK_EQ_INT(text_topn(qe, 1, m.svd.us, N_CAT, k, 5, NULL, NULL, ids, sc), 0);
    for (int r = 0; r < 5; r++)
        CHECK_EQ_INT(group_of(ids[r]), 0);
    /* re-embedding a catalogue row reproduces its stored embedding */
    float e0[16];
    CHECK_EQ_INT(text_model_embed(&m, &catalogue[10][0], 1, e0), 0);
    for (uint32_t c = 0; c < k; c++)
        CHECK_NEAR(e0[c], m.svd.us[10 * k + c], 1e-6);
    /* a user who bought a bikini and sandals gets beach recommendations (purchases excluded) */
    uint64_t uptr[2] = {0, 2};
    uint32_t items[2] = {2, 6};
    float ue[16];
    CHECK_EQ_INT(text_user_embed(m.svd.us, N_CAT, k, uptr, items, NULL, 1, ue), 0);
    CHECK_EQ_INT(text_topn(ue, 1, m.svd.us, N_CAT, k, 4, uptr, items, ids, sc), 0);
    for (int r = 0; r < 4; r++) {
        CHECK(ids[r] != 2 && ids[r] != 6);
        CHECK_EQ_INT(group_of(ids[r]), 0);
    }
    text_model_release(&m);
}

/* ---- top-N and user embeddings ------------------------------------------------------ */

TEST(test_topn_brute)
{
    enum { NQ = 150, ND = 5000, DIM = 24, TOP = 50 };
    float *q = hm_xmalloc_array(NQ * DIM, sizeof *q), *d = hm_xmalloc_array(ND * DIM, sizeof *d);
    struct hm_rng r;
    hm_rng_seed(&r, 1);
    for (size_t i = 0; i < NQ * DIM; i++)
        q[i] = (float)hm_rng_normal(&r);
    for (size_t i = 0; i < ND * DIM; i++)
        d[i] = (float)hm_rng_normal(&r);
    text_l2_normalize_rows(q, NQ, DIM);
    text_l2_normalize_rows(d, ND, DIM);
    /* each query excludes 0..9 random docs */
    uint64_t eptr[NQ + 1];
    uint32_t excl[NQ * 10];
    eptr[0] = 0;
    for (int i = 0; i < NQ; i++) {
        uint64_t n = hm_rng_below(&r, 10);
        for (uint64_t e = 0; e < n; e++)
            excl[eptr[i] + e] = (uint32_t)hm_rng_below(&r, ND);
        eptr[i + 1] = eptr[i] + n;
    }
    uint32_t *ids = hm_xmalloc_array(NQ * TOP, sizeof *ids);
    float *sc = hm_xmalloc_array(NQ * TOP, sizeof *sc);
    CHECK_EQ_INT(text_topn(q, NQ, d, ND, DIM, TOP, eptr, excl, ids, sc), 0);
    double *all = hm_xmalloc_array(ND, sizeof *all);
    for (int i = 0; i < NQ; i++) {
        for (int j = 0; j < ND; j++) {
            double s = 0;
            for (int c = 0; c < DIM; c++)
                s += (double)q[i * DIM + c] * d[j * DIM + c];
            all[j] = s;
            for (uint64_t e = eptr[i]; e < eptr[i + 1]; e++)
                if (excl[e] == (uint32_t)j)
                    all[j] = -INFINITY;
        }
        /* brute force: repeated arg-max */
        for (int t = 0; t < TOP; t++) {
            int best = 0;
            for (int j = 1; j < ND; j++)
                if (all[j] > all[best])
                    best = j;
            CHECK_NEAR(sc[i * TOP + t], all[best], 1e-5);
            if (ids[i * TOP + t] != (uint32_t)best) /* only a near-tie may swap */
                CHECK_NEAR(all[ids[i * TOP + t]], all[best], 1e-5);
            all[best] = -INFINITY;
        }
    }
    /* a subset of the docs (every third one) under their own ids: same as brute force over
     * those docs */
    enum { NS = (ND + 2) / 3 };
    float *sub = hm_xmalloc_array((size_t)NS * DIM, sizeof *sub);
    uint32_t *sub_ids = hm_xmalloc_array(NS, sizeof *sub_ids);
    for (int i = 0; i < NS; i++) {
        sub_ids[i] = (uint32_t)(3 * i);
        memcpy(sub + (size_t)i * DIM, d + (size_t)3 * i * DIM, DIM * sizeof *d);
    }
    CHECK_EQ_INT(text_topn_subset(q, NQ, sub, sub_ids, NS, DIM, TOP, eptr, excl, ids, sc), 0);
    for (int i = 0; i < NQ; i++) {
        for (int j = 0; j < ND; j++) {
            double s = 0;
            for (int c = 0; c < DIM; c++)
                s += (double)q[i * DIM + c] * d[j * DIM + c];
            all[j] = j % 3 ? -INFINITY : s;
            for (uint64_t e = eptr[i]; e < eptr[i + 1]; e++)
                if (excl[e] == (uint32_t)j)
                    all[j] = -INFINITY;
        }
        for (int t = 0; t < TOP; t++) {
            int best = 0;
            for (int j = 1; j < ND; j++)
                if (all[j] > all[best])
                    best = j;
            CHECK_NEAR(sc[i * TOP + t], all[best], 1e-5);
            CHECK_EQ_INT(ids[i * TOP + t] % 3, 0);
            if (ids[i * TOP + t] != (uint32_t)best)
                CHECK_NEAR(all[ids[i * TOP + t]], all[best], 1e-5);
            all[best] = -INFINITY;
        }
    }
    sub_ids[1] = 0;
    CHECK_EQ_INT(text_topn_subset(q, NQ, sub, sub_ids, NS, DIM, TOP, eptr, excl, ids, sc),
                 HM_EINVAL);
    free(sub);
    free(sub_ids);
    CHECK_EQ_INT(text_topn(q, NQ, d, ND, DIM, TOP, eptr, excl, ids, sc), 0);

    /* thread count does not change the result */
    uint32_t *ids2 = hm_xmalloc_array(NQ * TOP, sizeof *ids2);
    float *sc2 = hm_xmalloc_array(NQ * TOP, sizeof *sc2);
    hm_threads_set(1);
    CHECK_EQ_INT(text_topn(q, NQ, d, ND, DIM, TOP, eptr, excl, ids2, sc2), 0);
    hm_threads_set(0);
    CHECK(memcmp(ids, ids2, NQ * TOP * 4) == 0 && memcmp(sc, sc2, NQ * TOP * 4) == 0);
    free(ids2);
    free(sc2);
    free(all);
    free(ids);
    free(sc);
    free(q);
    free(d);
}

TEST(test_topn_edges)
{
    /* 4 docs, two identical (ties go to the lower id); n_top beyond the eligible docs */
    float d[4 * 2] = {1, 0, 0, 1, 1, 0, 0.6f, 0.8f};
    float q[2] = {1, 0};
    uint64_t eptr[2] = {0, 1};
    uint32_t excl[1] = {3};
    uint32_t ids[6];
    float sc[6];
    CHECK_EQ_INT(text_topn(q, 1, d, 4, 2, 6, eptr, excl, ids, sc), 0);
    CHECK_EQ_INT(ids[0], 0);
    CHECK_EQ_INT(ids[1], 2);
    CHECK_EQ_INT(ids[2], 1);
    CHECK_EQ_INT(ids[3], UINT32_MAX);
    CHECK(isinf(sc[5]) && sc[5] < 0);
    CHECK_NEAR(sc[0], 1, 1e-7);
    CHECK_EQ_INT(text_topn(q, 1, d, 4, 0, 6, NULL, NULL, ids, sc), HM_EINVAL);
}

TEST(test_user_embed)
{
    float emb[3 * 2] = {1, 0, 0, 1, 3, 4};
    uint64_t ptr[4] = {0, 2, 2, 3};
    uint32_t items[3] = {0, 1, 2};
    float w[3] = {3, 1, 1};
    float out[3 * 2];
    CHECK_EQ_INT(text_user_embed(emb, 3, 2, ptr, items, w, 3, out), 0);
    CHECK_NEAR(out[0], 3 / sqrt(10), 1e-6); /* (3, 1) normalised */
    CHECK_NEAR(out[1], 1 / sqrt(10), 1e-6);
    CHECK(out[2] == 0 && out[3] == 0);      /* no purchases */
    CHECK_NEAR(out[4], 0.6, 1e-6);
    CHECK_NEAR(out[5], 0.8, 1e-6);
    CHECK_EQ_INT(text_user_embed(emb, 3, 2, ptr, items, NULL, 3, out), 0);
    CHECK_NEAR(out[0], 1 / sqrt(2), 1e-6);
    items[2] = 3;
    CHECK_EQ_INT(text_user_embed(emb, 3, 2, ptr, items, w, 3, out), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "doc 3"));
}

/* ---- artifact ------------------------------------------------------------------------- */

static char model_path[128];

static void write_bytes(const char *p, const void *data, size_t n)
{
    FILE *f = fopen(p, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
}

TEST(test_artifact)
{
    struct text_model m, l;
    fit_catalogue(&m);
    CHECK_EQ_INT(text_model_save(&m, model_path), 0);
    CHECK_EQ_INT(text_model_load(&l, model_path), 0);
    uint32_t k = m.svd.k, nt = m.tfidf.vocab.n_terms;
    CHECK_EQ_INT(l.svd.k, k);
    CHECK_EQ_INT(l.tfidf.vocab.n_terms, nt);
    CHECK_EQ_INT(l.tfidf.n_fields, TEXT_HM_NFIELDS);
    CHECK_STR(l.tfidf.fields[6].name, "desc");
    CHECK_EQ_INT(l.tfidf.fields[0].categorical, 1);
    CHECK_EQ_INT(l.tfidf.opts.min_df, 1);
    CHECK_EQ_INT(l.normalized, 1);
    CHECK(memcmp(l.svd.us, m.svd.us, (size_t)N_CAT * k * 4) == 0);
    CHECK(memcmp(l.svd.vt, m.svd.vt, (size_t)nt * k * 4) == 0);
    CHECK(memcmp(l.tfidf.idf, m.tfidf.idf, (size_t)nt * 4) == 0);
    for (uint32_t t = 0; t < nt; t++) {
        size_t a, b;
        const char *sa = text_vocab_term(&m.tfidf.vocab, t, &a);
        const char *sb = text_vocab_term(&l.tfidf.vocab, t, &b);
        CHECK(a == b && memcmp(sa, sb, a) == 0);
        CHECK_EQ_INT(text_vocab_find(&l.tfidf.vocab, sa, a), t);
    }
    /* the loaded model embeds a new document exactly like the original */
    const char *q[TEXT_HM_NFIELDS] = {"Dress", "Blue", NULL, NULL, NULL, "x", "wool summer"};
    float e1[16], e2[16];
    CHECK_EQ_INT(text_model_embed(&m, q, 1, e1), 0);
    CHECK_EQ_INT(text_model_embed(&l, q, 1, e2), 0);
    CHECK(memcmp(e1, e2, k * 4) == 0);
    text_model_release(&l);

    /* .npy of the embeddings */
    char npy[160];
    snprintf(npy, sizeof npy, "%s.npy", model_path);
    CHECK_EQ_INT(text_model_save_npy(&m, npy), 0);
    struct io_npy a;
    CHECK_EQ_INT(io_npy_open(&a, npy), 0);
    CHECK(a.rows == N_CAT && a.cols == k);
    CHECK(memcmp(a.data, m.svd.us, (size_t)N_CAT * k * 4) == 0);
    io_npy_release(&a);
    unlink(npy);

    /* corruption */
    char *buf;
    size_t len;
    CHECK_EQ_INT(hm_read_file(model_path, &buf, &len), 0);
    write_bytes(model_path, buf, len - 5);
    CHECK_EQ_INT(text_model_load(&l, model_path), HM_EFORMAT);
    CHECK(strstr(hm_last_error(), "truncated"));
    write_bytes(model_path, buf, 100);
    CHECK_EQ_INT(text_model_load(&l, model_path), HM_EFORMAT);
    CHECK(strstr(hm_last_error(), "truncated"));
    write_bytes(model_path, buf, 20);
    CHECK_EQ_INT(text_model_load(&l, model_path), HM_EFORMAT);
    CHECK(strstr(hm_last_error(), "truncated"));
    buf[len / 2] ^= 0x10;
    write_bytes(model_path, buf, len);
    CHECK_EQ_INT(text_model_load(&l, model_path), HM_EFORMAT);
    CHECK(strstr(hm_last_error(), "checksum"));
    CHECK(strstr(hm_last_error(), model_path));
    buf[len / 2] ^= 0x10;
    buf[8] = 9; /* version */
    write_bytes(model_path, buf, len);
    CHECK_EQ_INT(text_model_load(&l, model_path), HM_EFORMAT);
    CHECK(strstr(hm_last_error(), "version 9"));
    buf[8] = 1;
    buf[0] = 'X';
    write_bytes(model_path, buf, len);
    CHECK_EQ_INT(text_model_load(&l, model_path), HM_EFORMAT);
    CHECK(strstr(hm_last_error(), "bad magic"));
    buf[0] = 'H';
    char *longer = hm_xmalloc(len + 3);
    memcpy(longer, buf, len);
    memset(longer + len, 0, 3);
    write_bytes(model_path, longer, len + 3);
    CHECK_EQ_INT(text_model_load(&l, model_path), HM_EFORMAT);
    CHECK(strstr(hm_last_error(), "trailing"));
    free(longer);
    write_bytes(model_path, buf, len);
    CHECK_EQ_INT(text_model_load(&l, model_path), 0);
    text_model_release(&l);
    write_bytes(model_path, "", 0);
    CHECK_EQ_INT(text_model_load(&l, model_path), HM_EFORMAT);
    unlink(model_path);
    CHECK(text_model_load(&l, model_path) < 0);
    free(buf);
    text_model_release(&m);
}

int main(void)
{
    snprintf(model_path, sizeof model_path, "/tmp/hmrec_test_text_%d.bin", (int)getpid());
    RUN(test_tokenizer);
    RUN(test_vocab);
    RUN(test_tfidf_hand);
    RUN(test_tfidf_golden);
    RUN(test_tfidf_threads);
    RUN(test_svd_numpy);
    RUN(test_svd_tall);
    RUN(test_semantics);
    RUN(test_topn_brute);
    RUN(test_topn_edges);
    RUN(test_user_embed);
    RUN(test_artifact);
    TEST_EXIT();
}
