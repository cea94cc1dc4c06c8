"""Our rendering of real chat templates against Python jinja2 the way transformers'
apply_chat_template renders them (transformers.utils.chat_template_utils: a sandboxed
environment with trim_blocks and lstrip_blocks, loopcontrols, the generation tag, tojson
without ASCII escapes, raise_exception and strftime_now), byte for byte.

Usage: template_check.py CJE_PREP TEMPLATES_DIR [EXTRA.jinja ...]
Templates whose names match REQUIRED must render in both and match with and without a system
message; for every other template, whatever jinja2 renders must match ours (where jinja2 raises,
e.g. a tool-use template called without tools, ours is not compared)."""
import datetime
import glob
import json
import os
import re
import subprocess
import sys

import jinja2
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

DATE = "2026-01-15"
NOW = datetime.datetime(2026, 1, 15, tzinfo=datetime.timezone.utc)
BOS, EOS = "<s>", "</s>"
REQUIRED = [
    r"Llama-3\.[123]", r"Qwen2\.5", r"Qwen3-0\.6B", r"gemma", r"[Mm]istral", r"Phi-3", r"SmolLM", r"R1-Distill",
]
SYSTEM = {"role": "system", "content": "You are a helpful assistant. Answer clearly and concisely."}
USER = {"role": "user", "content": "What is the capital of France?\nAnswer in one word, please."}
ASSISTANT = {"role": "assistant", "content": "Paris."}
CASES = [
    ("system+user", [SYSTEM, USER], True),
    ("user", [USER], True),
    ("system+user+assistant", [SYSTEM, USER, ASSISTANT], False),
]


class AssistantTracker(Extension):
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def jinja2_render(source, messages, add_generation_prompt):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: NOW.strftime(fmt)
    try:
        return env.from_string(source).render(
            messages=messages, tools=None, documents=None, add_generation_prompt=add_generation_prompt,
            bos_token=BOS, eos_token=EOS), None
    except Exception as error:  # a template's own raise_exception, or a template that needs tools
        return None, f"{type(error).__name__}: {error}"


def merge_system(messages):
    """llama-server's handling of a template that refuses system messages (ours does the same)."""
    if messages and messages[0]["role"] == "system" and len(messages) > 1:
        first = dict(messages[1])
        first["content"] = messages[0]["content"] + "\n" + first["content"]
        return [first] + messages[2:]
    return messages


def gguf_chat_template(path):
    """tokenizer.chat_template from a GGUF file's header (the format's metadata section)."""
    import struct
    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
    with open(path, "rb") as f:
        magic, version, _, count = struct.unpack("<4sIQQ", f.read(24))
        assert magic == b"GGUF" and version >= 2, path

        def string():
            (n,) = struct.unpack("<Q", f.read(8))
            return f.read(n).decode("utf-8")

        def skip(kind):
            if kind == 8:
                string()
            elif kind == 9:
                inner, n = struct.unpack("<IQ", f.read(12))
                for _ in range(n):
                    skip(inner)
            else:
                f.read(sizes[kind])

        for _ in range(count):
            key = string()
            (kind,) = struct.unpack("<I", f.read(4))
            if key == "tokenizer.chat_template" and kind == 8:
                return string()
            skip(kind)
    return None


def main():
    tool, folder, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
    paths = sorted(glob.glob(os.path.join(folder, "*.jinja")))
    for path in extra:  # a GGUF model's own template, written beside the others
        if path.endswith(".gguf"):
            source = gguf_chat_template(path)
            assert source, f"{path} has no chat template"
            target = os.path.join(os.environ.get("TMPDIR", "/tmp"), os.path.basename(path) + ".jinja")
            open(target, "w", encoding="utf-8").write(source)
            path = target
        paths.append(path)
    requests, keys = [], []
    for path in paths:
        source = open(path, encoding="utf-8").read()
        for label, messages, gen in CASES:
            requests.append({"template": source, "bos": BOS, "eos": EOS, "messages": messages,
                             "add_generation_prompt": gen, "date": DATE})
            keys.append((os.path.basename(path), source, label, messages, gen))
    ours = json.loads(subprocess.run([tool, "template-render"], input=json.dumps(requests).encode(),
                                     check=True, capture_output=True).stdout)
    failures, matched, skipped, required_seen = [], 0, 0, set()
    for (name, source, label, messages, gen), mine in zip(keys, ours):
        required = "tool_use" not in name and any(re.search(pattern, name) for pattern in REQUIRED)
        if mine.get("accepts_system") is False:
            messages = merge_system(messages)
        theirs, error = jinja2_render(source, messages, gen)
        if theirs is None:
            if required:
                failures.append(f"{name} [{label}]: jinja2 failed: {error}")
            skipped += 1
            continue
        if mine.get("text") != theirs:
            failures.append(f"{name} [{label}]:\n  ours:   {mine.get('text', mine.get('error'))!r}\n  jinja2: {theirs!r}")
            continue
        matched += 1
        if required:
            required_seen.add(name)
        # Llama 3.2 writes today's date into the system message: here the fixed day.
        if re.search(r"meta-llama-Llama-3\.2", name) and "Today Date: 15 Jan 2026" not in mine.get("text", ""):
            failures.append(f"{name} [{label}]: no 'Today Date: 15 Jan 2026' in the rendering")
    for pattern in REQUIRED:
        if not any(re.search(pattern, name) for name in required_seen):
            failures.append(f"no template matching {pattern!r} was rendered")
    print(f"template-check: {len(paths)} templates, {matched} renderings identical to jinja2, "
          f"{skipped} where jinja2 raised (not compared), {len(failures)} failures; "
          f"required families: {', '.join(sorted(required_seen))}")
    for failure in failures:
        print("FAIL " + failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
