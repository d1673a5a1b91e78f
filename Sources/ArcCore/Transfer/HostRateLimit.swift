/// Requests a second allowed per host (`--rate`), and how a host that bans is waited out.
///
/// Some archives' CDNs ban an address that asks too fast (Bybit's: about 40 requests/s,
/// then 403 for 5-10 minutes), so the engine spaces the requests to such a host, and a 403
/// from a limited host that has already answered is taken for a ban: the host is left
/// alone for a while and the request tried again, instead of reporting the file missing.
public struct HostRateLimits: Sendable, Equatable {
    /// Requests a second to every host; 0 for no limit.
    public var everyHost: Double
    /// Per host name (without the port), before `everyHost`.
    public var byHost: [String: Double]
    /// Seconds to wait after a first ban (without Retry-After), doubled at each ban in a row.
    public var banBackoff: Double
    public var banBackoffCap: Double
    /// Bans waited out per request before its 403 counts as an ordinary failure.
    public var maxBanRetries: Int

    /// Hosts known to ban, with a limit kept under their threshold even when none is asked.
    public static let knownHosts: [String: Double] = ["public.bybit.com": 20]

    public init(everyHost: Double = 0, byHost: [String: Double] = [:], banBackoff: Double? = nil,
                banBackoffCap: Double = 900, maxBanRetries: Int = 8) {
        self.everyHost = max(0, everyHost)
        self.byHost = byHost
        self.banBackoff = banBackoff ?? HostRateLimits.banBackoffFromEnvironment ?? 30
        self.banBackoffCap = max(banBackoffCap, self.banBackoff)
        self.maxBanRetries = max(0, maxBanRetries)
    }

    /// `--rate N` when given (every host), else the known hosts' defaults.
    public static func forTool(rate: Double?) -> HostRateLimits {
        rate.map { HostRateLimits(everyHost: $0) } ?? HostRateLimits(byHost: knownHosts)
    }

    /// ARC_BAN_BACKOFF_MS: the first ban wait, short in tests (a real ban lasts minutes).
    public static var banBackoffFromEnvironment: Double? {
        FileSystem.environment("ARC_BAN_BACKOFF_MS").flatMap(Double.init).map { max(0, $0) / 1000 }
    }

    public var isEmpty: Bool { everyHost == 0 && byHost.values.allSatisfy { $0 <= 0 } }

    /// Requests a second for `host` (a name, no port); 0: unlimited.
    public func rate(forHost host: Substring) -> Double {
        if !byHost.isEmpty, let r = byHost[String(host)] { return r }
        return everyHost
    }

    /// `host:port` of an http(s) URL, lower-cased (the key a limit is kept under: two
    /// servers on one address are two hosts), and the host name alone.
    static func authority(of url: String) -> (key: Substring, name: Substring)? {
        let bytes = Array(url.utf8)
        var i = 0
        while i + 2 < bytes.count && !(bytes[i] == 58 && bytes[i + 1] == 47 && bytes[i + 2] == 47) { i += 1 } // "://"
        guard i + 2 < bytes.count else { return nil }
        var start = i + 3
        var end = start
        while end < bytes.count && bytes[end] != 47 && bytes[end] != 63 && bytes[end] != 35 { end += 1 } // / ? #
        if let at = bytes[start..<end].lastIndex(of: 64) { start = at + 1 } // user@
        var nameEnd = end
        if let colon = bytes[start..<end].lastIndex(of: 58), !bytes[colon..<end].contains(93) { nameEnd = colon } // :port, not in [v6]
        let key = String(decoding: bytes[start..<end], as: UTF8.self).lowercased()
        let name = String(decoding: bytes[start..<nameEnd], as: UTF8.self).lowercased()
        return (Substring(key), Substring(name))
    }
}

/// The engine's side of `HostRateLimits`: a token bucket per host holding one token (so no
/// two requests to a host start closer than 1/rate apart), and a queue per host of the
/// transfers waiting for their token, so a limited host never holds up the others.
/// Confined to the engine thread.
final class HostThrottle {
    private struct Host {
        var interval: UInt64
        /// When the next request may start (the bucket's token), in MonotonicClock nanos.
        var nextStart: UInt64 = 0
        var bannedUntil: UInt64 = 0
        /// Bans in a row (reset by an answer), for the backoff.
        var bans = 0
        /// The host answered a request: a 403 from it now is a ban, not a refusal.
        var answered = false
        var held: [Transfer] = []
        var heldHead = 0
        var readyAt: UInt64 { max(nextStart, bannedUntil) }
        var hasHeld: Bool { heldHead < held.count }
    }

