/* The table of every feature column (name, group, meaning, imputation), the list printed by
 * `hmrec features --list`, and the settings of the features stage. "Rows" are transaction
 * rows (a duplicate row is one more unit bought); "the cutoff" is the first day predicted;
 * every count and statistic uses rows strictly before it. H = the history length in days
 * (cutoff - first day of the data). */
#include "features/feat_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

const char *const feat_group_name[FEAT_NGROUPS] = {"user", "item", "user-item", "text", "image", "recall"};

#define G_U FEAT_G_USER
#define G_I FEAT_G_ITEM
#define G_P FEAT_G_PAIR
#define G_T FEAT_G_TEXT
#define G_M FEAT_G_IMAGE

static const struct feat_column user_cols[FEAT_NUSER] = {
    /* activity */
    {"u_n_rows", G_U, "rows bought (units, duplicates count)", "0"},
    {"u_n_items", G_U, "distinct articles bought", "0"},
    {"u_n_products", G_U, "distinct product codes bought", "0"},
    {"u_explore", G_U, "exploration rate: distinct articles / rows", "0"},
    {"u_repeat_share", G_U, "share of the distinct articles bought on two or more days", "0"},
    /* time */
    {"u_days_first", G_U, "days from the first purchase to the cutoff", "H + 1"},
    {"u_days_last", G_U, "days from the last purchase to the cutoff", "H + 1"},
    {"u_n_visits", G_U, "distinct purchase days", "0"},
    {"u_gap_mean", G_U, "mean days between consecutive purchase days", "H + 1 (fewer than 2 days)"},
    {"u_gap_std", G_U, "standard deviation of those gaps (population)", "0 (fewer than 2 days)"},
    {"u_visits_week", G_U, "purchase days per week since the first purchase", "0"},
    {"u_decayed", G_U, "sum over rows of exp(-age / tau), age = cutoff - 1 - day", "0"},
    /* recent activity */
    {"u_rows_1w", G_U, "rows in the last 7 days", "0"},
    {"u_rows_2w", G_U, "rows in the last 14 days", "0"},
    {"u_rows_4w", G_U, "rows in the last 28 days", "0"},
    {"u_rows_12w", G_U, "rows in the last 84 days", "0"},
    /* demographics */
    {"u_age", G_U, "age in years", "median age of the customers with an age"},
    {"u_age_missing", G_U, "1 when the age is missing", "-"},
    {"u_fn", G_U, "FN (1 or 0)", "0"},
    {"u_active", G_U, "Active (1 or 0)", "0"},
    {"u_club", G_U, "club_member_status: 1 ACTIVE, 2 PRE-CREATE, 3 LEFT CLUB", "0 (empty or other)"},
    {"u_news", G_U, "fashion_news_frequency: 1 NONE/None, 2 Regularly, 3 Monthly", "0 (empty or other)"},
    {"u_postal_n", G_U, "customers sharing the postal code", "0 (empty postal code)"},
    /* spending */
    {"u_price_mean", G_U, "mean price of the rows", "mean price of all rows"},
    {"u_price_min", G_U, "lowest price paid", "mean price of all rows"},
    {"u_price_max", G_U, "highest price paid", "mean price of all rows"},
    {"u_price_std", G_U, "standard deviation of the prices (population)", "0"},
    {"u_spend", G_U, "sum of the prices", "0"},
    {"u_price_tier", G_U, "mean of price / the product type's mean price: the price tier", "1"},
    {"u_price_rel", G_U, "mean of price / the article's mean price (below 1: buys on discount)", "1"},
    /* channel, newness */
    {"u_online", G_U, "share of rows bought online (channel 2)", "share of all rows online"},
    {"u_online_4w", G_U, "share of the last 28 days' rows bought online", "u_online"},
    {"u_newness", G_U, "mean days between an article's first sale and the customer's purchase", "0"},
    /* category preferences */
    {"u_top_type", G_U, "most bought product type (code as i_type; ties: lower code)", "0"},
    {"u_top_index_group", G_U, "most bought index group (code as i_index_group)", "0"},
    {"u_top_garment", G_U, "most bought garment group (code as i_garment)", "0"},
    {"u_n_types", G_U, "distinct product types bought", "0"},
    {"u_type_entropy", G_U, "diversity: entropy (nats) of the rows' product types", "0"},
    {"u_share_ladies", G_U, "share of rows in index group 1 (Ladieswear)", "0"},
    {"u_share_divided", G_U, "share of rows in index group 2 (Divided)", "0"},
    {"u_share_mens", G_U, "share of rows in index group 3 (Menswear)", "0"},
    {"u_share_kids", G_U, "share of rows in index group 4 (Baby/Children)", "0"},
    {"u_share_sport", G_U, "share of rows in index group 26 (Sport)", "0"},
};

