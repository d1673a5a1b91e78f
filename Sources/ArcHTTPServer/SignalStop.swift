import Glibc
import ArcCore

// Set by the signal handler; read by the stopper thread. A handler rather than
// StopSignal's sigwait thread: threads that telemetry started before the server do not
// block the signals, and a signal delivered to one of them would kill the process without
// the clean stop.
private nonisolated(unsafe) var receivedStop: Int32 = 0

extension HTTPServer {
    /// Stops `serve` (which then drains) on SIGINT or SIGTERM; a second signal exits at once
    /// (130 or 143). For a tool whose whole run is serving: telem-trace serve, arc-queue metrics.
    public func stopOnSignals() {
        for sig in [SIGINT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                if receivedStop != 0 { _exit(sig == SIGTERM ? 143 : 130) }
                receivedStop = sig
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(sig, &action, nil)
        }
        WorkerThread(name: "stop") { [self] in
            while receivedStop == 0 { usleep(50_000) }
            stop()
        }.detach()
    }

    /// How a run stopped by `stopOnSignals` ends: 143 after SIGTERM, else 130.
    public static var stoppedStatus: ExitStatus { receivedStop == SIGTERM ? .terminated : .interrupted }
}
