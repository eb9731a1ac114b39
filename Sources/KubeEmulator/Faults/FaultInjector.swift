import JSONValue
import Synchronization

/// Failures to inject into API requests, for reliability tests. Settable at start
/// (`KubeEmulator.Options.faults`), through `KubeEmulator.faults`, or at run time with
/// `PUT /_emulator/faults` (the same JSON form as `FaultPlan.json`).
public struct FaultPlan: Sendable, Equatable {
    /// Which requests a fault applies to; empty lists match everything.
    public struct Match: Sendable, Equatable {
        /// Request verbs: get, list, watch, create, update, patch, delete, deletecollection.
        public var verbs: [String]
        /// Resources, optionally with a subresource (`secrets`, `deployments/status`, `pods/log`).
        public var resources: [String]
        /// Object names.
        public var names: [String]

        public init(verbs: [String] = [], resources: [String] = [], names: [String] = []) {
            self.verbs = verbs
            self.resources = resources
            self.names = names
        }

        func matches(_ info: RequestInfo) -> Bool {
            (verbs.isEmpty || verbs.contains(info.verb))
                && (resources.isEmpty || resources.contains(info.resourcePath)
                    || resources.contains(info.resource))
                && (names.isEmpty || names.contains(info.name))
        }
    }

    /// Answer matching requests with an error status instead of serving them.
    public struct ErrorFault: Sendable, Equatable {
        /// 429, 500, 503 (or any other status; the body is the matching `Status`).
        public var code: Int
        /// The share of matching requests that fail, 0...1 (used when `count` is nil).
        public var share: Double
        /// Fail exactly the next `count` matching requests, then stop (deterministic tests).
        public var count: Int?
        /// Let the next `skip` matching requests through before the fault applies, so that a
        /// test can fail, say, the second write of an object and not the first.
        public var skip: Int
        /// `Retry-After` seconds for 429 and 503.
        public var retryAfterSeconds: Int
        public var match: Match

        public init(
            code: Int, share: Double = 1, count: Int? = nil, skip: Int = 0, retryAfterSeconds: Int = 1,
            match: Match = Match()
        ) {
            self.code = code
            self.share = share
            self.count = count
            self.skip = max(0, skip)
            self.retryAfterSeconds = retryAfterSeconds
            self.match = match
        }
    }

    /// Added latency before every API request is served, in milliseconds.
    public var latencyMilliseconds: Int
    /// Which requests the latency applies to.
    public var latencyMatch: Match
    public var errors: [ErrorFault]
    /// Requests that are accepted and then never answered (the connection stays open), for
    /// client timeout tests; nil for none.
    public var hang: Match?
    /// Watch streams end (as a dropped connection would) after this many events.
    public var dropWatchAfterEvents: Int?
    /// Watch streams end after this many seconds.
    public var dropWatchAfterSeconds: Double?
    /// After this many events, a watch served over HTTP/2 ends with a GOAWAY on its connection,
    /// as when an API server shuts down: the client must watch again on a new connection. Over
    /// HTTP/1.1 the watch just ends.
    public var goAwayAfterWatchEvents: Int?

    public init(
        latencyMilliseconds: Int = 0, latencyMatch: Match = Match(), errors: [ErrorFault] = [],
        hang: Match? = nil,
        dropWatchAfterEvents: Int? = nil, dropWatchAfterSeconds: Double? = nil,
        goAwayAfterWatchEvents: Int? = nil
    ) {
        self.goAwayAfterWatchEvents = goAwayAfterWatchEvents
        self.latencyMilliseconds = latencyMilliseconds
        self.latencyMatch = latencyMatch
        self.errors = errors
        self.hang = hang
        self.dropWatchAfterEvents = dropWatchAfterEvents
        self.dropWatchAfterSeconds = dropWatchAfterSeconds
    }

    /// No faults.
    public static let none = FaultPlan()
}

/// The live fault plan of a running emulator; safe to change from any task.
public final class FaultInjector: Sendable {
    private let state: Mutex<FaultPlan>

    init(_ plan: FaultPlan) { state = Mutex(plan) }

    /// The current plan.
    public var plan: FaultPlan {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }

    /// Changes the plan in place.
    public func update(_ change: (inout FaultPlan) -> Void) {
        state.withLock { change(&$0) }
    }

    /// Removes every fault.
    public func reset() { plan = .none }

    /// What to do with a request, decided (and counted down) atomically.
    enum Decision: Sendable {
        case serve(latency: Int)
        case fail(APIError, latency: Int)
        case hang
    }

