// A workflow file through WorkflowLoader (TOML, then every key checked, the graph checked)
// as `wf-run validate` and `wf-run run` read it. Properties: no crash; every problem has a
// line and column; a workflow that loads has unique step ids, only known needs, no cycle,
// levels for every step, and durations the runner can turn into nanoseconds (it does
// UInt64(seconds * 1e9) and Int64(seconds * 1e9)).
import FuzzSupport
@testable import ArcWorkflow

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWorkflow(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = String(decoding: fuzzBytes(data, size), as: UTF8.self)
    let workflow: Workflow
    do {
        workflow = try WorkflowLoader.parse(text, file: "/fuzz/flow.toml")
    } catch let e as WorkflowError {
        fuzzCheck(!e.problems.isEmpty, "a WorkflowError without problems")
        for p in e.problems { fuzzCheck(p.line >= 0 && p.column >= 0, "problem at line \(p.line), column \(p.column)") }
        _ = e.description
        return 0
    } catch {
        fuzzFail("WorkflowLoader.parse threw \(error), not a WorkflowError")
    }
    let ids = workflow.steps.map(\.id)
    fuzzCheck(Set(ids).count == ids.count, "duplicate step ids: \(ids)")
    fuzzCheck(workflow.concurrency >= 1, "concurrency \(workflow.concurrency)")
    for step in workflow.steps {
        fuzzCheck(step.needs.allSatisfy { ids.contains($0) && $0 != step.id }, "step \(step.id) needs \(step.needs)")
        fuzzCheck(!step.run.isEmpty, "step \(step.id) has no command")
    }
    fuzzCheck(WorkflowGraph.cycle(workflow.steps) == nil, "a workflow with a cycle loaded")
    let levels = WorkflowGraph.levels(workflow.steps)
    fuzzCheck(levels.count == ids.count, "levels for \(levels.count) of \(ids.count) steps")
    for step in workflow.steps + workflow.handlers {
        for (name, seconds) in [("timeout", step.timeout ?? 0), ("retry_delay", step.retryDelay), ("retry_max_delay", step.retryMaxDelay)] {
            fuzzCheck(seconds >= 0 && seconds * 1e9 < 9.2e18, "\(name) of \(step.id) is \(seconds) s: no UInt64/Int64 nanoseconds hold it")
        }
    }
    return 0
}
