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

        # Local GGUF models by name. "default" without a path is the SmolLM2-135M-Instruct demo
        # model that `make demo` fetches.
        models:
          default: {}
          # llama3b:
          #   path: ~/models/Llama-3.2-3B-Instruct-Q6_K.gguf
          #   chat_template: chatml   # only for a model that has no template of its own

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

        # Judge and oracle answer a 0-10 rubric. Uncertainty score: the exact distribution over
        # the eleven answers. Deterministic score: "argmax" (the most probable of the eleven, never
        # unparseable) or "greedy" (greedy decoding, parsed strictly; failures are null + error).
        judge:
          model: default
          deterministic: argmax
          # Greedy answer length (decoded and kept for audits under either rule).
          max_tokens: 8

        oracle:
          model: default
          deterministic: argmax
          # Share of P0 responses (calibration) and of target responses (validation) labelled.
          fraction: 0.25
          seed: 7

        # The local engine's shape changes speed and memory, never a result.
        engine:
          # threads: 8          # default: all cores
          max_sequences: 8
          sequence_context: 2048

        # A stage whose share of failed items exceeds this exits non-zero. Failed items are
        # kept as null plus an error, never as a number, and retried on the next run.
        max_failure_rate: 0.05
        max_attempts: 3

        """
}
