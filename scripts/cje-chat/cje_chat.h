// A C interface to llama.cpp's own Jinja engine (its `common` library) for chat templates, so
// that Swift renders a model's template as llama-server and transformers' apply_chat_template do.
// Built by scripts/bootstrap.sh beside libllama; errors come back as text, never as exceptions.
#ifndef CJE_CHAT_H
#define CJE_CHAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A parsed template with its bos and eos token text.
typedef struct cje_chat_template cje_chat_template;

/// Parses `source`; on failure returns NULL and a malloc'd message in `*error`.
cje_chat_template * cje_chat_template_new(const char * source, const char * bos_token, const char * eos_token,
                                          char ** error);

void cje_chat_template_free(cje_chat_template * tmpl);

/// Whether the template renders a message with role "system" (llama.cpp's own probe of it).
bool cje_chat_template_supports_system_role(const cje_chat_template * tmpl);

/// Renders `n` messages (role, content) with the variables transformers passes: messages,
/// bos_token, eos_token, add_generation_prompt; `strftime_now(format)` formats `now` (seconds
/// since 1970, in UTC) instead of the clock. Returns the text (malloc'd, NUL-terminated,
/// `*length` bytes) or NULL and a malloc'd message in `*error`.
char * cje_chat_template_render(const cje_chat_template * tmpl, const char * const * roles,
                                const char * const * contents, size_t n, bool add_generation_prompt, int64_t now,
                                size_t * length, char ** error);

/// Bounds every later parse (llama.cpp probes a template's capabilities by running it) and render,
/// on any thread: at most `max_steps` statements and expressions executed, and `max_seconds` of
/// wall time; 0 leaves that bound off (the default: unbounded). Over a bound, the call fails with a
/// message that starts with "render limit: ".
void cje_chat_set_limits(uint64_t max_steps, double max_seconds);

/// Frees a string returned by this library.
void cje_chat_free(char * text);

#ifdef __cplusplus
}
#endif

#endif
