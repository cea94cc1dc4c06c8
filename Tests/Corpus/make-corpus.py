#!/usr/bin/env python3
"""Writes the bad-input corpus: configs/ and prompts/ files, and cases.tsv (one line per case:
kind, file, expected exit code, words the error must hold, separated by ' && ').

Run it again after changing a case; the files are committed. A prompt file's case runs with a
config whose prompts.source is that file. The two big cases are made by the test itself (not kept in
the repository): configs/huge-file.yaml and prompts/huge-line.jsonl."""
import json, os, pathlib

here = pathlib.Path(__file__).resolve().parent
configs, prompts = here / "configs", here / "prompts"
for folder in (configs, prompts):
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
cases = []

def config(name, body, *words, code=1):
    data = body if isinstance(body, bytes) else body.encode()
    (configs / name).write_bytes(data)
    cases.append(("config", "configs/" + name, code, words))

def prompt_file(name, body, *words, code=1):
    data = body if isinstance(body, bytes) else body.encode()
    (prompts / name).write_bytes(data)
    cases.append(("prompts", "prompts/" + name, code, words))

P = 'policies:\n  - {name: p0, system_prompt: "Be helpful."}\n'

# --- configs: syntax and encoding
config("truncated-flow.yaml", "n: 3\npolicies: [{name: p0, system_prompt: \"x\"\n", "not valid YAML", "line")
config("truncated-quote.yaml", 'n: 3\nseed: "42\n', "not valid YAML")
config("tab-indent.yaml", "engine:\n\tthreads: 2\n", "not valid YAML")
config("bad-indent.yaml", "judge:\n  model: default\n   max_tokens: 4\n", "not valid YAML")
config("invalid-utf8.yaml", b"n: 3\nseed: 7\npolicies: [{name: p0, system_prompt: \"caf\xe9\"}]\n", "not valid UTF-8", "line 3, column 42")
config("nul-byte.yaml", b"n: 3\nseed: 4\x002\n", "NUL", "line 2, column 8")
config("only-nul.yaml", b"\x00\x00\x00", "NUL", "line 1")
config("binary.yaml", bytes(range(256)) * 4, "line 1, column 1 holds a NUL byte")
config("latin1.yaml", "n: 3\npolicies: [{name: p0, system_prompt: \"Gr\u00fc\u00dfe\"}]\n".encode("latin-1"), "not valid UTF-8", "line 2")
config("top-level-list.yaml", "- n: 3\n- seed: 4\n", "top level", "a mapping")
config("top-level-scalar.yaml", "just some words\n", "top level", "mapping")
config("json-truncated.yaml", '{"n": 3, "seed": ', "not valid YAML")
config("two-documents.yaml", "n: 3\n---\nn: 4\n", "single document")
# --- duplicate keys
config("duplicate-top.yaml", "n: 3\nseed: 1\nn: 4\n", "duplicated key(s): 'n'")
config("duplicate-nested.yaml", "engine:\n  threads: 1\n  threads: 2\n", "duplicated key(s): 'threads'")
config("duplicate-policy-key.yaml", 'policies:\n  - {name: p0, system_prompt: "a", name: p1}\n', "duplicated key(s): 'name'")
config("duplicate-model.yaml", "models:\n  a: {path: /x.gguf}\n  a: {path: /y.gguf}\n", "duplicated key(s): 'a'")
# --- anchors and aliases
laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
for k in "bcdefghij":
    prev = chr(ord(k) - 1)
    laughs += f"{k}: &{k} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