static const struct feat_column item_cols[FEAT_NITEM] = {
    /* categorical codes: values in ascending order (text: bytewise) coded 1.., 0 = missing */
    {"i_type", G_I, "product_type_no as a code", "0"},
    {"i_group", G_I, "product_group_name as a code", "0"},
    {"i_colour", G_I, "colour_group_code as a code", "0"},
    {"i_pcolour", G_I, "perceived_colour_value_id as a code", "0"},
    {"i_graphic", G_I, "graphical_appearance_no as a code", "0"},
    {"i_department", G_I, "department_no as a code", "0"},
    {"i_index", G_I, "index_code as a code", "0"},
    {"i_index_group", G_I, "index_group_no as a code", "0"},
    {"i_section", G_I, "section_no as a code", "0"},
    {"i_garment", G_I, "garment_group_no as a code", "0"},
    /* frequency encodings */
    {"i_type_n", G_I, "articles of the same product type", "articles with a missing type"},
    {"i_department_n", G_I, "articles of the same department", "articles with a missing department"},
    {"i_section_n", G_I, "articles of the same section", "articles with a missing section"},
    /* popularity */
    {"i_rows_1w", G_I, "rows sold in the last 7 days", "0"},
    {"i_rows_2w", G_I, "rows sold in the last 14 days", "0"},
    {"i_rows_4w", G_I, "rows sold in the last 28 days", "0"},
    {"i_rows_all", G_I, "rows sold before the cutoff", "0"},
    {"i_buyers_1w", G_I, "distinct buyers in the last 7 days", "0"},
    {"i_buyers_4w", G_I, "distinct buyers in the last 28 days", "0"},
    {"i_buyers_all", G_I, "distinct buyers before the cutoff", "0"},
    /* time, trend */
    {"i_days_first", G_I, "days from the first sale to the cutoff (age since launch)", "H + 1 (never sold)"},
    {"i_days_last", G_I, "days from the last sale to the cutoff", "H + 1 (never sold)"},
    {"i_velocity", G_I, "rows per day over the last 28 days, or since the first sale when later", "0"},
    {"i_trend", G_I, "(rows of the last 7 days + 1) / (mean weekly rows of the 3 weeks before + 1)", "-"},
    /* price, channel, repurchase */
    {"i_price_mean", G_I, "mean price of the rows sold", "the product type's mean price, else all rows'"},
    {"i_price_last", G_I, "mean price on the last day it sold", "i_price_mean"},
    {"i_price_ratio", G_I, "i_price_last / i_price_mean (below 1: discounted now)", "1"},
    {"i_online", G_I, "share of its rows sold online", "share of all rows online"},
    {"i_repurchase", G_I, "share of its buyers who bought it on two or more days", "0"},
};

