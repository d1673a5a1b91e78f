import ArcLogs

TelemLogCommand.main()