config("billion-laughs.yaml", laughs + "n: 3\n", "aliases")
config("alias-in-policies.yaml", 'p: &p {name: p0, system_prompt: "a"}\npolicies: [*p, *p]\n', "aliases")
config("alias-undefined.yaml", "n: *nothing\n", "not valid YAML")
config("merge-key.yaml", 'base: &b {threads: 1}\nengine:\n  <<: *b\n', "aliases")
# --- unknown keys at every level
config("unknown-top.yaml", "n: 3\npolicys: []\n", "unknown key 'policys'")
config("unknown-prompts.yaml", "prompts: {sorce: builtin}\n", "unknown key 'prompts.sorce'")
config("unknown-policy.yaml", 'policies:\n  - {name: p0, system_prompt: "a", temprature: 0.5}\n', "unknown key 'policies[0].temprature'")
config("unknown-model.yaml", "models:\n  default: {pth: /x.gguf}\n", "unknown key 'models.default.pth'")
config("unknown-judge.yaml", "judge: {modle: default}\n", "unknown key 'judge.modle'")
config("unknown-oracle.yaml", "oracle: {fractoin: 0.25}\n", "unknown key 'oracle.fractoin'")
config("unknown-engine.yaml", "engine: {thread: 2}\n", "unknown key 'engine.thread'")
config("unknown-provider.yaml", "providers:\n  api: {model: m, base_url: 'http://x', apikey_env: K}\n", "unknown key 'providers.api.apikey_env'")
# --- wrong types
config("n-string.yaml", "n: three\n", "'n'", "whole number")
config("n-list.yaml", "n: [3]\n", "'n'", "single value")
config("n-float.yaml", "n: 2.5\n", "'n'", "whole number")
config("seed-negative.yaml", "seed: -1\n", "'seed'", "whole number")
config("seed-huge.yaml", "seed: 123456789012345678901234567890\n", "'seed'", "whole number")
config("n-huge.yaml", "n: 99999999999999999999\n", "'n'", "whole number")
config("n-too-large.yaml", "n: 1000000000000\n", "'n'", "at most")
config("n-zero.yaml", "n: 0\n", "'n'", "at least 1")
config("policies-map.yaml", "policies: {p0: {system_prompt: a}}\n", "'policies'")
config("policy-no-name.yaml", 'policies:\n  - {system_prompt: "a"}\n', "'policies[0].name'", "required")
config("policy-name-number.yaml", 'policies:\n  - {name: [1], system_prompt: "a"}\n', "'policies[0].name'", "single value")
config("english-only-string.yaml", "prompts: {english_only: maybe}\n", "'prompts.english_only'", "true or false")
config("engine-number.yaml", "engine: 5\nn: 3\n", "'engine'", "a mapping")
config("budget-string.yaml", "budget: lots\n", "'budget'", "number")
# --- numbers out of range, NaN and infinities
config("temperature-zero.yaml", 'policies:\n  - {name: p0, system_prompt: "a", temperature: 0}\n', "'policies[0].temperature'", "> 0")
config("temperature-negative.yaml", 'policies:\n  - {name: p0, system_prompt: "a", temperature: -0.5}\n', "'policies[0].temperature'", "> 0")
config("temperature-nan.yaml", 'policies:\n  - {name: p0, system_prompt: "a", temperature: .nan}\n', "'policies[0].temperature'")
config("temperature-inf.yaml", 'policies:\n  - {name: p0, system_prompt: "a", temperature: .inf}\n', "'policies[0].temperature'")
config("temperature-huge.yaml", 'policies:\n  - {name: p0, system_prompt: "a", temperature: 1e308}\n', "'policies[0].temperature'")
config("max-tokens-zero.yaml", 'policies:\n  - {name: p0, system_prompt: "a", max_tokens: 0}\n', "'policies[0].max_tokens'", "at least 1")
config("max-tokens-over-context.yaml", 'policies:\n  - {name: p0, system_prompt: "a", max_tokens: 5000}\n', "'policies[0].max_tokens'", "sequence_context")
config("failure-rate-nan.yaml", "max_failure_rate: .nan\n", "'max_failure_rate'")
config("failure-rate-two.yaml", "max_failure_rate: 2\n", "'max_failure_rate'")
config("budget-inf.yaml", "budget: .inf\n", "'budget'")
config("budget-negative.yaml", "budget: -3\n", "'budget'")
config("fraction-zero.yaml", "oracle: {fraction: 0}\n", "'oracle.fraction'")
config("fraction-nan.yaml", "oracle: {fraction: .nan}\n", "'oracle.fraction'")
config("threads-zero.yaml", "engine: {threads: 0}\n", "'engine.threads'")
config("threads-huge.yaml", "engine: {threads: 100000}\n", "'engine.threads'")
config("sequences-huge.yaml", "engine: {max_sequences: 100000}\n", "'engine.max_sequences'")
config("context-tiny.yaml", "engine: {sequence_context: 4}\n", "'engine.sequence_context'")
config("context-huge.yaml", "engine: {sequence_context: 1000000000}\n", "'engine.sequence_context'")
config("max-attempts-zero.yaml", "max_attempts: 0\n", "'max_attempts'")
config("judge-max-tokens-zero.yaml", "judge: {max_tokens: 0}\n", "'judge.max_tokens'")
# --- references and names
config("logging-missing.yaml", P + "logging_policy: p9\n", "'logging_policy'", "p9")
config("policy-twice.yaml", 'policies:\n  - {name: p0, system_prompt: "a"}\n  - {name: p0, system_prompt: "b"}\n', "'policies[1].name'", "twice")
config("policy-bad-model.yaml", 'policies:\n  - {name: p0, system_prompt: "a", model: big}\n', "'policies[0].model'", "big")
config("policy-slash.yaml", 'policies:\n  - {name: "a/b", system_prompt: "a"}\n', "'policies[0].name'")
config("model-no-path.yaml", "models:\n  big: {}\n", "'models.big.path'")
config("hf-model-no-file.yaml", "models:\n  big: {hf: org/repo}\n", "'models.big.file'", "required")
config("hf-model-and-path.yaml", "models:\n  big: {hf: org/repo, file: a.gguf, path: /x.gguf}\n", "'models.big.path'", "both")
config("hf-model-bad-repo.yaml", "models:\n  big: {hf: 'org/repo/extra', file: a.gguf}\n", "'models.big.hf'", "org/name")
config("hf-model-dotdot.yaml", "models:\n  big: {hf: org/repo, file: ../../etc/passwd}\n", "'models.big.file'", "..")
config("hf-model-bad-sha.yaml", "models:\n  big: {hf: org/repo, file: a.gguf, sha256: abc}\n", "'models.big.sha256'", "64")
config("hf-model-file-alone.yaml", "models:\n  big: {path: /x.gguf, file: a.gguf}\n", "'models.big.file'", "only goes with 'hf'")
config("prompt-file-missing.yaml", "prompts: {source: /nonexistent/prompts.jsonl}\n", "/nonexistent/prompts.jsonl")
config("hf-empty.yaml", "prompts: {source: 'hf:'}\n", "'prompts.source'")
config("hf-endpoint.yaml", "prompts: {source: 'hf:a/b', hf_endpoint: 'ftp://x'}\n", "'prompts.hf_endpoint'")

