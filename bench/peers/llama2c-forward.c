/*
 * A peer for bench/llama.ts: the Llama forward pass written the way llama2.c's run.c writes it
 * (Karpathy, MIT), so Ein's tokens/s can be measured beside it in the same run. Not run.c itself:
 * only what the benchmark needs — the legacy checkpoint, forward() and greedy decoding.
 *
 * Same algorithm as run.c: rmsnorm, a naive matmul (one dot product per output row), RoPE with
 * cosf/sinf per pair, multi-query attention over the KV cache (scores, softmax, weighted sum of the
 * values), SwiGLU, the shared classifier, argmax. Build it like run.c's Makefile:
 *   make run:      gcc -O3 -o peer llama2c-forward.c -lm
 *   make runfast:  gcc -Ofast -march=native -o peer llama2c-forward.c -lm
 *
 * Usage: peer CHECKPOINT STEPS REPEATS TOKEN...   (TOKEN... = BOS and the prompt's ids)
 * Feeds the prompt's tokens, then greedy ones, for STEPS positions (stopping at a BOS like run.c's
 * generate()), REPEATS times; prints one JSON line: the median tokens/s and the token ids.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  int dim, hidden, layers, heads, kv_heads, vocab, seq_len;
} Config;

typedef struct {
  float *embedding, *rms_att, *wq, *wk, *wv, *wo, *rms_ffn, *w1, *w2, *w3, *rms_final, *classifier;
} Weights;

typedef struct {
  float *x, *xb, *xb2, *hb, *hb2, *q, *att, *logits, *key_cache, *value_cache;
} State;

static float *read_floats(FILE *f, size_t n) {
  float *p = malloc(n * sizeof(float));
  if (!p || fread(p, sizeof(float), n, f) != n) {
    fprintf(stderr, "checkpoint too short\n");
    exit(1);
  }
  return p;
}

static void load(const char *path, Config *c, Weights *w) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    exit(1);
  }
  if (fread(c, sizeof(int), 7, f) != 7) exit(1);
  int shared = c->vocab > 0;
  c->vocab = abs(c->vocab);
  size_t L = c->layers, D = c->dim, H = c->hidden, head = c->dim / c->heads;
  size_t kv = c->kv_heads * head;
  w->embedding = read_floats(f, c->vocab * D);
  w->rms_att = read_floats(f, L * D);
  w->wq = read_floats(f, L * D * c->heads * head);
  w->wk = read_floats(f, L * D * kv);
  w->wv = read_floats(f, L * D * kv);
  w->wo = read_floats(f, L * c->heads * head * D);
  w->rms_ffn = read_floats(f, L * D);
  w->w1 = read_floats(f, L * D * H);
  w->w2 = read_floats(f, L * H * D);
  w->w3 = read_floats(f, L * D * H);
  w->rms_final = read_floats(f, D);
  free(read_floats(f, c->seq_len * head)); /* the legacy RoPE tables (cos, sin): unused, as in run.c */
  w->classifier = shared ? w->embedding : read_floats(f, c->vocab * D);
  fclose(f);
}

static void rmsnorm(float *out, const float *x, const float *weight, int n) {
  float ss = 0.0f;
  for (int i = 0; i < n; i++) ss += x[i] * x[i];
  ss = 1.0f / sqrtf(ss / n + 1e-5f);
  for (int i = 0; i < n; i++) out[i] = weight[i] * (ss * x[i]);
}

/* out[rows] = W[rows, cols] · x[cols]: one dot product per row, as run.c's matmul. */
static void matmul(float *out, const float *x, const float *W, int cols, int rows) {
  for (int r = 0; r < rows; r++) {
    float sum = 0.0f;
    for (int c = 0; c < cols; c++) sum += W[r * cols + c] * x[c];
    out[r] = sum;
  }
}

static void softmax(float *x, int n) {
  float max = x[0];
  for (int i = 1; i < n; i++)
    if (x[i] > max) max = x[i];
  float sum = 0.0f;
  for (int i = 0; i < n; i++) {
    x[i] = expf(x[i] - max);
    sum += x[i];
  }
  for (int i = 0; i < n; i++) x[i] /= sum;
}

