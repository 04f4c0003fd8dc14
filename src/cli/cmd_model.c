/* hmrec model: what a model is made of. The network's layers and parameter count (of a model
 * file, or of the network the settings describe for the pipeline's feature set), a boosted
 * model's kind, columns and rounds, and its most important features. */
#include "cli.h"
#include "io/table.h"
#include "pipeline/pipeline.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: hmrec model --summary [FILE] [--config FILE] [--set KEY=VALUE]...\n"
    "       hmrec model --importance FILE [--top N]\n"
    "--summary prints every layer of the three-tower network with its shape and parameter count:\n"
    "of a model file written by the rank stage (WORK/models/nn.model), or, without FILE, of the\n"
    "network the nn.* settings build for the pipeline's feature set (43 user, 29 item, 512 image\n"
    "inputs; --set nn.pair_tower=0 gives the reference's 346,689 parameters). For a boosted\n"
    "model's file (WORK/models/map.model, ...): its objective, columns, the rounds it trained and\n"
    "kept, and its held-out MAP@12.\n"
    "--importance prints a boosted model's top features by gain (default 30).\n";

/* A boosted model file: kind, columns, rounds trained and kept, held-out MAP@12. */
static int gbm_summary(const char *path)
{
    struct gbm_model *g;
    if (gbm_load(path, &g) != 0)
        return cli_fail();
    uint32_t trained = 0;
    gbm_model_curve(g, &trained);
    printf("boosted model %s\n", path);
    printf("objective          %s\n", gbm_kind_name(gbm_model_kind(g)));
    printf("feature columns    %u\n", gbm_model_n_cols(g));
    printf("rounds trained     %u\n", trained);
    printf("rounds kept        %u\n", gbm_model_rounds(g));
    printf("held-out MAP@12    %.5f\n", gbm_model_map12(g));
    gbm_free(&g);
    return 0;
}

int cmd_model(int argc, char **argv)
{
    enum { O_SUMMARY = 1000, O_IMPORTANCE, O_TOP, O_CONFIG, O_SET, O_HELP };
    static const struct option opts[] = {
        {"summary", no_argument, 0, O_SUMMARY}, {"importance", required_argument, 0, O_IMPORTANCE},
        {"top", required_argument, 0, O_TOP},   {"config", required_argument, 0, O_CONFIG},
        {"set", required_argument, 0, O_SET},   {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    const char *config = NULL, *importance = NULL;
    char **sets = calloc((size_t)argc + 1, sizeof *sets);
    int n_sets = 0, c, code = 0, summary = 0;
    long top = 30;
    optind = 1;
    while (!code && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_SUMMARY: summary = 1; break;
        case O_IMPORTANCE: importance = optarg; break;
        case O_TOP:
            if (cli_parse_long(argv[0], "--top", optarg, &top) != 0)
                code = 2;
            break;
        case O_CONFIG: config = optarg; break;
        case O_SET: sets[n_sets++] = optarg; break;
        case O_HELP: fputs(usage_text, stdout); free(sets); return 0;
        default: code = cli_usage_error(argv[0], "unknown option"); break;
        }
    }
    if (!code && summary == !!importance)
        code = cli_usage_error(argv[0], "--summary or --importance FILE");
    if (code) {
        free(sets);
        return code;
    }
    int rc = 0;
    if (importance) {
        struct gbm_model *m;
        if ((rc = gbm_load(importance, &m)) == 0) {
            char *text = gbm_importance_format(m, (uint32_t)top);
            if (text)
                fputs(text, stdout);
            else
                rc = HM_EINVAL;
            free(text);
            gbm_free(&m);
        }
        free(sets);
        return rc ? cli_fail() : 0;
    }
    struct nn_model *m = NULL;
    if (optind < argc) {
        struct io_table t;
        if ((rc = io_table_open(&t, argv[optind], NULL, IO_TABLE_NOVERIFY)) == 0) {
            int boosted = !strcmp(t.table, "gbm_model");
            io_table_release(&t);
            if (boosted) {
                free(sets);
                return gbm_summary(argv[optind]);
            }
            rc = nn_load(argv[optind], &m);
        }
    } else {
        struct pipeline_config cfg;
        if ((rc = pipeline_config_load(&cfg, config, sets, n_sets)) == 0 && (rc = nn_params_check(&cfg.models.nn)) == 0) {
            /* one empty group shaped like the feature set, with 512-d image embeddings */
            const uint8_t *towers = pipeline_column_towers();
            static const uint64_t off[2] = {0, 0};
            static const float image[FEAT_IMAGE_DIM];
            struct rank_data d = {.n_cols = feat_n_cols(), .col_name = feat_column_names(), .col_tower = towers,
                                  .n_groups = 0, .group_off = off, .image = image,
                                  .image_dim = FEAT_IMAGE_DIM, .n_articles = 1};
            rc = nn_new(&cfg.models.nn, &d, &m);
        }
    }
    free(sets);
    if (rc)
        return cli_fail();
    char *text = nn_summary(m);
    fputs(text, stdout);
    free(text);
    nn_free(&m);
    return 0;
}
