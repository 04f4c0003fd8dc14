/* gen_hm: writes articles.csv, customers.csv and transactions_train.csv in the Kaggle
 * format with the real data set's sizes and shapes (for the ingest benchmark; the
 * project's realistic generator is `hmrec synth`). Standalone: cc -O2 gen_hm.c -o gen_hm
 *
 * usage: gen_hm OUT_DIR [rows [customers [articles [seed]]]]
 * defaults: 31788324 rows, 1371980 customers, 105542 articles, seed 1
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_s = 1;
static uint64_t rnd(void)
{
    uint64_t z = (rng_s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static double unif(void) { return (double)(rnd() >> 11) * 0x1p-53; }

static void hex64(char *out)
{
    static const char d[] = "0123456789abcdef";
    for (int i = 0; i < 64; i += 16) {
        uint64_t v = rnd();
        for (int k = 0; k < 16; k++)
            out[i + k] = d[(v >> (4 * k)) & 15];
    }
}

static FILE *open_out(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    setvbuf(f, NULL, _IOFBF, 1 << 22);
    return f;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: gen_hm OUT_DIR [rows [customers [articles [seed]]]]\n");
        return 2;
    }
    const char *dir = argv[1];
    uint64_t rows = argc > 2 ? strtoull(argv[2], NULL, 10) : 31788324ULL;
    uint32_t nc = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 1371980u;
    uint32_t na = argc > 4 ? (uint32_t)strtoul(argv[4], NULL, 10) : 105542u;
    rng_s = argc > 5 ? strtoull(argv[5], NULL, 10) : 1;

    /* articles */
    static const char *colours[] = {"Black", "White", "Dark Blue", "Grey", "Beige", "Light Pink"};
    static const char *groups[] = {"Garment Upper body", "Garment Lower body", "Accessories",
                                   "Underwear", "Shoes", "Socks & Tights"};
    static const char *sections[] = {"Womens Everyday Basics", "Divided Basics",
                                     "\"Womens Nightwear, Socks & Tigh\"", "Mens Underwear"};
    uint32_t *aid = malloc(na * sizeof *aid);
    FILE *f = open_out(dir, "articles.csv");
    fputs("article_id,product_code,prod_name,product_type_no,product_type_name,"
          "product_group_name,graphical_appearance_no,graphical_appearance_name,"
          "colour_group_code,colour_group_name,perceived_colour_value_id,"
          "perceived_colour_value_name,perceived_colour_master_id,perceived_colour_master_name,"
          "department_no,department_name,index_code,index_name,index_group_no,index_group_name,"
          "section_no,section_name,garment_group_no,garment_group_name,detail_desc\n", f);
    uint32_t product = 108775, variant = 1;
    for (uint32_t i = 0; i < na; i++) {
        if (rnd() % 3 == 0) {
            product += 1 + (uint32_t)(rnd() % 8);
            variant = 1;
        } else {
            variant++;
        }
        aid[i] = product * 1000 + variant;
        int c = (int)(rnd() % 6), g = (int)(rnd() % 6), s = (int)(rnd() % 4);
        fprintf(f, "%010u,%u,Product %u,%d,Type %d,%s,1010016,Solid,%d,%s,4,Dark,5,%s,%d,"
                   "Dept %d,%c,Index %c,1,Ladieswear,%d,%s,1002,Jersey Basic,",
                aid[i], product, product, 250 + g, g, groups[g], 9 + c, colours[c], colours[c],
                1600 + g * 7, g, 'A' + g, 'A' + g, 10 + s, sections[s]);
        if (rnd() % 250)
            fprintf(f, "\"Jersey top with narrow shoulder straps, in %s. Soft \"\"cotton\"\" "
                       "blend.\"\n", colours[c]);
        else
            fputc('\n', f);
    }
    fclose(f);

    /* customers */
    char *cid = malloc((size_t)nc * 64);
    f = open_out(dir, "customers.csv");
    fputs("customer_id,FN,Active,club_member_status,fashion_news_frequency,age,postal_code\n", f);
    char postal[2000][65];
    for (int i = 0; i < 2000; i++) {
        hex64(postal[i]);
        postal[i][64] = 0;
    }
    for (uint32_t i = 0; i < nc; i++) {
        hex64(cid + (size_t)i * 64);
        int fn = rnd() % 3 == 0;
        double u = unif();
        int age = u < 0.5 ? 20 + (int)(rnd() % 12) : 40 + (int)(rnd() % 20);
        const char *club = rnd() % 14 ? "ACTIVE" : "PRE-CREATE";
        const char *news = fn ? "Regularly" : "NONE";
        fprintf(f, "%.64s,%s,%s,%s,%s,", cid + (size_t)i * 64, fn ? "1.0" : "", fn ? "1.0" : "",
                club, news);
        if (rnd() % 90)
            fprintf(f, "%d.0", age);
        fprintf(f, ",%s\n", postal[(uint64_t)(2000 * pow(unif(), 2.0)) % 2000]);
    }
    fclose(f);

    /* transactions: 734 days in order, customers and articles with heavy tails */
    char prices[10000][32];
    for (int i = 0; i < 10000; i++) {
        double p = (1 + rnd() % 2000) / 59000.0 * (0.5 + unif());
        snprintf(prices[i], sizeof prices[i], "%.17g", p);
    }
    f = open_out(dir, "transactions_train.csv");
    fputs("t_dat,customer_id,article_id,price,sales_channel_id\n", f);
    int day = 17794; /* 2018-09-20 */
    char line[256];
    for (uint64_t r = 0; r < rows; r++) {
        int d = day + (int)((r * 734) / (rows ? rows : 1));
        int64_t z = d + 719468, era = z / 146097, doe = z - era * 146097;
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
        int dd = (int)(doy - (153 * mp + 2) / 5 + 1), mm = (int)(mp < 10 ? mp + 3 : mp - 9);
        int yy = (int)(yoe + era * 400 + (mm <= 2));
        uint32_t c = (uint32_t)(nc * pow(unif(), 1.6)) % nc;
        uint32_t a = (uint32_t)(na * pow(unif(), 2.2)) % na;
        int n = snprintf(line, sizeof line, "%04d-%02d-%02d,%.64s,%010u,%s,%d\n", yy, mm, dd,
                         cid + (size_t)c * 64, aid[a], prices[rnd() % 10000],
                         rnd() % 1000 < 704 ? 2 : 1);
        fwrite(line, 1, (size_t)n, f);
    }
    fclose(f);
    free(aid);
    free(cid);
    return 0;
}