static float *forward(const Config *c, const Weights *w, State *s, int token, int pos) {
  int D = c->dim, H = c->hidden, head = D / c->heads;
  int kv = c->kv_heads * head, group = c->heads / c->kv_heads;
  float *x = s->x;
  memcpy(x, w->embedding + (size_t)token * D, D * sizeof(float));
  for (int l = 0; l < c->layers; l++) {
    rmsnorm(s->xb, x, w->rms_att + l * D, D);
    float *kcache = s->key_cache + (size_t)l * c->seq_len * kv;
    float *vcache = s->value_cache + (size_t)l * c->seq_len * kv;
    float *k = kcache + pos * kv, *v = vcache + pos * kv;
    matmul(s->q, s->xb, w->wq + (size_t)l * D * D, D, D);
    matmul(k, s->xb, w->wk + (size_t)l * D * kv, D, kv);
    matmul(v, s->xb, w->wv + (size_t)l * D * kv, D, kv);
    /* RoPE: rotate each pair (i, i + 1) of the query, and of the key while i < kv. */
    for (int i = 0; i < D; i += 2) {
      float freq = 1.0f / powf(10000.0f, (i % head) / (float)head);
      float angle = pos * freq, cr = cosf(angle), ci = sinf(angle);
      for (int which = 0; which < (i < kv ? 2 : 1); which++) {
        float *vec = which == 0 ? s->q : k;
        float v0 = vec[i], v1 = vec[i + 1];
        vec[i] = v0 * cr - v1 * ci;
        vec[i + 1] = v0 * ci + v1 * cr;
      }
    }
    for (int h = 0; h < c->heads; h++) {
      const float *q = s->q + h * head;
      float *att = s->att + h * c->seq_len;
      int kv_offset = (h / group) * head;
      for (int t = 0; t <= pos; t++) {
        const float *kt = kcache + t * kv + kv_offset;
        float score = 0.0f;
        for (int i = 0; i < head; i++) score += q[i] * kt[i];
        att[t] = score / sqrtf(head);
      }
      softmax(att, pos + 1);
      float *out = s->xb + h * head;
      memset(out, 0, head * sizeof(float));
      for (int t = 0; t <= pos; t++) {
        const float *vt = vcache + t * kv + kv_offset;
        for (int i = 0; i < head; i++) out[i] += att[t] * vt[i];
      }
    }
    matmul(s->xb2, s->xb, w->wo + (size_t)l * D * D, D, D);
    for (int i = 0; i < D; i++) x[i] += s->xb2[i];
    rmsnorm(s->xb, x, w->rms_ffn + l * D, D);
    matmul(s->hb, s->xb, w->w1 + (size_t)l * D * H, D, H);
    matmul(s->hb2, s->xb, w->w3 + (size_t)l * D * H, D, H);
    for (int i = 0; i < H; i++) {
      float g = s->hb[i];
      s->hb[i] = g * (1.0f / (1.0f + expf(-g))) * s->hb2[i];
    }
    matmul(s->xb, s->hb, w->w2 + (size_t)l * D * H, H, D);
    for (int i = 0; i < D; i++) x[i] += s->xb[i];
  }
  rmsnorm(x, x, w->rms_final, D);
  matmul(s->logits, x, w->classifier, D, c->vocab);
  return s->logits;
}

static int argmax(const float *x, int n) {
  int best = 0;
  for (int i = 1; i < n; i++)
    if (x[i] > x[best]) best = i;
  return best;
}

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int compare_doubles(const void *a, const void *b) {
  double d = *(const double *)a - *(const double *)b;
  return (d > 0) - (d < 0);
}

/* One generation of `steps` positions; returns how many tokens it produced into `out`. */
static int generate(const Config *c, const Weights *w, State *s, const int *prompt, int prompt_len,
                    int steps, int *out) {
  int token = prompt[0], produced = 0;
  out[produced++] = token;
  for (int pos = 0; pos < steps; pos++) {
    float *logits = forward(c, w, s, token, pos);
    int next = pos < prompt_len - 1 ? prompt[pos + 1] : argmax(logits, c->vocab);
    if (next == 1) break; /* a BOS ends the sequence, as in run.c's generate() */
    out[produced++] = next;
    token = next;
  }
  return produced;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s CHECKPOINT STEPS REPEATS TOKEN...\n", argv[0]);
    return 1;
  }
  Config c;
  Weights w;
  load(argv[1], &c, &w);
  int steps = atoi(argv[2]), repeats = atoi(argv[3]), prompt_len = argc - 4;
  if (steps > c.seq_len) steps = c.seq_len;
  int *prompt = malloc(prompt_len * sizeof(int)), *tokens = malloc((steps + 1) * sizeof(int));
  for (int i = 0; i < prompt_len; i++) prompt[i] = atoi(argv[4 + i]);
  int kv = c.kv_heads * (c.dim / c.heads);
  State s = {
      calloc(c.dim, 4), calloc(c.dim, 4), calloc(c.dim, 4), calloc(c.hidden, 4), calloc(c.hidden, 4),
      calloc(c.dim, 4), calloc((size_t)c.heads * c.seq_len, 4), calloc(c.vocab, 4),
      calloc((size_t)c.layers * c.seq_len * kv, 4), calloc((size_t)c.layers * c.seq_len * kv, 4),
  };
  double *seconds = malloc(repeats * sizeof(double));
  int produced = 0;
  for (int r = 0; r < repeats; r++) {
    double start = now_seconds();
    produced = generate(&c, &w, &s, prompt, prompt_len, steps, tokens);
    seconds[r] = now_seconds() - start;
  }
  qsort(seconds, repeats, sizeof(double), compare_doubles);
  /* Positions run: every produced token but the last was fed to forward(), plus a final BOS if any. */
  int positions = produced < steps + 1 ? produced : steps;
  printf("{\"positions\":%d,\"tokensPerSecond\":%.1f,\"tokens\":[", positions,
         positions / seconds[repeats / 2]);
  for (int i = 0; i < produced; i++) printf(i ? ",%d" : "%d", tokens[i]);
  printf("]}\n");
  return 0;
}
