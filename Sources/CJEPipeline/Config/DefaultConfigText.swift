extension PipelineConfig {
    /// The default config as commented YAML, for `cje-prep init`. Parsing it gives `.default`.
    public static let commentedDefault = """
        # cje-prep configuration. Every key is optional; what is left out takes the value shown.

        # Run seed: prompt sampling and each item's seed (policy, prompt) derive from it.
        seed: 42
        # Prompts to sample (also the `run N` argument). Raising it later extends a run.
        n: 20

        prompts:
          # "builtin" (30 prompts written for cje-prep), or the path of a ChatBot Arena file
          # (JSON or JSONL rows with conversation_a, language, question_id, ...) or of a
          # prompt file ({"prompt_id": ..., "prompt": ...} per line).
          source: builtin
          english_only: true
          # Drop Arena rows whose largest OpenAI moderation category score exceeds this.
          # max_moderation_score: 0.5
          # For an "hf:<owner>/<dataset>" source (the Hub's datasets-server): the dataset's
          # config and split, the server, and a cap on the rows read (default: all).
          # hf_config: default
          # hf_split: train
          # hf_endpoint: https://datasets-server.huggingface.co
          # max_rows: 100000

        # Local GGUF models by name. "default" without a path is the SmolLM2-135M-Instruct demo
        # model that `make demo` fetches.
        models:
          default: {}
          # llama3b:
          #   path: ~/models/Llama-3.2-3B-Instruct-Q6_K.gguf
          #   chat_template: chatml   # overrides the file's own: a llama.cpp built-in name or Jinja source
          # judge3b:                  # or a file on the Hugging Face Hub, fetched into its cache
          #   hf: bartowski/Llama-3.2-3B-Instruct-GGUF
          #   file: Llama-3.2-3B-Instruct-Q6_K.gguf
          #   revision: main          # branch, tag or commit; sha256: <64 hex> pins the file

        # The logging policy: its responses are the ones every policy teacher-forces.
        logging_policy: p0

        # Each policy is a distribution: sampled and scored at the same temperature, with its
        # system prompt as a real system message. pi_clone is identical to p0: its importance
        # weights must come out exactly 1.
        policies:
          - name: p0
            model: default
            system_prompt: "\(helpfulSystemPrompt)"
            temperature: 0.5
            max_tokens: 512
          - name: pi_clone
            model: default
            system_prompt: "\(helpfulSystemPrompt)"
            temperature: 0.5
            max_tokens: 512
          - name: pi_bad
            model: default
            system_prompt: "\(unhelpfulSystemPrompt)"
            temperature: 0.5
            max_tokens: 512
          # A policy on a provider (below), with its own number of draws:
          # - {name: pi_hosted, provider: fireworks, system_prompt: "...", temperature: 0.5, max_tokens: 512, draws: 2}

        # Responses per prompt from every policy, each with its own seed; raising it later
        # extends a run. Draw 0 of the logging policy is the response every policy teacher-forces.
        draws: 1

        # The smallest difference between two policies' mean labels (on the 0-1 label scale) that
        # would change your decision, declared now, before any result exists: it is kept in the
        # manifest, cje/label_design.json and the report, and a run refuses to resume under
        # another. Leave it out to declare none.
        # decision_margin: 0.05

        # OpenAI-compatible providers (hosted APIs, or vLLM / SGLang / llama-server fleets), for
        # policies (`provider:` instead of `model:`), the judge and the oracle. Only the *name* of
        # the key's environment variable goes here. Responses are cached in the run directory, so
        # a re-run never pays twice.
        # providers:
        #   fireworks:
        #     base_url: https://api.fireworks.ai/inference/v1   # or base_urls: [..., ...]
        #     model: accounts/fireworks/models/llama-v3p1-70b-instruct
        #     api_key_env: FIREWORKS_API_KEY   # default OPENAI_API_KEY; "none" for a keyless server
        #     timeout: 120                     # seconds per request
        #     max_concurrent: 4                # per provider, over all its base URLs
        #     requests_per_minute: 600
        #     tokens_per_minute: 1000000
        #     input_price_per_million: 0.9
        #     output_price_per_million: 0.9
        #     max_attempts: 6                  # retries on 429, 5xx, timeouts, connection errors
        #     top_logprobs: 20
        #     prefill: false                   # true if the endpoint continues a final assistant turn
        #     teacher_forcing: vllm            # a vLLM server: its policies (at temperature 1) get log
        #                                      # probs over token ids; without it, Direct mode only
        #     temperature_probe: false         # true: the server applies a request's temperature to
        #                                      # prompt log probs (probed first), so T != 1 is allowed
        # budget: 25.0   # stop the run cleanly once the providers have cost this much

        # Which policies get teacher-forced log probs (only cje-eval 0.3's off-policy set needs
        # them; Direct mode needs none): auto (every one that can be exact: local policies, and
        # policies on a provider with teacher_forcing; the others say why they have none),
        # required (refuse a config with a policy that cannot have them) or off (none).
        logprobs: auto

        # Judge and oracle answer a 0-10 rubric.
        # A local model: the uncertainty score is the exact distribution over the eleven answers;
        # the deterministic score is "argmax" (the most probable of the eleven, never
        # unparseable; the default) or "greedy" (greedy decoding, parsed strictly).
        # A provider (`provider: name`): the deterministic score is the temperature-0 answer parsed
        # strictly; `uncertainty` is top_logprobs (default), confidence_interval or samples
        # (with `samples: 5`). A failure is null plus an error, never another method's number.
        judge:
          model: default
          # provider: fireworks       # instead of model:
          # deterministic: argmax
          # uncertainty: top_logprobs # a provider's: top_logprobs, confidence_interval or samples
          # samples: 5                # answers drawn under `uncertainty: samples`
          # Greedy answer length (decoded and kept for audits under either rule).
          max_tokens: 8

        oracle:
          model: default
          # provider: openai          # instead of model:
          # deterministic: argmax
          # uncertainty: top_logprobs # as for the judge
          # samples: 5
          # Greedy answer length, as for the judge.
          max_tokens: 8
          # How labelled rows are drawn, each a probability sample whose inclusion probability
          # for every row is written to cje/label_design.json:
          #   original    (default) `fraction` of P0's responses (calibration) and of each
          #               target's (validation), drawn separately: the original experiment's
          #   paired      `fraction` of the prompts, every policy's response on each labelled
          #               (CJE's recommended design for comparing policies)
          #   stratified  each response at its judge-score stratum's rate, e.g.
          #               strata: [{below: 0.4, rate: 0.5}, {below: 0.8, rate: 0.2}, {rate: 0.5}]
          # design: original
          # Share of P0 responses (calibration) and of target responses (validation) labelled.
          fraction: 0.25
          # Share of prompts held out per target policy as transport probes (labelled, written to
          # cje/probes/, never calibrating), and the audit's margin on the 0-1 label scale.
          # probes: 0.1
          # probe_margin: 0.05
          seed: 7

        # The local engine's shape changes speed and memory, never a result.
        engine:
          # threads: 8          # default: all cores
          # Sequences decoded together. Default: 32, fewer if their KV cache would pass 4 GiB
          # (SmolLM2-135M: 47 MB per 2048-token sequence; a 3B model with 8 KV heads: 235 MB).
          # max_sequences: 32
          sequence_context: 2048

        # A stage whose share of failed items exceeds this exits non-zero. Failed items are
        # kept as null plus an error, never as a number, and retried on the next run.
        max_failure_rate: 0.05
        max_attempts: 3

        """
}
