import Foundation
import VAEData
import VAEModels
import VAEPictures
import VAETensor
import VAETraining

/// The latent explorer's API over the served runs, independent of the HTTP server that carries it: a request
/// (method, path, query, content type, body) in, a response out, never a thrown error. It is an actor, so model
/// calls run one at a time (the tape and the models' buffers are never shared by two requests); every field is
/// checked before a model sees it, and runs are named only from the served set (no file paths from requests).
///
/// - `GET /` — the explorer page; `GET /api/runs` — a ``RunSummary`` per run.
/// - `POST /api/decode {run, z | codes, label?}` — the decoded image, PNG.
/// - `POST /api/encode {run, index | image, label?}` (or an image body with `?run=NAME`) — JSON: the code, a
///   VQ-VAE's code map, the input as the model sees it and its reconstruction.
/// - `POST /api/interpolate {run, from, to, steps?, spherical?, label?}` — a strip of decodings, PNG.
/// - `POST /api/sample {run, seed?, count?, sampler?, label?}` — a grid of draws, PNG.
public actor Explorer {
    /// The largest request body accepted (413 beyond).
    public static let bodyLimit = 4 << 20
    static let maximumSamples = 256
    static let maximumSteps = 32

    let runs: [String: ServedRun]
    let order: [String]
    let page: [UInt8]

    /// Loads each run directory (its weights and up to 1000 test images); names are the directories' last
    /// components, made unique.
    public init(directories: [String]) throws {
        let names = ServedRun.names(for: directories)
        var runs: [String: ServedRun] = [:]
        for (name, directory) in zip(names, directories) { runs[name] = try ServedRun(name: name, directory: directory) }
        self.runs = runs
        order = names
        page = try ExplorerPage.bytes()
    }

    public nonisolated var runNames: [String] { order }

    public func handle(method: String, path: String, query: String = "", contentType: String? = nil,
                       body: [UInt8] = []) -> APIResponse {
        do {
            guard body.count <= Self.bodyLimit else {
                throw APIError(413, "request body of \(body.count) bytes is over the limit of \(Self.bodyLimit) (4 MiB)")
            }
            switch (method, path) {
            case ("GET", "/"), ("GET", "/index.html"):
                return APIResponse(status: 200, contentType: "text/html; charset=utf-8", body: page)
            case ("GET", "/api/runs"):
                return try .json(order.compactMap { runs[$0]?.summary })
            case ("POST", "/api/decode"):
                return try decode(RequestChecks.decode(DecodeRequest.self, from: body))
            case ("POST", "/api/encode"):
                if let contentType, contentType.hasPrefix("image/") || contentType.hasPrefix("application/octet-stream") {
                    let values = RequestChecks.query(query)
                    guard let run = values["run"] else { throw APIError(400, "run: an image body names its run in the query (?run=NAME)") }
                    let label = try values["label"].map { text -> Int in
                        guard let label = Int(text) else { throw APIError(400, "label: expected an integer, got '\(text)'") }
                        return label
                    }
                    return try .json(encode(served(run), bytes: body, label: label))
                }
                let request = try RequestChecks.decode(EncodeRequest.self, from: body)
                return try .json(encode(request))
            case ("POST", "/api/interpolate"):
                return try interpolate(RequestChecks.decode(InterpolateRequest.self, from: body))
            case ("POST", "/api/sample"):
                return try sample(RequestChecks.decode(SampleRequest.self, from: body))
            case (_, "/"), (_, "/api/runs"), (_, "/api/decode"), (_, "/api/encode"), (_, "/api/interpolate"), (_, "/api/sample"):
                throw APIError(405, "\(path) does not take \(method)")
            default:
                throw APIError(404, "no such page or endpoint: \(path) (the API: GET /api/runs; POST /api/decode, /api/encode, /api/interpolate, /api/sample)")
            }
        } catch let error as APIError {
            return error.response
        } catch {
            return APIError(400, "\(error)").response
        }
    }

    // MARK: operations

    func served(_ name: String) throws -> ServedRun {
        guard let run = runs[name] else {
            throw APIError(404, "run: no served run named '\(name)' (served: \(order.joined(separator: ", ")))")
        }
        return run
    }

    /// The model to decode and encode with: a conditional model bound to `label` (its first class by default).
    func model(_ served: ServedRun, label: Int?) throws -> (model: any VariationalAutoencoder, label: Int?) {
        let classes = served.model.conditionClasses
        guard classes > 0 else {
            if label != nil { throw APIError(400, "label: run '\(served.name)' is not conditioned on classes") }
            return (served.model, nil)
        }
        let label = try RequestChecks.integer(label, "label", in: 0...(classes - 1), default: 0)
        return (served.model.conditioned(on: [label]), label)
    }

    func decode(_ request: DecodeRequest) throws -> APIResponse {
        let served = try served(request.run)
        let latent: Tensor
        if served.layout.kind == .vq {
            guard let codes = request.codes, let vq = served.model as? VQVAE else {
                throw APIError(400, "codes: run '\(served.name)' is a VQ-VAE: send its code map, \(served.layout.side * served.layout.side) codebook indices")
            }
            guard codes.count == vq.positions else {
                throw APIError(400, "codes: expected \(vq.positions) indices (\(vq.side)×\(vq.side)), got \(codes.count)")
            }
            if let bad = codes.firstIndex(where: { !(0..<vq.codes).contains($0) }) {
                throw APIError(400, "codes[\(bad)]: expected an index from 0 to \(vq.codes - 1), got \(codes[bad])")
            }
            latent = withoutGradients { vq.latent(codes: codes) }
        } else {
            guard let z = request.z else { throw APIError(400, "z: missing (the code to decode, \(served.model.latentSize) numbers)") }
            latent = try codeTensor([RequestChecks.code(z, width: served.model.latentSize)])
        }
        let (model, _) = try model(served, label: request.label)
        return .png(try picture(served, model: model, latents: latent, columns: 1, gap: 0))
    }

    func encode(_ request: EncodeRequest) throws -> EncodeResponse {
        let served = try served(request.run)
        switch (request.index, request.image) {
        case (let index?, nil):
            let index = try RequestChecks.integer(index, "index", in: 0...(served.summary.testImages - 1), default: 0)
            let label = request.label ?? (served.model.conditionClasses > 0 && !served.labels.isEmpty ? served.labels[index] : nil)
            return try encode(served, input: served.images.slice(index..<(index + 1)), label: label)
        case (nil, let image?):
            return try encode(served, bytes: RequestChecks.base64(image, field: "image"), label: request.label)
        default:
            throw APIError(400, "expected one of 'index' (a test image, 0 to \(served.summary.testImages - 1)) or 'image' (a PNG or JPEG as base64)")
        }
    }

    func encode(_ served: ServedRun, bytes: [UInt8], label: Int?) throws -> EncodeResponse {
        try encode(served, input: input(served, bytes: bytes, field: "image"), label: label)
    }

    /// An uploaded image as the model's input: decoded by the training data's checked decoders, centre-cropped
    /// and resampled to the model's size, in its channels.
    func input(_ served: ServedRun, bytes: [UInt8], field: String) throws -> Tensor {
        let (channels, height, width) = (served.imageShape[0], served.imageShape[1], served.imageShape[2])
        guard height == width else { throw APIError(400, "\(field): run '\(served.name)' takes \(height)×\(width) inputs; only square models take uploads") }
        let image: DecodedImage
        do {
            image = try ImageDecoder.decode(bytes, source: field)
        } catch {
            throw APIError(400, "\(error)")
        }
        return Tensor(shape: [1, channels * height * width], scalars: ImageDataset.inputRow(image, channels: channels, size: height))
    }

    func encode(_ served: ServedRun, input: Tensor, label: Int?) throws -> EncodeResponse {
        let (model, label) = try model(served, label: label)
        let code = withoutGradients { model.latentSummary(input).code }
        var latent = code
        var codes: [Int]? = nil
        if let vq = served.model as? VQVAE {
            codes = vq.codeMaps(input)
            latent = withoutGradients { vq.latent(codes: codes!) }
        }
        let reconstruction = try picture(served, model: model, latents: latent, columns: 1, gap: 0)
        let shown = try ImageGrid.png(input, imageShape: served.imageShape, columns: 1, gap: 0)
        return EncodeResponse(z: code.scalars.map(Double.init), codes: codes, label: label,
                              input: Data(shown).base64EncodedString(), reconstruction: Data(reconstruction).base64EncodedString())
    }

    /// The code of an interpolation endpoint, encoded by `model` (bound to the request's class).
    func code(_ served: ServedRun, _ endpoint: Endpoint, field: String, model: any VariationalAutoencoder) throws -> [Double] {
        switch (endpoint.index, endpoint.image, endpoint.z) {
        case (let index?, nil, nil):
            let index = try RequestChecks.integer(index, "\(field).index", in: 0...(served.summary.testImages - 1), default: 0)
            return withoutGradients { model.latentSummary(served.images.slice(index..<(index + 1))).code }.scalars.map(Double.init)
        case (nil, let image?, nil):
            let input = try input(served, bytes: RequestChecks.base64(image, field: "\(field).image"), field: "\(field).image")
            return withoutGradients { model.latentSummary(input).code }.scalars.map(Double.init)
        case (nil, nil, let z?):
            return try RequestChecks.code(z, width: served.model.latentSize, field: "\(field).z")
        default:
            throw APIError(400, "\(field): expected one of 'index', 'image' or 'z'")
        }
    }

    func interpolate(_ request: InterpolateRequest) throws -> APIResponse {
        let served = try served(request.run)
        let steps = try RequestChecks.integer(request.steps, "steps", in: 2...Self.maximumSteps, default: 10)
        let (model, _) = try model(served, label: request.label)
        let start = try code(served, request.from, field: "from", model: model)
        let end = try code(served, request.to, field: "to", model: model)
        let points = LatentPath.points(from: start, to: end, steps: steps, spherical: request.spherical ?? false)
        let latents = served.model.nearestLatentCodes(try codeTensor(points))
        return .png(try picture(served, model: model, latents: latents, columns: steps, gap: 2))
    }

    func sample(_ request: SampleRequest) throws -> APIResponse {
        let served = try served(request.run)
        let count = try RequestChecks.integer(request.count, "count", in: 1...Self.maximumSamples, default: 64)
        let seed = try RequestChecks.integer(request.seed, "seed", in: 0...Int(Int32.max), default: 0)
        let sampler = request.sampler ?? "normal"
        guard served.summary.samplers.contains(sampler), let kind = PostHocSampler(rawValue: sampler) else {
            throw APIError(400, "sampler: run '\(served.name)' offers \(served.summary.samplers.joined(separator: ", ")), got '\(sampler)' (fit one with `vae sample RUN --sampler gmm|two-stage`)")
        }
        if request.label != nil {
            _ = try model(served, label: request.label)  // checks the label
            if kind != .normal { throw APIError(400, "label: the fitted samplers draw unlabelled codes; use sampler 'normal'") }
        }
        let latents = kind == .normal ? nil : try kind.latents(served.run, count: count, seed: UInt64(seed))
        return .png(try Pictures.samplesPNG(model: served.model, count: count, seed: UInt64(seed), imageShape: served.imageShape,
                                            label: request.label, latents: latents))
    }

    // MARK: helpers

    func codeTensor(_ rows: [[Double]]) throws -> Tensor {
        Tensor(shape: [rows.count, rows.first?.count ?? 0], scalars: rows.flatMap { $0.map(Float.init) })
    }

    /// Decoder means of `latents` as a PNG grid (values clamped to [0, 1]).
    func picture(_ served: ServedRun, model: any VariationalAutoencoder, latents: Tensor, columns: Int, gap: Int) throws -> [UInt8] {
        let images = withoutGradients { model.decode(latents).mean }
        guard images.scalars.allSatisfy(\.isFinite) else {
            throw APIError(422, "the decoder gave non-finite values for this code")
        }
        return try ImageGrid.png(images, imageShape: served.imageShape, columns: columns, gap: gap)
    }
}

/// The explorer page, a resource of this module: one HTML file with its CSS and JavaScript inline, nothing
/// fetched from elsewhere.
enum ExplorerPage {
    static func bytes() throws -> [UInt8] {
        guard let url = Bundle.module.url(forResource: "explorer", withExtension: "html", subdirectory: "Page") else {
            throw TrainingError("the explorer page (Page/explorer.html) is missing from the VAEServe bundle")
        }
        return Array(try Data(contentsOf: url))
    }
}
