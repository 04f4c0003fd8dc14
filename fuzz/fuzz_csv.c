/* libFuzzer target for the CSV reader: the input is written as transactions_train.csv
 * (the first byte picks the file, the thread count and the segment size) next to small
 * valid articles.csv and customers.csv, and read with io_read_* in both bad-row modes.
 * Whatever the bytes, the reader must return 0 or an error with a message, never crash,
 * and give the same result for 1 and 3 threads. */
#include "io/io.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static const char articles[] =
    "article_id,product_code,prod_name,product_type_no,product_type_name,product_group_name,"
    "graphical_appearance_no,graphical_appearance_name,colour_group_code,colour_group_name,"
    "perceived_colour_value_id,perceived_colour_value_name,perceived_colour_master_id,"
    "perceived_colour_master_name,department_no,department_name,index_code,index_name,"
    "index_group_no,index_group_name,section_no,section_name,garment_group_no,"
    "garment_group_name,detail_desc\n"
    "0111565001,111565,Stockings,304,Tights,Socks,1010016,Solid,9,Black,4,Dark,5,Black,3608,"
    "Tights,B,Lingerie,1,Ladieswear,62,\"Nightwear, Socks\",1021,Socks,\"a \"\"b\"\"\nc\"\n";
static const char customers[] =
    "customer_id,FN,Active,club_member_status,fashion_news_frequency,age,postal_code\n"
    "00000dbacae5abe5e23885899a1fa44253a17956c6d1c3d25f88aa139fdfc657,,,ACTIVE,NONE,49.0,p\n";

static void put(const char *name, const uint8_t *data, size_t len)
{
    char *p = hm_path_join(dir, name);
    FILE *f = fopen(p, "wb");
    if (f) {
        fwrite(data, 1, len, f);
        fclose(f);
    }
    free(p);
}

static int run(int which, int threads, size_t seg, int bad, uint64_t *sig)
{
    struct io_read_opts o = {bad, IO_REFS_KEEP, threads, seg};
    struct io_read_stats st;
    struct io_articles a;
    struct io_customers c;
    struct io_transactions t;
    char *pa = hm_path_join(dir, "articles.csv"), *pc = hm_path_join(dir, "customers.csv"),
         *pt = hm_path_join(dir, "transactions_train.csv");
    int rc = io_read_articles(pa, &o, &a, &st);
    *sig = (uint64_t)rc;
    if (!rc) {
        *sig = hm_hash64(a.article_id, a.n * 4ull, a.n);
        rc = io_read_customers(pc, &o, &c, &st);
        if (!rc) {
            *sig ^= hm_hash64(c.id, c.n * 32ull, c.n);
            if (which == 2) {
                rc = io_read_transactions(pt, &o, &a, &c, &t, &st);
                if (!rc) {
                    *sig ^= hm_hash64(t.rec, t.n * sizeof *t.rec, t.n + st.bad_total);
                    io_transactions_release(&t);
                }
            }
            io_customers_release(&c);
        }
        io_articles_release(&a);
    }
    if (rc && !*hm_last_error())
        abort(); /* every error has a message */
    if (rc)
        *sig = hm_hash64(hm_last_error(), strlen(hm_last_error()), 1);
    free(pa);
    free(pc);
    free(pt);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/fuzz_csv.%d", (int)getpid());
        hm_mkdirs(dir);
    }
    if (size < 1)
        return 0;
    int which = data[0] % 3; /* 0 articles, 1 customers, 2 transactions */
    size_t seg = (size_t)1 << ((data[0] >> 2) & 15); /* 1 .. 32768 bytes per thread */
    int bad = (data[0] >> 7) & 1;
    put("articles.csv", (const uint8_t *)articles, sizeof articles - 1);
    put("customers.csv", (const uint8_t *)customers, sizeof customers - 1);
    put(which == 0 ? "articles.csv" : which == 1 ? "customers.csv" : "transactions_train.csv",
        data + 1, size - 1);
    uint64_t s1, s3;
    int r1 = run(which, 1, seg, bad, &s1);
    int r3 = run(which, 3, seg, bad, &s3);
    if (r1 != r3 || s1 != s3)
        abort(); /* the result must not depend on the thread count */
    return 0;
}
