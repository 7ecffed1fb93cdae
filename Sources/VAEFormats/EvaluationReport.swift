/// Test-set numbers for a trained model: what `vae eval` prints and writes to `eval.json`.
public struct EvaluationReport: Codable, Equatable {
    public var images: Int
    /// −ELBO, reconstruction and KL per image (one z sample each), in nats.
    public var negativeELBO: Double
    public var reconstruction: Double
    public var kl: Double
    /// Importance-weighted estimate of −log p(x) in nats, and the k it used (nil when not computed).
    public var negativeLogLikelihood: Double?
    public var importanceSamples: Int?
    /// −log p(x) in bits per dimension.
    public var bitsPerDimension: Double?
    /// KL per latent dimension, averaged over images.
    public var klPerDimension: [Double]
    /// Dimensions whose posterior mean varies across the data: Cov_x(E_q[z_u]) > 0.01 (Burda et al. 2016).
    public var activeUnits: Int
    /// The model's `LatentDiagnostics` on these images (VQ-VAE: `code_perplexity`, `codes_used`); nil for others.
    public var diagnostics: [String: Double]?
    /// `vae eval --sample-quality`: `frechet_classifier_distance`, `precision`, `recall`, `classifier_accuracy`.
    public var sampleQuality: [String: Double]?
    /// Text runs: the test set's tokens (each sentence's words and `<eos>`), the per-word perplexity
    /// exp(Σ NLL / tokens) from the importance-weighted NLL (nil without it) and from the −ELBO (an upper bound),
    /// and the mutual information I(x; z) between sentences and codes (He et al. 2019's estimate); nil for images.
    public var tokens: Int?
    public var perplexity: Double?
    public var elboPerplexity: Double?
    public var mutualInformation: Double?
    public var seconds: Double

    public init(images: Int, negativeELBO: Double, reconstruction: Double, kl: Double, negativeLogLikelihood: Double?,
                importanceSamples: Int?, bitsPerDimension: Double?, klPerDimension: [Double], activeUnits: Int,
                diagnostics: [String: Double]? = nil, seconds: Double) {
        self.images = images
        self.negativeELBO = negativeELBO
        self.reconstruction = reconstruction
        self.kl = kl
        self.negativeLogLikelihood = negativeLogLikelihood
        self.importanceSamples = importanceSamples
        self.bitsPerDimension = bitsPerDimension
        self.klPerDimension = klPerDimension
        self.activeUnits = activeUnits
        self.diagnostics = diagnostics
        self.seconds = seconds
    }

    /// The snake_case keys of `eval.json` (see ``JSONOutput``).
    enum CodingKeys: String, CodingKey {
        case images, reconstruction, kl, diagnostics, seconds
        case sampleQuality = "sample_quality"
        case negativeELBO = "negative_elbo", negativeLogLikelihood = "negative_log_likelihood"
        case importanceSamples = "importance_samples", bitsPerDimension = "bits_per_dimension"
        case klPerDimension = "kl_per_dimension", activeUnits = "active_units"
        case tokens, perplexity, elboPerplexity = "elbo_perplexity", mutualInformation = "mutual_information"
    }
}
