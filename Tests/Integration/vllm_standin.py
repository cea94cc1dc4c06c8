"""A stand-in for a vLLM server's teacher-forcing endpoints, on a real model: llama-cpp-python
(the sdist's Python package, on the project's own libllama through LLAMA_CPP_LIB_PATH) loaded
with weight repacking and flash attention off, so its log probs are exact. It speaks vLLM's
protocol as vllm/entrypoints/openai/protocol.py has it:

  POST /tokenize              {"model", "messages", "add_generation_prompt", "add_special_tokens"}
                              or {"model", "prompt", "add_special_tokens"} -> {"count", "max_model_len", "tokens"}
                              (messages rendered with the GGUF's own Jinja chat template, as Hugging
                              Face renders it, then tokenized without adding special tokens)
  POST /detokenize            {"model", "tokens"} -> {"prompt"}
  POST /v1/completions        {"model", "prompt": [ids], "max_tokens": 0, "echo": true,
                              "prompt_logprobs": 1, "return_token_ids": true} -> choices[0].prompt_logprobs
                              [null, {"<id>": {"logprob", "rank", "decoded_token"}, ...}, ...] at
                              temperature 1 (log_softmax in float64 over the float32 logits) and
                              choices[0].prompt_token_ids
  POST /v1/chat/completions   a sampled answer (pure temperature sampling, seeded), for a policy
                              generated here
  GET  /health, GET /stats    {"requests": n, "by_path": {...}}

Faults for the tests: --echo-other-ids (echoes the prompt with its last id changed),
--no-prompt-logprobs (answers without prompt_logprobs), --served-model-name NAME. With
--applies-temperature, a request's "temperature" applies to its prompt log probs (log_softmax(z / T),
as vLLM's open prompt_logprobs_temperature change would); without it they are at T = 1, as vLLM's.
Usage: vllm_standin.py MODEL.gguf PORT_FILE [options]
"""

import argparse
import json
import math
import os
import sys
import threading

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_http  # noqa: E402

os.environ.setdefault("GGML_CPU_TILED_MM", "0")
import llama_cpp  # noqa: E402
import jinja2  # noqa: E402
from jinja2.sandbox import ImmutableSandboxedEnvironment  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("model")
parser.add_argument("port_file")
parser.add_argument("--served-model-name", default="standin")
parser.add_argument("--echo-other-ids", action="store_true")
parser.add_argument("--no-prompt-logprobs", action="store_true")
parser.add_argument("--applies-temperature", action="store_true")
args = parser.parse_args()

# No repacked weights (the engine's layout), everything else llama.cpp's default.
_default_params = llama_cpp.llama_model_default_params


def _params():
    params = _default_params()
    params.use_extra_bufts = False
    return params


llama_cpp.llama_model_default_params = _params
llm = llama_cpp.Llama(
    model_path=args.model, n_ctx=4096, n_batch=512, n_threads=1, logits_all=True, flash_attn=False,
    verbose=False, seed=0)
lock = threading.Lock()
stats = {"requests": 0, "by_path": {}}

template = ImmutableSandboxedEnvironment(
    trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols]
).from_string(llm.metadata["tokenizer.chat_template"])


def piece(token):
    return llm._model.token_get_text(token) if hasattr(llm._model, "token_get_text") else str(token)


def render(messages, add_generation_prompt):
    def raise_exception(message):
        raise ValueError(message)

    return template.render(
        messages=messages, add_generation_prompt=add_generation_prompt, raise_exception=raise_exception,
        bos_token="", eos_token="")


def tokenize(body):
    if "messages" in body:
        text = render(body["messages"], body.get("add_generation_prompt", False))
        return llm.tokenize(text.encode(), add_bos=bool(body.get("add_special_tokens", False)), special=True)
    return llm.tokenize(body["prompt"].encode(), add_bos=bool(body.get("add_special_tokens", True)), special=False)


def prompt_logprobs(ids, top, temperature):
    llm.reset()
    llm.eval(ids)
    logits = np.asarray(llm.scores[: len(ids), :], dtype=np.float64) / temperature
    entries = [None]
    for position in range(1, len(ids)):
        row = logits[position - 1]
        best = float(row.max())
        lse = best + math.log(float(np.exp(row - best).sum()))
        token = ids[position]
        entry = {str(token): {"logprob": float(row[token]) - lse, "rank": int((row > row[token]).sum()) + 1,
                              "decoded_token": ""}}
        for rank, other in enumerate(np.argsort(-row)[:top]):
            entry.setdefault(str(int(other)), {"logprob": float(row[other]) - lse, "rank": rank + 1, "decoded_token": ""})
        entries.append(entry)
    return entries


def completion(body):
    ids = [int(i) for i in body["prompt"]]
    temperature = float(body.get("temperature", 1.0)) if args.applies_temperature else 1.0
    entries = prompt_logprobs(ids, int(body.get("prompt_logprobs", 1)), temperature)
    echoed = list(ids)
    if args.echo_other_ids:
        echoed[-1] = (echoed[-1] + 1) % llm.n_vocab()
    choice = {"index": 0, "text": "", "logprobs": None, "finish_reason": "length", "stop_reason": None,
              "prompt_token_ids": echoed}
    if not args.no_prompt_logprobs:
        choice["prompt_logprobs"] = entries
    return {"id": "cmpl-standin", "object": "text_completion", "created": 0, "model": args.served_model_name,
            "choices": [choice],
            "usage": {"prompt_tokens": len(ids), "completion_tokens": 0, "total_tokens": len(ids)}}


def chat(body):
    llm.reset()
    answer = llm.create_chat_completion(
        messages=body["messages"], temperature=body.get("temperature", 1.0), max_tokens=body.get("max_tokens", 16),
        seed=body.get("seed", 0) % (2**31), top_p=1.0, top_k=0, min_p=0.0, repeat_penalty=1.0)
    answer["model"] = args.served_model_name
    answer["system_fingerprint"] = "standin-fp"
    return answer


class Handler(peer_http.Handler):
    def do_GET(self):
        if self.path == "/stats":
            self.reply(200, json.dumps(stats).encode())
        elif self.path == "/health":
            self.reply(200, b'{"status": "ok"}')
        else:
            self.reply(404, b'{"error": "not found"}')

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        routes = {"/tokenize": lambda b: {"count": len(t := tokenize(b)), "max_model_len": 4096, "tokens": t},
                  "/detokenize": lambda b: {"prompt": llm.detokenize([int(i) for i in b["tokens"]]).decode("utf-8", "replace")},
                  "/v1/completions": completion, "/v1/chat/completions": chat}
        if self.path not in routes:
            self.reply(404, b'{"error": "not found"}')
            return
        with lock:
            stats["requests"] += 1
            stats["by_path"][self.path] = stats["by_path"].get(self.path, 0) + 1
            try:
                answer = routes[self.path](body)
            except Exception as error:  # a bad request, as vLLM answers one
                self.reply(400, json.dumps({"error": {"message": str(error)}}).encode())
                return
        self.reply(200, json.dumps(answer).encode())


peer_http.serve(Handler, args.port_file)
