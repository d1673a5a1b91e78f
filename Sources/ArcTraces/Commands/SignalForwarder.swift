import Glibc
import ArcCore

// Read by the signal handler: plain words, written before the handler can need them.
private nonisolated(unsafe) var forwardTarget: pid_t = 0
private nonisolated(unsafe) var pendingSignal: Int32 = 0

/// Passes the signals sent to this process on to one child (`telem-trace exec`), so
/// `kill $pid` or a service manager's SIGTERM stops the wrapped command, and the command's
/// own exit status (143) is what comes back.
///
/// A signal the terminal generated (Ctrl-C, si_code SI_KERNEL) already went to the whole
/// foreground process group, the child included: sending it again would make it a second
/// Ctrl-C, which arc tools take as "exit at once". Only signals sent by a process (kill,
/// si_code SI_USER or SI_QUEUE) are forwarded.
///
/// A handler rather than a sigwait thread: threads started before this (an OTLP exporter)
/// do not block the signals, and one delivered to them would kill the process instead.
enum SignalForwarder {
    static func install(_ signals: [Int32]) {
        for sig in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_sigaction = { sig, info, _ in
                if let info, info.pointee.si_code == 0x80 { return } // SI_KERNEL: from the terminal
                let pid = forwardTarget
                if pid > 0 { kill(pid, sig) } else { pendingSignal = sig }
            }
            action.sa_flags = SA_SIGINFO | SA_RESTART
            sigemptyset(&action.sa_mask)
            sigaction(sig, &action, nil)
        }
    }

    /// From now on signals go to `pid`; one that arrived while it was starting is sent now.
    static func forward(to pid: pid_t) {
        forwardTarget = pid
        let pending = pendingSignal
        if pending != 0 { kill(pid, pending) }
    }
}
