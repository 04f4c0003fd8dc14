/* Test fixture: a small hand-made H&M data set written as CSV, ingested into a store.
 * Customer c has id fixture_cid(c); article a has id 100000001 + a. Transactions are given
 * as (day offset from 2020-01-01, customer, article) triples. */
#ifndef HM_TEST_FIXTURE_H
#define HM_TEST_FIXTURE_H

#include "data/data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fixture_tx {
    int day, customer, article;
};

static inline void fixture_cid(int c, char out[65])
{
    for (int i = 0; i < 64; i++)
        out[i] = "0123456789abcdef"[(i < 56 ? (i * 7 + 3) : (c >> ((63 - i) * 4))) & 15];
    out[64] = '\0';
}

/* Writes the three CSV files into dir and ingests them into dir/store; returns 0 or an error.
 * type_no: (n_articles) product_type_no of each article (product_type_name "Type <no>"), or
 * NULL for 272 "Trousers" everywhere. */
static inline int fixture_build_typed(const char *dir, int n_customers, int n_articles,
                                      const struct fixture_tx *tx, int n_tx, const int *type_no)
{
    char path[512], cid[65];
    hm_mkdirs(dir);
    snprintf(path, sizeof path, "%s/articles.csv", dir);
    FILE *f = fopen(path, "w");
    fputs("article_id,product_code,prod_name,product_type_no,product_type_name,product_group_name,"
          "graphical_appearance_no,graphical_appearance_name,colour_group_code,colour_group_name,"
          "perceived_colour_value_id,perceived_colour_value_name,perceived_colour_master_id,"
          "perceived_colour_master_name,department_no,department_name,index_code,index_name,"
          "index_group_no,index_group_name,section_no,section_name,garment_group_no,garment_group_name,"
          "detail_desc\n", f);
    for (int a = 0; a < n_articles; a++) {
        char type_name[32] = "Trousers"; /* typed articles: "Type <no>" */
        if (type_no)
            snprintf(type_name, sizeof type_name, "Type %d", type_no[a]);
        fprintf(f, "0%09d,%07d,Item %d,%d,%s,Garment Lower body,1010016,Solid,9,Black,4,Dark,5,"
                   "Black,1676,Trouser,A,Ladieswear,1,Ladieswear,15,\"Womens Everyday Collection, Basics\","
                   "1009,Trousers,\"Trousers with a zip, no. %d\"\n",
                100000001 + a, 1000 + a / 2, a, type_no ? type_no[a] : 272, type_name, a);
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/customers.csv", dir);
    f = fopen(path, "w");
    fputs("customer_id,FN,Active,club_member_status,fashion_news_frequency,age,postal_code\n", f);
    for (int c = 0; c < n_customers; c++) {
        fixture_cid(c, cid);
        fprintf(f, "%s,,,ACTIVE,NONE,%d.0,%s\n", cid, 20 + c % 50, cid);
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/transactions_train.csv", dir);
    f = fopen(path, "w");
    fputs("t_dat,customer_id,article_id,price,sales_channel_id\n", f);
    for (int i = 0; i < n_tx; i++) {
        char date[11];
        int32_t base;
        hm_date_parse("2020-01-01", 10, &base);
        hm_date_format(base + tx[i].day, date);
        fixture_cid(tx[i].customer, cid);
        fprintf(f, "%s,%s,0%09d,0.0254,2\n", date, cid, 100000001 + tx[i].article);
    }
    fclose(f);
    char store[512];
    snprintf(store, sizeof store, "%s/store", dir);
    struct data_ingest_opts o = {.data_dir = dir, .store_dir = store};
    struct data_ingest_report rep;
    return data_ingest(&o, &rep);
}

static inline int fixture_build(const char *dir, int n_customers, int n_articles,
                                const struct fixture_tx *tx, int n_tx)
{
    return fixture_build_typed(dir, n_customers, n_articles, tx, n_tx, NULL);
}

#endif
