import ArcCore

/// A trace's spans as a tree: children under their parents, ordered by start time. A span
/// whose parent is not in the trace (the trace was joined from outside, or the parent's
/// process died before writing it) is shown as a root rather than dropped.
public struct TraceTree {
    public let spans: [StoredSpan]
    /// Indices into `spans`, per span, ordered by start.
    public let children: [[Int]]
    public let roots: [Int]

    public init(_ spans: [StoredSpan]) {
        let spans = spans.sorted { a, b in
            (a.startNanos, a.name, a.spanID) < (b.startNanos, b.name, b.spanID)
        }
        self.spans = spans
        var index: [String: Int] = [:]
        for (i, s) in spans.enumerated() { index[s.spanID] = i }
        var children = [[Int]](repeating: [], count: spans.count)
        var roots: [Int] = []
        for (i, s) in spans.enumerated() {
            if let parent = s.parentSpanID, let p = index[parent], p != i {
                children[p].append(i)
            } else {
                roots.append(i)
            }
        }
        self.children = children
        self.roots = roots
    }

    public var traceID: String { spans.first?.traceID ?? "" }
    public var startNanos: Int64 { spans.map(\.startNanos).min() ?? 0 }
    public var endNanos: Int64 { spans.map(\.endNanos).max() ?? 0 }

    /// The root the trace is about: the one that ends last (normally the only one).
    public var mainRoot: Int? {
        roots.max { a, b in (spans[a].endNanos, -spans[a].startNanos) < (spans[b].endNanos, -spans[b].startNanos) }
    }

    /// The spans on the critical path: the chain of work that decided when the trace ended,
    /// so making any other span faster would not have made the trace end sooner.
    ///
    /// As Jaeger computes it: from a span's end, walk back through its children; the child
    /// that finished last is on the path (and, recursively, its own critical children);
    /// then, from that child's start, the child that finished last *before* it, and so on.
    /// Children that overlap the one already chosen are not on the path: they ran in its
    /// shadow (the stages of a pipeline run at once; only the one that ended last counts).
    public func criticalPath() -> Set<Int> {
        var path = Set<Int>()
        guard let root = mainRoot else { return path }
        var visiting = Set<Int>()
        walk(root, into: &path, visiting: &visiting)
        return path
    }

    private func walk(_ i: Int, into path: inout Set<Int>, visiting: inout Set<Int>) {
        guard visiting.insert(i).inserted else { return } // a cycle in bad data
        path.insert(i)
        let byEnd = children[i].sorted { a, b in
            (spans[a].endNanos, spans[a].startNanos) > (spans[b].endNanos, spans[b].startNanos)
        }
        var cursor: Int64? = nil
        for c in byEnd {
            if let limit = cursor, spans[c].endNanos > limit { continue }
            walk(c, into: &path, visiting: &visiting)
            cursor = spans[c].startNanos
        }
    }

    /// Spans in display order (depth first, children by start) with their depth and
    /// whether each is the last child of its parent (for the tree's branch lines).
    public func flattened() -> [(index: Int, prefix: String)] {
        var out: [(Int, String)] = []
        var seen = Set<Int>()
        func visit(_ i: Int, _ lead: String, _ branch: String) {
            guard seen.insert(i).inserted else { return }
            out.append((i, lead + branch))
            let kids = children[i]
            let childLead = lead + (branch == "├─ " ? "│  " : branch.isEmpty ? "" : "   ")
            for (n, c) in kids.enumerated() { visit(c, childLead, n == kids.count - 1 ? "└─ " : "├─ ") }
        }
        for r in roots { visit(r, "", "") }
        // Spans whose parents form a cycle (bad data) are reachable from no root.
        for i in spans.indices where !seen.contains(i) { visit(i, "", "") }
        return out.map { (index: $0.0, prefix: $0.1) }
    }
}
