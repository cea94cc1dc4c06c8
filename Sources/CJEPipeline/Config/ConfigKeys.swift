extension PipelineConfig {
    /// Every key the config file accepts, by section: "" for the top level, then each section's
    /// own ("models" for a model's keys, "providers" for a provider's). `init`'s commented default
    /// is tested against it, so a new key cannot be left out of what `init` writes.
    package static let keysBySection: [String: [String]] = [
        "": CodingKeys.allCases.map(\.rawValue),
        "prompts": PromptsConfig.CodingKeys.allCases.map(\.rawValue),
        "models": ModelConfig.CodingKeys.allCases.map(\.rawValue),
        "policies": PolicyConfig.CodingKeys.allCases.map(\.rawValue),
        "providers": ProviderConfig.CodingKeys.allCases.map(\.rawValue),
        "judge": LabellerConfig.CodingKeys.allCases.map(\.rawValue),
        "oracle": OracleConfig.CodingKeys.allCases.map(\.rawValue),
        "engine": EngineConfig.CodingKeys.allCases.map(\.rawValue),
    ]
}
