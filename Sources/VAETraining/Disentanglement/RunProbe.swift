import VAEData
import VAEModels
import VAETensor

extension FactorProbe {
    /// The probe of a run trained on dSprites: images made from factor rows, represented by the model's posterior
    /// means (the deterministic code its latent summary gives), in evaluation mode. An error names the run's
    /// dataset when it has no factors to probe.
    public static func dSprites(_ run: TrainedRun) throws -> FactorProbe {
        guard run.config.data.dataset == "dsprites" else {
            throw TrainingError("\(run.directory): disentanglement scores need images made from known factors (data_params.dataset: dsprites); this run was trained on '\(run.config.data.dataset)'")
        }
        let model = run.model
        model.setTraining(false)
        return FactorProbe(sizes: DSprites.factorSizes) { rows in
            withoutGradients { model.latentSummary(DSprites.images(rows)).code }
        }
    }
}
