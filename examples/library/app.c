/* A C application that links a model compiled by
 *
 *   attnc examples/llama-decoder.model --emit=lib -o libllama_decoder.a
 *
 * (which also writes llama_decoder.h) and runs it on an input read from a
 * raw little-endian f32 file, writing the output the same way:
 *
 *   cc app.c libllama_decoder.a -lstdc++ -lm -lpthread -o app
 *   ./app INPUT.f32 OUTPUT.f32 SEED [WEIGHTS.safetensors ...]
 *
 * Without weight files the model runs on the seeded random weights that the
 * compiled executable makes with `--seed SEED`, so both give the same output.
 */
#include "llama_decoder.h"

#include <stdio.h>
#include <stdlib.h>

static float input[ATTN_LLAMA_DECODER_HIDDEN_STATES_NUMEL];
static float output[ATTN_LLAMA_DECODER_LAST_HIDDEN_STATE_NUMEL];

/* Reads or writes exactly `n` floats; returns 0 on success. */
static int transfer(const char *path, float *data, size_t n, int write) {
  FILE *f = fopen(path, write ? "wb" : "rb");
  if (!f) {
    fprintf(stderr, "error: cannot open '%s'\n", path);
    return 1;
  }
  size_t done = write ? fwrite(data, sizeof(float), n, f)
                      : fread(data, sizeof(float), n, f);
  int bad = fclose(f) != 0 || done != n;
  if (bad)
    fprintf(stderr, "error: '%s' must hold %zu floats\n", path, n);
  return bad;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s INPUT.f32 OUTPUT.f32 SEED [WEIGHTS ...]\n",
            argv[0]);
    return 2;
  }
  if (transfer(argv[1], input, ATTN_LLAMA_DECODER_HIDDEN_STATES_NUMEL, 0))
    return 1;

  attn_llama_decoder_t *model;
  char error[512];
  int32_t status = attn_llama_decoder_create(
      &model, (const char *const *)argv + 4, argc - 4,
      strtoull(argv[3], NULL, 10), error, sizeof(error));
  if (status != ATTN_LLAMA_DECODER_OK) {
    fprintf(stderr, "error: %s\n", error);
    return 1;
  }
  status = attn_llama_decoder_run(model, input, output);
  attn_llama_decoder_destroy(model);
  if (status != ATTN_LLAMA_DECODER_OK) {
    fprintf(stderr, "error: the model returned status %d\n", (int)status);
    return 1;
  }
  return transfer(argv[2], output, ATTN_LLAMA_DECODER_LAST_HIDDEN_STATE_NUMEL,
                  1);
}
