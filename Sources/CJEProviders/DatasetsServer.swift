import AsyncHTTPClient
public import Foundation
import NIOCore
import NIOHTTP1

/// Rows of a Hugging Face dataset through the datasets-server rows API
/// (`GET {endpoint}/rows?dataset=&config=&split=&offset=&length=`), page by page, each page
/// retried (429, 5xx, timeouts, connection errors; Retry-After honoured) and cached on disk,
/// with `$HF_TOKEN` as the bearer token when set.
public struct DatasetsServer: Sendable {
    public var endpoint = "https://datasets-server.huggingface.co"
    public var dataset: String
    public var config = "default"
    public var split = "train"
    /// Rows per request (the API allows at most 100).
    public var pageSize = 100
    /// Read only the first rows of the split (all when nil).
    public var maxRows: Int?
    public var cacheDirectory: URL
    public var tokenVariable = "HF_TOKEN"
    /// Six attempts a page, a minute each.
    public var retry = RetryPolicy(attempts: 6, timeoutSeconds: 60)
    public var environment = ProcessInfo.processInfo.environment

    public init(dataset: String, cacheDirectory: URL) {
        self.dataset = dataset
        self.cacheDirectory = cacheDirectory
    }

    /// What fetching cost: requests sent, retried, and pages read from the cache.
    public struct Report: Sendable, Hashable {
        public var requests = 0
        public var retries = 0
        public var cachedPages = 0
        public var pages = 0
    }

    /// Every row object (the API's `row`), in row order, plus how the fetch went.
    /// `progress(rowsSoFar, totalRows)` after each page.
    /// Each row is a JSON object's bytes; a row with cells the server truncated lists them under
    /// `__truncated_cells`, and every row carries its index as `__row_idx`.
    public func rows(progress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> (
        rows: [Data], report: Report
    ) {
        var report = Report()
        var rows: [Data] = []
        var offset = 0
        var total: Int?
        while total.map({ offset < $0 }) ?? true {
            let length = min(pageSize, (maxRows ?? Int.max) - offset, (total ?? Int.max) - offset)
            if length <= 0 { break }
            let parsed = try await self.page(offset: offset, length: length, report: &report)
            total = min(parsed.total, maxRows ?? Int.max)
            if parsed.rows.isEmpty { break }
            rows += parsed.rows
            offset += parsed.rows.count
            report.pages += 1
            progress?(rows.count, total ?? rows.count)
        }
        return (rows, report)
    }

    func url(offset: Int, length: Int) -> String {
        var components = URLComponents(string: endpoint + "/rows") ?? URLComponents()
        components.queryItems = [
            URLQueryItem(name: "dataset", value: dataset), URLQueryItem(name: "config", value: config),
            URLQueryItem(name: "split", value: split), URLQueryItem(name: "offset", value: "\(offset)"),
            URLQueryItem(name: "length", value: "\(length)"),
        ]
        return components.string ?? endpoint + "/rows"
    }

    /// A page, from the cache (keyed by its URL) or the API.
    private func page(offset: Int, length: Int, report: inout Report) async throws -> (rows: [Data], total: Int) {
        let url = url(offset: offset, length: length)
        let cache = ResponseCache(directory: cacheDirectory)
        if let cached = cache.load(Data(url.utf8)), let parsed = try? Self.parse(cached, url: url) {
            report.cachedPages += 1
            return parsed
        }
        let token = environment[tokenVariable].flatMap { $0.isEmpty ? nil : $0 }
        return try await retry.run(
            ending: DatasetsServerError.self, tries: &report.requests, retries: &report.retries,
            exhausted: { .exhausted(url: url, attempts: retry.attempts, last: $0) }
        ) { () -> Retrying.Try<(rows: [Data], total: Int)> in
            let (status, headers, body) = try await HTTPFetch.get(
                url, bearer: token, timeoutSeconds: retry.timeoutSeconds)
            switch status {
            case 200..<300:
                guard let parsed = try? Self.parse(body, url: url) else {
                    return .again("HTTP \(status) with a body that is not a rows page", retryAfter: nil)
                }
                cache.store(Data(url.utf8), body)
                return .answer(parsed)
            case 401, 403:
                throw DatasetsServerError.unauthorized(
                    status: status, dataset: dataset, tokenVariable: tokenVariable, tokenSet: token != nil)
            default:
                if Retrying.isTransient(status) {
                    return .again("HTTP \(status)", retryAfter: Retrying.retryAfter(headers))
                }
                throw DatasetsServerError.rejected(
                    status: status, url: url,
                    detail: String(decoding: body.prefix(300), as: UTF8.self).replacingOccurrences(of: "\n", with: " "))
            }
        }
    }

    /// The rows of a page and the split's row count.
    static func parse(_ data: Data, url: String) throws -> (rows: [Data], total: Int) {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let rows = object["rows"] as? [[String: Any]], let total = object["num_rows_total"] as? Int
        else {
            throw DatasetsServerError.malformed(url: url)
        }
        return (
            try rows.map { entry in
                guard var row = entry["row"] as? [String: Any] else { throw DatasetsServerError.malformed(url: url) }
                if let truncated = entry["truncated_cells"] as? [String], !truncated.isEmpty {
                    row["__truncated_cells"] = truncated
                }
                row["__row_idx"] = entry["row_idx"]
                return try JSONSerialization.data(withJSONObject: row)
            }, total
        )
    }
}

public enum DatasetsServerError: Error, Sendable, Hashable, LocalizedError {
    case unauthorized(status: Int, dataset: String, tokenVariable: String, tokenSet: Bool)
    case rejected(status: Int, url: String, detail: String)
    case exhausted(url: String, attempts: Int, last: String)
    case malformed(url: String)

    public var errorDescription: String? {
        switch self {
        case .unauthorized(let status, let dataset, let variable, let tokenSet):
            return tokenSet
                ? "the datasets server refused the token in $\(variable) for \(dataset) (HTTP \(status)); check that it is valid and that you accepted the dataset's terms on huggingface.co"
                : "the datasets server refused \(dataset) without a token (HTTP \(status)); it is probably gated: accept its terms on huggingface.co and set $\(variable)"
        case .rejected(let status, let url, let detail):
            return "\(url): HTTP \(status): \(detail)"
        case .exhausted(let url, let attempts, let last):
            return "\(url): gave up after \(attempts) attempts; last failure: \(last)"
        case .malformed(let url):
            return "\(url): the answer is not a datasets-server rows page"
        }
    }
}

/// One GET or POST with a deadline over the whole exchange (head and body).
enum HTTPFetch {
    static func get(_ url: String, bearer: String?, timeoutSeconds: Double) async throws -> (Int, HTTPHeaders, Data) {
        var request = HTTPClientRequest(url: url)
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        return try await send(request, timeoutSeconds: timeoutSeconds)
    }

    static func send(_ request: HTTPClientRequest, timeoutSeconds seconds: Double) async throws -> (
        Int, HTTPHeaders, Data
    ) {
        try await withThrowingTaskGroup(of: (Int, HTTPHeaders, Data)?.self) { group in
            group.addTask {
                let response = try await HTTPClient.shared.execute(
                    request, timeout: .seconds(Int64(seconds.rounded(.up))))
                let buffer = try await response.body.collect(upTo: 64 << 20)
                return (Int(response.status.code), response.headers, Data(buffer.readableBytesView))
            }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let result = first else {
                throw OpenAIClient.Timeout(seconds: seconds)
            }
            return result
        }
    }
}
