/* io: reading and writing files, one header per concern:
 *   io/csv.h        the strict CSV reader and its parallel driver
 *   io/parse.h      number and id parsers
 *   io/idmap.h      id maps and string dictionaries
 *   io/table.h      table files of the columnar store
 *   io/hm_tables.h  the H&M table readers
 *   io/npy.h        .npy arrays
 *   io/submission.h the Kaggle submission file
 * This header includes the first five (what the data module builds on). */
#ifndef HM_IO_H
#define HM_IO_H

#include "io/csv.h"
#include "io/hm_tables.h"
#include "io/idmap.h"
#include "io/parse.h"
#include "io/table.h"

#endif
