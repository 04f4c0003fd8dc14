/* hmrec embed: FashionCLIP image embeddings of the article photos (see docs/embed.md). */
#include "cli.h"
#include "embed/embed.h"

#include <stdlib.h>
#include <string.h>

static void embed_usage(FILE *f)
{
    fprintf(f,
            "usage: hmrec embed --weights FILE --images DIR --out FILE.npy [options]\n"
            "       hmrec embed --bench [--batch N] [--bench-batches N] [--bench-image FILE]\n"
            "\n"
            "Computes the L2-normalised CLIP image embedding of every article photo\n"
            "DIR/0XX/0XXXXXXXXX.jpg with the vision tower of a CLIP safetensors file\n"
            "(FashionCLIP: see docs/embed.md). Writes FILE.npy (n x 512 float32), FILE.ids.txt\n"
            "(the 10-digit article id of each row) and FILE.missing.txt (id<TAB>reason of each\n"
            "unreadable image; its row is all zeros). An interrupted run resumes from\n"
            "FILE.npy.partial.\n"
            "\n"
            "options:\n"
            "  --weights FILE     safetensors file with vision_model.* and visual_projection.weight\n"
            "  --images DIR       the H&M images directory\n"
            "  --out FILE.npy     output embeddings\n"
            "  --articles FILE    article ids to embed, in this order (one per line, or a CSV\n"
            "                     whose first column is the id, such as articles.csv); default:\n"
            "                     every image found, sorted by id\n"
            "  --batch N          images per forward pass (default 32)\n"
            "  --heads N          attention heads (default: the file's __metadata__\n"
            "                     num_attention_heads, else width / 64)\n"
            "  --act NAME         MLP activation, quick_gelu or gelu (default: the file's\n"
            "                     __metadata__ hidden_act, else quick_gelu; see docs/embed.md)\n"
            "  --bench            measure speed with random ViT-B/32 weights instead\n"
            "  --bench-batches N  forward passes to time (default 5)\n"
            "  --bench-image FILE a JPEG whose decode + preprocessing is timed too\n"
            "Environment: HMREC_THREADS (threads, also for OpenBLAS).\n");
}

static int run_bench(long batch, long batches, const char *image)
{
    struct embed_clip_config cfg = {.layers = 12, .width = 768, .heads = 12, .patch = 32,
                              .image_size = 224, .mlp = 3072, .proj = 512};
    struct embed_bench_result r;
    const size_t n_articles = 105542;
    if (embed_bench_run(&cfg, (int)batch, (int)batches, 2048, image, n_articles, &r))
        return cli_fail();
    printf("model: ViT-B/32 shapes (12 layers, width 768, 12 heads, patch 32, image 224), random weights\n");
    printf("blas kernel: %s\nthreads: %d\nbatch: %ld images\n", r.kernel, r.threads, batch);
    printf("sgemm peak (%d^3, best of %ld runs interleaved with the forward passes): %.1f GFLOP/s\n",
           r.peak_n, batches + 1, r.peak_gflops);
    printf("forward (best of %ld batches): %.2f GFLOP/image, %.2f images/s, %.1f GFLOP/s = %.0f%% "
           "of the sgemm peak\n", batches, r.flops_per_image / 1e9, r.images_per_s, r.gflops,
           100 * r.gflops / r.peak_gflops);
    printf("forward (mean of %ld batches): %.2f images/s\n", batches, r.mean_images_per_s);
    if (r.decode_ms > 0)
        printf("decode + preprocess: %.2f ms/image (%d threads)\n", r.decode_ms, r.threads);
    printf("estimate for %zu articles: %.0f s (%.2f h) at the mean rate%s\n", n_articles,
           r.est_seconds, r.est_seconds / 3600,
           r.decode_ms > 0 ? ", decoding included" : " (model only)");
    return 0;
}

int cmd_embed(int argc, char **argv)
{
    struct embed_options o = {0};
    long batch = 32, heads = 0, bench_batches = 5;
    int bench = 0;
    const char *bench_image = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            embed_usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--bench")) {
            bench = 1;
            continue;
        }
        if (i + 1 >= argc)
            return cli_usage_error("embed", "unknown option or missing value: %s", a);
        const char *v = argv[++i];
        if (!strcmp(a, "--weights"))
            o.weights = v;
        else if (!strcmp(a, "--images"))
            o.images = v;
        else if (!strcmp(a, "--out"))
            o.out = v;
        else if (!strcmp(a, "--articles"))
            o.articles = v;
        else if (!strcmp(a, "--act")) {
            if ((o.act = embed_clip_act_parse(v)) == EMBED_CLIP_ACT_DEFAULT)
                return cli_usage_error("embed", "--act expects quick_gelu or gelu, found \"%s\"", v);
        } else if (!strcmp(a, "--bench-image"))
            bench_image = v;
        else if (!strcmp(a, "--batch") || !strcmp(a, "--heads") || !strcmp(a, "--bench-batches")) {
            long x;
            if (cli_parse_long("embed", a, v, &x))
                return 2;
            if (!strcmp(a, "--heads"))
                heads = x;
            else if (x < 1 || x > 4096)
                return cli_usage_error("embed", "%s expects 1..4096, found %ld", a, x);
            else if (!strcmp(a, "--batch"))
                batch = x;
            else
                bench_batches = x;
        } else {
            return cli_usage_error("embed", "unknown option: %s", a);
        }
    }
    if (bench)
        return run_bench(batch, bench_batches, bench_image);
    if (!o.weights || !o.images || !o.out)
        return cli_usage_error("embed", "--weights, --images and --out are required");
    o.batch = (int)batch;
    o.heads = (int)heads;
    const char *stop = getenv("HMREC_EMBED_STOP_AFTER"); /* for the resume tests */
    if (stop)
        o.stop_after = atol(stop);
    struct embed_result r;
    if (embed_run(&o, &r))
        return cli_fail();
    char *ids = embed_ids_path(o.out), *miss = embed_missing_path(o.out);
    hm_info("embed: %zu rows (%zu resumed, %zu missing) in %.1fs -> %s, %s, %s", r.rows, r.resumed,
            r.missing, r.seconds, o.out, ids, miss);
    free(ids);
    free(miss);
    return 0;
}
