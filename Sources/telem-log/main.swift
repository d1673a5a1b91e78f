import ArcCore

TelemLogCommand.main()
