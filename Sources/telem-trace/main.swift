import ArcTraces

TraceCommand.main()