static const struct feat_column pair_cols[FEAT_NPAIR] = {
    {"ui_bought", G_P, "1 when the customer bought the article before", "-"},
    {"ui_rows", G_P, "rows of the article the customer bought", "0"},
    {"ui_days_since", G_P, "days from the customer's last purchase of it to the cutoff", "H + 1 (never)"},
    {"ui_decayed", G_P, "sum over those rows of exp(-age / tau)", "0"},
    {"ui_product", G_P, "1 when the customer bought another colour of the same product code", "-"},
    {"ui_product_rows", G_P, "rows of other articles of the same product code", "0"},
    {"ui_share_type", G_P, "share of the customer's rows in the article's product type", "0"},
    {"ui_share_department", G_P, "share of the customer's rows in the article's department", "0"},
    {"ui_share_section", G_P, "share of the customer's rows in the article's section", "0"},
    {"ui_share_colour", G_P, "share of the customer's rows in the article's colour group", "0"},
    {"ui_share_garment", G_P, "share of the customer's rows in the article's garment group", "0"},
    {"ui_share_index_group", G_P, "share of the customer's rows in the article's index group", "0"},
    {"ui_price_diff", G_P, "i_price_mean - u_price_mean", "0 (no history)"},
    {"ui_price_ratio", G_P, "i_price_mean / u_price_mean", "1 (no history)"},
    {"ui_days_type", G_P, "days from the customer's last purchase in the article's product type", "H + 1 (never)"},
    {"ui_age_pop", G_P, "share of the rows of the customer's age band (last age_weeks weeks) that were this article",
     "the band of customers without an age"},
    {"ui_age_lift", G_P, "(band rows of it + 1) / (band rows x its share of all rows + 1)",
     "the band of customers without an age"},
};

static const struct feat_column tail_cols[FEAT_NTEXT + FEAT_NIMAGE] = {
    {"t_sim", G_T, "cosine of the article's text embedding and the customer's profile (exp(-age / tau) weighted mean of the rows' embeddings)",
     "0 (no history or no text)"},
    {"t_sim_last", G_T, "cosine of the article's text embedding and that of the customer's last purchase", "0"},
    {"t_diversity", G_T, "1 - length of the mean unit text embedding of the distinct articles bought", "0"},
    {"im_sim", G_M, "cosine of the article's image embedding and the customer's image profile (rows with an embedding)",
     "0 (no history or no embeddings)"},
    {"im_sim_last", G_M, "cosine with the image embedding of the last purchase that has one", "0"},
    {"im_diversity", G_M, "1 - length of the mean image embedding of the distinct articles bought (those with one)", "0"},
    {"im_missing", G_M, "1 when the article has no image embedding (the mean embedding is used)", "1 (no embeddings)"},
};

/* ---- the whole table, built once --------------------------------------------------- */

static struct feat_column table[FEAT_MAX_COLS];
static const char *names[FEAT_MAX_COLS];
static char recall_names[FEAT_NRECALL_OF(RECALL_MAX_STRATEGIES)][48];
static char recall_meanings[FEAT_NRECALL_OF(RECALL_MAX_STRATEGIES)][96];
static uint32_t n_cols;
static uint64_t set_hash;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build(void)
{
    uint32_t k = 0;
    for (int i = 0; i < FEAT_NUSER; i++)
        table[k++] = user_cols[i];
    for (int i = 0; i < FEAT_NITEM; i++)
        table[k++] = item_cols[i];
    for (int i = 0; i < FEAT_NPAIR; i++)
        table[k++] = pair_cols[i];
    for (int i = 0; i < FEAT_NTEXT + FEAT_NIMAGE; i++)
        table[k++] = tail_cols[i];
    if (k != FEAT_RECALL0 || recall_n_strategies > RECALL_MAX_STRATEGIES)
        HM_BUG("feature table: %u fixed columns, %d strategies", k, recall_n_strategies);
    int ns = recall_n_strategies, nr = FEAT_NRECALL_OF(ns);
    for (int s = 0; s < ns; s++) {
        const char *n = recall_strategies[s]->name;
        snprintf(recall_names[3 * s + R_FLAG], 48, "r_%s_flag", n);
        snprintf(recall_meanings[3 * s + R_FLAG], 96, "1 when the %s strategy proposed the article", n);
        snprintf(recall_names[3 * s + R_SCORE], 48, "r_%s_score", n);
        snprintf(recall_meanings[3 * s + R_SCORE], 96, "the %s strategy's score", n);
        snprintf(recall_names[3 * s + R_RRANK], 48, "r_%s_rrank", n);
        snprintf(recall_meanings[3 * s + R_RRANK], 96, "1 / the article's rank in the %s strategy's list", n);
    }
    static const struct {
        const char *name, *meaning;
    } merge_cols[R_MERGE_COLS] = {
        {"r_n_strat", "strategies that proposed the article"},
        {"r_merged", "the merged (reciprocal rank fusion) score"},
        {"r_position", "1-based position in the customer's merged list"},
    };
    for (int i = 0; i < R_MERGE_COLS; i++) {
        snprintf(recall_names[3 * ns + i], 48, "%s", merge_cols[i].name);
        snprintf(recall_meanings[3 * ns + i], 96, "%s", merge_cols[i].meaning);
    }
    for (int i = 0; i < nr; i++)
        table[k++] = (struct feat_column){recall_names[i], FEAT_G_RECALL, recall_meanings[i],
                                          i < 3 * ns ? "0 (not proposed)" : "-"};
    n_cols = k;
    uint64_t h = 0x5eed;
    for (uint32_t i = 0; i < k; i++) {
        names[i] = table[i].name;
        h = hm_hash64(table[i].name, strlen(table[i].name) + 1, h);
    }
    set_hash = h;
}

