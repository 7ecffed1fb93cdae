// One import for the whole toolkit: `import VAEKit`.
@_exported import VAEData
@_exported import VAEDistributions
@_exported import VAEFormats
@_exported import VAEModels
@_exported import VAENN
@_exported import VAEOptimizers
@_exported import VAEPictures
@_exported import VAETensor
@_exported import VAETraining
