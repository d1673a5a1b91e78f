import ArcCore

/// The steps as a graph: what must be true of their needs (known, no cycles), the order
/// they can run in, and what comes before each.
public enum WorkflowGraph {
    /// Duplicate ids, unknown or repeated needs, and cycles, each at its line.
    static func problems(_ w: Workflow) -> [WorkflowError.Problem] {
        var problems: [WorkflowError.Problem] = []
        var seen: [String: Int] = [:]
        for step in w.steps where step.id != "?" {
            if let first = seen[step.id] {
                problems.append(.init(line: step.line, column: 1, "duplicate step id '\(step.id)' (first at line \(first))"))
            } else { seen[step.id] = step.line }
        }
        for step in w.steps {
            var named: Set<String> = []
            for (i, need) in step.needs.enumerated() {
                let at = i < step.needPositions.count ? step.needPositions[i] : (line: step.line, column: 1)
                if need == step.id {
                    problems.append(.init(line: at.line, column: at.column, "needs: step '\(step.id)' cannot need itself"))
                } else if seen[need] == nil {
                    let hint = w.steps.map(\.id).filter { $0 != step.id }.min { editDistance($0, need) < editDistance($1, need) }
                        .flatMap { editDistance($0, need) <= 2 ? " (did you mean '\($0)'?)" : nil } ?? ""
                    problems.append(.init(line: at.line, column: at.column, "needs: unknown step '\(need)'\(hint)"))
                } else if !named.insert(need).inserted {
                    problems.append(.init(line: at.line, column: at.column, "needs: '\(need)' is listed twice"))
                }
            }
        }
        // Steps hand files on through WF_DIR_<STEP>: two ids must not name one variable.
        var variables: [String: String] = [:]
        for step in w.steps where step.id != "?" && seen[step.id] == step.line {
            let name = StepEnvironment.directoryVariable(step.id)
            if let other = variables[name], other != step.id {
                problems.append(.init(line: step.line, column: 1,
                                      "step ids '\(other)' and '\(step.id)' would both set \(name); rename one"))
            } else { variables[name] = step.id }
        }
        if problems.isEmpty, let cycle = cycle(w.steps) {
            let line = w.steps.first { $0.id == cycle[0] }?.line ?? 0
            problems.append(.init(line: line, column: 1, "cycle: " + cycle.joined(separator: " -> ")))
        }
        return problems
    }

    /// A cycle through the needs, as ids from a step back to itself, or nil.
    static func cycle(_ steps: [Step]) -> [String]? {
        let byID = Dictionary(steps.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var state: [String: Int] = [:]   // 1: on the current path, 2: done
        var path: [String] = []
        func visit(_ id: String) -> [String]? {
            if state[id] == 2 { return nil }
            if state[id] == 1 { return Array(path[path.firstIndex(of: id)!...]) + [id] }
            state[id] = 1
            path.append(id)
            for need in byID[id]?.needs ?? [] {
                if let found = visit(need) { return found }
            }
            path.removeLast()
            state[id] = 2
            return nil
        }
        for step in steps {
            if let found = visit(step.id) { return found }
        }
        return nil
    }

    /// Each step's depth: 0 for a step that needs nothing, else one more than its deepest need.
    public static func levels(_ steps: [Step]) -> [String: Int] {
        let byID = Dictionary(steps.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var level: [String: Int] = [:]
        func depth(_ id: String) -> Int {
            if let known = level[id] { return known }
            let d = (byID[id]?.needs ?? []).map { depth($0) + 1 }.max() ?? 0
            level[id] = d
            return d
        }
        for step in steps { _ = depth(step.id) }
        return level
    }
}
