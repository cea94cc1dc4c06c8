public import CJEProviders
public import Foundation

/// What `cje-prep publish` is asked: a finished run, the folder to write, and optionally the Hub
/// repository to upload it to.
public struct PublishRequest: Sendable {
    public var run: URL
    public var folder: URL
    public var license = "other"
    /// `owner/name` on the Hub (nil: the folder only).
    public var repo: String?
    public var isPrivate = false
    /// `HF_TOKEN` and `HF_ENDPOINT` are read from it.
    public var environment = ProcessInfo.processInfo.environment

    public init(run: URL, folder: URL) {
        self.run = run
        self.folder = folder
    }
}

extension RunSession {
    /// Checks everything first (a validated run; with a repository, its name and `HF_TOKEN`),
    /// then writes the folder, then uploads it in one commit. Returns the upload's report.
    @discardableResult
    public static func publish(_ request: PublishRequest, say: @Sendable (String) -> Void) async throws
        -> HubUploader.Report?
    {
        let uploader: HubUploader? = try request.repo.map { name in
            try HubUploader.checkRepository(name)
            return try HubUploader(environment: request.environment)
        }
        let dataset = try DatasetFolder(run: RunDirectory(root: request.run), license: request.license)
        // The Hub says whether it takes the name before anything is written.
        var created = false
        if let uploader, let repo = request.repo {
            created = try await uploader.create(repo, isPrivate: request.isPrivate)
            say(created ? "publish: created dataset \(repo)" : "publish: dataset \(repo) exists: adding a commit")
        }
        let files: [String]
        do {
            files = try dataset.write(to: request.folder)
        } catch {
            if created, let uploader, let repo = request.repo { try? await uploader.delete(repo) }
            throw error
        }
        say(
            "publish: \(files.count) files in \(request.folder.path) (configs: \(dataset.configs.map(\.name).joined(separator: ", ")))"
        )
        guard let uploader, let repo = request.repo else { return nil }
        let report = try await uploader.upload(
            folder: request.folder, files: files.filter { $0 != DatasetFolder.marker }, repo: repo, created: created,
            message: "cje-prep publish: \(dataset.manifest.n) prompts, \(dataset.config.policies.count) policies",
            progress: { say("publish: \($0)") })
        say(
            "publish: \(repo): \(report.files) files in commit \(report.commit ?? "?") (\(report.lfsFiles) through LFS, \(report.lfsSkipped) already there; \(report.bytesSent) bytes sent; \(report.requests) requests, \(report.retries) retried)"
        )
        return report
    }
}