    func decide(_ info: RequestInfo) -> Decision {
        state.withLock { plan in
            let latency = plan.latencyMatch.matches(info) ? plan.latencyMilliseconds : 0
            if let hang = plan.hang, hang.matches(info) { return .hang }
            for index in plan.errors.indices where plan.errors[index].match.matches(info) {
                let fault = plan.errors[index]
                if fault.skip > 0 {
                    plan.errors[index].skip -= 1
                    continue
                }
                let fires: Bool
                if let count = fault.count {
                    fires = count > 0
                    if fires { plan.errors[index].count = count - 1 }
                } else {
                    fires = Double.random(in: 0..<1) < fault.share
                }
                if fires { return .fail(FaultInjector.error(for: fault), latency: latency) }
            }
            return .serve(latency: latency)
        }
    }

    static func error(for fault: FaultPlan.ErrorFault) -> APIError {
        switch fault.code {
        case 429: return .tooManyRequests(retryAfter: fault.retryAfterSeconds)
        case 503: return .serviceUnavailable(retryAfter: fault.retryAfterSeconds)
        case 500: return .internalError("injected fault")
        case 504:
            return APIError(
                code: 504, reason: "Timeout",
                message: "Timeout: request did not complete within the allotted timeout")
        default: return APIError(code: fault.code, reason: "", message: "injected fault (HTTP \(fault.code))")
        }
    }
}

// MARK: - JSON form (admin endpoint)

extension FaultPlan.Match {
    var json: JSON {
        [
            "verbs": .array(verbs.map { .string($0) }), "resources": .array(resources.map { .string($0) }),
            "names": .array(names.map { .string($0) }),
        ]
    }

    init(json: JSON?) {
        func strings(_ key: String) -> [String] { (json?[key]?.arrayValue ?? []).compactMap(\.stringValue) }
        self.init(verbs: strings("verbs"), resources: strings("resources"), names: strings("names"))
    }
}

extension FaultPlan {
    /// The plan as JSON: `{"latencyMilliseconds":0,"latencyMatch":{...},"errors":[{"code":429,
    /// "share":1,"count":2,"skip":0,"retryAfterSeconds":1,"match":{"verbs":[],"resources":[],"names":[]}}],
    /// "hang":null,"dropWatchAfterEvents":null,"dropWatchAfterSeconds":null,
    /// "goAwayAfterWatchEvents":null}`.
    public var json: JSON {
        [
            "latencyMilliseconds": .int(latencyMilliseconds), "latencyMatch": latencyMatch.json,
            "errors": .array(
                errors.map { fault in
                    [
                        "code": .int(fault.code), "share": .double(fault.share),
                        "count": fault.count.map(JSON.int) ?? .null, "skip": .int(fault.skip),
                        "retryAfterSeconds": .int(fault.retryAfterSeconds), "match": fault.match.json,
                    ]
                }),
            "hang": hang?.json ?? .null,
            "dropWatchAfterEvents": dropWatchAfterEvents.map(JSON.int) ?? .null,
            "dropWatchAfterSeconds": dropWatchAfterSeconds.map(JSON.double) ?? .null,
            "goAwayAfterWatchEvents": goAwayAfterWatchEvents.map(JSON.int) ?? .null,
        ]
    }

    /// Reads the JSON form; absent members take their defaults.
    public init(json: JSON) {
        self.init(
            latencyMilliseconds: json["latencyMilliseconds"]?.intValue ?? 0,
            latencyMatch: FaultPlan.Match(json: json["latencyMatch"]),
            errors: (json["errors"]?.arrayValue ?? []).map { fault in
                FaultPlan.ErrorFault(
                    code: fault["code"]?.intValue ?? 500, share: fault["share"]?.doubleValue ?? 1,
                    count: fault["count"]?.intValue, skip: fault["skip"]?.intValue ?? 0,
                    retryAfterSeconds: fault["retryAfterSeconds"]?.intValue ?? 1,
                    match: FaultPlan.Match(json: fault["match"]))
            },
            hang: json["hang"].flatMap { $0.isNull ? nil : FaultPlan.Match(json: $0) },
            dropWatchAfterEvents: json["dropWatchAfterEvents"]?.intValue,
            dropWatchAfterSeconds: json["dropWatchAfterSeconds"]?.doubleValue,
            goAwayAfterWatchEvents: json["goAwayAfterWatchEvents"]?.intValue)
    }
}