# --- prompt files
ok = '{"prompt_id": "a", "prompt": "What is 2 + 2?"}\n'
prompt_file("truncated-json.jsonl", ok + '{"prompt_id": "b", "prompt": "Name a', "truncated-json.jsonl:2")
prompt_file("truncated-middle.jsonl", '{"prompt_id": "b", "prompt": "Na\n' + ok, "truncated-middle.jsonl:1")
prompt_file("not-json.jsonl", ok + "hello world\n", "not-json.jsonl:2", "not valid JSON")
prompt_file("array-line.jsonl", ok + "[1, 2, 3]\n", "array-line.jsonl:2", "JSON object")
prompt_file("string-line.jsonl", ok + '"just a string"\n', "string-line.jsonl:2", "JSON object")
prompt_file("number-line.jsonl", ok + "42\n", "number-line.jsonl:2", "JSON object")
prompt_file("null-line.jsonl", ok + "null\n", "null-line.jsonl:2", "JSON object")
prompt_file("prompt-number.jsonl", ok + '{"prompt_id": "b", "prompt": 7}\n', "prompt-number.jsonl:2", "'prompt'", "string")
prompt_file("prompt-null.jsonl", ok + '{"prompt_id": "b", "prompt": null}\n', "prompt-null.jsonl:2", "'prompt'")
prompt_file("prompt-list.jsonl", ok + '{"prompt_id": "b", "prompt": ["a"]}\n', "prompt-list.jsonl:2", "'prompt'")
prompt_file("prompt-object.jsonl", ok + '{"prompt_id": "b", "prompt": {"text": "a"}}\n', "prompt-object.jsonl:2", "'prompt'")
prompt_file("id-number.jsonl", ok + '{"prompt_id": 12, "prompt": "b"}\n', "id-number.jsonl:2", "'prompt_id'")
prompt_file("id-empty.jsonl", ok + '{"prompt_id": "", "prompt": "b"}\n', "id-empty.jsonl:2", "'prompt_id'")
prompt_file("id-huge-int.jsonl", ok + '{"prompt_id": 123456789012345678901234567890, "prompt": "b"}\n', "id-huge-int.jsonl:2", "'prompt_id'")
prompt_file("id-twice.jsonl", ok + ok.replace("2 + 2", "3 + 3"), "id-twice.jsonl:2", "twice")
prompt_file("no-prompt-key.jsonl", ok + '{"prompt_id": "b", "text": "b"}\n', "no-prompt-key.jsonl:2", "'prompt'")
prompt_file("language-number.jsonl", ok + '{"prompt_id": "b", "prompt": "b", "language": 3}\n', "language-number.jsonl:2", "'language'")
prompt_file("nan.jsonl", ok + '{"prompt_id": "b", "prompt": "b", "score": NaN}\n', "nan.jsonl:2", "not valid JSON")
prompt_file("infinity.jsonl", ok + '{"prompt_id": "b", "prompt": "b", "score": Infinity}\n', "infinity.jsonl:2", "not valid JSON")
prompt_file("neg-infinity.jsonl", ok + '{"prompt_id": "b", "prompt": "b", "score": -Infinity}\n', "neg-infinity.jsonl:2", "not valid JSON")
prompt_file("invalid-utf8.jsonl", ok.encode() + b'{"prompt_id": "b", "prompt": "caf\xe9"}\n', "invalid-utf8.jsonl:2", "UTF-8")
prompt_file("invalid-utf8-first.jsonl", b'\xff\xfe{"prompt_id": "b", "prompt": "b"}\n', "invalid-utf8-first.jsonl:1", "column 1", "UTF-8")
prompt_file("utf16.jsonl", ok.encode("utf-16"), "utf16.jsonl:1")
prompt_file("nul-in-string.jsonl", ok.encode() + b'{"prompt_id": "b", "prompt": "a\x00b"}\n', "nul-in-string.jsonl:2", "NUL")
prompt_file("nul-line.jsonl", ok.encode() + b"\x00\x00\x00\n", "nul-line.jsonl:2", "NUL")
prompt_file("overlong-utf8.jsonl", ok.encode() + b'{"prompt_id": "b", "prompt": "\xc0\xaf"}\n', "overlong-utf8.jsonl:2", "UTF-8")
prompt_file("cr-only.jsonl", ok.replace("\n", "\r") * 2, "cr-only.jsonl:1")
prompt_file("empty-file.jsonl", "", "empty-file.jsonl", "no usable prompt")
prompt_file("blank-lines.jsonl", "\n\n   \n\n", "blank-lines.jsonl", "no usable prompt")
prompt_file("all-empty-prompts.jsonl", '{"prompt_id": "a", "prompt": ""}\n{"prompt_id": "b", "prompt": "   "}\n', "all-empty-prompts.jsonl", "no usable prompt")
prompt_file("all-non-english.jsonl", '{"prompt_id": "a", "prompt": "Hola", "language": "Spanish"}\n', "all-non-english.jsonl", "no usable prompt")
prompt_file("array-truncated.json", '[{"prompt_id": "a", "prompt": "b"}, {"prompt_id": ', "array-truncated.json", "not valid JSON")
prompt_file("array-of-numbers.json", "[1, 2, 3]\n", "array-of-numbers.json:1", "JSON object")
prompt_file("array-nested.json", '[[{"prompt_id": "a", "prompt": "b"}]]\n', "array-nested.json:1", "JSON object")
prompt_file("array-nan.json", '[{"prompt_id": "a", "prompt": "b", "x": NaN}]\n', "array-nan.json", "not valid JSON")
prompt_file("object-file.json", '{"prompts": [{"prompt_id": "a", "prompt": "b"}]}\n', "object-file.json:1", "'prompt'")
prompt_file("arena-conv-string.jsonl", '{"question_id": "q1", "conversation_a": "hello"}\n', "arena-conv-string.jsonl:1", "'conversation_a'")
prompt_file("arena-no-user.jsonl", '{"question_id": "q1", "conversation_a": [{"role": "assistant", "content": "hi"}]}\n', "arena-no-user.jsonl:1", "no user turn")
prompt_file("arena-content-number.jsonl", '{"question_id": "q1", "conversation_a": [{"role": "user", "content": 5}]}\n', "arena-content-number.jsonl:1", "'content'")
prompt_file("arena-turn-not-object.jsonl", '{"question_id": "q1", "conversation_a": [5, 6]}\n', "arena-turn-not-object.jsonl:1", "'conversation_a'")
prompt_file("arena-id-twice.jsonl", ('{"question_id": "q1", "conversation_a": [{"role": "user", "content": "a"}]}\n' '{"question_id": "q1", "conversation_a": [{"role": "user", "content": "b"}]}\n'), "arena-id-twice.jsonl:2", "twice")
prompt_file("deep-nesting.jsonl", ok + '{"prompt_id": "b", "prompt": "b", "x": ' + "[" * 100000 + "]" * 100000 + "}\n", "deep-nesting.jsonl:2")
prompt_file("trailing-garbage.jsonl", ok + '{"prompt_id": "b", "prompt": "b"} trailing\n', "trailing-garbage.jsonl:2", "not valid JSON")
prompt_file("two-objects-one-line.jsonl", ok + '{"prompt_id": "b", "prompt": "b"}{"prompt_id": "c", "prompt": "c"}\n', "two-objects-one-line.jsonl:2", "not valid JSON")
prompt_file("single-quotes.jsonl", ok + "{'prompt_id': 'b', 'prompt': 'b'}\n", "single-quotes.jsonl:2", "not valid JSON")
prompt_file("comment-line.jsonl", ok + "// a comment\n", "comment-line.jsonl:2", "not valid JSON")
prompt_file("yaml-instead.jsonl", "prompt_id: a\nprompt: b\n", "yaml-instead.jsonl:1", "not valid JSON")
prompt_file("csv-instead.jsonl", "prompt_id,prompt\na,What is 2+2?\n", "csv-instead.jsonl:1", "not valid JSON")
prompt_file("lone-surrogate.jsonl", ok + '{"prompt_id": "b", "prompt": "\\ud800"}\n', "lone-surrogate.jsonl:2")
prompt_file("bad-escape.jsonl", ok + '{"prompt_id": "b", "prompt": "\\q"}\n', "bad-escape.jsonl:2", "not valid JSON")
prompt_file("control-char.jsonl", ok + '{"prompt_id": "b", "prompt": "a\x01b"}\n', "control-char.jsonl:2", "not valid JSON")
prompt_file("unterminated-last.jsonl", ok + '{"prompt_id": "b", "prompt": "b"', "unterminated-last.jsonl:2", "not valid JSON")
prompt_file("directory-like.jsonl", ok + "{}\n", "directory-like.jsonl:2", "'prompt'")
# Made by the test (too big to keep): a 2 MB config, a prompt file whose second line is 10 MB.
cases.append(("config", "configs/huge-file.yaml", 1, ("bytes", "at most")))
cases.append(("prompts", "prompts/huge-line.jsonl", 1, ("huge-line.jsonl:2", "not valid JSON")))

with open(here / "cases.tsv", "w") as out:
    out.write("# kind\tfile\texit\twords (all must appear in the error, ' && ' between them)\n")
    for kind, path, code, words in cases:
        out.write(f"{kind}\t{path}\t{code}\t{' && '.join(words)}\n")
print(f"{sum(1 for c in cases if c[0] == 'config')} configs, {sum(1 for c in cases if c[0] == 'prompts')} prompt files")
