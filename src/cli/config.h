/* The pipeline's settings: every module's settings table gathered into one config, read
 * from a file (docs/config.md) and overridden with --set key=value. */
#ifndef HM_CLI_CONFIG_H
#define HM_CLI_CONFIG_H

#include "core/core.h"
#include "prep/prep.h"
#include "recall/recall.h"

struct run_params {
    char data[HM_SETTING_STRLEN];       /* directory of the Kaggle CSV files */
    char store[HM_SETTING_STRLEN];      /* store directory ("" = <work>/store) */
    char work[HM_SETTING_STRLEN];       /* work directory */
    char baselines[HM_SETTING_STRLEN];  /* comma-separated baselines to evaluate */
    char submit_model[HM_SETTING_STRLEN];
    char submission[HM_SETTING_STRLEN]; /* "" = <work>/submission.csv.gz */
};

struct cli_config {
    struct run_params run;
    struct prep_params prep;
    struct recall_base_params base;
};

/* The combined table (built once). */
const struct hm_setting *cli_config_table(size_t *n);
/* Defaults, then the file (when path is not NULL), then the overrides. */
int cli_config_load(struct cli_config *c, const char *path, char **overrides, int n_overrides);

#endif