const struct feat_column *feat_columns(void)
{
    pthread_once(&once, build);
    return table;
}

uint32_t feat_n_cols(void)
{
    pthread_once(&once, build);
    return n_cols;
}

const char *const *feat_column_names(void)
{
    pthread_once(&once, build);
    return names;
}

uint64_t feat_set_hash(void)
{
    pthread_once(&once, build);
    return set_hash;
}

int feat_column_find(const char *name)
{
    const struct feat_column *t = feat_columns();
    for (uint32_t i = 0; i < n_cols; i++)
        if (!strcmp(t[i].name, name))
            return (int)i;
    return -1;
}

char *feat_list_format(int markdown)
{
    const struct feat_column *t = feat_columns();
    const int nc = (int)n_cols;
    struct hm_buf b = {0};
    if (markdown) {
        hm_buf_puts(&b, "| # | name | group | meaning | when missing |\n|---|---|---|---|---|\n");
        for (int i = 0; i < nc; i++)
            hm_buf_printf(&b, "| %d | `%s` | %s | %s | %s |\n", i, t[i].name, feat_group_name[t[i].group],
                          t[i].meaning, t[i].impute);
        return hm_buf_take(&b);
    }
    size_t w = 4;
    for (int i = 0; i < nc; i++)
        if (strlen(t[i].name) > w)
            w = strlen(t[i].name);
    hm_buf_printf(&b, "%3s  %-*s  %-9s  %s\n", "#", (int)w, "name", "group", "meaning");
    for (int i = 0; i < nc; i++)
        hm_buf_printf(&b, "%3d  %-*s  %-9s  %s\n", i, (int)w, t[i].name, feat_group_name[t[i].group], t[i].meaning);
    hm_buf_printf(&b, "%d columns: %d user, %d item, %d user-item, %d text, %d image, %d recall "
                      "(plus %d image dimensions per article, gathered by article)\n",
                  nc, FEAT_NUSER, FEAT_NITEM, FEAT_NPAIR, FEAT_NTEXT, FEAT_NIMAGE, nc - FEAT_RECALL0,
                  FEAT_IMAGE_DIM);
    return hm_buf_take(&b);
}

/* ---- settings ------------------------------------------------------------------------ */

#define P(f) offsetof(struct feat_params, f)
const struct hm_setting feat_settings[] = {
    {"features.tau", HM_SET_DOUBLE, P(tau), "30", 0.01, 1e6, 0,
     "recency time constant (days) of decayed counts and of the text and image profiles"},
    {"features.age_weeks", HM_SET_INT, P(age_weeks), "4", 1, 520, 0,
     "weeks of purchases behind the age-band popularity of an article"},
    {"features.image", HM_SET_STRING, P(image), "", 0, 0, 0,
     "image embeddings file (.npy with its ids file, or .csv article_id,e0..e511); empty: none"},
};
#undef P
const size_t feat_n_settings = sizeof feat_settings / sizeof feat_settings[0];
