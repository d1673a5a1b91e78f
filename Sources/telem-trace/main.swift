import ArcCore

TraceCommand.main()
