import ArcCore

/// One span as either encoding gave it, before the rules telem-trace stores spans by.
/// The JSON and protobuf decoders fill it in; `stored(service:)` is the one place the
/// rules are: ids, a name, times, kind, status, events and attribute flattening.
struct OTLPSpanFields: Sendable {
    /// An id as sent: absent (empty), lowercase hex when well formed, or bad.
    enum ID: Equatable, Sendable {
        case absent
        case bad
        case hex(String)

        /// The hex, nil when absent; a bad id is a DecodeError saying `problem`.
        func value(orThrow problem: @autoclosure () -> String) throws -> String? {
            switch self {
            case .absent: return nil
            case .bad: throw OTLPTraceDecoder.DecodeError(description: problem())
            case .hex(let hex): return hex
            }
        }
    }

    var traceID: ID = .absent
    var spanID: ID = .absent
    var parentSpanID: ID = .absent
    var name: String?
    var startNanos: Int64?
    var endNanos: Int64?
    /// SpanKind's number (OTLP's enum); 0 when unspecified.
    var kind = 0
    /// Status.code's number: 1 ok, 2 error, anything else unset.
    var statusCode = 0
    var statusMessage: String?
    /// As sent, kvlists still nested (`OTLPAttributes.flatten` flattens them).
    var attributes: [(String, AttributeValue)] = []
    var events: [Event] = []

    struct Event: Sendable {
        var name = ""
        /// Nil when absent or past Int64 (such an event is left out, as a bad time).
        var timeNanos: Int64?
        var attributes: [(String, AttributeValue)] = []
    }

    func stored(service: String?) throws -> StoredSpan {
        guard case .hex(let traceID) = traceID else { throw OTLPTraceDecoder.DecodeError(description: "span with a bad traceId") }
        guard case .hex(let spanID) = spanID else { throw OTLPTraceDecoder.DecodeError(description: "span with a bad spanId") }
        let parent = try parentSpanID.value(orThrow: "span with a bad parentSpanId")
        // Span records need a name (ingest refuses one without), so `show --json | ingest` keeps every span.
        guard let name, !name.isEmpty else { throw OTLPTraceDecoder.DecodeError(description: "span without a name") }
        guard let start = startNanos, let end = endNanos else {
            throw OTLPTraceDecoder.DecodeError(description: "span without startTimeUnixNano or endTimeUnixNano")
        }
        // The times are fixed64 in OTLP: a negative one is not a time (and would overflow durations).
        guard start >= 0, end >= 0 else { throw OTLPTraceDecoder.DecodeError(description: "span with a negative time") }
        let code: SpanStatus = statusCode == 1 ? .ok : statusCode == 2 ? .error : .unset
        var attrs = OTLPAttributes.flatten(attributes)
        if let kind = Self.kindNames[kind] { attrs.insert(("span.kind", .scalar(.string(kind))), at: 0) }
        var eventTexts: [String] = []
        for e in events {
            guard let time = e.timeNanos, time >= 0 else { continue }
            var b = RecordBuilder(capacity: 128)
            b.begin()
            b.string("name", e.name)
            b.string("time", WallClock.rfc3339(nanos: time))
            let eventAttributes = OTLPAttributes.flatten(e.attributes)
            if !eventAttributes.isEmpty { b.raw("attributes", AttributeValue.object(eventAttributes)) }
            b.end()
            eventTexts.append(String(decoding: b.bytes.dropLast(), as: UTF8.self))
        }
        return StoredSpan(traceID: traceID, spanID: spanID, parentSpanID: parent, name: name,
                          service: service, startNanos: start, endNanos: max(end, start), status: code,
                          statusMessage: statusMessage.nonEmpty,
                          attributesJSON: attrs.isEmpty ? nil : String(decoding: AttributeValue.object(attrs), as: UTF8.self),
                          eventsJSON: eventTexts.isEmpty ? nil : "[" + eventTexts.joined(separator: ",") + "]")
    }

    /// SPAN_KIND_INTERNAL (1) and unspecified (0) say nothing worth keeping.
    static let kindNames = [2: "server", 3: "client", 4: "producer", 5: "consumer"]

    /// An id from its bytes (protobuf): `count` bytes, not all zero; empty is absent. A
    /// log record outside any span may carry all zeros for "none" (`zeroIsAbsent`).
    static func id<C: Collection>(bytes: C, count: Int, zeroIsAbsent: Bool = false) -> ID where C.Element == UInt8 {
        if bytes.isEmpty { return .absent }
        guard bytes.count == count else { return .bad }
        guard bytes.contains(where: { $0 != 0 }) else { return zeroIsAbsent ? .absent : .bad }
        return .hex(Hex.encode(bytes))
    }
}

/// OTLP attribute lists as telem-trace keeps them.
enum OTLPAttributes {
    /// A kvlist's members become `key.member`, so `{"http": {"status": 200}}` is stored as
    /// `http.status: 200`; inside an array a kvlist stays an object (its own members
    /// flattened the same way). Unset values were already left out by the decoders.
    static func flatten(_ pairs: [(String, AttributeValue)], prefix: String = "") -> [(String, AttributeValue)] {
        var out: [(String, AttributeValue)] = []
        out.reserveCapacity(pairs.count)
        for (key, value) in pairs {
            let name = prefix.isEmpty ? key : prefix + key
            if case .object(let members) = value {
                out += flatten(members, prefix: name + ".")
            } else {
                out.append((name, normalized(value)))
            }
        }
        return out
    }

    private static func normalized(_ value: AttributeValue) -> AttributeValue {
        switch value {
        case .scalar: return value
        case .array(let items): return .array(items.map(normalized))
        case .object(let members): return .object(flatten(members))
        }
    }

    /// The service.name of a resource's attributes, when a string.
    static func serviceName(_ resource: [(String, AttributeValue)]) -> String? {
        if case .scalar(.string(let name))? = resource.first(where: { $0.0 == "service.name" })?.1 { return name }
        return nil
    }
}