    let limits: HostRateLimits
    private var hosts: [Substring: Host] = [:]
    private(set) var heldCount = 0

    init(_ limits: HostRateLimits) { self.limits = limits }

    /// The host key of a limited request, nil when its host has no limit.
    func limitedHost(_ url: String) -> Substring? {
        guard let (key, name) = HostRateLimits.authority(of: url) else { return nil }
        if hosts[key] != nil { return key }
        let rate = limits.rate(forHost: name)
        guard rate > 0 else { return nil }
        hosts[key] = Host(interval: UInt64(1e9 / rate))
        return key
    }

    /// True when `t` may start now (its token taken); otherwise it is queued behind its host.
    func admit(_ t: Transfer, now: UInt64) -> Bool {
        guard let key = limitedHost(t.request.url) else { return true }
        if !hosts[key]!.hasHeld && hosts[key]!.readyAt <= now {
            hosts[key]!.nextStart = now + hosts[key]!.interval
            return true
        }
        hosts[key]!.held.append(t)
        heldCount += 1
        return false
    }

    /// Held transfers whose host has a token now, at most `limit`, oldest first per host
    /// (their tokens taken).
    func release(now: UInt64, limit: Int) -> [Transfer] {
        guard heldCount > 0, limit > 0 else { return [] }
        var out: [Transfer] = []
        for key in Array(hosts.keys) where out.count < limit {
            guard var h = hosts[key], h.hasHeld, h.readyAt <= now else { continue }
            out.append(h.held[h.heldHead])
            h.heldHead += 1
            if h.heldHead == h.held.count { h.held.removeAll(keepingCapacity: true); h.heldHead = 0 }
            h.nextStart = now + h.interval
            hosts[key] = h
            heldCount -= 1
        }
        return out
    }

    /// When the earliest held transfer may start.
    func nextRelease() -> UInt64? {
        guard heldCount > 0 else { return nil }
        return hosts.values.filter { $0.hasHeld }.map { $0.readyAt }.min()
    }

    func answered(_ url: String) {
        guard let key = limitedHost(url) else { return }
        hosts[key]!.answered = true
        hosts[key]!.bans = 0
    }

    /// A 403 for `t`: when it is a ban (a limited host that has answered before), the host
    /// is paused (Retry-After, else a doubling backoff; a ban already running is not made
    /// longer by the other requests it refused) and `t` queued first behind it. Returns
    /// the seconds the host is paused for, nil when this 403 is no ban.
    func ban(_ t: Transfer, retryAfter: Double?, now: UInt64) -> Double? {
        guard let key = limitedHost(t.request.url), var h = hosts[key], h.answered,
              t.banRetries < limits.maxBanRetries else { return nil }
        if h.bannedUntil <= now {
            h.bans += 1
            let backoff = min(limits.banBackoffCap, limits.banBackoff * Double(1 << min(h.bans - 1, 20)))
            let wait = retryAfter.map { min(limits.banBackoffCap, max(0, $0)) } ?? backoff
            h.bannedUntil = now + UInt64(wait * 1e9)
        }
        t.banRetries += 1
        // First in line: it was sent before those still waiting.
        if h.heldHead > 0 {
            h.heldHead -= 1
            h.held[h.heldHead] = t
        } else {
            h.held.insert(t, at: 0)
        }
        heldCount += 1
        hosts[key] = h
        return Double(h.bannedUntil - now) / 1e9
    }

    /// Every held transfer, for cancelling.
    func drain() -> [Transfer] {
        var out: [Transfer] = []
        for key in Array(hosts.keys) {
            out += hosts[key]!.held[hosts[key]!.heldHead...]
            hosts[key]!.held.removeAll()
            hosts[key]!.heldHead = 0
        }
        heldCount = 0
        return out
    }
}
