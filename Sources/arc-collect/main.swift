import ArcCore

CollectCommand.main()
