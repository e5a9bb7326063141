// Inference worker entry (owned by the inference runtime).
export {};
