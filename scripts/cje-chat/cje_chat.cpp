// See cje_chat.h. Mirrors common_chat_template_direct_apply (common/chat.cpp) without
// llama-server's extra variables (date_string, enable_thinking), which transformers does not pass.
#include "cje_chat.h"

#include "chat.h"
#include "jinja/caps.h"
#include "jinja/runtime.h"
#include "jinja/value.h"

#include "json.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <memory>
#include <string>

struct cje_chat_template {
    std::unique_ptr<common_chat_template> tmpl;
};

static char * copy_string(const std::string & s) {
    char * out = static_cast<char *>(std::malloc(s.size() + 1));
    if (out) {
        std::memcpy(out, s.data(), s.size());
        out[s.size()] = 0;
    }
    return out;
}

static std::atomic<uint64_t> g_max_steps{ 0 };
static std::atomic<double>   g_max_seconds{ 0 };

extern "C" void cje_chat_set_limits(uint64_t max_steps, double max_seconds) {
    g_max_steps   = max_steps;
    g_max_seconds = max_seconds;
}

// This thread's Jinja execution bounded for the guard's life (scripts/llama-patches/jinja-limits.patch).
struct limits_guard {
    limits_guard() {
        auto & limits      = jinja::current_exec_limits();
        const uint64_t max = g_max_steps.load();
        limits.max_steps   = max > 0 ? max : UINT64_MAX;
        limits.steps_left  = limits.max_steps;
        const double secs  = g_max_seconds.load();
        limits.deadline    = secs > 0 ? std::chrono::steady_clock::now() +
                                         std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                             std::chrono::duration<double>(secs))
                                      : std::chrono::steady_clock::time_point::max();
    }
    ~limits_guard() { jinja::current_exec_limits() = jinja::exec_limits(); }

    // A probe that hit a bound is swallowed by llama.cpp's capability detection; this tells.
    static bool exceeded() {
        const auto & limits = jinja::current_exec_limits();
        return limits.steps_left == 0 || std::chrono::steady_clock::now() > limits.deadline;
    }

    static std::string message(const std::string & what) {
        const auto & limits = jinja::current_exec_limits();
        std::string out     = "render limit: " + what;
        if (limits.max_steps != UINT64_MAX) out += " (bound: " + std::to_string(limits.max_steps) + " steps";
        const double secs = g_max_seconds.load();
        if (secs > 0) out += (limits.max_steps != UINT64_MAX ? ", " : " (bound: ") + std::to_string((int) secs) + " s";
        if (limits.max_steps != UINT64_MAX || secs > 0) out += ")";
        return out;
    }
};

extern "C" cje_chat_template * cje_chat_template_new(const char * source, const char * bos_token,
                                                     const char * eos_token, char ** error) {
    limits_guard guard;
    try {
        auto out = std::make_unique<cje_chat_template>();
        out->tmpl = std::make_unique<common_chat_template>(source, bos_token ? bos_token : "",
                                                           eos_token ? eos_token : "");
        if (limits_guard::exceeded()) {
            if (error) *error = copy_string(limits_guard::message("the template ran past its bound while llama.cpp probed it"));
            return nullptr;
        }
        return out.release();
    } catch (const jinja::limit_exceeded & e) {
        if (error) *error = copy_string(limits_guard::message(e.what()));
    } catch (const std::exception & e) {
        if (error) *error = copy_string(e.what());
    } catch (...) {
        if (error) *error = copy_string("unknown error while parsing the template");
    }
    return nullptr;
}

extern "C" void cje_chat_template_free(cje_chat_template * tmpl) { delete tmpl; }

extern "C" bool cje_chat_template_supports_system_role(const cje_chat_template * tmpl) {
    return tmpl->tmpl->original_caps().supports_system_role;
}

extern "C" char * cje_chat_template_render(const cje_chat_template * tmpl, const char * const * roles,
                                           const char * const * contents, size_t n, bool add_generation_prompt,
                                           int64_t now, size_t * length, char ** error) {
    limits_guard guard;
    try {
        const common_chat_template & t = *tmpl->tmpl;
        jinja::context ctx(t.source());
        ctx.current_time = static_cast<std::time_t>(now);
        common_json messages = common_json::array();
        for (size_t i = 0; i < n; i++) {
            messages.push_back({ { "role", std::string(roles[i]) }, { "content", std::string(contents[i]) } });
        }
        common_json inputs = common_json::object({
            { "messages", messages },
            { "bos_token", t.bos_token() },
            { "eos_token", t.eos_token() },
            { "add_generation_prompt", add_generation_prompt },
        });
        jinja::global_from_json(ctx, inputs, false);
        // The run's fixed time, formatted in UTC (llama.cpp's builtin reads the local clock).
        const std::time_t fixed = static_cast<std::time_t>(now);
        ctx.set_val("strftime_now", jinja::mk_val<jinja::value_func>(
            "strftime_now", [fixed](const jinja::func_args & args) -> jinja::value {
                args.ensure_vals<jinja::value_string>();
                std::string format = args.get_pos(0)->as_string().str();
                std::tm utc{};
                gmtime_r(&fixed, &utc);
                char buf[256];
                size_t written = std::strftime(buf, sizeof(buf), format.c_str(), &utc);
                if (written == 0 && !format.empty()) {
                    throw jinja::raised_exception("strftime_now: cannot format '" + format + "'");
                }
                return jinja::mk_val<jinja::value_string>(std::string(buf, written));
            }));
        jinja::runtime runtime(ctx);
        const jinja::value results = runtime.execute(t.prog);
        auto parts = jinja::runtime::gather_string_parts(results);
        std::string text = parts->as_string().str();
        if (length) *length = text.size();
        return copy_string(text);
    } catch (const jinja::limit_exceeded & e) {
        if (error) *error = copy_string(limits_guard::message(e.what()));
    } catch (const std::exception & e) {
        if (error) *error = copy_string(e.what());
    } catch (...) {
        if (error) *error = copy_string("unknown error while rendering the template");
    }
    return nullptr;
}

extern "C" void cje_chat_free(char * text) { std::free(text); }
