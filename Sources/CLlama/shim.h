#include <llama.h>
#include <gguf.h>
#include <cje_chat.h>
